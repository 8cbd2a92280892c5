"""Each rule on constructed measurements that must, and must not, fire it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from analyze import CODES, LeadMorphology, Measurements, findings

NARROW = LeadMorphology(q_mv=-0.1, r_mv=1.0, s_mv=-0.3, r_prime_mv=0.0, qrs_pp_mv=1.3, p_mv=0.1, t_mv=0.3,
                        st_mv=0.0, r_peak_time_ms=35.0, s_duration_ms=20.0)
LEADS12 = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")


def normal(**changes) -> Measurements:
    base = Measurements(
        heart_rate_bpm=70.0, rr_mean_ms=857.0, rr_sdnn_ms=20.0, pr_ms=160.0, qrs_ms=90.0, qt_ms=380.0,
        qtc_bazett_ms=410.0, qtc_fridericia_ms=400.0, p_axis_deg=50.0, qrs_axis_deg=40.0, t_axis_deg=40.0,
        rr_irregularity=0.02, p_wave_present=True, p_wave_consistency=0.95, leads={n: NARROW for n in LEADS12},
    )
    return replace(base, **changes)


def codes(m: Measurements, **kw) -> set[str]:
    return {f.code for f in findings(m, **kw)}


def with_leads(m: Measurements, **leads: LeadMorphology) -> Measurements:
    return replace(m, leads={**m.leads, **leads})


def test_normal_ecg_is_norm_and_sinus():
    assert codes(normal()) == {"NORM", "SR"}


def test_every_code_emitted_is_in_the_table():
    m = normal(heart_rate_bpm=45.0, pr_ms=230.0, qrs_ms=115.0, qtc_bazett_ms=480.0, qrs_axis_deg=-50.0)
    assert codes(m) <= set(CODES)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"heart_rate_bpm": 48.0}, "SBRAD"),
        ({"heart_rate_bpm": 120.0}, "STACH"),
        ({"pr_ms": 240.0}, "1AVB"),
        ({"qrs_ms": 116.0}, "IVCD"),
        ({"qtc_bazett_ms": 475.0}, "LQT"),
        ({"qtc_bazett_ms": 370.0}, "SQT"),
        ({"qrs_axis_deg": -45.0}, "LAD"),
        ({"qrs_axis_deg": 120.0}, "RAD"),
        ({"pr_ms": 100.0, "qrs_ms": 130.0}, "WPW"),
    ],
)
def test_rule_fires_and_norm_does_not(changes, code):
    found = codes(normal(**changes))
    assert code in found
    assert "NORM" not in found


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"heart_rate_bpm": 62.0}, "SBRAD"),
        ({"heart_rate_bpm": 98.0}, "STACH"),
        ({"pr_ms": 195.0}, "1AVB"),
        ({"qrs_ms": 105.0}, "IVCD"),
        ({"qtc_bazett_ms": 440.0}, "LQT"),
        ({"qtc_bazett_ms": 400.0}, "SQT"),
        ({"qrs_axis_deg": -20.0}, "LAD"),
        ({"qrs_axis_deg": 85.0}, "RAD"),
        ({"pr_ms": 100.0, "qrs_ms": 95.0}, "WPW"),
        ({"pr_ms": 160.0, "qrs_ms": 130.0}, "WPW"),
    ],
)
def test_rule_does_not_fire_just_inside_the_limit(changes, code):
    assert code not in codes(normal(**changes))


def test_long_qtc_limit_depends_on_sex():
    m = normal(qtc_bazett_ms=455.0)
    assert "LQT" in codes(m, sex="M")
    assert "LQT" not in codes(m, sex="F")
    assert "LQT" not in codes(m)  # unknown sex: the 460 ms limit


def test_bad_sex_is_a_value_error():
    with pytest.raises(ValueError, match="sex"):
        findings(normal(), sex="X")


def test_afib_needs_irregular_rr_and_no_consistent_p():
    af = normal(rr_irregularity=0.2, p_wave_present=False, p_wave_consistency=None, pr_ms=None, p_axis_deg=None)
    found = codes(af)
    assert "AFIB" in found and "SR" not in found and "NORM" not in found
    assert "AFIB" not in codes(normal(rr_irregularity=0.2))  # sinus arrhythmia: P waves are consistent
    assert "AFIB" not in codes(replace(af, rr_irregularity=0.03))  # regular: not AF
    assert "AFIB" in codes(normal(rr_irregularity=0.2, p_wave_consistency=0.2))


def test_first_degree_block_needs_sinus_p_waves():
    assert "1AVB" not in codes(normal(pr_ms=240.0, p_wave_consistency=0.2))


RSR = LeadMorphology(q_mv=0.0, r_mv=0.3, s_mv=-0.4, r_prime_mv=0.8, qrs_pp_mv=1.2, p_mv=0.1, t_mv=-0.2,
                     st_mv=0.0, r_peak_time_ms=100.0, s_duration_ms=30.0)
BROAD_S = LeadMorphology(q_mv=-0.1, r_mv=0.8, s_mv=-0.5, r_prime_mv=0.0, qrs_pp_mv=1.3, p_mv=0.1, t_mv=0.2,
                         st_mv=0.0, r_peak_time_ms=35.0, s_duration_ms=60.0)


def test_complete_rbbb():
    m = with_leads(normal(qrs_ms=140.0), V1=RSR, I=BROAD_S, V6=BROAD_S)
    found = codes(m)
    assert "CRBBB" in found and "IVCD" not in found
    assert "CRBBB" not in codes(replace(m, qrs_ms=110.0))  # incomplete: not complete RBBB
    assert "CRBBB" not in codes(with_leads(normal(qrs_ms=140.0), I=BROAD_S, V6=BROAD_S))  # no RSR' in V1/V2
    finding = next(f for f in findings(m) if f.code == "CRBBB")
    assert finding.evidence["qrs_ms"] == 140.0


QS_V1 = LeadMorphology(q_mv=-1.2, r_mv=0.1, s_mv=-1.5, r_prime_mv=0.0, qrs_pp_mv=1.6, p_mv=0.1, t_mv=0.4,
                       st_mv=0.2, r_peak_time_ms=10.0, s_duration_ms=80.0)
BROAD_R = LeadMorphology(q_mv=0.0, r_mv=1.5, s_mv=0.0, r_prime_mv=0.0, qrs_pp_mv=1.5, p_mv=0.1, t_mv=-0.4,
                         st_mv=-0.1, r_peak_time_ms=85.0, s_duration_ms=0.0)


def test_complete_lbbb():
    m = with_leads(normal(qrs_ms=150.0), V1=QS_V1, I=BROAD_R, V5=BROAD_R, V6=BROAD_R)
    found = codes(m)
    assert "CLBBB" in found and "IVCD" not in found and "CRBBB" not in found
    assert "CLBBB" not in codes(with_leads(m, V6=replace(BROAD_R, q_mv=-0.2)))  # septal q in V6
    assert "CLBBB" not in codes(replace(m, qrs_ms=112.0))


def test_low_voltage():
    small = replace(NARROW, qrs_pp_mv=0.3)
    limb = with_leads(normal(), **{n: small for n in ("I", "II", "III", "aVR", "aVL", "aVF")})
    assert "LVOLT" in codes(limb)
    assert "LVOLT" not in codes(normal())
    one_big = with_leads(limb, II=NARROW)
    assert "LVOLT" not in codes(one_big)


def test_missing_measurements_fire_nothing_and_are_not_normal():
    empty = Measurements(heart_rate_bpm=70.0)
    assert codes(empty) == set()


def test_findings_carry_statements_and_evidence():
    for f in findings(normal(heart_rate_bpm=48.0, pr_ms=230.0)):
        assert f.statement and f.to_dict()["code"] == f.code
        assert f.evidence
