"""Waveform-classifier training rows from the project's own digitizer on the project's own renders (DataSynth).

The waveform classifier (:mod:`classify.train.waveform`) was trained on true signals degraded by
:mod:`classify.train.degrade`; what it meets in service is the digitizer's output, whose errors (a lead mix-up, a
misread gain, a lost rhythm strip, a trace that jumped rows) the degradation only imitates. Here a development
record is printed by DataSynth (``synth``, never ECG-Image-Kit: its renders are the evaluation sets), read back by
:func:`digitize.pipeline.digitize_image`, measured by :func:`analyze.measure` and turned into
:func:`classify.features.record_features` — the serving path.

Print kinds follow the foreign mix of ``docs/notes/foreign-renders.md`` (:data:`KIND_SHARES`): 3×4+1 rhythm II
clean and scan-like, 6×2+1, 12×1+1 (both 1/5 in Cabrera order), 3×4+1 with another rhythm lead (V1, V5, aVF, III;
1/5 Cabrera columns), coloured and black-and-white grids; always 25 mm/s and 10 mm/mV like the kit's pages.
DataSynth's own ``scan`` and ``photo`` distortion levels stand in for the kit's augmentation (and a few
phone-photo pages the foreign sets lack but the service sees).

One JSON line per record and variant is appended to the output file as soon as it is done, so an interrupted run keeps
its rows and a re-run skips them (:func:`extract_digitized`).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ecg.record import EcgRecord

KIND_SHARES: dict[str, float] = {"std-clean": 0.20, "std-scan": 0.20, "6x2": 0.15, "other-rhythm": 0.15,
                                 "12x1": 0.12, "colour": 0.10, "bw": 0.08}
"""Share of each print kind (the foreign sets' mix, ``docs/notes/foreign-renders.md``)."""

_STANDARD_3X4 = (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6"))
_CABRERA_3X4 = (("aVL", "II", "V1", "V4"), ("I", "aVF", "V2", "V5"), ("aVR", "III", "V3", "V6"))
_CABRERA_LIMB = ("aVL", "I", "aVR", "II", "aVF", "III")
_STANDARD_LIMB = ("I", "II", "III", "aVR", "aVL", "aVF")
_PRECORDIAL = ("V1", "V2", "V3", "V4", "V5", "V6")


def _extra_layouts() -> dict[str, tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]]:
    """Layouts DataSynth lacks but the foreign pages use: name → (grid rows, rhythm strips)."""
    out: dict[str, tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]] = {}
    for lead in ("II", "V1", "V5", "aVF", "III"):
        out[f"3x4+1/{lead}"] = (_STANDARD_3X4, (lead,))
        out[f"3x4+1/{lead}/cabrera"] = (_CABRERA_3X4, (lead,))
    for name, limb in (("", _STANDARD_LIMB), ("/cabrera", _CABRERA_LIMB)):
        out[f"6x2+1{name}"] = (tuple(zip(limb, _PRECORDIAL, strict=True)), ("II",))
        out[f"12x1+1{name}"] = (tuple((lead,) for lead in (*limb, *_PRECORDIAL)), ("II",))
    return out


def register_layouts() -> tuple[str, ...]:
    """Register :func:`_extra_layouts` with DataSynth (:func:`synth.layout.register_layout`, idempotent); their names.

    The extra names contain a ``/`` so they cannot clash with DataSynth's own, which its random draw keeps using.
    """
    from synth.layout import LayoutDef, register_layout

    extra = _extra_layouts()
    for name, (grid, rhythm) in extra.items():
        register_layout(name, LayoutDef(grid, rhythm))
    return tuple(extra)


@dataclass(frozen=True)
class PrintChoice:
    """How one page is printed: the foreign kind it imitates, the layout name, paper, dpi and distortion level."""

    kind: str
    layout: str
    paper: str | None
    dpi: float
    level: str


