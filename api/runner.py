"""The bounded worker pool that turns queued jobs into reports.

``workers`` threads take job ids from an in-memory queue; at most ``queue_size`` jobs may wait, a further submission
raises `QueueFullError` (HTTP 429 with ``Retry-After``). What a worker runs is an `Executor`: in this process
(`LocalExecutor`, the embedded default) or on a Ray cluster (`api.ray_exec.RayExecutor`), with the same job code.

Restart safety: the store is the truth. At start-up every job left ``queued`` or ``running`` by a previous process
is queued again when its input is still on disk and it has been started fewer than ``max_attempts`` times;
otherwise it is marked ``failed`` with the reason. Nothing is silently lost.

Faults while running: a job whose files cannot be written (disk full) fails with that reason and leaves only its
input; a store write that meets a lock held elsewhere (`StoreBusyError`) is retried with back-off until it succeeds,
so a locked database delays results but neither loses them nor kills a worker.

Housekeeping (`Runner.housekeep`, at start and every hour): finished jobs older than ``retention_days`` are erased
(row and folder), and job folders without a row (left by a crash between writing the upload and storing the job)
are removed once they are an hour old.
"""

from __future__ import annotations

import errno
import math
import queue
import shutil
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from api.core.logging import get_logger
from api.core.metrics import Metrics
from api.jobs import PipelineLike, patient_from_dict, produce_report
from api.store import Job, JobStore, StoreBusyError
from ecg.errors import EcgInputError, ModelError

log = get_logger()
HOUSEKEEPING_INTERVAL_S = 3600.0
ORPHAN_AGE_S = 3600.0
"""A job folder without a row is removed once it is this old (younger ones may belong to an upload in flight)."""
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def is_disk_full(exc: BaseException) -> bool:
    """True for ``OSError`` meaning no space left (ENOSPC) or quota exceeded (EDQUOT)."""
    return isinstance(exc, OSError) and exc.errno in DISK_FULL


