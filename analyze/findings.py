"""`findings`: rule-based statements from `Measurements`, each with the evidence that fired it.

The rules, their references and their thresholds are in :mod:`analyze.codes`; the thresholds come as a
:class:`analyze.codes.Criteria` (by default :data:`analyze.codes.CALIBRATED`, matched to the wide global convention
of :func:`analyze.measure` on PTB-XL; ``GUIDELINE`` holds the published values). A rule that lacks a measurement it
needs does not fire (it never guesses); ``NORM`` is stated only when the rhythm is sinus, every headline measurement
it depends on was measured and nothing abnormal fired apart from a sinus rate statement.
"""

from __future__ import annotations

from collections.abc import Callable

from analyze import codes as C
from analyze.arrhythmia import atrial_flutter, atrial_tachycardia, premature_beats
from analyze.measure import Measurements
from analyze.sinus import sinus_p
from analyze.statement import Evidence, Finding

__all__ = ["Evidence", "Finding", "findings"]


def findings(
    measurements: Measurements, *, sex: str | None = None, age: float | None = None,
    criteria: C.Criteria = C.CALIBRATED,
) -> list[Finding]:
    """Statements for one record, in the order of :data:`analyze.codes.CODES`.

    Parameters
    ----------
    measurements : Measurements
        From :func:`analyze.measure`.
    sex : {"M", "F"} or None
        Selects the long-QTc limit (the women's, higher, limit when unknown).
    age : float or None
        Years; the criteria are for adults, and below 16 years the axis and QTc rules are not applied.
    criteria : analyze.codes.Criteria
        The thresholds: :data:`analyze.codes.CALIBRATED` (default, for :func:`analyze.measure`'s convention) or
        :data:`analyze.codes.GUIDELINE` (the published values, for narrow-convention measurements).
    """
    sex = _normalise_sex(sex)
    m = measurements
    out: list[Finding] = []
    adult = age is None or age >= 16
    rules: list[Callable[[Measurements, C.Criteria], Finding | None]] = [
        _sinus_rhythm, _afib, _first_degree_block, _preexcitation, _rbbb, _lbbb,
    ]
    if adult:
        rules += [_axis_deviation]
    rules += [_low_voltage]
    for rule in rules:
        found = rule(m, criteria)
        if found is not None:
            out.append(found)
    flutter = atrial_flutter(m, criteria)
    if flutter is not None:  # flutter waves locked to the QRS can pass for sinus P waves: the flutter wins
        out = [f for f in out if f.code not in _SINUS | {"1AVB", "WPW"}] + [flutter]
    codes = {f.code for f in out}
    tachycardia = atrial_tachycardia(m, criteria, codes)
    if tachycardia is not None:
        out.append(tachycardia)
        codes.add(tachycardia.code)
    out += premature_beats(m, criteria, codes)
    ivcd = _ivcd(m, criteria, codes)
    if ivcd:
        out.append(ivcd)
    if adult and "AFIB" not in codes:  # with irregular RR intervals no single RR corrects the QT
        qt = _qt(m, criteria, sex)
        if qt:
            out.append(qt)
    if _is_normal(m, out, criteria) and not (adult and _long_qtc(m, criteria, sex)):
        rate = next(f for f in out if f.code in _SINUS)
        values = (f"PR {m.pr_ms:.0f} ms, QRS {m.qrs_ms:.0f} ms, QTc {m.qtc_fridericia_ms:.0f} ms, "
                  f"QRS axis {m.qrs_axis_deg:.0f}°")
        text = f"Normal ECG: sinus rhythm, normal intervals, axis and voltage ({values})."
        if rate.code != "SR":
            pace = "slow" if rate.code == "SBRAD" else "fast"
            text = (f"Otherwise normal ECG: normal intervals, axis and voltage ({values}); only the sinus rate is "
                    f"{pace}.")
        out.insert(0, Finding("NORM", text,
                              {k: getattr(m, k) for k in ("heart_rate_bpm", "pr_ms", "qrs_ms", "qtc_fridericia_ms",
                                                          "qrs_axis_deg")}))
    order = list(C.CODES)
    return sorted(out, key=lambda f: order.index(f.code))


# --- rhythm ---------------------------------------------------------------------------------------------------
_sinus_p = sinus_p


