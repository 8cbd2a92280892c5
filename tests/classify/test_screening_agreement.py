"""The evaluators' view of the combined verdict: AUROC with a CI, sensitivity/specificity with Wilson CIs over the
reports that passed the quality gate, a reliability table, and Fleiss' kappa over however many sources speak."""

import numpy as np

from classify.agreement import auroc, reliability, wilson_ci
from report.agreement import agreement, plot_reliability, screening_figures


def _report(name, screening, p, verdicts):
    labels = [{"label": "ABNORMAL", "verdicts": verdicts}]
    return {"input": {"file_name": name}, "status": {"screening": screening, "abnormal_probability": p},
            "crosscheck": {"labels": labels}}


def test_wilson_and_auroc():
    lo, hi = wilson_ci(9, 10)
    assert lo < 0.9 < hi <= 1.0 and wilson_ci(0, 0) is None
    assert auroc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) == 1.0
    assert auroc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == 0.5
    assert auroc([1, 1], [0.2, 0.3]) is None


def test_screening_figures_count_the_gate_and_the_verdicts(tmp_path):
    rng = np.random.default_rng(0)
    reports, labels = [], {}
    for i in range(60):
        abnormal = i % 3 != 0
        p = float(np.clip(0.7 * abnormal + rng.normal(0.15, 0.15), 0, 1))
        status = "insufficient quality" if i == 0 else ("abnormal — review" if p >= 0.4 else "normal")
        v = {"waveform": abnormal, "tiled": bool(i % 2), "fusion": p > 0.5, "waveform_model": p > 0.45}
        reports.append(_report(f"{i}.png", status, p, v))
        labels[f"{i}.png"] = {"ABNORMAL"} if abnormal else set()
    fig = screening_figures(reports, labels)
    assert fig["insufficient_quality"] == 1 and fig["n"] == 59
    flagged = [r for r in reports[1:] if r["status"]["screening"] == "abnormal — review"]
    true_pos = sum(1 for r in flagged if labels[r["input"]["file_name"]])
    assert fig["sensitivity"] == round(true_pos / fig["abnormal"], 3)
    assert fig["auroc_ci95"][0] <= fig["auroc"] <= fig["auroc_ci95"][1]
    assert sum(b["n"] for b in fig["reliability"]) == 59
    doc = agreement(reports, labels)
    assert doc["fleiss_kappa_abnormal"]["sources"] == ["waveform", "tiled", "fusion", "waveform_model"]
    assert "waveform~waveform_model" in doc["labels"]["ABNORMAL"]["pairs"]
    assert doc["screening"]["n"] == 59
    png = plot_reliability(fig["reliability"], tmp_path / "rel.png")
    assert png.stat().st_size > 1000


def test_reliability_bins_are_means():
    bins = reliability([0, 1, 1, 0], [0.05, 0.95, 0.85, 0.15], bins=2)
    assert [b["n"] for b in bins] == [2, 2]
    assert bins[0]["observed"] == 0.0 and bins[1]["observed"] == 1.0
    assert abs(bins[1]["mean_predicted"] - 0.9) < 1e-9
