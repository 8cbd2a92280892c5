"""Limb-lead physics (Einthoven/Goldberger), reader hints and the no-ECG gate (issue 15)."""

from __future__ import annotations

import numpy as np
import pytest

from digitize.hinted import apply_hinted_leads, apply_hinted_scale
from digitize.hints import DigitizeHints, HintError, lead_name
from digitize.layout import TEMPLATES, Layout, template_panels
from digitize.load import NoEcgFoundError
from digitize.physics import FAIL_RESIDUAL, PASS_RESIDUAL, limb_check


def _limb_leads(seed: int = 0, fs: float = 500.0) -> dict[str, np.ndarray]:
    """Limb leads made from two random dipole components (so the identities hold exactly)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(5 * fs)) / fs
    a = np.sin(2 * np.pi * 1.2 * t) + 0.3 * rng.normal(size=t.size)
    b = np.cos(2 * np.pi * 0.9 * t) + 0.3 * rng.normal(size=t.size)
    lead_i, lead_ii = a, b
    lead_iii = lead_ii - lead_i
    return {
        "I": lead_i,
        "II": lead_ii,
        "III": lead_iii,
        "aVR": -(lead_i + lead_ii) / 2,
        "aVL": (lead_i - lead_iii) / 2,
        "aVF": (lead_ii + lead_iii) / 2,
    }


def test_limb_check_passes_true_leads_and_flags_a_swap_and_an_inversion() -> None:
    leads = _limb_leads()
    check = limb_check(leads, 500.0)
    assert len(check.residuals) == 6
    assert check.score < 0.05
    assert not any(broken for broken, _ in check.lead_verdicts().values())
    swapped = dict(leads, II=leads["III"], III=leads["II"])
    assert limb_check(swapped, 500.0).residuals["I + III = II"] > FAIL_RESIDUAL
    inverted = dict(leads, aVR=-leads["aVR"])
    verdicts = limb_check(inverted, 500.0).lead_verdicts()
    assert verdicts["aVR"][0] and "physics fails" in verdicts["aVR"][1]
    assert not verdicts["I"][0]


def test_a_cabrera_first_column_checks_the_sign_of_avr() -> None:
    """aVL, I and −aVR share a 3×4 column in the Cabrera order: only aVL − aVR = 3/2 I ties them together."""
    leads = _limb_leads()
    column = {name: leads[name] for name in ("aVL", "I", "aVR")}
    assert list(limb_check(column, 500.0).residuals) == ["aVL − aVR = 3/2 I"]
    assert limb_check(column, 500.0).score < PASS_RESIDUAL
    assert limb_check(dict(column, aVR=-column["aVR"]), 500.0).score > FAIL_RESIDUAL


def test_limb_check_skips_leads_that_are_not_simultaneous() -> None:
    leads = _limb_leads()
    n = leads["I"].size
    leads["III"] = np.concatenate([np.full(n // 2, np.nan), leads["III"][n // 2 :]])
    leads["I"] = np.concatenate([leads["I"][: n // 2], np.full(n - n // 2, np.nan)])
    check = limb_check(leads, 500.0)
    assert "I + III = II" not in check.residuals
    assert check.residuals["aVR + aVL + aVF = 0"] < PASS_RESIDUAL


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"leads": "I,II,XYZ"}, "unknown lead name"),
        ({"speed_mm_s": 900.0}, "impossible paper speed"),
        ({"gain_mm_mv": 0.1}, "impossible gain"),
        ({"layout": "5x5"}, "unknown layout"),
        ({"layout": "3x4", "leads": "I,II"}, "has 12 panels"),
        ({"exclude": "V7"}, "unknown lead name"),
    ],
)
def test_hints_are_validated(kwargs: dict, message: str) -> None:
    with pytest.raises(HintError, match=message):
        DigitizeHints.create(**kwargs)


def test_lead_names_are_normalised() -> None:
    assert lead_name("avr") == ("aVR", 1.0)
    assert lead_name("-aVR") == ("aVR", -1.0)
    assert lead_name("D2") == ("II", 1.0)
    hints = DigitizeHints.create(leads=["i", "v1"], rhythm_leads="v5", exclude="Avf", speed_mm_s=50)
    assert hints.rhythm_leads == ("V5",) and hints.exclude == ("aVF",)
    assert hints.given() == {"leads": ["i", "v1"], "speed_mm_s": 50.0, "rhythm_leads": ["V5"], "exclude": ["aVF"]}


def _layout(template: str) -> Layout:
    rows = TEMPLATES[template]
    panels = template_panels(rows, 100.0, 10.0, 50.0)
    return Layout(template, tuple(100.0 + 50 * i for i in range(len(rows))), 50.0, 100.0, 600.0, 10.0, panels,
                  (None,) * len(rows))


def test_hinted_leads_relabel_panels_in_reading_order_and_refuse_a_wrong_count() -> None:
    layout = _layout("6x2")
    cabrera = "aVL,V1,I,V2,-aVR,V3,II,V4,aVF,V5,III,V6"
    named = apply_hinted_leads(layout, DigitizeHints.create(leads=cabrera))
    first_column = [p for p in sorted(named.panels, key=lambda p: p.row) if p.t_start_s == 0]
    assert [p.lead for p in first_column] == ["aVL", "I", "aVR", "II", "aVF", "III"]
    assert [p.sign for p in first_column] == [1.0, 1.0, -1.0, 1.0, 1.0, 1.0]
    with pytest.raises(HintError, match="12 panels"):
        apply_hinted_leads(layout, DigitizeHints.create(leads="I,II,III"))
    strips = apply_hinted_leads(_layout("3x4+3"), DigitizeHints.create(rhythm_leads="aVF"))
    assert [p.lead for p in strips.panels if p.row >= 3] == ["V1", "II", "aVF"]


def test_hinted_speed_and_gain_are_marked_as_user_given() -> None:
    from digitize.calibrate import Calibration

    calibration = apply_hinted_scale(Calibration(8.0, 8.0), DigitizeHints.create(speed_mm_s=50, gain_mm_mv=5))
    assert (calibration.speed_mm_s, calibration.speed_source) == (50.0, "user")
    assert (calibration.gain_mm_mv, calibration.gain_source) == (5.0, "user")
    assert calibration.px_per_s == 400.0


def test_random_noise_is_refused() -> None:
    from digitize.pipeline import digitize_image

    noise = np.random.default_rng(5).integers(0, 256, (900, 1200, 3), dtype=np.uint8)
    with pytest.raises(NoEcgFoundError, match="no ECG found"):
        digitize_image(noise)
