"""Load test of the HTTP service on loopback: N concurrent clients posting a sample image with ``?wait=false``.

    python bench/api_load.py                       # starts `ecgscreen serve` on a free 127.0.0.1 port, 20 clients, 60 s
    python bench/api_load.py --clients 20 --duration 60 --workers 1 --queue-size 16
    python bench/api_load.py --url http://127.0.0.1:8000 --key KEY    # an already running local service

Prints p50/p95 request latency (all answers, and accepted ones), throughput (answers/s, accepted/s), jobs finished
during the run (from /metrics), answers per status, and the error count: anything but 202 and 429 is an error (must
be 0). Bounded: loopback only, fixed duration, in-flight requests capped by the client count.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(key: str, data_dir: str, workers: int, queue_size: int) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "ECGSCREEN_API_KEYS": key, "ECGSCREEN_DATA_DIR": data_dir,
           "ECGSCREEN_WORKERS": str(workers), "ECGSCREEN_QUEUE_SIZE": str(queue_size), "ECGSCREEN_LOG_LEVEL": "WARNING"}
    script = Path(sys.executable).with_name("ecgscreen")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "api.cli"]
    proc = subprocess.Popen([*command, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/livez", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGKILL)
    raise SystemExit("the service did not start")


def _jobs_done(url: str, key: str) -> float:
    text = httpx.get(url + "/metrics", headers={"X-API-Key": key}, timeout=10).text
    return sum(float(v) for v in re.findall(r'^ecgscreen_jobs_total\{outcome="\w+"\} ([0-9.e+]+)$', text, re.M))


async def _client(http: httpx.AsyncClient, url: str, key: str, image: bytes, stop_at: float,
                  latencies: list[tuple[int, float]], statuses: Counter) -> None:
    while time.monotonic() < stop_at:
        started = time.perf_counter()
        try:
            response = await http.post(url + "/api/v1/reports?wait=false", headers={"X-API-Key": key},
                                       files={"file": ("ecg.jpg", image, "image/jpeg")})
            status = response.status_code
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        latencies.append((status, time.perf_counter() - started))
        statuses[status] += 1
        if status == 429:  # a polite client backs off a little (not the full Retry-After: we measure saturation)
            await asyncio.sleep(0.05)


async def _run(url: str, key: str, image: bytes, clients: int, duration: float) -> tuple[list, Counter, float]:
    latencies: list[tuple[int, float]] = []
    statuses: Counter = Counter()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        started = time.monotonic()
        stop_at = started + duration
        await asyncio.gather(*(_client(http, url, key, image, stop_at, latencies, statuses) for _ in range(clients)))
        elapsed = time.monotonic() - started
    return latencies, statuses, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running service on loopback (default: start one)")
    parser.add_argument("--key", help="API key for --url")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds")
    parser.add_argument("--image", type=Path, default=REPO / "samples" / "photo-ptbxl-00001.jpg")
    parser.add_argument("--workers", type=int, default=1, help="service workers (when started here)")
    parser.add_argument("--queue-size", type=int, default=16, help="service queue size (when started here)")
    args = parser.parse_args()
    if not 1 <= args.clients <= 200 or not 0 < args.duration <= 600:
        parser.error("clients must be 1–200 and duration 0–600 s")

    proc = None
    with tempfile.TemporaryDirectory(prefix="ecgscreen-bench-") as data_dir:
        if args.url:
            if urlsplit(args.url).hostname not in LOOPBACK:
                parser.error("--url must be a loopback address (127.0.0.1, localhost, ::1)")
            if not args.key:
                parser.error("--key is required with --url")
            url, key = args.url.rstrip("/"), args.key
        else:
            key = secrets.token_urlsafe(24)
            proc, url = _start_server(key, data_dir, args.workers, args.queue_size)
        try:
            image = args.image.read_bytes()
            done_before = _jobs_done(url, key)
            latencies, statuses, elapsed = asyncio.run(_run(url, key, image, args.clients, args.duration))
            jobs_done = _jobs_done(url, key) - done_before
        finally:
            if proc is not None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(60)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)

    all_ms = np.array([s for _, s in latencies]) * 1000
    accepted_ms = np.array([s for code, s in latencies if code == 202]) * 1000
    errors = sum(n for code, n in statuses.items() if code not in (202, 429))
    print(f"clients {args.clients}, duration {elapsed:.1f} s, image {args.image.name} ({len(image) / 1024:.0f} kB), "
          f"server workers {args.workers if not args.url else '?'}")
    print(f"answers: {len(latencies)} ({len(latencies) / elapsed:.1f}/s); by status: "
          + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items(), key=str)))
    print(f"latency all      p50 {np.percentile(all_ms, 50):.1f} ms  p95 {np.percentile(all_ms, 95):.1f} ms")
    if accepted_ms.size:
        print(f"latency accepted p50 {np.percentile(accepted_ms, 50):.1f} ms  p95 {np.percentile(accepted_ms, 95):.1f} "
              f"ms  ({accepted_ms.size / elapsed:.2f} accepted/s)")
    print(f"jobs finished during the run: {jobs_done:.0f} ({jobs_done / elapsed:.2f}/s)")
    print(f"errors (not 202/429): {errors}")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
