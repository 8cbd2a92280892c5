"""The Ray path on a local two-node cluster (a head and one worker node on this machine, 1 CPU and ~200 MB of object
store each): service jobs through pipeline actors, and `ecgscreen batch --ray` with Ray Data.

The nodes are started with ``ray start`` and stopped by killing exactly the processes that carry this test's tag
in their environment (no machine-wide ``ray stop``)."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from api_testkit import AUTH, PHOTO, REPO, ecgscreen_command, free_port
from fastapi.testclient import TestClient

pytestmark = pytest.mark.slow
ray = pytest.importorskip("ray", reason="ray is not installed (optional extra: pip install 'ecgscreen[ray]')")

OBJECT_STORE_BYTES = 200_000_000


def _tagged_pids(tag: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if f"ECGSCREEN_RAY_TEST_TAG={tag}".encode() in (entry / "environ").read_bytes():
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def _stop_tagged(tag: str) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in _tagged_pids(tag):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5
        while _tagged_pids(tag) and time.monotonic() < deadline:
            time.sleep(0.2)


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    ray_cli = Path(sys.executable).with_name("ray")
    if not ray_cli.exists():
        pytest.skip("the ray command line is not installed beside this Python")
    tag = uuid.uuid4().hex
    temp = tmp_path_factory.mktemp("ray")
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "ECGSCREEN_RAY_TEST_TAG": tag,
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    port = free_port()
    common = ["--num-cpus=1", f"--object-store-memory={OBJECT_STORE_BYTES}", "--node-ip-address=127.0.0.1",
              "--disable-usage-stats"]
    try:
        subprocess.run([str(ray_cli), "start", "--head", f"--port={port}", "--include-dashboard=false",
                        f"--temp-dir={temp}", *common], env=env, check=True, capture_output=True, timeout=120)
        subprocess.run([str(ray_cli), "start", f"--address=127.0.0.1:{port}", *common], env=env, check=True,
                       capture_output=True, timeout=120)
        ray.init(address=f"127.0.0.1:{port}", log_to_driver=False)
        deadline = time.monotonic() + 60
        while len([n for n in ray.nodes() if n["Alive"]]) < 2:
            assert time.monotonic() < deadline, "the worker node did not join"
            time.sleep(0.5)
        yield f"127.0.0.1:{port}", env
    finally:
        ray.shutdown()
        _stop_tagged(tag)
    assert not _tagged_pids(tag), "Ray processes left running"


def test_service_jobs_run_on_actors_across_both_nodes(ray_cluster, tmp_path, edf_bytes):
    from standin_app import standin_pipeline

    from api.app import create_app
    from api.core.config import Settings

    address, _ = ray_cluster
    settings = Settings(data_dir=tmp_path / "data", api_keys=[AUTH["X-API-Key"]], workers=2, ray_address=address)
    with TestClient(create_app(settings, pipeline_factory=lambda s: standin_pipeline())) as client:
        executor = client.app.state.services.runner.executor
        assert len({p["node_id"] for p in executor.placement}) == 2  # one pipeline actor per node
        responses = [client.post("/api/v1/reports?wait=true", headers=AUTH, files={"file": ("r.edf", edf_bytes)})
                     for _ in range(2)]
        for response in responses:
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["report"]["id"] == body["id"]
            assert client.get(body["links"]["pdf"], headers=AUTH).content.startswith(b"%PDF-")
            assert (settings.data_dir / "jobs" / body["id"] / "signals.edf").exists()  # files came back
        bad = client.post("/api/v1/reports?wait=true", headers=AUTH,
                          files={"file": ("b.png", b"\x89PNG\r\n\x1a\n" + b"junk" * 50)})
        assert bad.status_code == 422 and bad.json()["detail"].startswith("input refused")


def test_batch_cli_with_ray_data(ray_cluster, tmp_path, edf_bytes):
    address, env = ray_cluster
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "photo.jpg").write_bytes(PHOTO.read_bytes())
    (folder / "record.edf").write_bytes(edf_bytes)
    (folder / "notes.txt").write_bytes(b"not an ECG\n")
    out = tmp_path / "out"
    result = subprocess.run([*ecgscreen_command(), "batch", str(folder), "--ray", address, "-o", str(out)],
                            env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 1, result.stderr[-2000:]  # one input is not an ECG
    with open(out / "index.csv", newline="") as fh:
        rows = {row["file"]: row for row in csv.DictReader(fh)}
    assert rows["photo.jpg"]["state"] == "done" and rows["record.edf"]["state"] == "done"
    assert rows["notes.txt"]["state"] == "failed" and "unsupported content" in rows["notes.txt"]["error"]
    assert (out / "photo.pdf").read_bytes().startswith(b"%PDF-") and (out / "record.json").exists()
    assert "2 reported, 1 failed" in result.stderr
