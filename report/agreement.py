"""The evaluators' view: agreement between the waveform rules, the tiled classifier, the fusion network and the
waveform-feature classifier over a set of reports, (with reference labels) each source's accuracy, and the
combined screening verdict's AUROC, sensitivity and specificity with 95 % CIs and its calibration.

Input: report JSON documents (`report.model.Report.to_dict`). For every shared label
(:data:`classify.crosscheck.SHARED_LABELS`) and every pair of sources that both speak of it on an item, the 2×2
confusion matrix, Cohen's kappa with its 95 % CI, percent agreement and McNemar's test; Fleiss' kappa across the
sources on ABNORMAL (items where every source that spoke anywhere speaks); and, given labels,
sensitivity/specificity/PPV/F1 per source and label, and ``screening`` (:func:`screening_figures`).

Reference labels CSV: columns ``file`` (the input's file name) and ``labels`` (shared labels separated by spaces
or ``;``; empty or ``NORM`` means none of them). ``ABNORMAL`` is not implied by the other labels: it follows
the fusion network's definition (PTB-XL diagnostic superclass other than NORM), under which, say, a record with
premature atrial complexes can be normal.
"""

from __future__ import annotations

import csv
from dataclasses import asdict
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from classify.agreement import (
    accuracy,
    auroc,
    auroc_ci,
    cohen_kappa,
    confusion,
    fleiss_kappa,
    mcnemar,
    reliability,
    wilson_ci,
)
from classify.crosscheck import SHARED_LABELS, SOURCES
from ecg.errors import FormatError


def read_labels(path: str | Path) -> dict[str, set[str]]:
    """``{file name: set of shared labels}`` from a labels CSV (see the module docstring)."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise FormatError(f"{path.name}: cannot read the labels CSV ({exc})") from None
    if not rows or not {"file", "labels"} <= set(rows[0]):
        raise FormatError(f"{path.name}: the labels CSV needs the columns 'file' and 'labels'")
    out: dict[str, set[str]] = {}
    for i, row in enumerate(rows, start=2):
        names = {t.strip().upper() for t in (row["labels"] or "").replace(";", " ").split() if t.strip()}
        names.discard("NORM")
        unknown = names - set(SHARED_LABELS)
        if unknown:
            raise FormatError(f"{path.name}: row {i}: unknown label(s) {', '.join(sorted(unknown))}; "
                              f"use {', '.join(SHARED_LABELS)}")
        out[Path(row["file"]).name] = names
    return out


def verdict_table(reports: list[dict[str, Any]]) -> dict[str, dict[str, list[bool | None]]]:
    """``{label: {source: [verdict per report]}}`` from the reports' cross-check sections."""
    table = {label: {source: [] for source in SOURCES} for label in SHARED_LABELS}
    for rep in reports:
        checks = {c["label"]: c for c in rep["crosscheck"]["labels"]}
        for label in SHARED_LABELS:
            verdicts = checks[label]["verdicts"] if label in checks else {}
            for source in SOURCES:
                table[label][source].append(verdicts.get(source))
    return table


