"""The screening model: features from the sources (missing and unvalidated sources handled), a fit whose
probability is calibrated and whose operating point reaches the target sensitivity, the shipped JSON checked by
sha256, and the status rule it drives (disagreements no longer escalate by themselves)."""

import json

import numpy as np
import pytest

from classify.screening import SCREENING_FEATURES, ScreeningInputs, ScreeningModel, logit, screening_features
from report.model import screening_status

pytest.importorskip("sklearn", reason="training extra (scikit-learn) not installed")


def test_missing_sources_are_zero_with_an_indicator():
    row = screening_features(ScreeningInputs(fusion=0.9, quality=0.8, good_lead_share=0.5))
    f = dict(zip(SCREENING_FEATURES, row, strict=True))
    assert f["fusion_logit"] == pytest.approx(logit(0.9)) and f["fusion_missing"] == 0
    assert f["tiled_logit"] == 0 and f["tiled_missing"] == 1
    assert f["waveform_missing"] == 1 and f["rule_missing"] == 1
    assert f["quality"] == 0.8 and f["good_lead_share"] == 0.5
    both = dict(zip(SCREENING_FEATURES, screening_features(ScreeningInputs(tiled_norm=0.2, waveform=0.7)), strict=True))
    assert both["tiled_logit"] == pytest.approx(logit(0.8))  # abnormal = 1 − P(NORM)
    assert both["waveform_logit_x_quality"] == pytest.approx(logit(0.7))  # quality 1 when not given


def _synthetic(n: int, seed: int):
    """Images whose sources see the truth through noise; the waveform source is the sharpest."""
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.6
    sig = lambda s: 1 / (1 + np.exp(-s))  # noqa: E731
    rows = [ScreeningInputs(fusion=float(sig(1.2 * (2 * t - 1) + rng.normal(0, 1.5))),
                            tiled_norm=float(sig(-(0.5 * (2 * t - 1)) + rng.normal(0, 1.5))),
                            waveform=float(sig(2.5 * (2 * t - 1) + rng.normal(0, 1.2))),
                            rule_abnormal=bool(t and rng.random() < 0.6 or rng.random() < 0.2),
                            quality=float(rng.uniform(0.4, 1)), good_lead_share=float(rng.uniform(0.5, 1)))
            for t in y]
    return np.array([screening_features(r) for r in rows]), y.astype(int)


def test_fit_is_calibrated_and_reaches_the_target_sensitivity(tmp_path):
    from classify.train.screening import figures, fit, write_model

    X, y = _synthetic(600, 0)
    doc = fit(X, y, target=0.9)
    oof = doc.pop("_oof")
    assert (oof[y == 1] >= doc["operating_point"]).mean() >= 0.9
    waveform = SCREENING_FEATURES.index("waveform_logit")
    assert doc["coefficients"][waveform] > doc["coefficients"][SCREENING_FEATURES.index("tiled_logit")]
    write_model(doc, tmp_path, {"command": "test", "data": {"images": 600}}, figures(y, oof, doc["operating_point"]))
    model = ScreeningModel.load(tmp_path)
    Xt, yt = _synthetic(2000, 1)
    p = model.probabilities(Xt)
    for lo in (0.0, 0.5):  # calibrated within a few points in the lower and upper half
        sel = (p >= lo) & (p < lo + 0.5)
        assert abs(p[sel].mean() - yt[sel].mean()) < 0.06
    assert ((p >= model.operating_point)[yt == 1]).mean() > 0.85


def test_a_changed_file_is_refused(tmp_path):
    from classify.manifest import ModelIntegrityError
    from classify.train.screening import fit, write_model

    X, y = _synthetic(200, 2)
    doc = fit(X, y, target=0.9)
    doc.pop("_oof")
    write_model(doc, tmp_path, {"command": "test", "data": {}}, {})
    path = tmp_path / "screening.json"
    tampered = json.loads(path.read_text())
    tampered["operating_point"] = 0.99
    path.write_text(json.dumps(tampered))
    with pytest.raises(ModelIntegrityError):
        ScreeningModel.load(tmp_path)


def test_status_follows_the_probability_not_a_single_source():
    common = dict(measurable=True, quality=0.9, good_leads=12, abnormal_findings=[], abnormal_sources=["tiled"],
                  disagreements=["ABNORMAL"])
    normal = screening_status(**common, abnormal_probability=0.12, operating_point=0.3)
    assert normal.screening == "normal"
    assert any("disagree" in r for r in normal.reasons)  # still visible
    flagged = screening_status(**common, abnormal_probability=0.31, operating_point=0.3)
    assert flagged.screening == "abnormal — review"
    assert flagged.to_dict()["abnormal_probability"] == 0.31 and flagged.to_dict()["operating_point"] == 0.3
    legacy = screening_status(**common)  # no screening model: the schema 1.0 rule
    assert legacy.screening == "abnormal — review" and legacy.abnormal_probability is None
    gated = screening_status(**{**common, "quality": 0.2}, abnormal_probability=0.9, operating_point=0.3)
    assert gated.screening == "insufficient quality"


def test_an_excluded_source_is_ignored_when_serving():
    from classify.screening import only_sources

    full = ScreeningInputs(fusion=0.9, tiled_norm=0.05, waveform=0.2, rule_abnormal=True)
    kept = only_sources(full, ("fusion", "waveform", "rules"))
    assert kept.tiled_norm is None and kept.fusion == 0.9 and kept.rule_abnormal is True
    coefficients = tuple(1.0 if f == "tiled_logit" else 0.0 for f in SCREENING_FEATURES)
    model = ScreeningModel(coefficients, 0.0, 1.0, 0.0, 0.5, sources=("fusion", "waveform", "rules"))
    assert model.probability(full) == pytest.approx(0.5)  # the tiled logit (≈ +2.9) is not seen
    with pytest.raises(ValueError, match="unknown screening sources"):
        only_sources(full, ("fusion", "ecg-net"))
