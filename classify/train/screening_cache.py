"""Cache of per-image source outputs for the screening model (:mod:`classify.train.screening`) and the benchmark.

One JSON line per image: its labels (ABNORMAL by :func:`classify.labels.fusion_label` and the shared labels), the
digitization quality and lead confidences, whether the record could be measured, the abnormal waveform codes, the
waveform features (:mod:`classify.features`, version stamped; NaN as ``null``) and both image classifiers' outputs
with the model versions. The waveform classifier is *not* cached: it runs on the cached features when the combiner
is fitted, so a retrained waveform model needs no new digitization; ``--refresh-classifiers`` re-runs only the tiled
classifier (a retrained tiled network, on the cached digitized records), ``--refresh-analysis`` only the
measurement, rules and features (a changed :mod:`analyze`) on the cached digitized records.

Sets::

    python -m classify.train.screening_cache --set foreign-val  --out out/screening   # /work/foreign/val
    python -m classify.train.screening_cache --set foreign-val2 --out out/screening   # /work/foreign/val2
    python -m classify.train.screening_cache --set foreign-test --out out/screening   # /work/foreign/test
    python -m classify.train.screening_cache --set foreign-fit  --out out/screening   # /work/foreign/fit
    python -m classify.train.screening_cache --set kit-dev      --out out/screening   # ../shared/data/kit-dev
    python -m classify.train.screening_cache --set synth-val    --out out/screening   # DataSynth renders, val split

Digitized records are read from the integrator's cache (``--digitized``, :data:`CACHED_SET_NAMES`) when present,
else digitized here with the current digitizer (``--wait``: skipped until the integrator has them). Runs resume:
names already cached are skipped.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from classify.features import FEATURE_VERSION, record_features
from classify.labels import fusion_label, load_diagnostic_classes, tiled_labels

SHARED = ("AFIB", "AFLT", "PVC", "PAC", "CLBBB", "CRBBB", "WPW", "AT")
SET_DIRS = {"foreign-val": Path("/work/foreign/val"), "foreign-val2": Path("/work/foreign/val2"),
            "foreign-test": Path("/work/foreign/test"),
            "foreign-fit": Path("/work/foreign/fit"), "kit-dev": Path("../shared/data/kit-dev")}
"""``foreign-fit``: ECG-Image-Kit renders of test-split patients that no source trained on, disjoint by patient
from ``foreign-test`` (the screening combiner's fit set once the tiled network trained on the val patients);
``foreign-val2``: the val-split records ``foreign-val`` left out (``bench/foreign_kit/plan.py``), so that the
combiner is fitted on every val-split patient."""


def image_labels(scp_codes: str, classes: dict[str, str]) -> dict[str, int | None]:
    """ABNORMAL (None without a diagnostic statement) and the shared labels (0/1) of a PTB-XL record."""
    present = set(tiled_labels(scp_codes))
    return {"ABNORMAL": fusion_label(scp_codes, classes), **{k: int(k in present) for k in SHARED}}


def source_outputs(image: np.ndarray, record_source: Any, classifier: Any) -> dict[str, Any]:
    """Digitize (or take the given digitization), measure, and classify one image: the cache row minus labels."""
    t0 = time.perf_counter()
    record, quality, confidence = record_source(image)
    row: dict[str, Any] = {"quality": quality, "lead_confidence": confidence,
                           "good_leads": sum(1 for v in confidence.values() if v >= 0.5) if confidence else None}
    row.update(analysis_outputs(record, confidence, quality))
    row["seconds_digitize_analyze"] = round(time.perf_counter() - t0, 2)
    row.update(classifier_outputs(image, classifier, record))
    return row


def analysis_outputs(
    record: Any, lead_confidence: dict[str, float] | None = None, quality: float | None = None
) -> dict[str, Any]:
    """What the analysis gives the screening: measurable, codes, the rules' abnormal flag, the waveform features.

    As in the report (:mod:`report.pipeline`): the statements come from the read-back measurement when the
    digitizer's lead confidences are given (:func:`analyze.read_back.measure_read_back`), the features from the
    plain one (what the waveform classifier was trained on)."""
    from analyze import findings, measure
    from analyze.read_back import measure_read_back
    from classify.crosscheck import WAVEFORM_ABNORMAL
    from ecg.errors import EcgInputError

    row: dict[str, Any] = {}
    try:
        m = measure(record)
        stated = m if lead_confidence is None else measure_read_back(record, lead_confidence, float(quality or 0.0),
                                                                     m)[0]
        codes = [f.code for f in findings(stated)]
    except EcgInputError:
        m, codes = None, None
    row["measurable"] = m is not None
    row["codes"] = codes
    row["rule_abnormal"] = None if codes is None else int(bool(WAVEFORM_ABNORMAL & set(codes)))
    features = record_features(record, m)
    row["features"] = [None if not np.isfinite(v) else round(float(v), 5) for v in features]
    row["feature_version"] = FEATURE_VERSION
    return row


def classifier_outputs(image: np.ndarray, classifier: Any, record: Any = None) -> dict[str, Any]:
    """Tiled probabilities and validated classes, fusion probability, model versions (``record``: the digitized
    record, which a canonical-input tiled model reads)."""
    result = classifier.classify(image, record=record)
    return {"tiled": dict(result.tiled.probabilities), "tiled_validated": list(result.tiled.validated),
            "fusion": float(result.fusion.abnormal_probability), "model_versions": dict(result.model_versions)}


def tiled_outputs(image: np.ndarray, classifier: Any, record: Any) -> dict[str, Any]:
    """Only the tiled classifier's outputs (a retrained tiled model; the fusion network's are kept)."""
    tiled = classifier.classify_tiled(image, record)
    return {"tiled": dict(tiled.probabilities), "tiled_validated": list(tiled.validated)}


CACHED_SET_NAMES = {"foreign-val": "val", "foreign-val2": "val2", "foreign-test": "test", "kit-dev": "kitdev"}
"""Folder names of the integrator's digitized cache (``/work/cache/digitized/<name>/NAME.json`` + ``NAME.meta.json``
with quality and lead confidences, ``NAME.error`` when digitization failed)."""


class NotYetDigitized(Exception):
    """The integrator has not digitized this image yet (``--wait``: picked up on a later pass)."""


def _digitizer(cached: Path | None, wait: bool):  # type: ignore[no-untyped-def]
    from digitize.pipeline import digitize_image
    from ecg.errors import EcgInputError

    def run(image: np.ndarray, name: str):  # type: ignore[no-untyped-def]
        if cached is not None and (cached / f"{name}.json").exists() and (cached / f"{name}.meta.json").exists():
            from ecg.io import read_record

            record = read_record(cached / f"{name}.json", fs=500.0)
            meta = json.loads((cached / f"{name}.meta.json").read_text())
            return record, meta.get("quality"), dict(meta.get("lead_confidence") or {})
        if cached is not None and (cached / f"{name}.error").exists():
            raise EcgInputError("digitization failed: " + (cached / f"{name}.error").read_text()[-300:])
        if wait:
            raise NotYetDigitized(name)
        d = digitize_image(image)
        return d.record, float(d.quality), {k: float(v) for k, v in d.lead_confidence.items()}

    return run


def _items(name: str, ptbxl: Path, limit: int | None):  # type: ignore[no-untyped-def]
    """(image name, ecg_id, kind, loader) per image of a set."""
    from digitize.load import load_image

    if name in SET_DIRS:
        folder = SET_DIRS[name] if name != "kit-dev" else ptbxl.parent / "kit-dev"
        index = pd.read_csv(folder / "index.csv")
        for row in index.itertuples():
            path = folder / row.image
            if path.exists():
                yield row.name, int(row.ecg_id), str(row.kind), (lambda p=path: load_image(p))
        return
    if name != "synth-val":
        raise SystemExit(f"unknown set {name!r}; valid: {', '.join([*SET_DIRS, 'synth-val'])}")
    from classify.train.data import assign_splits, kit_dev_ids, ptbxl_table
    from ecg.io import read_record
    from synth import synthesize

    table = ptbxl_table(ptbxl)
    split = assign_splits(table, "patients", reserved_ids=kit_dev_ids(ptbxl.parent / "kit-dev"))
    levels = ("none", "scan", "photo")
    for n, ecg_id in enumerate([int(i) for i in table.index[split == "val"]][:limit]):
        def render(ecg_id=ecg_id, level=levels[n % 3]):  # type: ignore[no-untyped-def]
            record = read_record(table.loc[ecg_id, "record_path"], fs=500.0)
            return np.ascontiguousarray(synthesize(record, seed=ecg_id, distortion=level).image[..., ::-1])
        yield f"s{ecg_id}", ecg_id, f"synth-{levels[n % 3]}", render


def refresh_analysis(path: Path, digitized: Path) -> int:
    """Re-run the analysis (new measurement code, new rules) on the digitized records of the rows of one cache file,
    keeping the classifiers' outputs; rows refreshed."""
    from ecg.io import read_record

    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    done = 0
    for r in rows:
        source = digitized / CACHED_SET_NAMES.get(r["set"], r["set"]) / f"{r['name']}.json"
        if "error" in r or not source.exists():
            continue
        r.update(analysis_outputs(read_record(source, fs=500.0), r.get("lead_confidence"), r.get("quality")))
        done += 1
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return done


