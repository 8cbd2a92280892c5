"""Helpers shared by the service tests (imported by name: conftest puts this folder on sys.path)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"
PHOTO = SAMPLES / "photo-ptbxl-00001.jpg"
KEY = "test-key-0123456789"
AUTH = {"X-API-Key": KEY}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(
    args: list[str], env: dict[str, str], port: int, timeout: float = 60.0
) -> Iterator[subprocess.Popen]:
    """Start a server process on 127.0.0.1:``port`` and wait for /livez; kill it (whole group) afterwards."""
    proc = subprocess.Popen(args, env={**os.environ, **env}, cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        wait_live(port, proc, timeout)
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        if proc.stderr:
            proc.stderr.close()


def wait_live(port: int, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/livez", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not come up")


def standin_server_command(port: int) -> list[str]:
    """uvicorn on the stand-in app factory below (``ECGSCREEN_TEST_PIPELINE`` = fake | slow)."""
    return [sys.executable, "-m", "uvicorn", "--factory", "--app-dir", str(REPO / "tests" / "api"),
            "standin_app:make_app", "--host", "127.0.0.1", "--port", str(port), "--no-access-log"]


def ecgscreen_command() -> list[str]:
    """The installed ``ecgscreen`` console script beside this Python, else ``python -m api.cli``."""
    script = Path(sys.executable).with_name("ecgscreen")
    return [str(script)] if script.exists() else [sys.executable, "-m", "api.cli"]
