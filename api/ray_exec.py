"""Jobs on a Ray cluster: the same job code (`api.jobs.produce_report_bytes`) inside actors that load the models once.

With ``ECGSCREEN_RAY_ADDRESS`` set, the service keeps its store, queue and files, and each worker thread hands its job
to a free `ReportActor` on the cluster: input bytes in, report JSON and file bytes out, so the Ray nodes need no
shared disk with the service, only the ``ecgscreen`` package and the ``models/`` folder.
"""

from __future__ import annotations

import queue
from pathlib import Path
from typing import Any

from api.core.config import Settings
from api.store import Job
from ecg.errors import EcgInputError, ModelError


class ReportActor:
    """Holds one `report.pipeline.Pipeline` (models loaded once per actor) and runs jobs on it."""

    def __init__(self, models_dir: str | None, saliency: bool, threads: int | None) -> None:
        from report.pipeline import Pipeline

        self.pipeline = Pipeline(models_dir, saliency=saliency, threads=threads)

    def ping(self) -> dict[str, Any]:
        import os
        import socket

        import ray

        return {"host": socket.gethostname(), "pid": os.getpid(), "node_id": ray.get_runtime_context().get_node_id(),
                "classifier": self.pipeline.classifier is not None}

    def run(self, data: bytes, input_name: str, report_id: str, patient: dict[str, Any]):
        from api.jobs import produce_report_bytes

        return produce_report_bytes(self.pipeline, data, input_name, report_id=report_id, patient=patient)


def connect(address: str) -> Any:
    """``ray.init`` on an existing cluster (never starts one implicitly unless address is ``local``)."""
    import ray

    if not ray.is_initialized():
        ray.init(address=None if address == "local" else address, log_to_driver=False,
                 include_dashboard=False if address == "local" else None, configure_logging=False)
    return ray


def unwrap_task_error(exc: BaseException) -> BaseException:
    """A user error or model fault raised in a Ray task comes back wrapped; give the original error class back."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, EcgInputError):
        return EcgInputError(str(cause))
    if isinstance(cause, ModelError):
        return ModelError(str(cause), getattr(cause, "names", ()))
    return exc


class RayExecutor:
    """`api.runner.Executor` on Ray: ``settings.workers`` actors, each used by one worker thread at a time."""

    def __init__(self, settings: Settings, *, num_cpus: float = 1.0) -> None:
        ray = connect(settings.ray_address or "auto")
        self._ray = ray
        actor_class = ray.remote(num_cpus=num_cpus, max_restarts=2, max_task_retries=1)(ReportActor)
        models = str(settings.models_dir) if settings.models_dir else None
        self.actors = [actor_class.remote(models, settings.saliency, settings.threads) for _ in range(settings.workers)]
        self.placement = ray.get([a.ping.remote() for a in self.actors], timeout=300)
        self._free: queue.Queue = queue.Queue()
        for actor in self.actors:
            self._free.put(actor)

    @property
    def ready(self) -> bool:
        return bool(self.actors)

    def close(self) -> None:
        """Release the actors (and the CPUs they hold on the cluster)."""
        for actor in self.actors:
            self._ray.kill(actor)
        self.actors = []

    def run(self, job: Job, job_dir: Path) -> dict[str, Any]:
        data = (job_dir / job.input_name).read_bytes()
        actor = self._free.get()
        try:
            report, files = self._ray.get(actor.run.remote(data, job.input_name, job.id, job.patient))
        except self._ray.exceptions.RayTaskError as exc:
            raise unwrap_task_error(exc) from None
        finally:
            self._free.put(actor)
        for name, content in files.items():
            (job_dir / Path(name).name).write_bytes(content)
        return report