def build(
    set_name: str, out: Path, ptbxl: Path, digitized: Path | None, limit: int | None, refresh: bool, wait: bool = False
) -> int:
    """Append missing rows to ``<out>/<set>.jsonl`` (or re-run the classifiers on cached rows); rows written."""
    from classify.runtime import Classifier

    db = pd.read_csv(ptbxl / "ptbxl_database.csv", index_col="ecg_id")
    classes = load_diagnostic_classes(ptbxl / "scp_statements.csv")
    classifier = Classifier(threads=1)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{set_name}.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    done = {r["name"]: r for r in rows}
    folder = digitized / CACHED_SET_NAMES.get(set_name, set_name) if digitized else None
    digitize = _digitizer(folder, wait and folder is not None)
    written = 0
    if refresh:  # the tiled network changed: re-run it on the same digitized records, keep everything else
        from ecg.io import read_record

        items = {name: load for name, _, _, load in _items(set_name, ptbxl, limit)}
        done_rows = 0
        for r in rows:
            source = folder / f"{r['name']}.json" if folder is not None else None
            if "error" in r or source is None or not source.exists():
                continue
            r.update(tiled_outputs(items[r["name"]](), classifier, read_record(source, fs=500.0)))
            r["model_versions"] = {**r.get("model_versions", {}), **classifier.model_versions}
            done_rows += 1
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        return done_rows
    with path.open("a") as handle:
        for name, ecg_id, kind, load in _items(set_name, ptbxl, limit):
            if name in done:
                continue
            try:
                image = load()
                row = source_outputs(image, lambda im, n=name: digitize(im, n), classifier)
            except NotYetDigitized:
                continue
            except Exception as exc:  # noqa: BLE001 - one bad image must not stop a cache run; recorded
                row = {"error": f"{type(exc).__name__}: {exc}"}
            row = {"name": name, "set": set_name, "kind": kind, "ecg_id": ecg_id,
                   "labels": image_labels(db.loc[ecg_id, "scp_codes"], classes), **row}
            handle.write(json.dumps(row) + "\n")
            handle.flush()
            written += 1
            print(f"{set_name} {name} {row.get('seconds_digitize_analyze')} s", flush=True)
    return written


