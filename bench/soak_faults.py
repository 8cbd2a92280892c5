"""The fault scenarios of `bench/soak.py`, run against a live service on loopback, and the server launcher with the
disk-full test hook.

    python bench/soak_faults.py --port 8123 [--standin]  # ENOSPC on uploads while $ECGSCREEN_SOAK_DISK_FULL exists

Each ``fault_*`` returns a dict with ``ok`` and what was observed; see the docstring of `bench/soak.py`.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from soak import Server, Traffic

REPO = Path(__file__).resolve().parents[1]
DISK_FULL_MARKER_ENV = "ECGSCREEN_SOAK_DISK_FULL"
FINAL = ("done", "failed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_with_disk_hook(port: int, standin: bool) -> None:
    """The service with a test hook: uploads below the data dir fail with ENOSPC while the marker file exists."""
    marker = Path(os.environ[DISK_FULL_MARKER_ENV])
    data_dir = Path(os.environ["ECGSCREEN_DATA_DIR"]).resolve()
    original = Path.write_bytes

    def write_bytes(self: Path, data) -> int:
        if marker.exists() and self.resolve().is_relative_to(data_dir):
            raise OSError(errno.ENOSPC, "No space left on device (soak hook)", str(self))
        return original(self, data)

    Path.write_bytes = write_bytes  # type: ignore[method-assign]
    if standin:
        import uvicorn

        sys.path.insert(0, str(REPO / "tests" / "api"))
        from standin_app import make_app

        uvicorn.run(make_app(), host="127.0.0.1", port=port, log_config=None, access_log=False)
    else:
        from api.cli import main

        sys.argv = ["ecgscreen", "serve", "--host", "127.0.0.1", "--port", str(port)]
        main()


def _rows(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as conn:
        return conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]


def wait_final(traffic: Traffic, ids: list[str], timeout: float) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while True:
        traffic.poll_jobs()
        with traffic.lock:
            states = {i: traffic.jobs[i] for i in ids}
        if all(s in FINAL for s in states.values()) or time.monotonic() > deadline:
            return states
        time.sleep(0.5)


def fault_kill9(server: Server, traffic: Traffic, restart) -> tuple[dict, Server]:
    """Submit jobs, SIGKILL the server while one runs, restart; every job must end done or failed with a reason."""
    ids = []
    for _ in range(3):
        response = traffic.client.post(
            "/api/v1/reports", headers=traffic.auth, files={"file": ("ecg.jpg", traffic.photo)}
        )
        if response.status_code == 202:
            ids.append(response.json()["id"])
            traffic.jobs[ids[-1]] = "queued"
    deadline, seen_running = time.monotonic() + 120, False
    while time.monotonic() < deadline and not seen_running:
        states = [traffic.client.get(f"/api/v1/reports/{i}", headers=traffic.auth).json()["state"] for i in ids]
        seen_running = "running" in states
        time.sleep(0.05)
    server.kill()
    started = time.monotonic()
    server = restart()
    restart_s = time.monotonic() - started
    states = wait_final(traffic, ids, 300)
    errors = {i: traffic.client.get(f"/api/v1/reports/{i}", headers=traffic.auth).json().get("error") for i in ids}
    ok = (
        seen_running
        and all(s in FINAL for s in states.values())
        and all(errors[i] for i, s in states.items() if s == "failed")
    )
    return {
        "ok": ok,
        "killed_while_running": seen_running,
        "restart_s": round(restart_s, 1),
        "states": states,
        "errors": {i: e for i, e in errors.items() if e},
    }, server


def fault_disk_full(server: Server, traffic: Traffic, data_dir: Path, marker: Path) -> dict:
    db, jobs = data_dir / "jobs.sqlite3", data_dir / "jobs"
    rows, folders = _rows(db), len(list(jobs.iterdir()))
    marker.touch()
    try:
        full = traffic.client.post("/api/v1/reports", headers=traffic.auth, files={"file": ("ecg.edf", traffic.edf)})
        live = traffic.client.get("/livez").status_code
        some_done = traffic.jobs_in_state("done")
        get_other = (
            traffic.client.get(f"/api/v1/reports/{some_done[0]}", headers=traffic.auth).status_code
            if some_done
            else None
        )
        unchanged = (_rows(db), len(list(jobs.iterdir()))) == (rows, folders)
    finally:
        marker.unlink()
    after = traffic.client.post(
        "/api/v1/reports?wait=true", headers=traffic.auth, files={"file": ("ecg.edf", traffic.edf)}
    )
    if after.status_code in (200, 202):
        traffic.jobs[after.json()["id"]] = after.json()["state"]
    ok = full.status_code == 507 and live == 200 and get_other in (200, None) and unchanged and after.status_code == 200
    return {
        "ok": ok,
        "upload_status": full.status_code,
        "detail": full.json().get("detail"),
        "livez": live,
        "get_other_report": get_other,
        "nothing_stored": unchanged,
        "after_space_freed": after.status_code,
    }


def fault_locked(traffic: Traffic, data_dir: Path) -> dict:
    db = data_dir / "jobs.sqlite3"
    rows = _rows(db)
    some_done = traffic.jobs_in_state("done")
    locker = sqlite3.connect(db, isolation_level=None, timeout=10)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        post = traffic.client.post("/api/v1/reports", headers=traffic.auth, files={"file": ("ecg.edf", traffic.edf)})
        delete = traffic.client.delete(f"/api/v1/reports/{some_done[0]}", headers=traffic.auth) if some_done else None
        get = traffic.client.get(f"/api/v1/reports/{some_done[-1]}", headers=traffic.auth) if some_done else None
        ready = traffic.client.get("/readyz")
    finally:
        locker.rollback()
        locker.close()
    unchanged = _rows(db) == rows
    after = traffic.client.post("/api/v1/reports", headers=traffic.auth, files={"file": ("ecg.edf", traffic.edf)})
    if after.status_code == 202:
        traffic.jobs[after.json()["id"]] = "queued"
    codes = {
        "post": post.status_code,
        "post_retry_after": post.headers.get("retry-after"),
        "delete": delete.status_code if delete else None,
        "get": get.status_code if get else None,
        "readyz": ready.status_code,
        "post_after_release": after.status_code,
    }
    ok = (
        post.status_code == 503
        and post.headers.get("retry-after") is not None
        and unchanged
        and (delete is None or delete.status_code == 503)
        and (get is None or get.status_code == 200)
        and after.status_code == 202
    )
    return {"ok": ok, **codes, "rows_unchanged": unchanged}


def fault_corrupt_model(workdir: Path) -> dict:
    models = workdir / "models-corrupt"
    shutil.copytree(REPO / "models", models)
    with open(models / "fusion.onnx", "r+b") as handle:
        handle.seek(4096)
        byte = handle.read(1)
        handle.seek(4096)
        handle.write(bytes([byte[0] ^ 0xFF]))
    from classify.manifest import read_manifest, sha256_file

    expected, actual = read_manifest(models)["fusion"].sha256, sha256_file(models / "fusion.onnx")
    env = {
        **os.environ,
        "ECGSCREEN_MODELS_DIR": str(models),
        "ECGSCREEN_DATA_DIR": str(workdir / "corrupt-data"),
        "COLUMNS": "400",
    }
    run = subprocess.run(
        [str(Path(sys.executable).with_name("ecgscreen")), "serve", "--host", "127.0.0.1", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    message = " ".join(run.stderr.split())
    ok = run.returncode != 0 and str(models / "fusion.onnx") in message and expected in message and actual in message
    return {"ok": ok, "exit_code": run.returncode, "message": message[:400]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="the service with the disk-full test hook (for bench/soak.py)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--standin", action="store_true")
    options = parser.parse_args()
    serve_with_disk_hook(options.port, options.standin)
