"""The job store contract on SQLite (always) and PostgreSQL (a throw-away cluster started with initdb/pg_ctl when
the binaries are installed), and restart recovery through the runner."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from api.runner import Runner
from api.store import PostgresJobStore, SqliteJobStore, open_store

PG_BIN_DIRS = [Path("/usr/lib/postgresql") / v / "bin" for v in ("17", "16", "15", "14")]


def _pg_bin(name: str) -> str | None:
    for folder in PG_BIN_DIRS:
        if (folder / name).exists():
            return str(folder / name)
    return shutil.which(name)


@pytest.fixture(scope="module")
def postgres_url(tmp_path_factory):
    """A private PostgreSQL cluster on a temp dir and a free loopback port; stopped and deleted afterwards."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not installed: apt-get install postgresql")
    pytest.importorskip("psycopg", reason="psycopg not installed (pip install 'psycopg[binary]')")
    run_as: list[str] = []
    root = tmp_path_factory.mktemp("pg")
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: use the postgres account when there is one
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and no 'postgres' user to run the throw-away cluster as")
        run_as = ["runuser", "-u", "postgres", "--"]
        os.chmod(root, 0o777)
        for parent in root.parents:  # the account must be able to reach the temp dir
            if parent == Path("/"):
                break
            os.chmod(parent, os.stat(parent).st_mode | 0o011)
        os.chown(root, account.pw_uid, account.pw_gid)
    data, sock = root / "data", root
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run([*run_as, initdb, "-D", str(data), "-U", "ecg", "--auth=trust", "-E", "UTF8"], check=True,
                   capture_output=True)
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={sock} -c fsync=off"
    subprocess.run([*run_as, pg_ctl, "-D", str(data), "-o", options, "-w", "-l", str(root / "log"), "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgresql://ecg@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*run_as, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    if request.param == "sqlite":
        store = SqliteJobStore(tmp_path / "jobs.sqlite3")
    else:
        url = request.getfixturevalue("postgres_url")
        store = PostgresJobStore(url)
        store._execute("DELETE FROM jobs")
    yield store
    store.close()


def test_job_life_cycle(store):
    job = store.create("a" * 32, input_name="input.png", kind="image", patient={"name": "X"}, webhook_url=None)
    assert job.state == "queued" and job.attempts == 0 and job.patient == {"name": "X"}
    started = store.start(job.id)
    assert started.state == "running" and started.attempts == 1
    assert store.start(job.id) is None  # only a queued job starts
    store.finish(job.id, {"status": {"screening": "normal"}})
    done = store.get(job.id)
    assert done.state == "done" and done.report == {"status": {"screening": "normal"}}
    other = store.create("b" * 32, input_name="input.edf", kind="record", patient={"name": "Y"}, webhook_url="http://h/x")
    store.fail(other.id, "input refused: x")
    failed = store.get(other.id)
    assert failed.error == "input refused: x" and failed.webhook_url == "http://h/x"
    assert failed.patient == {}  # a failed job keeps no patient fields
    assert store.counts() == {"done": 1, "failed": 1}
    assert store.unfinished() == []
    assert store.delete(job.id) and not store.delete(job.id) and store.get(job.id) is None


def test_report_json_must_be_strict(store):
    job = store.create("c" * 32, input_name="input.png", kind="image", patient={}, webhook_url=None)
    with pytest.raises(ValueError):
        store.finish(job.id, {"value": float("nan")})


class _NeverRuns:
    ready = True

    def run(self, job, job_dir):  # pragma: no cover - recovery must not run anything synchronously
        raise AssertionError


def test_recovery_requeues_or_fails_with_a_reason(store, tmp_path):
    jobs_dir = tmp_path / "jobs"
    for name, attempts in (("resume", 1), ("exhausted", 2), ("noinput", 0)):
        job_id = name.ljust(32, "0")
        store.create(job_id, input_name="input.png", kind="image", patient={}, webhook_url=None)
        for _ in range(attempts):
            store.requeue(job_id)
            store.start(job_id)
        if name != "noinput":
            (jobs_dir / job_id).mkdir(parents=True)
            (jobs_dir / job_id / "input.png").write_bytes(b"x")
    runner = Runner(store, jobs_dir, _NeverRuns(), workers=1, queue_size=1, max_attempts=2)
    assert runner.recover() == {"requeued": 1, "failed": 2}
    assert store.get("resume".ljust(32, "0")).state == "queued" and runner.depth == 1
    assert "after 2 attempt(s)" in store.get("exhausted".ljust(32, "0")).error
    assert "input file is gone" in store.get("noinput".ljust(32, "0")).error


def test_open_store_chooses_by_url(tmp_path):
    store = open_store(tmp_path)
    assert isinstance(store, SqliteJobStore) and (tmp_path / "jobs.sqlite3").exists()
    assert store._execute("PRAGMA journal_mode")[0][0][0] == "wal"
    store.close()
    with pytest.raises(ValueError, match="postgresql://"):
        open_store(tmp_path, "mysql://x")


def test_service_on_postgres(postgres_url, make_client, edf_bytes):
    from api_testkit import AUTH

    client = make_client(database_url=postgres_url)
    assert type(client.app.state.services.store).__name__ == "PostgresJobStore"
    response = client.post("/api/v1/reports?wait=true", headers=AUTH, files={"file": ("r.edf", edf_bytes)})
    assert response.status_code == 200, response.text
    job_id = response.json()["id"]
    assert client.get(f"/api/v1/reports/{job_id}", headers=AUTH).json()["state"] == "done"
    assert client.delete(f"/api/v1/reports/{job_id}", headers=AUTH).status_code == 204