def choose_print(rng: np.random.Generator) -> PrintChoice:
    """Draw one page's print settings from the foreign mix (:data:`KIND_SHARES`)."""
    names = list(KIND_SHARES)
    kind = names[int(rng.choice(len(names), p=np.array([KIND_SHARES[n] for n in names])))]
    dpi = float(rng.choice([200.0, 150.0, 300.0], p=[0.8, 0.1, 0.1]))
    cabrera = "/cabrera" if rng.random() < 0.2 else ""
    level = str(rng.choice(["none", "scan", "photo"], p=[0.7, 0.25, 0.05]))
    paper: str | None = None  # None: DataSynth draws one
    if kind == "std-clean":
        return PrintChoice(kind, "3x4+1/II", "red", 200.0, "none")
    if kind == "std-scan":
        return PrintChoice(kind, "3x4+1/II", "red", 200.0, str(rng.choice(["scan", "photo"], p=[0.8, 0.2])))
    if kind == "6x2":
        layout = f"6x2+1{cabrera}"
    elif kind == "12x1":
        layout = f"12x1+1{cabrera}"
    elif kind == "other-rhythm":
        lead = str(rng.choice(["V1", "V5", "aVF", "III"], p=[1 / 3, 1 / 3, 1 / 6, 1 / 6]))
        layout = f"3x4+1/{lead}{cabrera}"
    elif kind == "colour":
        layout, paper = "3x4+1/II", str(rng.choice(["red", "pink", "blue", "green", "grey", "thermal"]))
    else:  # bw
        layout, paper = "3x4+1/II", "bw"
    return PrintChoice(kind, layout, paper, dpi, level)


def render_page(record: EcgRecord, choice: PrintChoice, seed: int) -> np.ndarray:
    """Print ``record`` as ``choice`` says (DataSynth's drawn spec with the kit's fixed settings: 25 mm/s,
    10 mm/mV, black traces); an RGB ``uint8`` image."""
    from synth import synthesize
    from synth.spec import random_spec

    register_layouts()
    rng = np.random.default_rng([seed, 1])
    spec = random_spec(rng, layout=choice.layout, dpi=choice.dpi, paper=choice.paper, speed_mm_s=25.0,
                       gain_mm_mv=10.0)
    # the kit's pages: black traces and text, a calibration pulse (colour/bw: 3/4 of pages), header 30 % (std kinds:
    # never on clean, always on scan-like pages)
    pulses = rng.random() < 0.75 if choice.kind in ("colour", "bw") else True
    header = {"std-clean": False, "std-scan": True}.get(choice.kind, bool(rng.random() < 0.3))
    spec = replace(spec, trace_color=(0, 0, 0), text_color=(0, 0, 0), pulses=pulses, header=header).validate()
    rendered = synthesize(record, seed=seed, distortion=choice.level, spec=spec)
    return np.ascontiguousarray(rendered.image[..., ::-1])  # DataSynth draws in OpenCV's BGR order


def digitized_features(image: np.ndarray) -> dict[str, Any]:
    """The serving path on one RGB image: digitize → measure → features; a dict with ``features`` (list, NaN as
    ``None``), ``quality``, ``good_leads``, ``measurable`` — or ``error`` when the digitizer refused the image."""
    from analyze import measure
    from classify.features import FEATURE_VERSION, record_features
    from digitize.pipeline import digitize_image
    from ecg.errors import EcgInputError

    try:
        d = digitize_image(image)
    except EcgInputError as exc:
        return {"error": str(exc)[:300]}
    try:
        m = measure(d.record)
    except EcgInputError:
        m = None
    features = record_features(d.record, m)
    confidence = {k: float(v) for k, v in d.lead_confidence.items()}
    return {"features": [None if not math.isfinite(v) else round(float(v), 5) for v in features],
            "quality": round(float(d.quality), 4), "good_leads": sum(1 for v in confidence.values() if v >= 0.5),
            "measurable": m is not None, "feature_version": FEATURE_VERSION}


def record_order(ptbxl: Path, splits: tuple[str, ...], seed: int) -> list[tuple[int, str]]:
    """(ecg_id, split) of the development records of ``splits`` (patient-wise, kit-dev reserved as in
    :mod:`classify.train.waveform`), shuffled by ``seed`` so any prefix holds each split in proportion."""
    from classify.train.data import assign_splits, kit_dev_ids, ptbxl_table

    table = ptbxl_table(ptbxl)
    assigned = assign_splits(table, "patients", reserved_ids=kit_dev_ids(ptbxl.parent / "kit-dev"))
    items = [(int(i), str(s)) for i, s in zip(table.index, assigned, strict=True) if s in splits]
    order = np.random.default_rng([seed, 12]).permutation(len(items))
    return [items[k] for k in order]


def done_keys(path: Path) -> set[tuple[int, int, int]]:
    """(ecg_id, variant, seed) of the rows already in ``path`` (a missing file: none; a torn last line is ignored)."""
    if not path.exists():
        return set()
    keys = set()
    for line in path.read_text().splitlines():
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue
        keys.add((int(r["ecg_id"]), int(r["variant"]), int(r["seed"])))
    return keys


