"""Bounded queue: 429 with Retry-After when full; queue depth and job outcomes in /metrics."""

from __future__ import annotations

import time

from api_testkit import AUTH
from standin_app import GatedPipeline


def test_queue_full_is_429_with_retry_after(make_client, edf_bytes, settings):
    pipeline = GatedPipeline()
    client = make_client(pipeline=pipeline, workers=1, queue_size=2)
    try:
        first = client.post("/api/v1/reports", headers=AUTH, files={"file": ("r.edf", edf_bytes)})
        assert first.status_code == 202
        assert pipeline.started.acquire(timeout=10)  # the worker holds job 1; two more may wait
        for _ in range(2):
            assert client.post("/api/v1/reports", headers=AUTH, files={"file": ("r.edf", edf_bytes)}).status_code == 202
        full = client.post("/api/v1/reports", headers=AUTH, files={"file": ("r.edf", edf_bytes)})
        assert full.status_code == 429 and int(full.headers["retry-after"]) >= 1
        assert len(list((settings.data_dir / "jobs").iterdir())) == 3  # the refused upload was not stored
        metrics = client.get("/metrics", headers=AUTH).text
        assert "ecgscreen_queue_depth 2.0" in metrics and "ecgscreen_jobs_running 1.0" in metrics
        pending = client.get(first.headers["location"], headers=AUTH)
        assert pending.json()["state"] == "running"
        assert client.get(first.headers["location"] + "/pdf", headers=AUTH).status_code == 409
    finally:
        pipeline.gate.set()
    deadline = time.monotonic() + 30
    while "ecgscreen_jobs_total{outcome=\"done\"} 3.0" not in client.get("/metrics", headers=AUTH).text:
        assert time.monotonic() < deadline, "jobs did not finish"
        time.sleep(0.1)
    metrics = client.get("/metrics", headers=AUTH).text
    assert 'ecgscreen_stage_seconds_count{stage="analyze"} 3.0' in metrics
    assert 'ecgscreen_http_requests_total{method="POST",route="/api/v1/reports",status="429"} 1.0' in metrics


def test_wait_times_out_into_202(make_client, edf_bytes):
    pipeline = GatedPipeline()
    client = make_client(pipeline=pipeline, wait_timeout_s=0.3)
    try:
        response = client.post("/api/v1/reports?wait=true", headers=AUTH, files={"file": ("r.edf", edf_bytes)})
        assert response.status_code == 202 and response.headers["location"].startswith("/api/v1/reports/")
    finally:
        pipeline.gate.set()


def test_deleting_a_running_job_leaves_nothing(make_client, edf_bytes, settings):
    pipeline = GatedPipeline()
    client = make_client(pipeline=pipeline)
    location = client.post("/api/v1/reports", headers=AUTH, files={"file": ("r.edf", edf_bytes)}).headers["location"]
    assert pipeline.started.acquire(timeout=10)
    assert client.delete(location, headers=AUTH).status_code == 204
    pipeline.gate.set()
    services = client.app.state.services
    deadline = time.monotonic() + 20
    while services.runner.running:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert client.get(location, headers=AUTH).status_code == 404
    assert list((settings.data_dir / "jobs").iterdir()) == []


class _CrashingPipeline:
    classifier, classifier_error = None, "none"

    def run(self, source, *, patient=None):
        raise RuntimeError("boom /secret/path")


def test_a_crashing_job_fails_cleanly_and_the_worker_survives(make_client, edf_bytes):
    client = make_client(pipeline=_CrashingPipeline(), require_models=False)
    for _ in range(2):  # the worker thread is still alive for the second job
        response = client.post("/api/v1/reports?wait=true", headers=AUTH, files={"file": ("r.edf", edf_bytes)})
        assert response.status_code == 500
        body = response.json()
        assert body["state"] == "failed" and body["detail"] == "internal error while processing (RuntimeError)"
        assert "secret" not in response.text and "Traceback" not in response.text