class QueueFullError(Exception):
    """No room for another job; retry after ``retry_after_s`` seconds."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"the job queue is full; retry in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class Executor(Protocol):
    """Runs one job: writes its files into ``job_dir`` and returns the report JSON."""

    def run(self, job: Job, job_dir: Path) -> dict[str, Any]: ...

    @property
    def ready(self) -> bool: ...


class LocalExecutor:
    """Runs the pipeline in this process (models loaded once, shared by the worker threads)."""

    def __init__(self, pipeline: PipelineLike) -> None:
        self.pipeline = pipeline

    @property
    def ready(self) -> bool:
        return True

    def run(self, job: Job, job_dir: Path) -> dict[str, Any]:
        return produce_report(
            self.pipeline, job_dir / job.input_name, job_dir, report_id=job.id, patient=patient_from_dict(job.patient)
        )


class Runner:
    """Worker threads over a bounded queue of job ids, persisted through a `JobStore`."""

    def __init__(
        self,
        store: JobStore,
        jobs_dir: Path,
        executor: Executor,
        *,
        workers: int = 1,
        queue_size: int = 16,
        max_attempts: int = 2,
        retention_days: float = 0.0,
        metrics: Metrics | None = None,
        on_finished: Callable[[Job], None] | None = None,
    ) -> None:
        self.store, self.jobs_dir, self.executor = store, Path(jobs_dir), executor
        self.workers, self.queue_size, self.max_attempts = workers, queue_size, max_attempts
        self.retention_days = retention_days
        self._stopping = threading.Event()
        self.metrics = metrics or Metrics.create()
        self.on_finished = on_finished
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._waiting = 0
        self._running = 0
        self._lock = threading.Lock()
        self._done: dict[str, threading.Event] = {}
        self._threads: list[threading.Thread] = []
        self._job_seconds = 2.0  # running mean of job durations, for Retry-After

    # --- life cycle ---------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Recover jobs left by a previous process, purge expired ones, then start the workers and housekeeping."""
        self._stopping.clear()
        self.recover()
        self.housekeep()
        for i in range(self.workers):
            thread = threading.Thread(target=self._work, name=f"ecgscreen-worker-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)
        self._housekeeper = threading.Thread(target=self._housekeeping_loop, name="ecgscreen-housekeeping", daemon=True)
        self._housekeeper.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Let running jobs finish (queued ones stay queued in the store for the next start)."""
        self._stopping.set()
        with self._lock:
            while not self._queue.empty():
                self._queue.get_nowait()
            self._waiting = 0
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
        close = getattr(self.executor, "close", None)
        if close is not None:
            close()

    def recover(self) -> dict[str, int]:
        """Queue again or fail the unfinished jobs of a previous process; returns counts per decision."""
        outcome = {"requeued": 0, "failed": 0}
        for job in self.store.unfinished():
            input_path = self.jobs_dir / job.id / job.input_name
            if not input_path.exists():
                reason = "interrupted by a server restart and its input file is gone"
            elif job.attempts >= self.max_attempts:
                reason = f"interrupted by a server restart after {job.attempts} attempt(s); not retried again"
            else:
                reason = None
            if reason:
                self.store.fail(job.id, reason)
                self.metrics.jobs.labels("failed").inc()
                outcome["failed"] += 1
                continue
            if job.state == "running":
                self.store.requeue(job.id)
            self._enqueue(job.id, bounded=False)
            outcome["requeued"] += 1
        if any(outcome.values()):
            log.info("recovered unfinished jobs", extra=outcome)
        return outcome

    def housekeep(self, now: datetime | None = None) -> dict[str, int]:
        """Erase finished jobs older than ``retention_days`` and stale orphan folders; returns counts."""
        now = now or datetime.now(UTC)
        outcome = {"expired": 0, "orphans": 0}
        if self.retention_days > 0:
            cutoff = (now - timedelta(days=self.retention_days)).isoformat(timespec="milliseconds")
            for job_id in self.store.finished_before(cutoff):
                self.store.delete(job_id)
                shutil.rmtree(self.jobs_dir / job_id, ignore_errors=True)
                outcome["expired"] += 1
        if self.jobs_dir.is_dir():
            oldest = now.timestamp() - ORPHAN_AGE_S
            for folder in self.jobs_dir.iterdir():
                if folder.is_dir() and folder.stat().st_mtime < oldest and self.store.get(folder.name) is None:
                    shutil.rmtree(folder, ignore_errors=True)
                    outcome["orphans"] += 1
        if any(outcome.values()):
            log.info("housekeeping", extra=outcome)
        return outcome

    def _housekeeping_loop(self) -> None:
        while not self._stopping.wait(HOUSEKEEPING_INTERVAL_S):
            try:
                self.housekeep()
            except Exception:  # noqa: BLE001 - retried at the next interval
                log.exception("housekeeping failed")

    # --- submission and waiting ---------------------------------------------------------------------------------
    def check_capacity(self) -> None:
        """Raise `QueueFullError` if a new job would not fit (call before storing anything)."""
        with self._lock:
            if self._waiting >= self.queue_size:
                raise QueueFullError(self._retry_after())

    def submit(self, job_id: str) -> None:
        """Queue a stored job; raises `QueueFullError` when the queue is full."""
        self._enqueue(job_id, bounded=True)

    def wait(self, job_id: str, timeout: float) -> bool:
        """Block until the job is finished (True) or ``timeout`` seconds pass (False)."""
        with self._lock:
            event = self._done.get(job_id)
        if event is None:
            job = self.store.get(job_id)
            return job is None or job.state in ("done", "failed")
        return event.wait(timeout)

    @property
    def depth(self) -> int:
        return self._waiting

    @property
    def running(self) -> int:
        return self._running

    def _enqueue(self, job_id: str, *, bounded: bool) -> None:
        with self._lock:
            if bounded and self._waiting >= self.queue_size:
                raise QueueFullError(self._retry_after())
            self._waiting += 1
            self._done[job_id] = threading.Event()
            self._queue.put(job_id)
            self.metrics.queue_depth.set(self._waiting)

    def _retry_after(self) -> int:
        busy = self._waiting + self._running
        return max(1, math.ceil(self._job_seconds * busy / max(1, self.workers)))

    # --- the workers --------------------------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None:
                return
            with self._lock:
                self._waiting -= 1
                self._running += 1
                self.metrics.queue_depth.set(self._waiting)
                self.metrics.running.set(self._running)
            try:
                self._run_one(job_id)
            except Exception:  # noqa: BLE001 - e.g. the store unwritable: the row stays unfinished for recovery
                log.exception("job bookkeeping failed; left for restart recovery", extra={"job_id": job_id})
            finally:
                with self._lock:
                    self._running -= 1
                    self.metrics.running.set(self._running)
                    event = self._done.pop(job_id, None)
                if event:
                    event.set()

    def _retrying(self, call: Callable[..., Any], *args: Any) -> Any:
        """``call(*args)``, retried with back-off (0.5 s doubling to 5 s) while the store is locked elsewhere."""
        delay = 0.5
        while True:
            try:
                return call(*args)
            except StoreBusyError:
                if self._stopping.is_set():
                    raise
                log.warning("job store busy; retrying", extra={"delay_s": delay})
                time.sleep(delay)
                delay = min(2 * delay, 5.0)

    def _run_one(self, job_id: str) -> None:
        job = self._retrying(self.store.start, job_id)
        if job is None:  # deleted while queued
            return
        job_dir = self.jobs_dir / job.id
        started = time.perf_counter()
        try:
            report = self.executor.run(job, job_dir)
        except EcgInputError as exc:
            shutil.rmtree(job_dir, ignore_errors=True)  # a refused input is not kept
            self._finish_failed(job, f"input refused: {exc}")
            return
        except ModelError as exc:  # the server's fault: the input is kept for a retry once the model is fixed
            log.error("job failed: model unavailable", extra={"job_id": job.id, "reason": str(exc)})
            self._finish_failed(job, f"model unavailable: {exc}")
            return
        except OSError as exc:
            if not is_disk_full(exc):
                reason = f"internal error while processing ({type(exc).__name__})"
                log.exception("job crashed", extra={"job_id": job.id})
            else:
                reason = "storage full: the report files could not be written (no space left on the data disk)"
                log.error("job failed: disk full", extra={"job_id": job.id})
            _remove_outputs(job_dir, keep=job.input_name)
            self._finish_failed(job, reason)
            return
        except Exception as exc:  # noqa: BLE001 - a crashing job must not kill the worker
            log.exception("job crashed", extra={"job_id": job.id})
            self._finish_failed(job, f"internal error while processing ({type(exc).__name__})")
            return
        elapsed = time.perf_counter() - started
        self._job_seconds = 0.8 * self._job_seconds + 0.2 * elapsed
        for stage, seconds in (report.get("timings_s") or {}).items():
            self.metrics.stage_seconds.labels(stage).observe(float(seconds))
        if self._retrying(self.store.get, job.id) is None:  # deleted while running: erase what the job wrote
            shutil.rmtree(job_dir, ignore_errors=True)
            return
        self._retrying(self.store.finish, job.id, report)
        self.metrics.jobs.labels("done").inc()
        log.info("job done", extra={"job_id": job.id, "seconds": round(elapsed, 3)})
        self._notify(job.id)

    def _finish_failed(self, job: Job, reason: str) -> None:
        if self._retrying(self.store.get, job.id) is None:
            shutil.rmtree(self.jobs_dir / job.id, ignore_errors=True)
            return
        self._retrying(self.store.fail, job.id, reason)
        self.metrics.jobs.labels("failed").inc()
        log.info("job failed", extra={"job_id": job.id, "reason": reason})
        self._notify(job.id)

    def _notify(self, job_id: str) -> None:
        if self.on_finished is None:
            return
        job = self.store.get(job_id)
        if job is not None:
            self.on_finished(job)


def _remove_outputs(job_dir: Path, *, keep: str) -> None:
    """Delete whatever a failed job wrote into its folder, keeping only its input ``keep``."""
    if not job_dir.is_dir():
        return
    for path in job_dir.iterdir():
        if path.name == keep:
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
