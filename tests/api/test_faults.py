"""Fault injection: a worker killed mid-job, a full data disk, a locked SQLite file, a corrupted model file.

Each fault must end in a clear answer (a job state with a reason, 507, 503 with Retry-After, a refused start naming
the file and both checksums) and leave nothing half-written behind; the service keeps serving other requests.
"""

from __future__ import annotations

import errno
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from api_testkit import AUTH, KEY, REPO, ecgscreen_command, free_port, running_server, standin_server_command
from fastapi.testclient import TestClient
from standin_app import GatedPipeline

from api.app import create_app
from api.store import SqliteJobStore, StoreBusyError, _translated
from classify.manifest import ModelIntegrityError, read_manifest, sha256_file
from ecg.models import ModelLoadError
from tests.conftest import make_fake_models

POST = "/api/v1/reports"


def _wait_finished(client: TestClient, location: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while (body := client.get(location, headers=AUTH).json())["state"] not in ("done", "failed"):
        assert time.monotonic() < deadline, f"job still {body['state']}"
        time.sleep(0.05)
    return body


def _rows(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "jobs.sqlite3") as conn:
        return conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]


# --- worker killed mid-job ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("attempts_so_far", "expected"), [(1, "done"), (2, "failed")])
def test_a_job_left_running_by_a_dead_process_is_rerun_or_failed_at_restart(
    make_client, settings, edf_bytes, attempts_so_far, expected
):
    store = SqliteJobStore(settings.data_dir / "jobs.sqlite3")
    job_id = "ab" * 16
    (settings.data_dir / "jobs" / job_id).mkdir(parents=True)
    (settings.data_dir / "jobs" / job_id / "input.edf").write_bytes(edf_bytes)
    store.create(job_id, input_name="input.edf", kind="record", patient={}, webhook_url=None)
    for _ in range(attempts_so_far):  # each start is one attempt; the process "died" in the last one
        store._execute("UPDATE jobs SET state = 'queued' WHERE id = ?", (job_id,))
        store.start(job_id)
    store.close()

    client = make_client(max_attempts=2)
    body = _wait_finished(client, f"{POST}/{job_id}")
    assert body["state"] == expected
    if expected == "failed":
        assert "interrupted by a server restart after 2 attempt(s)" in body["error"]
    else:
        assert body["report"]["id"] == job_id and body["error"] is None


