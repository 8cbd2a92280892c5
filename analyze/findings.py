"""`findings`: rule-based statements from `Measurements`, each with the evidence that fired it.

The rules and their references are in :mod:`analyze.codes`. A rule that lacks a measurement it needs does not fire
(it never guesses); ``NORM`` is stated only when the rhythm is sinus and every headline measurement it depends on
was measured and nothing abnormal fired.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from analyze import codes as C
from analyze.measure import Measurements

Evidence = dict[str, float | bool | str | None]


@dataclass(frozen=True)
class Finding:
    """One statement: its code (:data:`analyze.codes.CODES`), a sentence, and the values that fired it."""

    code: str
    statement: str
    evidence: Evidence = field(default_factory=dict)

    @property
    def abnormal(self) -> bool:
        return C.CODES[self.code].abnormal

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "statement": self.statement, "evidence": dict(self.evidence)}


def findings(measurements: Measurements, *, sex: str | None = None, age: float | None = None) -> list[Finding]:
    """Statements for one record, in the order of :data:`analyze.codes.CODES`.

    Parameters
    ----------
    measurements : Measurements
        From :func:`analyze.measure`.
    sex : {"M", "F"} or None
        Selects the long-QTc limit (450 ms men, 460 ms women; 460 ms when unknown).
    age : float or None
        Years; the criteria are for adults, and below 16 years the rate, axis and QTc rules are not applied.
    """
    sex = _normalise_sex(sex)
    m = measurements
    out: list[Finding] = []
    adult = age is None or age >= 16
    rules: list[Callable[[Measurements], Finding | None]] = [
        _sinus_rhythm, _afib, _first_degree_block, _preexcitation, _rbbb, _lbbb,
    ]
    if adult:
        rules += [_axis_deviation]
    rules += [_low_voltage]
    for rule in rules:
        found = rule(m)
        if found is not None:
            out.append(found)
    codes = {f.code for f in out}
    ivcd = _ivcd(m, codes)
    if ivcd:
        out.append(ivcd)
    if adult:
        qt = _qt(m, sex)
        if qt:
            out.append(qt)
    if _is_normal(m, out):
        out.insert(0, Finding("NORM", "Normal ECG: sinus rhythm, normal intervals, axis and voltage.",
                              {k: getattr(m, k) for k in ("heart_rate_bpm", "pr_ms", "qrs_ms", "qtc_bazett_ms",
                                                          "qrs_axis_deg")}))
    order = list(C.CODES)
    return sorted(out, key=lambda f: order.index(f.code))


# --- rhythm ---------------------------------------------------------------------------------------------------
def _sinus_p(m: Measurements) -> bool:
    """P waves consistent from beat to beat and (when measurable) a sinus P axis."""
    if not m.p_wave_present or m.p_wave_consistency is None or m.p_wave_consistency < C.P_CONSISTENT:
        return False
    lo, hi = C.SINUS_P_AXIS
    return m.p_axis_deg is None or lo <= m.p_axis_deg <= hi


def _sinus_rhythm(m: Measurements) -> Finding | None:
    if m.heart_rate_bpm is None or not _sinus_p(m):
        return None
    rate = m.heart_rate_bpm
    evidence: Evidence = {"heart_rate_bpm": rate, "p_wave_consistency": m.p_wave_consistency,
                          "p_axis_deg": m.p_axis_deg}
    if rate < C.BRADY_BPM:
        return Finding("SBRAD", f"Sinus bradycardia, {rate:.0f} /min.", evidence)
    if rate > C.TACHY_BPM:
        return Finding("STACH", f"Sinus tachycardia, {rate:.0f} /min.", evidence)
    return Finding("SR", f"Sinus rhythm, {rate:.0f} /min.", evidence)


def _afib(m: Measurements) -> Finding | None:
    if m.rr_irregularity is None or m.rr_irregularity < C.IRREGULAR_RR:
        return None
    no_p = not m.p_wave_present or (m.p_wave_consistency is not None and m.p_wave_consistency < C.P_CONSISTENT)
    if not no_p:
        return None
    return Finding("AFIB", "Atrial fibrillation: irregularly irregular RR without consistent P waves.",
                   {"rr_irregularity": m.rr_irregularity, "p_wave_present": m.p_wave_present,
                    "p_wave_consistency": m.p_wave_consistency, "heart_rate_bpm": m.heart_rate_bpm})


# --- conduction -----------------------------------------------------------------------------------------------
def _first_degree_block(m: Measurements) -> Finding | None:
    if m.pr_ms is None or m.pr_ms <= C.PR_LONG_MS or not _sinus_p(m):
        return None
    return Finding("1AVB", f"First-degree AV block: PR {m.pr_ms:.0f} ms (> {C.PR_LONG_MS:.0f} ms).",
                   {"pr_ms": m.pr_ms})


def _preexcitation(m: Measurements) -> Finding | None:
    if m.pr_ms is None or m.qrs_ms is None or not m.p_wave_present:
        return None
    if m.pr_ms < C.PR_SHORT_MS and m.qrs_ms >= C.QRS_PREEXCITED_MS:
        statement = f"Ventricular pre-excitation: short PR {m.pr_ms:.0f} ms with wide QRS {m.qrs_ms:.0f} ms."
        return Finding("WPW", statement, {"pr_ms": m.pr_ms, "qrs_ms": m.qrs_ms})
    return None


def _rbbb(m: Measurements) -> Finding | None:
    if m.qrs_ms is None or m.qrs_ms < C.QRS_BBB_MS:
        return None
    right = [m.lead(n) for n in ("V1", "V2")]
    r_prime = any(x is not None and x.r_prime_mv > 0 for x in right)
    v1 = m.lead("V1")
    late_r_v1 = v1 is not None and v1.r_peak_time_ms is not None and v1.r_peak_time_ms > C.RBBB_V1_RPEAK_MS \
        and v1.r_mv > abs(v1.s_mv)
    broad_s = [n for n in ("I", "V6") if (x := m.lead(n)) is not None and x.s_mv < 0
               and (x.s_duration_ms >= C.BROAD_S_MS or abs(x.s_mv) > x.r_mv)]
    if (r_prime or late_r_v1) and broad_s:
        return Finding("CRBBB", f"Complete right bundle branch block: QRS {m.qrs_ms:.0f} ms, "
                       f"{'RSR′ in V1/V2' if r_prime else 'late R in V1'}, broad S in {' and '.join(broad_s)}.",
                       {"qrs_ms": m.qrs_ms, "rsr_prime_v1_v2": r_prime, "v1_r_peak_time_ms":
                        v1.r_peak_time_ms if v1 else None, "broad_s_leads": ",".join(broad_s)})
    return None


def _lbbb(m: Measurements) -> Finding | None:
    if m.qrs_ms is None or m.qrs_ms < C.QRS_BBB_MS:
        return None
    v1 = m.lead("V1")
    if v1 is None or abs(v1.s_mv) <= v1.r_mv:
        return None
    lateral = [m.lead(n) for n in ("I", "V5", "V6")]
    if any(x is not None and x.q_mv < 0 for x in lateral):
        return None
    times = [x.r_peak_time_ms for n in ("V5", "V6") if (x := m.lead(n)) is not None and x.r_peak_time_ms is not None]
    if not times or max(times) <= C.LBBB_V56_RPEAK_MS:
        return None
    return Finding("CLBBB", f"Complete left bundle branch block: QRS {m.qrs_ms:.0f} ms, V1 mainly negative, "
                   f"no lateral Q, R peak time {max(times):.0f} ms in V5/V6.",
                   {"qrs_ms": m.qrs_ms, "v1_r_mv": v1.r_mv, "v1_s_mv": v1.s_mv, "v5_v6_r_peak_time_ms": max(times)})


def _ivcd(m: Measurements, fired: set[str]) -> Finding | None:
    if m.qrs_ms is None or m.qrs_ms <= C.QRS_WIDE_MS or fired & {"CRBBB", "CLBBB", "WPW"}:
        return None
    return Finding("IVCD", f"Nonspecific intraventricular conduction delay: QRS {m.qrs_ms:.0f} ms.",
                   {"qrs_ms": m.qrs_ms})


# --- repolarisation, axis, voltage ----------------------------------------------------------------------------
def _qt(m: Measurements, sex: str | None) -> Finding | None:
    qtc = m.qtc_bazett_ms
    if qtc is None:
        return None
    limit = C.QTC_LONG_MS[sex]
    evidence: Evidence = {"qt_ms": m.qt_ms, "qtc_bazett_ms": qtc, "sex": sex}
    if qtc >= limit:
        return Finding("LQT", f"Long QTc: {qtc:.0f} ms (≥ {limit:.0f} ms{' for ' + _SEX[sex] if sex else ''}).",
                       {**evidence, "limit_ms": limit})
    if qtc <= C.QTC_SHORT_MS:
        return Finding("SQT", f"Short QTc: {qtc:.0f} ms (≤ {C.QTC_SHORT_MS:.0f} ms).",
                       {**evidence, "limit_ms": C.QTC_SHORT_MS})
    return None


def _axis_deviation(m: Measurements) -> Finding | None:
    axis = m.qrs_axis_deg
    if axis is None:
        return None
    if -90.0 <= axis < C.LAD_DEG:
        return Finding("LAD", f"Left axis deviation: QRS axis {axis:.0f}°.", {"qrs_axis_deg": axis})
    if C.RAD_DEG < axis <= 180.0:
        return Finding("RAD", f"Right axis deviation: QRS axis {axis:.0f}°.", {"qrs_axis_deg": axis})
    return None


def _low_voltage(m: Measurements) -> Finding | None:
    limb = [m.lead(n) for n in ("I", "II", "III", "aVR", "aVL", "aVF")]
    chest = [m.lead(n) for n in ("V1", "V2", "V3", "V4", "V5", "V6")]
    evidence: Evidence = {}
    if all(x is not None for x in limb) and max(x.qrs_pp_mv for x in limb) < C.LOW_LIMB_MV:
        evidence["max_limb_qrs_mv"] = round(max(x.qrs_pp_mv for x in limb), 3)
    if all(x is not None for x in chest) and max(x.qrs_pp_mv for x in chest) < C.LOW_PRECORDIAL_MV:
        evidence["max_precordial_qrs_mv"] = round(max(x.qrs_pp_mv for x in chest), 3)
    if not evidence:
        return None
    where = " and ".join(name for name, key in (("limb", "max_limb_qrs_mv"), ("precordial", "max_precordial_qrs_mv"))
                         if key in evidence)
    return Finding("LVOLT", f"Low QRS voltage in the {where} leads.", evidence)


def _is_normal(m: Measurements, found: list[Finding]) -> bool:
    if any(f.abnormal for f in found) or not any(f.code == "SR" for f in found):
        return False
    needed = (m.pr_ms, m.qrs_ms, m.qtc_bazett_ms, m.qrs_axis_deg)
    return all(v is not None for v in needed)


_SEX = {"M": "men", "F": "women"}


def _normalise_sex(sex: str | None) -> str | None:
    if sex is None:
        return None
    key = str(sex).strip().upper()[:1]
    if key not in ("M", "F"):
        raise ValueError(f"sex must be 'M' or 'F', got {sex!r}")
    return key
