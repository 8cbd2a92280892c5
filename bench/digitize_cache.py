"""Digitize every image of a folder once and cache the results for the benches that read them.

Usage::

    python bench/digitize_cache.py IMAGES CACHE_DIR [--limit N] [--threads N] [--retry-errors]

For each image ``IMAGES/NAME.png/.jpg/...`` (sorted by name; the suffixes of ``bench/digitize_eval.py``) the
project's default digitizer (:func:`digitize.pipeline.digitize_image`, default arguments) is run once and writes, in
``CACHE_DIR``:

* ``NAME.json``: the digitized record (:func:`ecg.io.write_record`), and ``NAME.meta.json``: ``quality`` (0–1),
  ``lead_confidence`` (lead → 0–1), ``lead_reasons`` (lead → reasons), ``layout`` (the template read),
  ``seconds`` (wall time of the digitizer on this image, including reading the file), ``digitizer`` (the
  commit of the code that ran, when it is a git checkout) and ``image`` (the file name);
* or ``NAME.error``: the message of the refusal (:class:`ecg.errors.EcgInputError`) or, for an unexpected
  exception, ``TypeName: message``.

This is the layout ``classify/train/screening_cache.py`` (``_digitizer``: ``NAME.json`` + ``NAME.meta.json``, or
``NAME.error``) and ``bench/tiled_eval.py`` (``digitized``: ``NAME.json`` or ``NAME.error``) read, e.g.
``/work/cache/digitized/<set>/``. Images already cached (both JSON files, or an error) are skipped, so a run can
be stopped and resumed; ``--retry-errors`` digitizes the failed ones again. Files are written to a temporary name
and renamed, the meta file last, so an interrupted run never leaves a half-written entry that counts as done.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.digitize_eval import IMAGE_SUFFIXES  # noqa: E402
from ecg.errors import EcgInputError  # noqa: E402
from ecg.io import write_record  # noqa: E402

Digitizer = Callable[[Path], Any]
"""Image path -> an object with ``record``, ``quality``, ``lead_confidence``, ``lead_reasons`` and ``layout``
(:class:`digitize.pipeline.Digitization`)."""


@dataclass
class CacheSummary:
    """What one run did: images digitized, failed (``.error`` written), skipped (already cached)."""

    digitized: int = 0
    failed: int = 0
    skipped: int = 0


def list_images(folder: Path) -> list[Path]:
    """Image files of a folder, sorted by name; a clear error when the folder does not exist."""
    if not folder.is_dir():
        raise SystemExit(f"image folder not found: {folder}")
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def is_cached(cache: Path, name: str, *, retry_errors: bool = False) -> bool:
    """True when ``name`` has a record and its meta file, or (unless ``retry_errors``) an error file."""
    if (cache / f"{name}.json").exists() and (cache / f"{name}.meta.json").exists():
        return True
    return not retry_errors and (cache / f"{name}.error").exists()


def read_cached(cache: Path, name: str) -> tuple[Any, dict[str, Any]] | None:
    """The cached digitization of ``name``: ``(record at 500 Hz, meta)``; ``None`` when not cached; raises
    :class:`ecg.errors.EcgInputError` with the stored message when the image was refused."""
    from ecg.io import read_record

    if (cache / f"{name}.error").exists():
        raise EcgInputError((cache / f"{name}.error").read_text().strip())
    if not ((cache / f"{name}.json").exists() and (cache / f"{name}.meta.json").exists()):
        return None
    return read_record(cache / f"{name}.json", fs=500.0), json.loads((cache / f"{name}.meta.json").read_text())


def code_version() -> str | None:
    """The git commit of this checkout (``+dirty`` when it has uncommitted changes), or None outside git."""
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                                text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "") if commit else None


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def meta_of(result: Any, seconds: float, image: Path, version: str | None) -> dict[str, Any]:
    """The ``NAME.meta.json`` content of one digitization (see the module docstring)."""
    return {
        "image": image.name,
        "quality": float(result.quality),
        "lead_confidence": {k: float(v) for k, v in result.lead_confidence.items()},
        "lead_reasons": {k: list(v) for k, v in getattr(result, "lead_reasons", {}).items()},
        "layout": getattr(getattr(result, "layout", None), "template", None),
        "seconds": round(seconds, 3),
        "digitizer": version,
    }


def cache_one(image: Path, cache: Path, digitize: Digitizer, version: str | None) -> str:
    """Digitize one image into ``cache``; returns ``"ok"`` or ``"error"`` (the ``.error`` file was written)."""
    name = image.stem
    t0 = time.perf_counter()
    try:
        result = digitize(image)
    except EcgInputError as exc:
        message = str(exc)
    except Exception as exc:  # noqa: BLE001 - one bad image must not stop a cache run; recorded, retryable
        message = f"{type(exc).__name__}: {exc}"
    else:
        seconds = time.perf_counter() - t0
        tmp = cache / f".{name}.tmp.json"
        write_record(result.record, tmp)
        os.replace(tmp, cache / f"{name}.json")
        _write_atomic(cache / f"{name}.meta.json", json.dumps(meta_of(result, seconds, image, version)))
        (cache / f"{name}.error").unlink(missing_ok=True)
        return "ok"
    _write_atomic(cache / f"{name}.error", message)
    return "error"


def default_digitizer(image: Path) -> Any:
    """The project's default digitizer on one image file."""
    from digitize.pipeline import digitize_image

    return digitize_image(image)


def cache_folder(
    images: Path,
    cache: Path,
    *,
    limit: int | None = None,
    threads: int = 1,
    retry_errors: bool = False,
    digitize: Digitizer = default_digitizer,
    log: Callable[[str], None] = print,
) -> CacheSummary:
    """Digitize the not yet cached images of ``images`` (the first ``limit`` by name) into ``cache``."""
    if threads < 1:
        raise SystemExit(f"--threads must be ≥ 1, got {threads}")
    if limit is not None and limit < 0:
        raise SystemExit(f"--limit must be ≥ 0, got {limit}")
    paths = list_images(images)[:limit] if limit is not None else list_images(images)
    cache.mkdir(parents=True, exist_ok=True)
    summary = CacheSummary()
    todo = [p for p in paths if not is_cached(cache, p.stem, retry_errors=retry_errors)]
    summary.skipped = len(paths) - len(todo)
    version = code_version()

    def run(image: Path) -> tuple[Path, str, float]:
        t0 = time.perf_counter()
        return image, cache_one(image, cache, digitize, version), time.perf_counter() - t0

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for image, status, seconds in pool.map(run, todo):
            if status == "ok":
                summary.digitized += 1
            else:
                summary.failed += 1
            log(f"{image.stem} {status} {seconds:.2f} s")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("images", type=Path, help="folder of images NAME.png/.jpg/...")
    parser.add_argument("cache", type=Path, help="output folder (NAME.json + NAME.meta.json, or NAME.error)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N images by name")
    parser.add_argument("--threads", type=int, default=1, help="images digitized at once (default 1)")
    parser.add_argument("--retry-errors", action="store_true", help="digitize images with a NAME.error again")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    s = cache_folder(args.images, args.cache, limit=args.limit, threads=args.threads,
                     retry_errors=args.retry_errors, log=lambda line: print(line, flush=True))
    print(f"digitized {s.digitized}, failed {s.failed}, skipped (cached) {s.skipped} "
          f"in {time.perf_counter() - t0:.0f} s -> {args.cache}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
