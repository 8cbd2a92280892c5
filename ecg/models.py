"""The one loader of shipped models: open an ONNX model by name, verified against its manifest entry, on the
providers one policy picks, once per process.

>>> from ecg.models import open_model
>>> model = open_model("orient")                # doctest: +SKIP
>>> model.session.run(None, feeds)             # doctest: +SKIP

Provider policy (:func:`select_providers`): CUDA only when onnxruntime offers ``CUDAExecutionProvider`` *and* an
NVIDIA GPU is really present (:func:`gpu_present`; a CUDA build of onnxruntime offers CUDA on machines without one)
*and* ``ECGSCREEN_DEVICE`` is not ``cpu``; the CPU otherwise. The providers a session really got are read back with
``session.get_providers()`` (onnxruntime falls back to the CPU when CUDA cannot start) and kept in
:attr:`LoadedModel.providers`.

The models folder comes from :func:`ecg.manifest.resolve_models_dir` (argument, ``ECGSCREEN_MODELS_DIR``, or
``<repo>/models``). onnxruntime is imported on first use, so importing this module stays cheap.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecg.errors import ModelError
from ecg.manifest import ModelEntry, read_manifest, resolve_models_dir, verified_entry

DEVICE_ENV = "ECGSCREEN_DEVICE"
CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"


class ModelLoadError(ModelError):
    """onnxruntime refused a model file that passed its sha256 check (unsupported opset, truncated graph, ...)."""


@dataclass(frozen=True)
class LoadedModel:
    """A verified manifest entry, its file and the onnxruntime session, with the providers the session really uses."""

    entry: ModelEntry
    path: Path
    session: Any
    providers: tuple[str, ...]


def gpu_present() -> bool:
    """True when an NVIDIA GPU is visible to this process (driver ``/proc`` entry or ``/dev/nvidia0``)."""
    gpus = Path("/proc/driver/nvidia/gpus")
    return (gpus.is_dir() and any(gpus.iterdir())) or Path("/dev/nvidia0").exists()


def select_providers() -> list[str]:
    """``[CUDA, CPU]`` when onnxruntime offers CUDA, a GPU is present and ``ECGSCREEN_DEVICE`` is not ``cpu``;
    ``[CPU]`` otherwise."""
    import onnxruntime as ort

    if os.environ.get(DEVICE_ENV, "").strip().lower() == "cpu":
        return [CPU]
    if CUDA in ort.get_available_providers() and gpu_present():
        return [CUDA, CPU]
    return [CPU]


_SESSIONS: dict[tuple[str, str, int | None, tuple], LoadedModel] = {}
_LOCK = threading.Lock()


def open_model(
    name: str,
    models_dir: str | Path | None = None,
    *,
    threads: int | None = None,
    missing_message: str = "",
) -> LoadedModel:
    """The session of shipped model ``name`` (``<models_dir>/manifest.json`` entry), opened once per process.

    Parameters
    ----------
    name : manifest name (``"tiled"``, ``"trace_unet"``, ``"orient"``, ...).
    models_dir : folder of the manifest and the files (:func:`ecg.manifest.resolve_models_dir`).
    threads : onnxruntime intra-op threads (default: onnxruntime's choice); inter-op threads are 1.
    missing_message : the message when the model is missing (say how to make it).

    Raises
    ------
    ModelUnavailableError
        No manifest entry or no file.
    ModelIntegrityError
        The file's sha256 differs from the manifest.
    ModelLoadError
        onnxruntime cannot open the file.
    """
    folder = resolve_models_dir(models_dir)
    key = (str(folder.resolve()), name, threads, _file_state(folder, name))
    with _LOCK:
        if key not in _SESSIONS:
            _SESSIONS[key] = _open(folder, name, threads, missing_message)
        return _SESSIONS[key]


def _file_state(folder: Path, name: str) -> tuple:
    """What identifies the file on disk now (manifest sha256, size, mtime): a replaced file is verified again."""
    entry = read_manifest(folder).get(name)
    if entry is None:
        return ()
    try:
        stat = (folder / entry.file).stat()
    except OSError:
        return (entry.sha256,)
    return (entry.sha256, stat.st_size, stat.st_mtime_ns)


def _open(folder: Path, name: str, threads: int | None, missing_message: str) -> LoadedModel:
    import onnxruntime as ort

    entry, path = verified_entry(folder, name, missing_message=missing_message)
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    try:
        session = ort.InferenceSession(str(path), options, providers=select_providers())
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own untyped errors
        reason = f"model file {path} cannot be opened by onnxruntime: {exc}".splitlines()[0]
        raise ModelLoadError(reason, (name,)) from None
    return LoadedModel(entry, path, session, tuple(session.get_providers()))


def clear_cache() -> None:
    """Forget every open session (tests, or after models were replaced on disk)."""
    with _LOCK:
        _SESSIONS.clear()