def extract_digitized(
    ptbxl: Path, out: Path, *, seed: int = 0, variants: int = 1, limit: int | None = None,
    time_budget_min: float | None = None, splits: tuple[str, ...] = ("train", "val"),
    log_every: int = 25,
) -> dict[str, int]:
    """Append one row per (record, variant) to ``out`` (JSON lines): render → digitize → measure → features, with
    labels (:func:`classify.train.waveform.record_labels`). Stops after ``limit`` new records or ``time_budget_min``
    minutes; rows already in ``out`` are skipped. Returns counts of rows written / failed / skipped."""
    import pandas as pd

    from classify.labels import load_diagnostic_classes
    from classify.train.data import ptbxl_table
    from classify.train.waveform import record_labels
    from ecg.io import read_record

    table = ptbxl_table(ptbxl)
    db = pd.read_csv(ptbxl / "ptbxl_database.csv", index_col="ecg_id")
    classes = load_diagnostic_classes(ptbxl / "scp_statements.csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    have = done_keys(out)
    counts = {"written": 0, "failed": 0, "skipped": 0}
    start, records = time.perf_counter(), 0
    with out.open("a") as sink:
        for ecg_id, split in record_order(ptbxl, splits, seed):
            todo = [v for v in range(variants) if (ecg_id, v, seed) not in have]
            counts["skipped"] += variants - len(todo)
            if not todo:
                continue
            if limit is not None and records >= limit:
                break
            if time_budget_min is not None and time.perf_counter() - start > 60.0 * time_budget_min:
                print(f"time budget of {time_budget_min:g} min reached", flush=True)
                break
            record = read_record(table.loc[ecg_id, "record_path"], fs=500.0)
            labels = record_labels(db.loc[ecg_id, "scp_codes"], classes)
            for v in todo:
                t0 = time.perf_counter()
                page_seed = int(np.random.default_rng([seed, ecg_id, v]).integers(2**31))
                choice = choose_print(np.random.default_rng([page_seed, 0]))
                try:
                    row = digitized_features(render_page(record, choice, page_seed))
                except Exception as exc:  # noqa: BLE001 - a render/digitizer crash must not stop a long run
                    row = {"error": f"{type(exc).__name__}: {exc}"[:300]}
                row = {"ecg_id": ecg_id, "split": split, "variant": v, "seed": seed, "page_seed": page_seed,
                       "kind": choice.kind, "layout": choice.layout, "paper": choice.paper, "dpi": choice.dpi,
                       "level": choice.level, "labels": [None if not np.isfinite(x) else int(x) for x in labels],
                       **row, "seconds": round(time.perf_counter() - t0, 2)}
                sink.write(json.dumps(row) + "\n")
                sink.flush()
                counts["failed" if "error" in row else "written"] += 1
            records += 1
            if records % log_every == 0:
                print(f"{records} records, {counts}, {time.perf_counter() - start:.0f} s", flush=True)
    return counts


def read_rows(paths: list[Path] | tuple[Path, ...], split: str) -> Iterator[dict[str, Any]]:
    """Successful rows of ``split`` from digitized-row files (torn lines skipped)."""
    for path in paths:
        for line in Path(path).read_text().splitlines():
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue
            if r.get("split") == split and "error" not in r:
                yield r


def load_digitized(paths: list[Path] | tuple[Path, ...], split: str) -> dict[str, np.ndarray]:
    """``X`` (float32, NaN for missing), ``y`` (NaN for unknown), ``ecg_id``, ``variant``, ``kind`` of the successful
    rows of ``split``; checks the feature version."""
    from classify.features import FEATURE_NAMES, FEATURE_VERSION
    from classify.train.waveform import WAVEFORM_LABELS

    rows = list(read_rows(paths, split))
    n_features = len(FEATURE_NAMES)
    for r in rows:
        if r.get("feature_version") != FEATURE_VERSION or len(r["features"]) != n_features:
            raise SystemExit(f"digitized rows hold features {r.get('feature_version')} ({len(r['features'])} values), "
                             f"expected {FEATURE_VERSION} ({n_features}); re-extract")
    X = np.array([[np.nan if v is None else v for v in r["features"]] for r in rows], dtype=np.float32)
    y = np.array([[np.nan if v is None else v for v in r["labels"]] for r in rows], dtype=np.float32)
    return {"X": X.reshape(-1, n_features), "y": y.reshape(-1, len(WAVEFORM_LABELS)),
            "ecg_id": np.array([r["ecg_id"] for r in rows], dtype=np.int64),
            "variant": np.array([r["variant"] for r in rows], dtype=np.int64),
            "kind": np.array([r["kind"] for r in rows])}


__all__ = ["KIND_SHARES", "PrintChoice", "choose_print", "digitized_features", "extract_digitized", "load_digitized",
           "read_rows", "record_order", "register_layouts", "render_page"]