@pytest.mark.slow
def test_server_killed_mid_job_fails_the_job_with_a_reason_after_max_attempts(tmp_path, edf_bytes):
    port, data = free_port(), tmp_path / "data"
    env = {
        "ECGSCREEN_DATA_DIR": str(data),
        "ECGSCREEN_API_KEYS": KEY,
        "ECGSCREEN_TEST_PIPELINE": "slow",
        "ECGSCREEN_TEST_SLEEP": "60",
        "ECGSCREEN_MAX_ATTEMPTS": "1",
        "PYTHONPATH": str(REPO),
    }
    base = f"http://127.0.0.1:{port}"
    with running_server(standin_server_command(port), env, port) as proc:
        response = httpx.post(base + POST, headers=AUTH, files={"file": ("r.edf", edf_bytes)})
        location = base + response.headers["location"]
        deadline = time.monotonic() + 20
        while httpx.get(location, headers=AUTH).json()["state"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    env["ECGSCREEN_TEST_PIPELINE"] = "fast"
    with running_server(standin_server_command(port), env, port):
        body = httpx.get(location, headers=AUTH).json()  # recovery runs before the server accepts requests
    assert body["state"] == "failed"
    assert body["error"] == "interrupted by a server restart after 1 attempt(s); not retried again"


# --- disk full --------------------------------------------------------------------------------------------------------
def _disk_full_under(monkeypatch, root: Path) -> None:
    """Make every ``Path.write_bytes`` below ``root`` fail as on a full disk."""
    original = Path.write_bytes

    def write_bytes(self: Path, data) -> int:
        if self.resolve().is_relative_to(root.resolve()):
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return original(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)


def test_an_upload_on_a_full_disk_is_507_and_leaves_nothing(make_client, settings, edf_bytes, monkeypatch):
    client = make_client()
    stored = client.post(POST + "?wait=true", headers=AUTH, files={"file": ("r.edf", edf_bytes)})
    assert stored.status_code == 200
    _disk_full_under(monkeypatch, settings.data_dir)

    full = client.post(POST, headers=AUTH, files={"file": ("r.edf", edf_bytes)})
    assert full.status_code == 507 and "storage full" in full.json()["detail"]
    assert _rows(settings.data_dir) == 1 and len(list((settings.data_dir / "jobs").iterdir())) == 1
    assert client.get(stored.headers["location"], headers=AUTH).json()["state"] == "done"  # still serving
    assert client.get("/readyz").status_code == 200

    monkeypatch.undo()
    assert client.post(POST, headers=AUTH, files={"file": ("r.edf", edf_bytes)}).status_code == 202


def test_results_on_a_full_disk_fail_the_job_with_the_reason(make_client, settings, edf_bytes, monkeypatch):
    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("report.pdf.write_pdf", no_space)
    client = make_client()
    response = client.post(POST + "?wait=true", headers=AUTH, files={"file": ("r.edf", edf_bytes)})
    assert response.status_code == 507
    body = response.json()
    assert body["state"] == "failed" and body["error"].startswith("storage full")
    job_dir = settings.data_dir / "jobs" / body["id"]
    assert sorted(p.name for p in job_dir.iterdir()) == ["input.edf"]  # no half-written report files

    monkeypatch.undo()  # space freed: the next job succeeds, the worker survived
    again = client.post(POST + "?wait=true", headers=AUTH, files={"file": ("r.edf", edf_bytes)})
    assert again.status_code == 200 and again.json()["state"] == "done"


def test_sqlite_disk_full_becomes_enospc_and_lock_errors_become_busy():
    full = _translated(sqlite3.OperationalError("database or disk is full"), 5.0)
    assert isinstance(full, OSError) and full.errno == errno.ENOSPC
    busy = _translated(sqlite3.OperationalError("database is locked"), 2.0)
    assert isinstance(busy, StoreBusyError) and busy.retry_after_s == 2
    other = sqlite3.OperationalError("no such table: jobs")
    assert _translated(other, 5.0) is other


# --- SQLite locked by another connection --------------------------------------------------------------------------
def _lock(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db, isolation_level=None, timeout=1.0)
    conn.execute("BEGIN EXCLUSIVE")
    return conn


def test_a_locked_database_answers_503_with_retry_after_and_stores_nothing(make_client, settings, edf_bytes):
    client = make_client(db_busy_timeout_s=0.3)
    stored = client.post(POST + "?wait=true", headers=AUTH, files={"file": ("r.edf", edf_bytes)})
    locker = _lock(settings.data_dir / "jobs.sqlite3")
    try:
        refused = client.post(POST, headers=AUTH, files={"file": ("r.edf", edf_bytes)})
        assert refused.status_code == 503 and int(refused.headers["retry-after"]) >= 1
        assert "locked" in refused.json()["detail"]
        assert client.delete(stored.headers["location"], headers=AUTH).status_code == 503
        assert client.get(stored.headers["location"], headers=AUTH).status_code == 200  # WAL: reads go on
    finally:
        locker.rollback()
        locker.close()
    assert _rows(settings.data_dir) == 1 and len(list((settings.data_dir / "jobs").iterdir())) == 1
    assert client.post(POST, headers=AUTH, files={"file": ("r.edf", edf_bytes)}).status_code == 202


def test_a_worker_waits_out_a_locked_database_and_then_stores_the_result(make_client, settings, edf_bytes):
    pipeline = GatedPipeline()
    client = make_client(pipeline=pipeline, db_busy_timeout_s=0.2)
    location = client.post(POST, headers=AUTH, files={"file": ("r.edf", edf_bytes)}).headers["location"]
    assert pipeline.started.acquire(timeout=10)
    locker = _lock(settings.data_dir / "jobs.sqlite3")
    try:
        pipeline.gate.set()
        time.sleep(1.5)  # the report is made; storing it keeps meeting the lock
        assert client.get(location, headers=AUTH).json()["state"] == "running"
    finally:
        locker.rollback()
        locker.close()
    assert _wait_finished(client, location)["state"] == "done"
    assert client.get("/livez").status_code == 200


# --- a corrupted model file ----------------------------------------------------------------------------------------
@pytest.fixture
def corrupt_models(tmp_path) -> tuple[Path, str, str]:
    """Stand-in models with ``fusion.onnx`` altered after registration: (folder, expected sha256, actual sha256)."""
    models = make_fake_models(tmp_path / "models")
    with open(models / "fusion.onnx", "ab") as handle:
        handle.write(b"\x00tampered")
    return models, read_manifest(models)["fusion"].sha256, sha256_file(models / "fusion.onnx")


def _assert_names_file_and_checksums(text: str, models: Path, expected: str, actual: str) -> None:
    flat = " ".join(text.split())  # the CLI wraps long lines
    assert str(models / "fusion.onnx") in flat and expected in flat and actual in flat


def test_a_corrupt_model_stops_the_service_from_starting(settings, corrupt_models):
    models, expected, actual = corrupt_models
    app = create_app(settings.model_copy(update={"models_dir": models}))
    with pytest.raises(ModelIntegrityError) as refused, TestClient(app):
        pass
    _assert_names_file_and_checksums(str(refused.value), models, expected, actual)


def test_without_required_models_a_corrupt_model_makes_readyz_say_so(settings, corrupt_models):
    models, expected, actual = corrupt_models
    app = create_app(settings.model_copy(update={"models_dir": models, "require_models": False}))
    with TestClient(app) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["classifiers"] == "unavailable"
        assert ready.json()["broken_models"] == ["fusion"]
        _assert_names_file_and_checksums(" ".join(ready.json()["reasons"]), models, expected, actual)


@pytest.mark.slow
def test_serve_and_report_commands_refuse_a_corrupt_model(tmp_path, corrupt_models):
    models, expected, actual = corrupt_models
    env = {
        **os.environ,
        "ECGSCREEN_MODELS_DIR": str(models),
        "ECGSCREEN_DATA_DIR": str(tmp_path / "data"),
        "COLUMNS": "400",
    }
    serve = subprocess.run(
        [*ecgscreen_command(), "serve", "--port", "0"], env=env, capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert serve.returncode == 3 and "refusing to start" in serve.stderr
    _assert_names_file_and_checksums(serve.stderr, models, expected, actual)
    report = subprocess.run(
        [
            *ecgscreen_command(),
            "report",
            str(REPO / "samples" / "ptbxl-00001.hea"),
            "-o",
            str(tmp_path / "r.pdf"),
            "--models",
            str(models),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert report.returncode == 3 and "Traceback" not in report.stderr and not (tmp_path / "r.pdf").exists()
    _assert_names_file_and_checksums(report.stderr, models, expected, actual)


class _BrokenModelPipeline:
    """A pipeline whose model fails while a job runs (e.g. onnxruntime refuses a file replaced after start-up)."""

    classifier, classifier_error = object(), None

    def run(self, source, *, patient=None):
        raise ModelLoadError("model file models/trace_unet.onnx cannot be opened by onnxruntime: bad graph",
                             ("trace_unet",))


def test_a_model_fault_during_a_job_is_a_503_naming_the_model_not_a_422(make_client, edf_bytes):
    client = make_client(pipeline=_BrokenModelPipeline())
    answer = client.post(f"{POST}?wait=true", headers=AUTH, files={"file": ("r.edf", edf_bytes)})
    assert answer.status_code == 503, answer.text
    assert answer.json()["detail"].startswith("model unavailable") and "trace_unet.onnx" in answer.json()["detail"]
