"""Soak and fault-injection run of the HTTP service on loopback: steady mixed traffic, memory sampled, then faults.

    python bench/soak.py                          # 30 min at 0.3 req/s against `ecgscreen serve` (real pipeline)
    python bench/soak.py --minutes 2 --rate 1 --standin --json /tmp/soak.json

Phase 1 (``--minutes``): one request every 1/``--rate`` s from a mix of full reports (photo and EDF record), stage
calls (digitize, analyze, classify), GETs (job, PDF, /readyz, /metrics), DELETEs of finished jobs and bad inputs
(empty file, text, wrong key, unknown id, bad patient age), each with its expected status. The server's RSS is read
from /proc every ``--sample-s`` s; after ``--warmup-minutes`` the median of the first post-warm-up minute is "start",
the median of the last minute "end" (flat = within 10 %). Then every submitted job is followed to the end.

Phase 2, faults, each with its outcome:
  kill9     SIGKILL the server while a job runs, restart on the same data dir → every job done or failed with reason
  diskfull  uploads hit ENOSPC (the restarted server is `bench/soak_faults.py`: ``Path.write_bytes`` under the data dir
            raises ENOSPC while a marker file exists) → 507, no new row or folder, other requests still served
  locked    another connection holds ``BEGIN EXCLUSIVE`` on jobs.sqlite3 → POST/DELETE 503 + Retry-After, GET 200
  corrupt   a copy of models/ with one byte of fusion.onnx changed → `ecgscreen serve` exits non-zero naming the file
Finally every job ever accepted is looked up: lost (not found, or not finished) must be 0.

Bounded and local: 127.0.0.1 only, fixed duration, at most 4 requests in flight; the temp data dir is removed.
``--standin`` runs the stand-in pipeline (tests/api/standin_app.py) instead of the shipped models.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from soak_faults import (
    DISK_FULL_MARKER_ENV,
    FINAL,
    fault_corrupt_model,
    fault_disk_full,
    fault_kill9,
    fault_locked,
    free_port,
    wait_final,
)

REPO = Path(__file__).resolve().parents[1]
PHOTO = REPO / "samples" / "photo-ptbxl-00001.jpg"
RECORD = REPO / "samples" / "ptbxl-00001.hea"
KEY = "soak-" + os.urandom(8).hex()
AUTH = {"X-API-Key": KEY}
BACKPRESSURE = {429, 503}
"""Answers that say "busy, retry" — counted, never an error."""


# --- the server process ---------------------------------------------------------------------------------------------
class Server:
    """One service process on 127.0.0.1 (its own process group, stderr to a log file)."""

    def __init__(self, data_dir: Path, port: int, *, standin: bool, disk_hook: bool, log: Path, extra_env=None):
        if disk_hook:
            args = [sys.executable, str(REPO / "bench" / "soak_faults.py"), "--port", str(port)]
            args += ["--standin"] if standin else []
        elif standin:
            args = [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "--app-dir",
                str(REPO / "tests" / "api"),
                "standin_app:make_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
            ]
        else:
            args = [
                str(Path(sys.executable).with_name("ecgscreen")),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ]
        env = {
            **os.environ,
            "ECGSCREEN_DATA_DIR": str(data_dir),
            "ECGSCREEN_API_KEYS": KEY,
            "PYTHONPATH": str(REPO),
            "ECGSCREEN_LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
        self.base = f"http://127.0.0.1:{port}"
        self.log = log
        with open(log, "ab") as handle:
            self.proc = subprocess.Popen(
                args, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=handle, start_new_session=True
            )
        self._wait_live(180.0)

    def _wait_live(self, timeout: float) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.base + "/livez", timeout=2).status_code == 200:
                    return
            time.sleep(0.3)
        raise RuntimeError("server did not come up")

    def rss_mib(self) -> float | None:
        """Resident memory of the server process (VmRSS from /proc), MiB."""
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return None

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown hook runs."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()


# --- the traffic ----------------------------------------------------------------------------------------------------
class Traffic:
    """Sends the request mix, records status and latency per kind, and follows every accepted job."""

    def __init__(self, base: str, edf: bytes, photo: bytes, seed: int = 0) -> None:
        import httpx

        self.client = httpx.Client(base_url=base, timeout=120.0)
        self.edf, self.photo = edf, photo
        self.auth = AUTH
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: Counter[tuple[str, int]] = Counter()
        self.unexpected: list[str] = []
        self.jobs: dict[str, str] = {}  # id → last known state, or "deleted"
        self.mix = [  # (kind, weight, expected statuses)
            ("report_image", 2.0, {202}),
            ("report_record", 2.0, {202}),
            ("stage_analyze", 1.0, {200}),
            ("stage_digitize", 0.5, {200}),
            ("stage_classify", 0.5, {200}),
            ("get_report", 2.0, {200}),
            ("get_pdf", 1.0, {200}),
            ("get_health", 1.0, {200}),
            ("delete", 0.7, {204}),
            ("bad_empty", 0.3, {400}),
            ("bad_text", 0.3, {415}),
            ("bad_key", 0.3, {401}),
            ("bad_id", 0.2, {404}),
            ("bad_patient", 0.2, {422}),
        ]

    def rebase(self, base: str) -> None:
        self.client.base_url = base

    def pick(self) -> str:
        kinds, weights, _ = zip(*self.mix, strict=True)
        return self.rng.choices(kinds, weights)[0]

    def jobs_in_state(self, state: str) -> list[str]:
        with self.lock:
            return [i for i, s in self.jobs.items() if s == state]

    def send(self, kind: str) -> None:
        """One request of ``kind``; records its latency and status (transport errors count as status 0)."""
        expected = next(e for k, _, e in self.mix if k == kind)
        method, url, kwargs = self._request(kind)
        if url is None:
            return
        started = time.perf_counter()
        try:
            response = self.client.request(method, url, **kwargs)
            code = response.status_code
        except Exception as exc:  # noqa: BLE001 - a dropped connection is a result to count
            code, response = 0, None
            self.unexpected.append(f"{kind}: {type(exc).__name__}")
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latency[kind].append(elapsed)
            self.status[(kind, code)] += 1
            if code and code not in expected and code not in BACKPRESSURE:
                self.unexpected.append(f"{kind}: {code} {response.text[:160] if response is not None else ''}")
            if kind.startswith("report_") and code == 202:
                self.jobs[response.json()["id"]] = "queued"
            if kind == "delete":
                self.jobs[url.rsplit("/", 1)[1]] = "deleted" if code == 204 else "done"

    def _request(self, kind: str) -> tuple[str, str | None, dict]:
        reports = "/api/v1/reports"
        done = self.jobs_in_state("done")
        files_photo = {"file": ("ecg.jpg", self.photo)}
        files_edf = {"file": ("ecg.edf", self.edf)}
        table = {
            "report_image": ("POST", reports, {"files": files_photo, "data": {"patient_age": "56"}}),
            "report_record": ("POST", reports, {"files": files_edf, "data": {"patient_sex": "F"}}),
            "stage_analyze": ("POST", "/api/v1/analyze", {"files": files_edf}),
            "stage_digitize": ("POST", "/api/v1/digitize", {"files": files_photo}),
            "stage_classify": ("POST", "/api/v1/classify", {"files": files_photo}),
            "get_health": ("GET", self.rng.choice(["/readyz", "/metrics"]), {}),
            "bad_empty": ("POST", reports, {"files": {"file": ("e.png", b"")}}),
            "bad_text": ("POST", reports, {"files": {"file": ("a.png", b"hello, this is not an ECG\n" * 20)}}),
            "bad_key": ("GET", reports + "/" + "0" * 32, {"headers": {"X-API-Key": "wrong"}}),
            "bad_id": ("GET", reports + "/" + "f" * 32, {}),
            "bad_patient": ("POST", reports, {"files": files_edf, "data": {"patient_age": "old"}}),
        }
        if kind in ("get_report", "get_pdf", "delete"):
            if not done:
                return "GET", None, {}
            job = self.rng.choice(done)
            method = "DELETE" if kind == "delete" else "GET"
            if kind == "delete":
                with self.lock:
                    self.jobs[job] = "deleting"  # no GET picks it from now on
            url = f"{reports}/{job}" + ("/pdf" if kind == "get_pdf" else "")
            return method, url, {"headers": AUTH}
        method, url, kwargs = table[kind]
        kwargs.setdefault("headers", AUTH)
        return method, url, kwargs

    def poll_jobs(self, timeout: float = 10.0) -> None:
        """Refresh the state of every unfinished job (GETs not counted as traffic)."""
        with self.lock:
            pending = [i for i, s in self.jobs.items() if s not in (*FINAL, "deleted", "deleting")]
        for job_id in pending:
            with contextlib.suppress(Exception):
                response = self.client.get(f"/api/v1/reports/{job_id}", headers=AUTH, timeout=timeout)
                state = response.json()["state"] if response.status_code == 200 else f"http-{response.status_code}"
                with self.lock:
                    self.jobs[job_id] = state

    def pending(self) -> int:
        with self.lock:
            return sum(s not in (*FINAL, "deleted", "deleting") for s in self.jobs.values())


# --- the fault scenarios --------------------------------------------------------------------------------------------
# --- the run --------------------------------------------------------------------------------------------------------
def errors_by_status(status: Counter) -> dict[int, int]:
    """Answers ≥ 400 (and transport failures as 0) per status code."""
    counts: Counter[int] = Counter()
    for (_, code), n in status.items():
        if code >= 400 or code == 0:
            counts[code] += n
    return dict(sorted(counts.items()))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


def run(args: argparse.Namespace) -> dict:
    from ecg.io import read_record, write_record

    workdir = Path(tempfile.mkdtemp(prefix="ecgscreen-soak-"))
    data_dir, log = workdir / "data", workdir / "server.log"
    write_record(read_record(RECORD), workdir / "r.edf")
    port = free_port()
    server = Server(data_dir, port, standin=args.standin, disk_hook=False, log=log)
    traffic = Traffic(server.base, (workdir / "r.edf").read_bytes(), PHOTO.read_bytes(), seed=args.seed)
    rss: list[tuple[float, float]] = []
    t0 = time.monotonic()
    end = t0 + args.minutes * 60
    in_flight = threading.BoundedSemaphore(4)
    skipped = 0
    print(
        f"soak: {args.minutes} min at {args.rate} req/s, {'stand-in' if args.standin else 'real'} pipeline, "
        f"server pid {server.proc.pid}, data {data_dir}",
        flush=True,
    )

    def one(kind: str) -> None:
        try:
            traffic.send(kind)
        finally:
            in_flight.release()

    next_send = next_sample = next_poll = t0
    next_print = t0 + 60
    with ThreadPoolExecutor(4) as pool:
        while (now := time.monotonic()) < end:
            if now >= next_send:
                next_send += 1.0 / args.rate
                if in_flight.acquire(blocking=False):
                    pool.submit(one, traffic.pick())
                else:
                    skipped += 1
            if now >= next_sample:
                next_sample += args.sample_s
                if (value := server.rss_mib()) is not None:
                    rss.append((now - t0, value))
            if now >= next_poll:
                next_poll += 5.0
                traffic.poll_jobs()
            if now >= next_print and rss:
                next_print += 60
                print(
                    f"  {(now - t0) / 60:5.1f} min: {sum(traffic.status.values())} requests, RSS {rss[-1][1]:.0f} "
                    f"MiB, {traffic.pending()} jobs pending, {len(traffic.unexpected)} unexpected",
                    flush=True,
                )
            time.sleep(max(0.0, min(next_send, next_sample, next_poll) - time.monotonic()))
    drain = wait_final(traffic, [i for i, s in traffic.jobs.items() if s != "deleted"], 600)
    steady_unfinished = sum(s not in FINAL for s in drain.values())

    warm = args.warmup_minutes * 60
    after = [(t, v) for t, v in rss if t >= warm]
    first = [v for t, v in after if t < warm + 60] or [v for _, v in after[:1]]
    last = [v for t, v in after if t >= rss[-1][0] - 60]
    rss_start, rss_end = statistics.median(first), statistics.median(last)
    rss_change = 100.0 * (rss_end - rss_start) / rss_start
    all_latency = [x for values in traffic.latency.values() for x in values]
    summary = {
        "minutes": args.minutes,
        "rate_per_s": args.rate,
        "pipeline": "stand-in" if args.standin else "real",
        "requests_served": sum(traffic.status.values()),
        "skipped_ticks_4_in_flight": skipped,
        "status_by_kind": {f"{k} {c}": n for (k, c), n in sorted(traffic.status.items())},
        "errors_by_status": errors_by_status(traffic.status),
        "unexpected": traffic.unexpected[:20],
        "unexpected_count": len(traffic.unexpected),
        "latency_s": {
            "p50": round(percentile(all_latency, 0.5), 3),
            "p95": round(percentile(all_latency, 0.95), 3),
            **{
                k: {"p50": round(percentile(v, 0.5), 3), "p95": round(percentile(v, 0.95), 3)}
                for k, v in sorted(traffic.latency.items())
            },
        },
        "rss_mib": {
            "first_sample": round(rss[0][1], 1),
            "start_after_warmup": round(rss_start, 1),
            "end": round(rss_end, 1),
            "max_after_warmup": round(max(v for _, v in after), 1),
            "change_pct": round(rss_change, 1),
            "flat_within_10pct": abs(rss_change) <= 10.0,
            "samples": len(rss),
            "warmup_min": args.warmup_minutes,
        },
        "steady_jobs_unfinished_after_drain": steady_unfinished,
    }

    marker = workdir / "disk-full"

    def restart() -> Server:
        return Server(
            data_dir,
            port,
            standin=args.standin,
            disk_hook=True,
            log=log,
            extra_env={DISK_FULL_MARKER_ENV: str(marker), "ECGSCREEN_DB_BUSY_TIMEOUT_S": "2"},
        )

    faults = {}
    if not args.no_faults:
        faults["kill9"], server = fault_kill9(server, traffic, restart)
        traffic.rebase(server.base)
        faults["diskfull"] = fault_disk_full(server, traffic, data_dir, marker)
        faults["locked"] = fault_locked(traffic, data_dir)
        faults["corrupt_model"] = fault_corrupt_model(workdir)
    final = wait_final(traffic, [i for i, s in traffic.jobs.items() if s != "deleted"], 300)
    states = Counter(final.values())
    summary["jobs"] = {
        "submitted": len(traffic.jobs),
        "finished": states.get("done", 0),
        "failed": states.get("failed", 0),
        "deleted": sum(s == "deleted" for s in traffic.jobs.values()),
        "lost": sum(s not in FINAL for s in final.values()),
    }
    summary["faults"] = faults
    server.stop()
    if args.keep:
        summary["workdir"] = str(workdir)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return summary


def print_summary(s: dict) -> None:
    print(
        f"\nrequests served: {s['requests_served']} in {s['minutes']} min at {s['rate_per_s']} req/s "
        f"({s['pipeline']} pipeline); ticks skipped (4 in flight): {s['skipped_ticks_4_in_flight']}"
    )
    print(f"answers ≥ 400 by status: {s['errors_by_status']}; unexpected: {s['unexpected_count']}")
    by_kind = {k: n for k, n in s["status_by_kind"].items() if not k.split()[-1].startswith("2")}
    print(f"answers ≥ 400 by kind: {by_kind}")
    for line in s["unexpected"]:
        print(f"  unexpected: {line}")
    lat = s["latency_s"]
    print(f"latency all: p50 {lat['p50']} s, p95 {lat['p95']} s")
    for kind, v in lat.items():
        if isinstance(v, dict):
            print(f"  {kind:15s} p50 {v['p50']:7.3f} s  p95 {v['p95']:7.3f} s")
    r = s["rss_mib"]
    print(
        f"RSS MiB: first {r['first_sample']}, start (after {r['warmup_min']} min warm-up) {r['start_after_warmup']}, "
        f"end {r['end']}, max {r['max_after_warmup']}, change {r['change_pct']:+.1f} % "
        f"({'flat' if r['flat_within_10pct'] else 'NOT flat'} within 10 %), {r['samples']} samples"
    )
    j = s["jobs"]
    print(
        f"jobs: submitted {j['submitted']}, finished {j['finished']}, failed {j['failed']}, deleted {j['deleted']}, "
        f"lost {j['lost']}"
    )
    for name, outcome in s["faults"].items():
        detail = {k: v for k, v in outcome.items() if k != "ok"}
        print(f"fault {name}: {'OK' if outcome['ok'] else 'FAILED'} {json.dumps(detail)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0, help="steady phase length (default 30)")
    parser.add_argument("--rate", type=float, default=0.3, help="requests per second (default 0.3)")
    parser.add_argument("--warmup-minutes", type=float, default=None, help="default: min(5, minutes / 5)")
    parser.add_argument("--sample-s", type=float, default=5.0, help="RSS sampling interval (s)")
    parser.add_argument("--standin", action="store_true", help="stand-in pipeline instead of the shipped models")
    parser.add_argument("--no-faults", action="store_true", help="skip phase 2")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep the temp data dir")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.rate <= 0 or args.minutes <= 0:
        parser.error("--rate and --minutes must be positive")
    if args.warmup_minutes is None:
        args.warmup_minutes = min(5.0, args.minutes / 5)
    summary = run(args)
    print_summary(summary)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    failed = (
        summary["jobs"]["lost"]
        or summary["unexpected_count"]
        or not all(f["ok"] for f in summary["faults"].values())
        or not summary["rss_mib"]["flat_within_10pct"]
    )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