def _sinus_rhythm(m: Measurements, c: C.Criteria) -> Finding | None:
    if m.heart_rate_bpm is None or not _sinus_p(m, c):
        return None
    rate = m.heart_rate_bpm
    evidence: Evidence = {"heart_rate_bpm": rate, "p_wave_consistency": m.p_wave_consistency,
                          "p_axis_deg": m.p_axis_deg}
    if rate < c.brady_bpm:
        return Finding("SBRAD", f"Sinus bradycardia, {rate:.0f} /min{_p_words(m)}.", evidence)
    if rate > c.tachy_bpm:
        return Finding("STACH", f"Sinus tachycardia, {rate:.0f} /min{_p_words(m)}.", evidence)
    return Finding("SR", f"Sinus rhythm, {rate:.0f} /min{_p_words(m)}.", evidence)


def _p_words(m: Measurements) -> str:
    """"; the same P wave before every QRS, P axis 55°" (what makes the rhythm sinus)."""
    axis = f", P axis {m.p_axis_deg:.0f}°" if m.p_axis_deg is not None else ""
    return f"; the same P wave before every QRS (consistency {m.p_wave_consistency:.2f}){axis}"


def _afib(m: Measurements, c: C.Criteria) -> Finding | None:
    """Irregular RR without sinus P waves (none found, not consistent from beat to beat, or a non-sinus P axis:
    coarse fibrillatory waves can line up by chance with a few QRS complexes, but not as an upright P in II)."""
    if m.rr_irregularity is None or m.rr_irregularity < c.irregular_rr or _sinus_p(m, c):
        return None
    p_words = ("no P wave found" if not m.p_wave_present else
               f"no consistent P wave (consistency {m.p_wave_consistency or 0:.2f})")
    return Finding("AFIB", f"Atrial fibrillation: irregularly irregular RR (successive differences "
                   f"{100 * m.rr_irregularity:.0f} % of the RR), {p_words}, ventricular rate "
                   f"{m.heart_rate_bpm or 0:.0f} /min.",
                   {"rr_irregularity": m.rr_irregularity, "p_wave_present": m.p_wave_present,
                    "p_wave_consistency": m.p_wave_consistency, "heart_rate_bpm": m.heart_rate_bpm})


# --- conduction -----------------------------------------------------------------------------------------------
def _first_degree_block(m: Measurements, c: C.Criteria) -> Finding | None:
    """PR beyond the limit with sinus P waves, when the PR's confidence is at least ``c.min_confidence`` (a P onset
    placed on the previous T wave gives a long PR of low confidence)."""
    confidence = m.confidence.get("pr_ms", 1.0)
    if m.pr_ms is None or m.pr_ms <= c.pr_long_ms or not _sinus_p(m, c) or confidence < c.min_confidence:
        return None
    note = f"; P onset less certain (confidence {confidence:.2f})" if confidence < c.sure_confidence else ""
    return Finding("1AVB", f"First-degree AV block: PR {m.pr_ms:.0f} ms (> {c.pr_long_ms:.0f} ms) with the same P "
                   f"wave before every QRS{note}.",
                   {"pr_ms": m.pr_ms, "pr_confidence": round(confidence, 2)})


def _preexcitation(m: Measurements, c: C.Criteria) -> Finding | None:
    if m.pr_ms is None or m.qrs_ms is None or not m.p_wave_present:
        return None
    if m.pr_ms >= c.pr_short_ms:
        return None
    wide = m.qrs_ms >= c.qrs_preexcited_ms
    delta = m.delta_ratio is not None and m.delta_ratio <= c.delta_ratio_max
    if not (wide or delta):
        return None
    words = [f"short PR {m.pr_ms:.0f} ms"]
    if delta:
        words.append(f"slurred QRS upstroke (delta wave: the first 30 ms at {100 * m.delta_ratio:.0f} % of the "
                     "peak QRS slope)")
    words.append(f"{'wide ' if wide else ''}QRS {m.qrs_ms:.0f} ms")
    return Finding("WPW", "Ventricular pre-excitation: " + "; ".join(words) + ".",
                   {"pr_ms": m.pr_ms, "qrs_ms": m.qrs_ms, "delta_ratio": m.delta_ratio})