def agreement(reports: list[dict[str, Any]], labels: dict[str, set[str]] | None = None) -> dict[str, Any]:
    """The agreement document (JSON-ready) for a list of report dicts."""
    table = verdict_table(reports)
    out: dict[str, Any] = {"n_reports": len(reports), "labels": {}}
    statuses = [r["status"]["screening"] for r in reports]
    out["status_counts"] = {s: statuses.count(s) for s in sorted(set(statuses))}
    inputs = [((r.get("classifiers") or {}).get("tiled") or {}).get("input", "image") for r in reports]
    out["tiled_input_counts"] = {s: inputs.count(s) for s in sorted(set(inputs))}
    if "canonical" in inputs:  # classify.runtime.CANONICAL_NOTE: not an independent source of the digitizer
        out["notes"] = [
            "the tiled classifier read re-renderings of the digitized records: its agreement with the "
            "waveform rules is not independent of the digitizer; the fusion network reads raw pixels"
        ]
    for label in SHARED_LABELS:
        entry: dict[str, Any] = {"pairs": {}}
        for a, b in combinations(SOURCES, 2):
            x, y = _paired(table[label][a], table[label][b])
            if not x:
                continue
            k = cohen_kappa(x, y)
            entry["pairs"][f"{a}~{b}"] = {
                "n": k.n,
                "confusion": {"rows": a, "columns": b, "matrix": confusion(x, y).tolist()},
                "percent_agreement": None if k.observed_agreement is None else round(100 * k.observed_agreement, 1),
                "cohen_kappa": _round(k.kappa),
                "kappa_ci95": None if k.ci95 is None else [_round(v) for v in k.ci95],
                "mcnemar": asdict(mcnemar(x, y)),
            }
        if labels is not None:
            entry["accuracy"] = _accuracy(label, table[label], reports, labels)
        out["labels"][label] = entry
    speaking = [s for s in SOURCES if any(v is not None for v in table["ABNORMAL"][s])]
    rated = [row for row in zip(*(table["ABNORMAL"][s] for s in speaking), strict=True) if None not in row]
    fk = fleiss_kappa(np.array(rated, dtype=int).reshape(-1, max(len(speaking), 1)))
    out["fleiss_kappa_abnormal"] = {
        "sources": speaking,
        "n": fk.n,
        "kappa": _round(fk.kappa),
        "ci95": None if fk.ci95 is None else [_round(v) for v in fk.ci95],
        "percent_agreement": None if fk.observed_agreement is None else round(100 * fk.observed_agreement, 1),
    }
    if labels is not None:
        out["screening"] = screening_figures(reports, labels)
    return out


def screening_figures(reports: list[dict[str, Any]], labels: dict[str, set[str]]) -> dict[str, Any]:
    """The combined verdict against the reference ABNORMAL label: AUROC of ``status.abnormal_probability`` (bootstrap
    95 % CI), sensitivity and specificity of ``status.screening`` (Wilson 95 % CIs) over the reports that passed
    the quality gate, how many did not, and the reliability table (calibration)."""
    truth, prob, flagged, insufficient = [], [], [], 0
    for rep in reports:
        t = labels.get(rep["input"]["file_name"])
        if t is None:
            continue
        if rep["status"]["screening"] == "insufficient quality":
            insufficient += 1
            continue
        truth.append(int("ABNORMAL" in t))
        flagged.append(int(rep["status"]["screening"] == "abnormal — review"))
        prob.append(rep["status"].get("abnormal_probability"))
    y = np.array(truth, dtype=int)
    f = np.array(flagged, dtype=int)
    tp, tn = int(((f == 1) & (y == 1)).sum()), int(((f == 0) & (y == 0)).sum())
    pos, neg = int(y.sum()), int((y == 0).sum())
    out: dict[str, Any] = {
        "n": len(y), "abnormal": pos, "insufficient_quality": insufficient,
        "sensitivity": _round(tp / pos) if pos else None, "sensitivity_ci95": _ci(wilson_ci(tp, pos)),
        "specificity": _round(tn / neg) if neg else None, "specificity_ci95": _ci(wilson_ci(tn, neg)),
    }
    scored = [(t, p) for t, p in zip(truth, prob, strict=True) if p is not None]
    if scored:
        ys, ps = [t for t, _ in scored], [p for _, p in scored]
        out["auroc"] = _round(auroc(ys, ps))
        out["auroc_ci95"] = _ci(auroc_ci(ys, ps))
        out["n_scored"] = len(scored)
        out["reliability"] = [{k: _round(v) if isinstance(v, float) else v for k, v in b.items()}
                              for b in reliability(ys, ps)]
    return out


def _ci(ci: tuple[float, float] | None) -> list[float | None] | None:
    return None if ci is None else [_round(ci[0]), _round(ci[1])]


