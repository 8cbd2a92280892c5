"""The bounded worker pool that turns queued jobs into reports.

``workers`` threads take job ids from an in-memory queue; at most ``queue_size`` jobs may wait, a further submission
raises `QueueFullError` (HTTP 429 with ``Retry-After``). What a worker runs is an `Executor`: in this process
(`LocalExecutor`, the embedded default) or on a Ray cluster (`api.ray_exec.RayExecutor`), with the same job code.

Restart safety: the store is the truth. At start-up every job left ``queued`` or ``running`` by a previous process
is queued again when its input is still on disk and it has been started fewer than ``max_attempts`` times;
otherwise it is marked ``failed`` with the reason. Nothing is silently lost.
"""

from __future__ import annotations

import math
import queue
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from api.core.logging import get_logger
from api.core.metrics import Metrics
from api.jobs import PipelineLike, patient_from_dict, produce_report
from api.store import Job, JobStore
from ecg.errors import EcgInputError

log = get_logger()


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
        metrics: Metrics | None = None,
        on_finished: Callable[[Job], None] | None = None,
    ) -> None:
        self.store, self.jobs_dir, self.executor = store, Path(jobs_dir), executor
        self.workers, self.queue_size, self.max_attempts = workers, queue_size, max_attempts
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
        """Recover jobs left by a previous process, then start the workers."""
        self.recover()
        for i in range(self.workers):
            thread = threading.Thread(target=self._work, name=f"ecgscreen-worker-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 30.0) -> None:
        """Let running jobs finish (queued ones stay queued in the store for the next start)."""
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
            finally:
                with self._lock:
                    self._running -= 1
                    self.metrics.running.set(self._running)
                    event = self._done.pop(job_id, None)
                if event:
                    event.set()

    def _run_one(self, job_id: str) -> None:
        job = self.store.start(job_id)
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
        except Exception as exc:  # noqa: BLE001 - a crashing job must not kill the worker
            log.exception("job crashed", extra={"job_id": job.id})
            self._finish_failed(job, f"internal error while processing ({type(exc).__name__})")
            return
        elapsed = time.perf_counter() - started
        self._job_seconds = 0.8 * self._job_seconds + 0.2 * elapsed
        for stage, seconds in (report.get("timings_s") or {}).items():
            self.metrics.stage_seconds.labels(stage).observe(float(seconds))
        if self.store.get(job.id) is None:  # deleted while running: erase what the job wrote
            shutil.rmtree(job_dir, ignore_errors=True)
            return
        self.store.finish(job.id, report)
        self.metrics.jobs.labels("done").inc()
        log.info("job done", extra={"job_id": job.id, "seconds": round(elapsed, 3)})
        self._notify(job.id)

    def _finish_failed(self, job: Job, reason: str) -> None:
        if self.store.get(job.id) is None:
            shutil.rmtree(self.jobs_dir / job.id, ignore_errors=True)
            return
        self.store.fail(job.id, reason)
        self.metrics.jobs.labels("failed").inc()
        log.info("job failed", extra={"job_id": job.id, "reason": reason})
        self._notify(job.id)

    def _notify(self, job_id: str) -> None:
        if self.on_finished is None:
            return
        job = self.store.get(job_id)
        if job is not None:
            self.on_finished(job)
