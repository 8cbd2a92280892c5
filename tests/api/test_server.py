"""A real uvicorn on 127.0.0.1 (random port): the Docker entry command (`ecgscreen serve`) through the real pipeline,
and a job interrupted by killing the server process, resumed after the restart."""

from __future__ import annotations

import os
import shutil
import signal
import time

import httpx
import pytest
from api_testkit import AUTH, KEY, PHOTO, REPO, free_port, running_server, standin_server_command

pytestmark = pytest.mark.slow


def test_serve_entry_command_runs_the_real_pipeline(live_server):
    base = live_server
    with PHOTO.open("rb") as fh:
        response = httpx.post(f"{base}/api/v1/reports?wait=true", headers=AUTH, files={"file": ("p.jpg", fh)},
                              timeout=60)
    assert response.status_code == 200, response.text
    report = response.json()["report"]
    assert report["digitization"]["quality"] > 0 and report["measurements"]["heart_rate_bpm"] > 0
    ready = httpx.get(f"{base}/readyz")
    if report["classifiers"] is None:  # models not trained/installed yet: reported, not fatal
        assert "classify" in report["errors"] and ready.status_code == 503
    else:
        assert ready.status_code == 200
    pdf = httpx.get(f"{base}{response.json()['links']['pdf']}", headers=AUTH)
    assert pdf.content.startswith(b"%PDF-")
    assert httpx.get(f"{base}/metrics").status_code == 401


def test_job_interrupted_by_a_killed_server_resumes_after_restart(tmp_path):
    port = free_port()
    data = tmp_path / "data"
    env = {"ECGSCREEN_DATA_DIR": str(data), "ECGSCREEN_API_KEYS": KEY, "ECGSCREEN_TEST_PIPELINE": "slow",
           "ECGSCREEN_TEST_SLEEP": "60", "PYTHONPATH": str(REPO)}
    base = f"http://127.0.0.1:{port}"
    record = REPO / "samples" / "ptbxl-00001.hea"
    edf = tmp_path / "r.edf"
    from ecg.io import read_record, write_record

    write_record(read_record(record), edf)
    with running_server(standin_server_command(port), env, port) as proc:
        response = httpx.post(f"{base}/api/v1/reports", headers=AUTH, files={"file": ("r.edf", edf.read_bytes())})
        assert response.status_code == 202
        location = base + response.headers["location"]
        deadline = time.monotonic() + 20
        while httpx.get(location, headers=AUTH).json()["state"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGKILL)  # no shutdown hooks run
        proc.wait(10)
    assert (data / "jobs" / location.rsplit("/", 1)[1]).exists()
    env["ECGSCREEN_TEST_PIPELINE"] = "fast"
    with running_server(standin_server_command(port), env, port):
        deadline = time.monotonic() + 30
        while (body := httpx.get(location, headers=AUTH).json())["state"] not in ("done", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert body["state"] == "done" and body["report"]["input"]["kind"] == "signal"
    shutil.rmtree(data, ignore_errors=True)
