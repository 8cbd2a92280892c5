"""Data retention and deletion: expired jobs are purged (rows and files), DELETE leaves no trace of the job."""

from __future__ import annotations

import os
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from api_testkit import AUTH

POST = "/api/v1/reports"
MARKER_NAME = "Zyxwvut Retentionova"


def _job(client, data: bytes, name: str = "r.edf", **fields: str) -> str:
    response = client.post(POST + "?wait=true", headers=AUTH, files={"file": (name, data)}, data=fields)
    assert response.status_code == 200, response.text
    return response.json()["id"]


def _age(data_dir: Path, job_id: str, days: float) -> None:
    """Pretend the job was last updated ``days`` ago."""
    when = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="milliseconds")
    with sqlite3.connect(data_dir / "jobs.sqlite3") as conn:
        conn.execute("UPDATE jobs SET updated_utc = ? WHERE id = ?", (when, job_id))


def test_housekeeping_purges_finished_jobs_older_than_the_retention(make_client, settings, edf_bytes):
    client = make_client(retention_days=30)
    old, recent = _job(client, edf_bytes), _job(client, edf_bytes)
    _age(settings.data_dir, old, 31)
    _age(settings.data_dir, recent, 29)

    outcome = client.app.state.services.runner.housekeep()

    assert outcome == {"expired": 1, "orphans": 0}
    assert client.get(f"{POST}/{old}", headers=AUTH).status_code == 404
    assert not (settings.data_dir / "jobs" / old).exists()
    assert client.get(f"{POST}/{recent}", headers=AUTH).json()["state"] == "done"
    assert (settings.data_dir / "jobs" / recent / "report.pdf").exists()


def test_expired_jobs_are_purged_when_the_service_starts(make_client, settings, edf_bytes):
    first = make_client(retention_days=7)
    job = _job(first, edf_bytes)
    first.__exit__(None, None, None)
    _age(settings.data_dir, job, 8)

    second = make_client(retention_days=7)

    assert second.get(f"{POST}/{job}", headers=AUTH).status_code == 404
    assert not (settings.data_dir / "jobs" / job).exists()


def test_retention_zero_keeps_everything_and_unfinished_jobs_are_never_purged(make_client, settings, edf_bytes):
    client = make_client(retention_days=0)
    done = _job(client, edf_bytes)
    _age(settings.data_dir, done, 10_000)
    assert client.app.state.services.runner.housekeep() == {"expired": 0, "orphans": 0}
    assert client.get(f"{POST}/{done}", headers=AUTH).status_code == 200

    store = client.app.state.services.store
    store.create("c" * 32, input_name="input.edf", kind="record", patient={}, webhook_url=None)
    _age(settings.data_dir, "c" * 32, 400)
    runner = client.app.state.services.runner
    runner.retention_days = 1
    runner.housekeep()
    assert store.get("c" * 32) is not None  # queued: not finished, so not expired
    assert store.get(done) is None


def test_orphan_job_folders_are_removed_once_stale(make_client, settings):
    client = make_client()
    jobs = settings.data_dir / "jobs"
    stale, fresh = jobs / ("d" * 32), jobs / ("e" * 32)
    for folder in (stale, fresh):
        folder.mkdir()
        (folder / "input.png").write_bytes(b"\x89PNG")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))

    assert client.app.state.services.runner.housekeep()["orphans"] == 1
    assert not stale.exists() and fresh.exists()  # a fresh one may be an upload being stored right now


def test_delete_erases_every_file_and_the_patient_fields(make_client, settings, photo_bytes):
    client = make_client()
    job = _job(client, photo_bytes, "ecg.jpg", patient_name=MARKER_NAME, patient_id="RET-4242")
    folder = settings.data_dir / "jobs" / job
    stored = sorted(p.name for p in folder.iterdir())
    assert {"report.pdf", "overlay.png", "signals.csv", "signals.edf"} <= set(stored)
    assert client.get(f"{POST}/{job}/pdf", headers=AUTH).status_code == 200

    assert client.delete(f"{POST}/{job}", headers=AUTH).status_code == 204

    assert not folder.exists()
    assert client.get(f"{POST}/{job}", headers=AUTH).status_code == 404
    for artifact in ("pdf", "overlay.png", "signals.csv", "signals.edf"):
        assert client.get(f"{POST}/{job}/{artifact}", headers=AUTH).status_code == 404
    leftovers = [p for p in settings.data_dir.rglob("*") if job in p.name]
    assert leftovers == []
    with sqlite3.connect(settings.data_dir / "jobs.sqlite3") as conn:  # fold the WAL into the file
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for path in settings.data_dir.glob("jobs.sqlite3*"):  # secure_delete: the erased row's bytes are zeroed
        raw = path.read_bytes()
        assert MARKER_NAME.encode() not in raw and b"RET-4242" not in raw, path.name