def _rbbb(m: Measurements, c: C.Criteria) -> Finding | None:
    if m.qrs_ms is None or m.qrs_ms < c.qrs_bbb_ms:
        return None
    right = [m.lead(n) for n in ("V1", "V2")]
    r_prime = any(x is not None and x.r_prime_mv > 0 for x in right)
    v1 = m.lead("V1")
    late_r_v1 = v1 is not None and v1.r_peak_time_ms is not None and v1.r_peak_time_ms > c.rbbb_v1_r_peak_ms \
        and v1.r_mv > abs(v1.s_mv)
    broad_s = [n for n in ("I", "V6") if (x := m.lead(n)) is not None and x.s_mv < 0
               and (x.s_duration_ms >= c.broad_s_ms or abs(x.s_mv) > x.r_mv)]
    if (r_prime or late_r_v1) and broad_s:
        pattern = "RSR′ in V1/V2" if r_prime else f"late R in V1 (R-peak time {v1.r_peak_time_ms:.0f} ms)"
        return Finding("CRBBB", f"Complete right bundle branch block: QRS {m.qrs_ms:.0f} ms; {pattern}; broad S "
                       f"in {' and '.join(broad_s)}.",
                       {"qrs_ms": m.qrs_ms, "rsr_prime_v1_v2": r_prime, "v1_r_peak_time_ms":
                        v1.r_peak_time_ms if v1 else None, "broad_s_leads": ",".join(broad_s)})
    return None


def _lbbb(m: Measurements, c: C.Criteria) -> Finding | None:
    if m.qrs_ms is None or m.qrs_ms < c.qrs_bbb_ms:
        return None
    v1 = m.lead("V1")
    if v1 is None or abs(min(v1.q_mv, v1.s_mv)) <= v1.r_mv:  # QS or rS: the negative wave dominates
        return None
    lateral = [m.lead(n) for n in ("I", "V5", "V6")]
    if any(x is not None and x.q_mv < 0 for x in lateral):
        return None
    times = [x.r_peak_time_ms for n in ("V5", "V6") if (x := m.lead(n)) is not None and x.r_peak_time_ms is not None]
    if not times or max(times) <= c.lbbb_v56_r_peak_ms:
        return None
    return Finding("CLBBB", f"Complete left bundle branch block: QRS {m.qrs_ms:.0f} ms; V1 mainly negative "
                   f"({min(v1.q_mv, v1.s_mv):.2f} mV); no Q wave in I, V5, V6; R-peak time {max(times):.0f} ms "
                   "in V5/V6.",
                   {"qrs_ms": m.qrs_ms, "v1_r_mv": v1.r_mv, "v1_negative_mv": min(v1.q_mv, v1.s_mv),
                    "v5_v6_r_peak_time_ms": max(times)})


def _ivcd(m: Measurements, c: C.Criteria, fired: set[str]) -> Finding | None:
    if m.qrs_ms is None or m.qrs_ms <= c.qrs_wide_ms or fired & {"CRBBB", "CLBBB", "WPW"}:
        return None
    return Finding("IVCD", f"Nonspecific intraventricular conduction delay: QRS {m.qrs_ms:.0f} ms (> "
                   f"{c.qrs_wide_ms:.0f} ms) without a bundle branch block or pre-excitation pattern.",
                   {"qrs_ms": m.qrs_ms})


# --- repolarisation, axis, voltage ----------------------------------------------------------------------------
def _qt(m: Measurements, c: C.Criteria, sex: str | None) -> Finding | None:
    """Long / short QTc by Fridericia; beyond the IVCD limit the excess QRS width is taken off first. Not stated
    when the QT's confidence is below ``c.min_confidence``; below ``c.sure_confidence`` the sentence says so.

    Fridericia rather than Bazett: Bazett over-corrects at high rates (AHA/ACCF/HRS Part IV), and on PTB-XL NORM
    records our Bazett QTc still correlates with the heart rate (r = 0.53) while Fridericia's does not (r = 0.02).
    A wide QRS lengthens the QT by depolarisation, not repolarisation, so Part IV advises adjusting for it.
    """
    qtc = m.qtc_fridericia_ms
    confidence = m.confidence.get("qtc_fridericia_ms", 1.0)
    if qtc is None or m.qt_ms is None or confidence < c.min_confidence:  # a T end that may be grossly wrong
        return None  # states nothing
    excess = max(0.0, m.qrs_ms - c.qrs_wide_ms) if m.qrs_ms is not None else 0.0
    adjusted = qtc - excess
    limit = c.qtc_long_ms(sex)
    evidence: Evidence = {"qt_ms": m.qt_ms, "qtc_fridericia_ms": qtc, "sex": sex}
    note = f", {excess:.0f} ms of QRS widening taken off" if excess else ""
    if confidence < c.sure_confidence:
        note += f"; T end less certain (confidence {confidence:.2f})"
    if excess:
        evidence["qrs_adjusted_qtc_ms"] = round(adjusted, 1)
    if adjusted >= limit:
        if confidence < c.long_qt_confidence:  # an extreme value on a T end that is not sure: no statement
            return None
        return Finding("LQT", f"Long QTc (Fridericia): {qtc:.0f} ms (QT {m.qt_ms:.0f} ms at RR "
                       f"{1000 * (m.qt_ms / qtc) ** 3:.0f} ms){note} (≥ {limit:.0f} ms"
                       f"{' for ' + _SEX[sex] if sex else ''}).", {**evidence, "limit_ms": limit})
    if qtc <= c.qtc_short_ms:
        return Finding("SQT", f"Short QTc (Fridericia): {qtc:.0f} ms (QT {m.qt_ms:.0f} ms; ≤ "
                       f"{c.qtc_short_ms:.0f} ms).",
                       {**evidence, "limit_ms": c.qtc_short_ms})
    return None


