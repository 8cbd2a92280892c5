"""The evaluators' view: agreement between the waveform rules, the tiled classifier and the fusion network over a
set of reports, and (with reference labels) each source's accuracy.

Input: report JSON documents (`report.model.Report.to_dict`). For every shared label
(:data:`classify.crosscheck.SHARED_LABELS`) and every pair of sources that both speak of it on an item, the 2×2
confusion matrix, Cohen's kappa with its 95 % CI, percent agreement and McNemar's test; Fleiss' kappa across the
three sources on ABNORMAL (items where all three speak); and, given labels, sensitivity/specificity/PPV/F1 per
source and label.

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

from classify.agreement import accuracy, cohen_kappa, confusion, fleiss_kappa, mcnemar
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
    triple = [
        (w, t, f)
        for w, t, f in zip(*(table["ABNORMAL"][s] for s in SOURCES), strict=True)
        if None not in (w, t, f)
    ]
    fk = fleiss_kappa(np.array(triple, dtype=int).reshape(-1, 3))
    out["fleiss_kappa_abnormal"] = {
        "n": fk.n,
        "kappa": _round(fk.kappa),
        "ci95": None if fk.ci95 is None else [_round(v) for v in fk.ci95],
        "percent_agreement": None if fk.observed_agreement is None else round(100 * fk.observed_agreement, 1),
    }
    return out


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
    fig = plt.figure(figsize=(13, 5.5), dpi=110)
    ax = fig.add_subplot(1, 4, 1)
    im = ax.imshow(kappa, vmin=-1, vmax=1, cmap="RdYlGn", aspect="auto")
    ax.set_xticks(range(len(pairs)), [p.replace("~", "\n~ ") for p in pairs], fontsize=7)
    ax.set_yticks(range(len(SHARED_LABELS)), SHARED_LABELS, fontsize=8)
    for (i, j), v in np.ndenumerate(kappa):
        ax.text(j, i, "—" if np.isnan(v) else f"{v:.2f}", ha="center", va="center", fontsize=7)
    ax.set_title("Cohen's κ", fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.05)
    for k, pair in enumerate(pairs):
        ax = fig.add_subplot(1, 4, k + 2)
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