def plot_reliability(bins: list[dict[str, Any]], path: str | Path, title: str = "Screening model calibration") -> Path:
    """A reliability diagram (mean predicted probability vs observed abnormal share per bin, point size ∝ count)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.2, 4.2), dpi=110)
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--", label="perfect calibration")
    if bins:
        x = [b["mean_predicted"] for b in bins]
        y = [b["observed"] for b in bins]
        n = np.array([b["n"] for b in bins], dtype=float)
        ax.plot(x, y, color="tab:red", lw=1)
        ax.scatter(x, y, s=20 + 180 * n / n.max(), color="tab:red", zorder=3, label="bins (size ∝ images)")
        for xi, yi, ni in zip(x, y, n, strict=True):
            ax.annotate(str(int(ni)), (xi, yi), textcoords="offset points", xytext=(5, -9), fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("predicted abnormal probability")
    ax.set_ylabel("observed share abnormal")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path


def _paired(a: list[bool | None], b: list[bool | None]) -> tuple[list[int], list[int]]:
    pairs = [(int(x), int(y)) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _accuracy(label: str, by_source: dict[str, list[bool | None]], reports: list[dict], labels: dict[str, set[str]]):
    truth = [labels.get(r["input"]["file_name"]) for r in reports]
    result = {}
    for source, verdicts in by_source.items():
        pairs = [
            (int(v), int(label in t)) for v, t in zip(verdicts, truth, strict=True) if v is not None and t is not None
        ]
        if not pairs:
            continue
        acc = accuracy([p[0] for p in pairs], [p[1] for p in pairs])
        rates = {k: _round(v) for k, v in asdict(acc).items() if k != "support"}
        result[source] = {"n": len(pairs), "support": acc.support, **rates}
    return result


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(float(value), digits)


def plot_agreement(doc: dict[str, Any], path: str | Path) -> Path:
    """A PNG with the Cohen's-kappa matrix (label × source pair) and the ABNORMAL confusion matrices."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pairs = [f"{a}~{b}" for a, b in combinations(SOURCES, 2)]
    kappa = np.full((len(SHARED_LABELS), len(pairs)), np.nan)
    for i, label in enumerate(SHARED_LABELS):
        for j, pair in enumerate(pairs):
            value = doc["labels"][label]["pairs"].get(pair, {}).get("cohen_kappa")
            if value is not None:
                kappa[i, j] = value
    fig = plt.figure(figsize=(14, 8), dpi=110)
    ax = fig.add_subplot(2, 4, 1)
    im = ax.imshow(kappa, vmin=-1, vmax=1, cmap="RdYlGn", aspect="auto")
    ax.set_xticks(range(len(pairs)), [p.replace("~", " ~ ") for p in pairs], fontsize=6.5, rotation=60, ha="right")
    ax.set_yticks(range(len(SHARED_LABELS)), SHARED_LABELS, fontsize=8)
    for (i, j), v in np.ndenumerate(kappa):
        ax.text(j, i, "—" if np.isnan(v) else f"{v:.2f}", ha="center", va="center", fontsize=7)
    ax.set_title("Cohen's κ", fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.05)
    for k, pair in enumerate(pairs[:7]):
        ax = fig.add_subplot(2, 4, k + 2)
        info = doc["labels"]["ABNORMAL"]["pairs"].get(pair)
        matrix = np.array(info["confusion"]["matrix"]) if info else np.zeros((2, 2), dtype=int)
        ax.imshow(matrix, cmap="Blues")
        for (i, j), v in np.ndenumerate(matrix):
            ax.text(j, i, str(v), ha="center", va="center", fontsize=10)
        a, b = pair.split("~")
        ax.set_xticks([0, 1], ["normal", "abnormal"], fontsize=7)
        ax.set_yticks([0, 1], ["normal", "abnormal"], fontsize=7)
        ax.set_xlabel(b, fontsize=8)
        ax.set_ylabel(a, fontsize=8)
        kappa_text = "—" if not info or info["cohen_kappa"] is None else f"{info['cohen_kappa']:.2f}"
        ax.set_title(f"ABNORMAL: {a} vs {b}\nκ = {kappa_text}, n = {info['n'] if info else 0}", fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path
