"""The statement codes the waveform rules emit, with their criteria and references.

Codes follow PTB-XL's SCP-ECG style (Wagner et al., Sci Data 7:154, 2020) so the classifiers' labels map onto them;
``ptbxl`` names the PTB-XL statement where it exists under another code (or ``None`` where PTB-XL has none).

Criteria (adults; RR, PR, QRS, QT in ms; axes in degrees; amplitudes in mV, relative to the PR segment):

===========  =====================================================================================================
``SR``       sinus rhythm: a consistent P wave before every QRS (P consistency ≥ 0.5), P axis 0…+90° when
             measurable, rate 60–100 /min.
``SBRAD``    sinus bradycardia: the sinus criteria with rate < 60 /min.
``STACH``    sinus tachycardia: the sinus criteria with rate > 100 /min.
``AFIB``     atrial fibrillation: irregular RR (median |ΔRR| / median RR ≥ 0.08) and no consistent P wave
             (no P found, or P consistency < 0.5).
``1AVB``     first-degree AV block: sinus P waves and PR > 200.
``WPW``      ventricular pre-excitation: PR < 120 with QRS ≥ 110 (delta wave widening a short-PR QRS).
``CRBBB``    complete RBBB: QRS ≥ 120; rsr'/rsR'/rSR' in V1 or V2 (an R' wave) or R peak time > 50 in V1; broad S
             (≥ 40 ms, or longer than the R) in I or V6.
``CLBBB``    complete LBBB: QRS ≥ 120; V1 mainly negative (|S| > R); no Q in I, V5 and V6; R peak time > 60 in V5
             or V6.
``IVCD``     nonspecific intraventricular conduction delay: QRS > 110 without RBBB, LBBB or pre-excitation.
``LQT``      long QT (PTB-XL ``LNGQT``): QTc (Bazett) ≥ 450 in men, ≥ 460 in women, ≥ 460 when sex is unknown.
``SQT``      short QT: QTc (Bazett) ≤ 390.
``LAD``      left axis deviation: QRS axis −30…−90° (beyond −90° is extreme/northwest, not stated here).
``RAD``      right axis deviation: QRS axis > +90° (+90…+180).
``LVOLT``    low QRS voltage: QRS peak-to-peak < 0.5 in every limb lead, or < 1.0 in every precordial lead.
``NORM``     normal ECG: sinus rhythm and none of the abnormal statements above.
===========  =====================================================================================================

References: AHA/ACC/HRS recommendations for the standardization and interpretation of the ECG — Part III,
intraventricular conduction disturbances (Surawicz et al., Circulation 119:e235, 2009); Part IV, the ST segment,
T and U waves and the QT interval (Rautaharju et al., Circulation 119:e241, 2009); Part II, electrocardiography
diagnostic statement list (Mason et al., Circulation 115:1325, 2007); Part I, the electrocardiogram and its
technology (Kligfield et al., Circulation 115:1306, 2007). Short QT cut-off after Part IV (QTc ≤ 390 ms).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    """One statement: its code, a short name, whether it is abnormal, and PTB-XL's code for it."""

    code: str
    name: str
    abnormal: bool
    ptbxl: str | None


CODES: dict[str, Code] = {
    c.code: c
    for c in (
        Code("NORM", "normal ECG", False, "NORM"),
        Code("SR", "sinus rhythm", False, "SR"),
        Code("SBRAD", "sinus bradycardia", True, "SBRAD"),
        Code("STACH", "sinus tachycardia", True, "STACH"),
        Code("AFIB", "atrial fibrillation", True, "AFIB"),
        Code("1AVB", "first-degree AV block", True, "1AVB"),
        Code("WPW", "ventricular pre-excitation", True, "WPW"),
        Code("CRBBB", "complete right bundle branch block", True, "CRBBB"),
        Code("CLBBB", "complete left bundle branch block", True, "CLBBB"),
        Code("IVCD", "nonspecific intraventricular conduction delay", True, "IVCD"),
        Code("LQT", "long QT interval", True, "LNGQT"),
        Code("SQT", "short QT interval", True, None),
        Code("LAD", "left axis deviation", True, None),
        Code("RAD", "right axis deviation", True, None),
        Code("LVOLT", "low QRS voltage", True, "LVOLT"),
    )
}
"""Every code the rules can emit, by code."""

# thresholds (see the table above)
BRADY_BPM, TACHY_BPM = 60.0, 100.0
IRREGULAR_RR = 0.08
P_CONSISTENT = 0.5
SINUS_P_AXIS = (0.0, 90.0)
PR_LONG_MS, PR_SHORT_MS = 200.0, 120.0
QRS_WIDE_MS, QRS_BBB_MS, QRS_PREEXCITED_MS = 110.0, 120.0, 110.0
QTC_LONG_MS = {"M": 450.0, "F": 460.0, None: 460.0}
QTC_SHORT_MS = 390.0
LAD_DEG, RAD_DEG = -30.0, 90.0
LOW_LIMB_MV, LOW_PRECORDIAL_MV = 0.5, 1.0
RBBB_V1_RPEAK_MS, LBBB_V56_RPEAK_MS = 50.0, 60.0
BROAD_S_MS = 40.0