def read_cache(paths: list[Path]) -> list[dict[str, Any]]:
    """Rows of one or more cache files (rows with an ``error`` are kept; callers decide)."""
    rows = []
    for path in paths:
        rows += [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m classify.train.screening_cache",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--set", required=True, choices=[*SET_DIRS, "synth-val"])
    parser.add_argument("--out", type=Path, default=Path("out/screening"))
    parser.add_argument("--ptbxl", type=Path, default=Path("../shared/data/ptbxl"))
    parser.add_argument("--digitized", type=Path, default=Path("/work/cache/digitized"))
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--refresh-classifiers", action="store_true")
    parser.add_argument("--wait", action="store_true", help="skip images the integrator has not digitized yet")
    parser.add_argument("--refresh-analysis", action="store_true",
                        help="re-run measurement and rules on the cached digitized records (after analyze changed)")
    args = parser.parse_args(argv)
    if args.refresh_analysis:
        n = refresh_analysis(args.out / f"{args.set}.jsonl", args.digitized)
        print(f"{n} rows re-analysed → {args.out / (args.set + '.jsonl')}")
        return 0
    n = build(args.set, args.out, args.ptbxl, args.digitized if args.digitized.exists() else None, args.limit,
              args.refresh_classifiers, args.wait)
    print(f"{n} rows → {args.out / (args.set + '.jsonl')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