def _long_qtc(m: Measurements, c: C.Criteria, sex: str | None) -> bool:
    """Whether the QRS-adjusted QTc (Fridericia) reaches the long-QTc limit, whatever its confidence (a long QTc
    that is not stated for lack of confidence still rules out a normal ECG)."""
    if m.qtc_fridericia_ms is None:
        return False
    excess = max(0.0, m.qrs_ms - c.qrs_wide_ms) if m.qrs_ms is not None else 0.0
    return m.qtc_fridericia_ms - excess >= c.qtc_long_ms(sex)


def _axis_deviation(m: Measurements, c: C.Criteria) -> Finding | None:
    axis = m.qrs_axis_deg
    if axis is None:
        return None
    if -90.0 <= axis < c.lad_deg:
        return Finding("LAD", f"Left axis deviation: QRS axis {axis:.0f}°.", {"qrs_axis_deg": axis})
    if c.rad_deg < axis <= 180.0:
        return Finding("RAD", f"Right axis deviation: QRS axis {axis:.0f}°.", {"qrs_axis_deg": axis})
    return None


def _low_voltage(m: Measurements, c: C.Criteria) -> Finding | None:
    limb = [m.lead(n) for n in ("I", "II", "III", "aVR", "aVL", "aVF")]
    chest = [m.lead(n) for n in ("V1", "V2", "V3", "V4", "V5", "V6")]
    evidence: Evidence = {}
    if all(x is not None for x in limb) and max(x.qrs_pp_mv for x in limb) < c.low_limb_mv:
        evidence["max_limb_qrs_mv"] = round(max(x.qrs_pp_mv for x in limb), 3)
    if all(x is not None for x in chest) and max(x.qrs_pp_mv for x in chest) < c.low_precordial_mv:
        evidence["max_precordial_qrs_mv"] = round(max(x.qrs_pp_mv for x in chest), 3)
    if not evidence:
        return None
    where = " and ".join(name for name, key in (("limb", "max_limb_qrs_mv"), ("precordial", "max_precordial_qrs_mv"))
                         if key in evidence)
    largest = "; ".join(f"largest {name} QRS {evidence[key]:.2f} mV" for name, key in
                        (("limb", "max_limb_qrs_mv"), ("precordial", "max_precordial_qrs_mv")) if key in evidence)
    return Finding("LVOLT", f"Low QRS voltage in the {where} leads: {largest}.", evidence)


def _is_normal(m: Measurements, found: list[Finding], c: C.Criteria) -> bool:
    """Sinus rhythm at any rate and nothing else abnormal ("sinus bradycardia, otherwise normal ECG"), with every
    headline measurement the rules need measured, with at least ``c.min_confidence`` (an interval rule that could
    not be applied is no evidence that the interval is normal)."""
    if not any(f.code in _SINUS for f in found) or any(f.abnormal for f in found if f.code not in _SINUS):
        return False
    needed = ("pr_ms", "qrs_ms", "qtc_fridericia_ms", "qrs_axis_deg")
    return all(getattr(m, k) is not None and m.confidence.get(k, 1.0) >= c.min_confidence for k in needed)


_SINUS = frozenset({"SR", "SBRAD", "STACH"})
_SEX = {"M": "men", "F": "women"}


def _normalise_sex(sex: str | None) -> str | None:
    if sex is None:
        return None
    key = str(sex).strip().upper()[:1]
    if key not in ("M", "F"):
        raise ValueError(f"sex must be 'M' or 'F', got {sex!r}")
    return key
