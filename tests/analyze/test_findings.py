"""Each rule on constructed measurements that must, and must not, fire it (with both criteria sets)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from analyze import CODES, LeadMorphology, Measurements, findings
from analyze.codes import CALIBRATED, CRITERIA, GUIDELINE, Criteria

C = CALIBRATED
NARROW = LeadMorphology(q_mv=-0.1, r_mv=1.0, s_mv=-0.3, r_prime_mv=0.0, qrs_pp_mv=1.3, p_mv=0.1, t_mv=0.3,
                        st_mv=0.0, r_peak_time_ms=35.0, s_duration_ms=20.0)
LEADS12 = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
QRS_NORMAL = C.qrs_wide_ms - 25  # a normal QRS in the calibrated convention


def normal(**changes) -> Measurements:
    base = Measurements(
        heart_rate_bpm=70.0, rr_mean_ms=857.0, rr_sdnn_ms=20.0, pr_ms=160.0, qrs_ms=QRS_NORMAL, qt_ms=400.0,
        qtc_bazett_ms=432.0, qtc_fridericia_ms=422.0, p_axis_deg=50.0, qrs_axis_deg=40.0, t_axis_deg=40.0,
        rr_irregularity=0.02, p_wave_present=True, p_wave_consistency=0.95, leads={n: NARROW for n in LEADS12},
    )
    return replace(base, **changes)


def codes(m: Measurements, **kw) -> set[str]:
    return {f.code for f in findings(m, **kw)}


def with_leads(m: Measurements, **leads: LeadMorphology) -> Measurements:
    return replace(m, leads={**m.leads, **leads})


def test_normal_ecg_is_norm_and_sinus():
    assert codes(normal()) == {"NORM", "SR"}


def test_calibrated_criteria_keep_the_guideline_meaning():
    """The calibrated set moves interval limits to the wide convention (never narrower) and keeps the rest."""
    assert C.qrs_wide_ms > GUIDELINE.qrs_wide_ms and C.qrs_bbb_ms > C.qrs_wide_ms
    assert C.qrs_bbb_ms - C.qrs_wide_ms == GUIDELINE.qrs_bbb_ms - GUIDELINE.qrs_wide_ms
    assert C.pr_long_ms >= GUIDELINE.pr_long_ms and C.pr_short_ms <= GUIDELINE.pr_short_ms + 5
    assert C.qtc_long_female_ms > C.qtc_long_male_ms > C.qtc_short_ms
    assert C.brady_bpm < C.tachy_bpm
    assert set(CRITERIA) == {"calibrated", "guideline"}


def test_every_code_emitted_is_in_the_table():
    m = normal(heart_rate_bpm=45.0, pr_ms=C.pr_long_ms + 30, qrs_ms=C.qrs_wide_ms + 5,
               qtc_fridericia_ms=C.qtc_long_female_ms + 20, qrs_axis_deg=-50.0)
    assert codes(m) <= set(CODES)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"pr_ms": C.pr_long_ms + 20}, "1AVB"),
        ({"qrs_ms": C.qrs_wide_ms + 6}, "IVCD"),
        ({"qtc_fridericia_ms": C.qtc_long_female_ms + 15}, "LQT"),
        ({"qtc_fridericia_ms": C.qtc_short_ms - 20}, "SQT"),
        ({"qrs_axis_deg": -45.0}, "LAD"),
        ({"qrs_axis_deg": 120.0}, "RAD"),
        ({"pr_ms": C.pr_short_ms - 20, "qrs_ms": C.qrs_preexcited_ms + 10}, "WPW"),
    ],
)
def test_rule_fires_and_norm_does_not(changes, code):
    found = codes(normal(**changes))
    assert code in found
    assert "NORM" not in found


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"heart_rate_bpm": C.brady_bpm + 2}, "SBRAD"),
        ({"heart_rate_bpm": C.tachy_bpm - 2}, "STACH"),
        ({"pr_ms": C.pr_long_ms - 5}, "1AVB"),
        ({"qrs_ms": C.qrs_wide_ms - 5}, "IVCD"),
        ({"qtc_fridericia_ms": C.qtc_long_male_ms - 10}, "LQT"),
        ({"qtc_fridericia_ms": C.qtc_short_ms + 10}, "SQT"),
        ({"qrs_axis_deg": -20.0}, "LAD"),
        ({"qrs_axis_deg": 85.0}, "RAD"),
        ({"pr_ms": C.pr_short_ms - 20, "qrs_ms": QRS_NORMAL}, "WPW"),
        ({"pr_ms": 160.0, "qrs_ms": C.qrs_preexcited_ms + 10}, "WPW"),
    ],
)
def test_rule_does_not_fire_just_inside_the_limit(changes, code):
    found = codes(normal(**changes))
    assert code not in found
    if code not in ("WPW",):
        assert "NORM" in found  # nothing else is abnormal in these cases


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"qrs_ms": 116.0}, "IVCD"),
        ({"pr_ms": 210.0}, "1AVB"),
        ({"heart_rate_bpm": 55.0}, "SBRAD"),
        ({"qtc_fridericia_ms": 465.0}, "LQT"),
    ],
)
def test_guideline_criteria_fire_at_the_published_limits(changes, code):
    """Values abnormal by the published criteria but normal in the wide convention of `measure`."""
    m = normal(**{"qrs_ms": 90.0, **changes})
    assert code in codes(m, criteria=GUIDELINE)
    assert code not in codes(m, criteria=CALIBRATED)


@pytest.mark.parametrize(("rate", "code"), [(C.brady_bpm - 3, "SBRAD"), (C.tachy_bpm + 20, "STACH")])
def test_sinus_rate_statements_leave_an_otherwise_normal_ecg(rate, code):
    found = findings(normal(heart_rate_bpm=rate))
    assert {f.code for f in found} == {"NORM", code}
    assert next(f for f in found if f.code == "NORM").statement.startswith("Otherwise normal")
    assert "NORM" not in codes(normal(heart_rate_bpm=rate, pr_ms=C.pr_long_ms + 20))


def test_sinus_p_axis_limits():
    assert "SR" in codes(normal(p_axis_deg=C.p_axis_min_deg + 5))
    assert not codes(normal(p_axis_deg=C.p_axis_min_deg - 20)) & {"SR", "NORM"}  # ectopic atrial P axis
    assert not codes(normal(p_axis_deg=C.p_axis_max_deg + 30)) & {"SR", "NORM"}


def test_long_qtc_limit_depends_on_sex():
    m = normal(qtc_fridericia_ms=(C.qtc_long_male_ms + C.qtc_long_female_ms) / 2)
    assert "LQT" in codes(m, sex="M")
    assert "LQT" not in codes(m, sex="F")
    assert "LQT" not in codes(m)  # unknown sex: the women's (higher) limit


def test_long_qtc_discounts_qrs_widening():
    wide = C.qrs_wide_ms + 40
    borderline = normal(qrs_ms=wide, qtc_fridericia_ms=C.qtc_long_male_ms + 20)
    assert "LQT" not in codes(borderline, sex="M")  # 20 ms over the limit, 40 ms of it from the QRS
    assert "LQT" in codes(replace(borderline, qtc_fridericia_ms=C.qtc_long_male_ms + 60), sex="M")


def test_no_qtc_statement_in_atrial_fibrillation():
    af = normal(rr_irregularity=0.2, p_wave_present=False, p_wave_consistency=None, pr_ms=None, p_axis_deg=None,
                qtc_fridericia_ms=C.qtc_long_female_ms + 40)
    assert "AFIB" in codes(af) and "LQT" not in codes(af)


def test_bad_sex_is_a_value_error():
    with pytest.raises(ValueError, match="sex"):
        findings(normal(), sex="X")


def test_afib_needs_irregular_rr_and_no_sinus_p():
    af = normal(rr_irregularity=0.2, p_wave_present=False, p_wave_consistency=None, pr_ms=None, p_axis_deg=None)
    found = codes(af)
    assert "AFIB" in found and "SR" not in found and "NORM" not in found
    assert "AFIB" not in codes(normal(rr_irregularity=0.2))  # sinus arrhythmia: P waves are consistent
    assert "AFIB" not in codes(replace(af, rr_irregularity=0.03))  # regular: not AF
    assert "AFIB" in codes(normal(rr_irregularity=0.2, p_wave_consistency=0.2))
    assert "AFIB" in codes(normal(rr_irregularity=0.2, p_wave_consistency=0.6, p_axis_deg=-150.0))  # not sinus P


def test_first_degree_block_needs_sinus_p_waves():
    assert "1AVB" not in codes(normal(pr_ms=C.pr_long_ms + 30, p_wave_consistency=0.2))


RSR = LeadMorphology(q_mv=0.0, r_mv=0.3, s_mv=-0.4, r_prime_mv=0.8, qrs_pp_mv=1.2, p_mv=0.1, t_mv=-0.2,
                     st_mv=0.0, r_peak_time_ms=100.0, s_duration_ms=30.0)
BROAD_S = LeadMorphology(q_mv=-0.1, r_mv=0.8, s_mv=-0.5, r_prime_mv=0.0, qrs_pp_mv=1.3, p_mv=0.1, t_mv=0.2,
                         st_mv=0.0, r_peak_time_ms=35.0, s_duration_ms=60.0)
BBB_QRS = C.qrs_bbb_ms + 20


def test_complete_rbbb():
    m = with_leads(normal(qrs_ms=BBB_QRS), V1=RSR, I=BROAD_S, V6=BROAD_S)
    found = codes(m)
    assert "CRBBB" in found and "IVCD" not in found
    assert "CRBBB" not in codes(replace(m, qrs_ms=C.qrs_bbb_ms - 5))  # incomplete: not complete RBBB
    assert "CRBBB" not in codes(with_leads(normal(qrs_ms=BBB_QRS), I=BROAD_S, V6=BROAD_S))  # no RSR' in V1/V2
    finding = next(f for f in findings(m) if f.code == "CRBBB")
    assert finding.evidence["qrs_ms"] == BBB_QRS


QS_V1 = LeadMorphology(q_mv=-1.5, r_mv=0.0, s_mv=0.0, r_prime_mv=0.0, qrs_pp_mv=1.6, p_mv=0.1, t_mv=0.4,
                       st_mv=0.2, r_peak_time_ms=None, s_duration_ms=0.0)
RS_V1 = LeadMorphology(q_mv=0.0, r_mv=0.1, s_mv=-1.5, r_prime_mv=0.0, qrs_pp_mv=1.6, p_mv=0.1, t_mv=0.4,
                       st_mv=0.2, r_peak_time_ms=10.0, s_duration_ms=80.0)
BROAD_R = LeadMorphology(q_mv=0.0, r_mv=1.5, s_mv=0.0, r_prime_mv=0.0, qrs_pp_mv=1.5, p_mv=0.1, t_mv=-0.4,
                         st_mv=-0.1, r_peak_time_ms=85.0, s_duration_ms=0.0)


@pytest.mark.parametrize("v1", [QS_V1, RS_V1], ids=["QS", "rS"])
def test_complete_lbbb(v1):
    m = with_leads(normal(qrs_ms=BBB_QRS), V1=v1, I=BROAD_R, V5=BROAD_R, V6=BROAD_R)
    found = codes(m)
    assert "CLBBB" in found and "IVCD" not in found and "CRBBB" not in found
    assert "CLBBB" not in codes(with_leads(m, V6=replace(BROAD_R, q_mv=-0.2)))  # septal q in V6
    assert "CLBBB" not in codes(replace(m, qrs_ms=C.qrs_bbb_ms - 5))
    assert "CLBBB" not in codes(with_leads(m, V1=BROAD_R))  # V1 mainly positive


def test_low_voltage():
    small = replace(NARROW, qrs_pp_mv=C.low_limb_mv - 0.2)
    limb = with_leads(normal(), **{n: small for n in ("I", "II", "III", "aVR", "aVL", "aVF")})
    assert "LVOLT" in codes(limb)
    assert "LVOLT" not in codes(normal())
    one_big = with_leads(limb, II=NARROW)
    assert "LVOLT" not in codes(one_big)


def test_custom_criteria_are_used():
    strict = replace(C, tachy_bpm=90.0)
    assert "STACH" in codes(normal(heart_rate_bpm=95.0), criteria=strict)
    assert isinstance(strict, Criteria)


def test_missing_measurements_fire_nothing_and_are_not_normal():
    empty = Measurements(heart_rate_bpm=70.0)
    assert codes(empty) == set()


def test_findings_carry_statements_and_evidence():
    for f in findings(normal(heart_rate_bpm=45.0, pr_ms=C.pr_long_ms + 20)):
        assert f.statement and f.to_dict()["code"] == f.code
        assert f.evidence


def test_interval_statements_need_a_confident_measurement():
    """A long QTc or PR measured with confidence < 0.5 states nothing (and then the ECG is not called normal);
    between 0.5 and 0.8 the statement says its measurement is less certain."""
    long_qt = normal(qtc_fridericia_ms=C.qtc_long_female_ms + 30)
    assert "LQT" in codes(long_qt)
    unsure = replace(long_qt, confidence={"qtc_fridericia_ms": C.min_confidence - 0.1})
    assert not codes(unsure) & {"LQT", "NORM"}
    # a long QTc is an extreme value: stated only at confidence >= long_qt_confidence, and never called normal
    assert not codes(replace(long_qt, confidence={"qtc_fridericia_ms": C.long_qt_confidence - 0.05})) & {
        "LQT", "NORM"}
    lenient = replace(C, long_qt_confidence=C.min_confidence)
    less = [f for f in findings(replace(long_qt, confidence={"qtc_fridericia_ms": 0.6}), criteria=lenient)
            if f.code == "LQT"]
    assert less and "less certain" in less[0].statement
    sure = [f for f in findings(long_qt) if f.code == "LQT"]
    assert "less certain" not in sure[0].statement
    long_pr = normal(pr_ms=C.pr_long_ms + 40)
    assert "1AVB" in codes(long_pr)
    assert "1AVB" not in codes(replace(long_pr, confidence={"pr_ms": 0.3}))
    assert codes(normal(confidence={"pr_ms": 0.3})) == {"SR"}
