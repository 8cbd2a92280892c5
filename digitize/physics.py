"""Check a lead assignment with the physics of the limb leads (Einthoven and Goldberger).

The six limb leads come from three electrodes, so wherever they were recorded at the same time they obey
I + III = II, aVR + aVL + aVF = 0, aVR = −(I + II)/2, aVL = (I − III)/2 and aVF = (II + III)/2 (Einthoven 1913;
Goldberger 1942). On a print the simultaneous stretches are a 3×4 column (I, II, III from 0 to 2.5 s; aVR, aVL, aVF
from 2.5 to 5 s), the left column of a 6×2 print and the whole of a 12×1 print. A digitization that put the right
traces under the right names, with the right polarity, leaves a small residual; a wrong name or an inverted lead
leaves a residual as large as the signals. :func:`limb_check` measures it on a reconstructed record; the
pipeline uses it to choose between candidate assignments and as evidence in each lead's confidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

IDENTITIES: tuple[tuple[str, dict[str, float]], ...] = (
    ("I + III = II", {"I": 1.0, "III": 1.0, "II": -1.0}),
    ("aVR + aVL + aVF = 0", {"aVR": 1.0, "aVL": 1.0, "aVF": 1.0}),
    ("aVR = −(I + II)/2", {"aVR": 1.0, "I": 0.5, "II": 0.5}),
    ("aVL = (I − III)/2", {"aVL": 1.0, "I": -0.5, "III": 0.5}),
    ("aVF = (II + III)/2", {"aVF": 1.0, "II": -0.5, "III": -0.5}),
    ("aVL − aVR = 3/2 I", {"aVL": 1.0, "aVR": -1.0, "I": -1.5}),
)
"""Each identity as coefficients whose weighted sum of the leads is zero. The last follows from the others
(aVL − aVR = (I − III)/2 + (I + II)/2 = I + I/2) and is the only one a Cabrera 3×4 print's first column (aVL, I,
−aVR) obeys: without it aVR's sign there was never checked (foreign prints in the Cabrera order with an upright aVR
came out with aVR inverted at −1.4 to −2.0 dB and no physics verdict)."""

MIN_OVERLAP_S = 1.0
"""Shortest simultaneous stretch (s) an identity is checked on."""

MIN_SIGNAL_MV = 0.05
"""RMS (mV) below which the leads of an identity are too flat to check it."""

PASS_RESIDUAL = 0.35
"""Relative residual (RMS of the weighted sum / RMS of its terms) up to which an identity holds. Digitizations with
the right names leave 0.05–0.3 (line width, smoothing, the clipped tips of QRS complexes); a swapped or inverted
lead leaves 0.7–1.5."""

FAIL_RESIDUAL = 0.6
"""Relative residual from which an identity is taken to be broken (a lead named or signed wrongly)."""


@dataclass(frozen=True)
class LimbCheck:
    """Residuals of the limb-lead identities on a record (only those with a simultaneous stretch).

    Attributes
    ----------
    residuals : dict of str to float
        Relative residual per identity checked.
    """

    residuals: dict[str, float]

    @property
    def checked(self) -> bool:
        return bool(self.residuals)

    @property
    def score(self) -> float:
        """Mean relative residual (lower is better; NaN when nothing could be checked)."""
        return float(np.mean(list(self.residuals.values()))) if self.residuals else float("nan")

    def lead_verdicts(self) -> dict[str, tuple[bool, str]]:
        """Per limb lead: (broken, reason) from the identities it takes part in.

        A lead is called broken when every identity it takes part in fails (one wrong lead breaks all the identities
        it is in, while the right leads each keep at least one that holds)."""
        verdicts: dict[str, tuple[bool, str]] = {}
        for lead in ("I", "II", "III", "aVR", "aVL", "aVF"):
            mine = {name: r for name, r in self.residuals.items() if lead in dict(IDENTITIES)[name]}
            if not mine:
                continue
            worst_name = max(mine, key=mine.get)
            if all(r >= FAIL_RESIDUAL for r in mine.values()):
                verdicts[lead] = (True, f"limb-lead physics fails ({worst_name}: residual {mine[worst_name]:.2f})")
            elif all(r <= PASS_RESIDUAL for r in mine.values()):
                verdicts[lead] = (False, "")
            else:
                verdicts[lead] = (False, f"limb-lead physics uncertain ({worst_name}: residual {mine[worst_name]:.2f})")
        return verdicts


def limb_check(signals: dict[str, np.ndarray], fs: float) -> LimbCheck:
    """Relative residual of each limb identity over the samples where all its leads are present.

    ``signals`` maps lead names to equal-length arrays in mV with NaN where the lead was not printed. Each lead's
    median over the stretch is removed first (every row has its own baseline on paper).
    """
    residuals: dict[str, float] = {}
    for name, weights in IDENTITIES:
        if not all(lead in signals for lead in weights):
            continue
        stack = np.stack([np.asarray(signals[lead], dtype=np.float64) for lead in weights])
        present = np.isfinite(stack).all(axis=0)
        if present.sum() < MIN_OVERLAP_S * fs:
            continue
        part = stack[:, present]
        part = part - np.median(part, axis=1, keepdims=True)
        terms = np.array(list(weights.values()))[:, None] * part
        scale = float(np.sqrt(np.mean(terms**2) * len(weights)))
        if scale < MIN_SIGNAL_MV:
            continue
        residual = terms.sum(axis=0)
        residuals[name] = float(np.sqrt(np.mean(residual**2)) / scale)
    return LimbCheck(residuals)
