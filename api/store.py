"""The job store: one interface, two implementations.

* `SqliteJobStore` — the embedded default: one SQLite file in WAL mode under the data directory;
* `PostgresJobStore` — the same table on PostgreSQL (psycopg 3) when ``ECGSCREEN_DATABASE_URL`` is given.

A job moves ``queued → running → done | failed``; ``attempts`` counts how often it was started, so a job that
keeps killing its worker is failed instead of retried for ever. Files (input, PDF, overlay, signals) live on disk
beside the store, in ``<data_dir>/jobs/<id>/``; the store holds the state, the patient fields and the report JSON.

Faults are translated into two exceptions the service answers clearly: `StoreBusyError` (the SQLite file is locked
by another connection beyond the busy timeout → 503 with ``Retry-After``) and `OSError` with ``errno.ENOSPC`` (the
database could not grow because the disk is full → 507).
"""

from __future__ import annotations

import errno
import json
import sqlite3
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

JobState = Literal["queued", "running", "done", "failed"]
UNFINISHED: tuple[JobState, ...] = ("queued", "running")

_COLUMNS = "id, state, created_utc, updated_utc, input_name, kind, patient, webhook_url, attempts, error, report"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    created_utc TEXT NOT NULL,
    updated_utc TEXT NOT NULL,
    input_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    patient TEXT NOT NULL,
    webhook_url TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    report TEXT
)
"""
_INDEX = "CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state)"
_VERSION_COLUMNS = "id, version, state, created_utc, updated_utc, settings, correction, report"
_VERSIONS_SCHEMA = """
CREATE TABLE IF NOT EXISTS report_versions (
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    state TEXT NOT NULL,
    created_utc TEXT NOT NULL,
    updated_utc TEXT NOT NULL,
    settings TEXT NOT NULL,
    correction TEXT NOT NULL,
    report TEXT,
    PRIMARY KEY (id, version)
)
"""
"""Issue 19: versions 2, 3, … of a report made by reader corrections (version 1 is the job's own report)."""


class StoreBusyError(RuntimeError):
    """The job database stayed locked by another connection for longer than the busy timeout."""

    def __init__(self, retry_after_s: int = 5) -> None:
        super().__init__("the job database is busy (locked by another connection); retry shortly")
        self.retry_after_s = retry_after_s


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Job:
    """One report job as stored."""

    id: str
    state: JobState
    created_utc: str
    updated_utc: str
    input_name: str
    """File name of the stored input inside the job folder (``input.<sniffed suffix>``)."""
    kind: str
    """``image`` or ``record``."""
    patient: dict[str, Any] = field(repr=False)
    webhook_url: str | None = field(default=None, repr=False)
    attempts: int = 0
    error: str | None = None
    report: dict[str, Any] | None = field(default=None, repr=False)

    @classmethod
    def _from_row(cls, row: tuple) -> Job:
        (id_, state, created, updated, input_name, kind, patient, webhook, attempts, error, report) = row
        return cls(
            id_, state, created, updated, input_name, kind, json.loads(patient), webhook, int(attempts), error,
            json.loads(report) if report else None,
        )


@dataclass(frozen=True)
class ReportVersion:
    """A corrected version of a report (issue 19): ``running`` while it is made, then ``done``."""

    id: str
    version: int
    state: Literal["running", "done"]
    created_utc: str
    updated_utc: str
    settings: dict[str, Any]
    """The reader's settings in force (``report.corrections.Hints.to_dict``)."""
    correction: dict[str, Any]
    """What changed, by whom, when, the note and the version corrected."""
    report: dict[str, Any] | None = field(default=None, repr=False)

    @classmethod
    def _from_row(cls, row: tuple) -> ReportVersion:
        id_, version, state, created, updated, settings, correction, report = row
        return cls(id_, int(version), state, created, updated, json.loads(settings), json.loads(correction),
                   json.loads(report) if report else None)


class VersionConflictError(RuntimeError):
    """Another correction already made (or is making) this version."""


class JobStore(ABC):
    """Persistence of jobs; every method is safe to call from several threads."""

    @abstractmethod
    def create(self, id: str, *, input_name: str, kind: str, patient: dict[str, Any], webhook_url: str | None) -> Job:
        """Insert a new job in state ``queued``."""

    @abstractmethod
    def get(self, id: str) -> Job | None: ...

    @abstractmethod
    def start(self, id: str) -> Job | None:
        """Mark a queued job running and count the attempt; None when it no longer exists or is not queued."""

    @abstractmethod
    def finish(self, id: str, report: dict[str, Any]) -> None: ...

    @abstractmethod
    def fail(self, id: str, reason: str) -> None:
        """Mark a job failed with the reason; its patient fields are erased (no report will ever carry them)."""

    @abstractmethod
    def requeue(self, id: str) -> None:
        """Put a running job back in the queue (recovery after a restart)."""

    @abstractmethod
    def delete(self, id: str) -> bool:
        """Erase a job; False when there was none."""

    @abstractmethod
    def unfinished(self) -> list[Job]:
        """Jobs still ``queued`` or ``running``, oldest first."""

    @abstractmethod
    def counts(self) -> dict[str, int]:
        """Number of jobs per state."""

    @abstractmethod
    def finished_before(self, cutoff_utc: str) -> list[str]:
        """Ids of ``done``/``failed`` jobs last updated before ``cutoff_utc`` (ISO 8601, UTC) — retention purges."""

    def close(self) -> None:  # noqa: B027 - optional for implementations without resources
        """Release connections."""

    # --- report versions (issue 19) -----------------------------------------------------------------------------
    def begin_version(self, id: str, version: int, settings: dict[str, Any], correction: dict[str, Any]) -> None:
        """Claim ``version`` of report ``id`` (state ``running``); `VersionConflictError` when it exists."""
        raise NotImplementedError("this job store keeps no report versions")

    def finish_version(self, id: str, version: int, report: dict[str, Any]) -> None:
        raise NotImplementedError("this job store keeps no report versions")

    def drop_version(self, id: str, version: int) -> None:
        """Forget a version that could not be made."""
        raise NotImplementedError("this job store keeps no report versions")

    def versions(self, id: str) -> list[ReportVersion]:
        """Versions 2, 3, … of report ``id``, oldest first (none: only the job's own report, version 1)."""
        return []


class _SqlJobStore(JobStore):
    """The SQL shared by both databases; subclasses give the connection and the parameter marker."""

    marker = "?"

    def __init__(self) -> None:
        self._lock = threading.Lock()

    @abstractmethod
    def _execute(self, sql: str, params: tuple = ()) -> tuple[list[tuple], int]:
        """Run one statement in its own transaction; (rows, rowcount)."""

    def _sql(self, sql: str) -> str:
        return sql.replace("?", self.marker)

    def create(self, id: str, *, input_name: str, kind: str, patient: dict[str, Any], webhook_url: str | None) -> Job:
        now = _now()
        self._execute(
            self._sql(f"INSERT INTO jobs ({_COLUMNS}) VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, 0, NULL, NULL)"),
            (id, now, now, input_name, kind, json.dumps(patient), webhook_url),
        )
        job = self.get(id)
        assert job is not None
        return job

    def get(self, id: str) -> Job | None:
        rows, _ = self._execute(self._sql(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?"), (id,))
        return Job._from_row(rows[0]) if rows else None

    def start(self, id: str) -> Job | None:
        _, changed = self._execute(
            self._sql("UPDATE jobs SET state = 'running', attempts = attempts + 1, updated_utc = ? "
                      "WHERE id = ? AND state = 'queued'"),
            (_now(), id),
        )
        return self.get(id) if changed else None

    def finish(self, id: str, report: dict[str, Any]) -> None:
        self._execute(
            self._sql("UPDATE jobs SET state = 'done', report = ?, error = NULL, updated_utc = ? WHERE id = ?"),
            (json.dumps(report, allow_nan=False), _now(), id),
        )

    def fail(self, id: str, reason: str) -> None:
        self._execute(
            self._sql("UPDATE jobs SET state = 'failed', error = ?, patient = '{}', updated_utc = ? WHERE id = ?"),
            (reason, _now(), id),
        )

    def requeue(self, id: str) -> None:
        self._execute(self._sql("UPDATE jobs SET state = 'queued', updated_utc = ? WHERE id = ?"), (_now(), id))

    def delete(self, id: str) -> bool:
        _, changed = self._execute(self._sql("DELETE FROM jobs WHERE id = ?"), (id,))
        self._execute(self._sql("DELETE FROM report_versions WHERE id = ?"), (id,))  # issue 19: its versions too
        return changed > 0

    # --- report versions (issue 19) -----------------------------------------------------------------------------
    def begin_version(self, id: str, version: int, settings: dict[str, Any], correction: dict[str, Any]) -> None:
        now = _now()
        try:
            self._execute(
                self._sql(f"INSERT INTO report_versions ({_VERSION_COLUMNS}) "
                          "VALUES (?, ?, 'running', ?, ?, ?, ?, NULL)"),
                (id, version, now, now, json.dumps(settings), json.dumps(correction)),
            )
        except Exception as exc:
            if self._is_conflict(exc):
                raise VersionConflictError(f"version {version} of this report exists already") from None
            raise

    def _is_conflict(self, exc: Exception) -> bool:
        return isinstance(exc, sqlite3.IntegrityError)

    def finish_version(self, id: str, version: int, report: dict[str, Any]) -> None:
        self._execute(
            self._sql("UPDATE report_versions SET state = 'done', report = ?, updated_utc = ? "
                      "WHERE id = ? AND version = ?"),
            (json.dumps(report), _now(), id, version),
        )

    def drop_version(self, id: str, version: int) -> None:
        self._execute(self._sql("DELETE FROM report_versions WHERE id = ? AND version = ?"), (id, version))

    def versions(self, id: str) -> list[ReportVersion]:
        rows, _ = self._execute(
            self._sql(f"SELECT {_VERSION_COLUMNS} FROM report_versions WHERE id = ? ORDER BY version"), (id,)
        )
        return [ReportVersion._from_row(r) for r in rows]

    def unfinished(self) -> list[Job]:
        rows, _ = self._execute(
            f"SELECT {_COLUMNS} FROM jobs WHERE state IN ('queued', 'running') ORDER BY created_utc, id"
        )
        return [Job._from_row(r) for r in rows]

    def counts(self) -> dict[str, int]:
        rows, _ = self._execute("SELECT state, COUNT(*) FROM jobs GROUP BY state")
        return {state: int(n) for state, n in rows}

    def finished_before(self, cutoff_utc: str) -> list[str]:
        rows, _ = self._execute(
            self._sql("SELECT id FROM jobs WHERE state IN ('done', 'failed') AND updated_utc < ? ORDER BY updated_utc"),
            (cutoff_utc,),
        )
        return [r[0] for r in rows]


class SqliteJobStore(_SqlJobStore):
    """Jobs in one SQLite file (WAL journal, so readers never wait for the writer).

    ``busy_timeout_s`` bounds how long a statement waits for a lock held by another connection (SQLite retries
    internally meanwhile); past it the statement raises `StoreBusyError` instead of hanging the request.
    """

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 5.0) -> None:
        super().__init__()
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.busy_timeout_s = busy_timeout_s
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=busy_timeout_s)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA secure_delete=ON")  # erased rows (patient fields) are zeroed, not left in free pages
        self._conn.execute(_SCHEMA)
        self._conn.execute(_INDEX)
        self._conn.execute(_VERSIONS_SCHEMA)

    def _execute(self, sql: str, params: tuple = ()) -> tuple[list[tuple], int]:
        with self._lock:
            try:
                cursor = self._conn.execute(sql, params)
                return cursor.fetchall(), cursor.rowcount
            except sqlite3.OperationalError as exc:
                raise _translated(exc, self.busy_timeout_s) from exc

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _translated(exc: sqlite3.OperationalError, busy_timeout_s: float) -> Exception:
    """SQLite's lock and disk-full errors as `StoreBusyError` / ``OSError(ENOSPC)``; others unchanged."""
    code = getattr(exc, "sqlite_errorcode", None)
    text = str(exc).lower()
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in text or "busy" in text:
        return StoreBusyError(max(1, round(busy_timeout_s)))
    if code == sqlite3.SQLITE_FULL or "disk is full" in text:
        return OSError(errno.ENOSPC, "the job database cannot grow: disk full")
    return exc


class PostgresJobStore(_SqlJobStore):
    """The same jobs table on PostgreSQL (psycopg 3, autocommit, one connection re-opened when it drops)."""

    marker = "%s"

    def __init__(self, url: str) -> None:
        super().__init__()
        import psycopg  # optional dependency: only needed with a database URL

        self._psycopg = psycopg
        self._url = url
        self._conn = psycopg.connect(url, autocommit=True)
        self._execute(_SCHEMA)
        self._execute(_INDEX)
        self._execute(_VERSIONS_SCHEMA)

    def _is_conflict(self, exc: Exception) -> bool:
        return isinstance(exc, self._psycopg.IntegrityError)

    def _execute(self, sql: str, params: tuple = ()) -> tuple[list[tuple], int]:
        with self._lock:
            if self._conn.closed:
                self._conn = self._psycopg.connect(self._url, autocommit=True)
            with self._conn.cursor() as cursor:
                cursor.execute(sql, params)
                rows = cursor.fetchall() if cursor.description else []
                return rows, cursor.rowcount

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def open_store(data_dir: Path, database_url: str | None = None, *, busy_timeout_s: float = 5.0) -> JobStore:
    """PostgreSQL when a ``postgresql://`` URL is given, otherwise SQLite at ``<data_dir>/jobs.sqlite3``."""
    if database_url:
        if not database_url.startswith(("postgresql://", "postgres://")):
            raise ValueError(f"database URL must start with postgresql://, got {database_url.split(':')[0]}://…")
        return PostgresJobStore(database_url)
    return SqliteJobStore(Path(data_dir) / "jobs.sqlite3", busy_timeout_s=busy_timeout_s)
