"""Class vocabularies of the two image classifiers and how PTB-XL / Challenge-2021 labels map onto them.

The RGB-tiled classifier (patent CN110507311A) has ten classes; a record may carry several at once (independent
sigmoid outputs). The fusion network (patent CN110731773A) answers normal versus abnormal.

PTB-XL ``scp_codes`` → tiled classes (one table, :data:`PTBXL_TO_TILED`)
-----------------------------------------------------------------------

=====  ===============================  =====================  ==========================================
class  meaning                          PTB-XL codes           kind in ``scp_statements.csv``
=====  ===============================  =====================  ==========================================
NORM   normal ECG                       NORM                   diagnostic (superclass NORM)
PVC    premature ventricular complex    PVC                    form
WPW    ventricular pre-excitation       WPW                    diagnostic (CD)
CLBBB  complete left bundle branch bl.  CLBBB                  diagnostic (CD)
CRBBB  complete right bundle branch bl. CRBBB                  diagnostic (CD)
AFIB   atrial fibrillation              AFIB                   rhythm
AFLT   atrial flutter                   AFLT                   rhythm
AESC   atrial escape                    (none)                 PTB-XL has no atrial-escape statement
PAC    premature atrial complex         PAC                    form
AT     atrial tachycardia               SVTAC, PSVT            rhythm
=====  ===============================  =====================  ==========================================

Likelihood rule (:func:`tiled_labels`): PTB-XL gives diagnostic statements a likelihood of 15, 35, 50, 80 or 100 %,
while rhythm and form statements mostly carry 0 ("no likelihood stated"; in ``../shared/data/ptbxl`` 100 of 106 AFIB,
27 of 30 PAC, 12 of 86 PVC and both SVTAC rows are at 0). A code therefore counts when its likelihood is
≥ :data:`MIN_LIKELIHOOD` (50 %), or when it is a rhythm/form code present with any likelihood (including 0).

AESC (atrial escape) has no PTB-XL code, so no real record is labelled with it. Without synthetic examples it stays
*untrained* (its output is reported but its threshold is fixed at 1.0, i.e. never fired); with the labelled synthetic
escape rhythms of :mod:`classify.train.rhythm_synth` (``classify.train.prepare --synthetic-per-kind``) it is
trained, but its threshold (0.5) cannot be validated on real records. Challenge-2021 SNOMED codes
251187003 / 233892002 would be the real source.

Fusion label (:func:`fusion_label`)
-----------------------------------
PTB-XL diagnostic superclasses as in the PTB-XL benchmark (Strodthoff et al., IEEE JBHI 25:1519, 2021): every
*diagnostic* statement of a record (any likelihood) is mapped through ``scp_statements.csv`` to its
``diagnostic_class`` (NORM, MI, STTC, CD, HYP). A record is **normal** (0) when that set is exactly ``{NORM}`` and
**abnormal** (1) when it contains any other superclass. Records without any diagnostic statement (39 of the 1,898 in
``../shared/data/ptbxl``) have no fusion label (``None``) and are left out of fusion training and evaluation.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path

TILED_CLASSES: tuple[str, ...] = ("NORM", "PVC", "WPW", "CLBBB", "CRBBB", "AFIB", "AFLT", "AESC", "PAC", "AT")
"""The ten tiled-classifier outputs, in output order."""

TILED_CLASS_NAMES: dict[str, str] = {
    "NORM": "normal ECG",
    "PVC": "premature ventricular complex",
    "WPW": "ventricular pre-excitation",
    "CLBBB": "complete left bundle branch block",
    "CRBBB": "complete right bundle branch block",
    "AFIB": "atrial fibrillation",
    "AFLT": "atrial flutter",
    "AESC": "atrial escape",
    "PAC": "premature atrial complex",
    "AT": "atrial tachycardia",
}

FUSION_CLASSES: tuple[str, ...] = ("normal", "abnormal")
"""The fusion network's two answers; its output is the probability of ``abnormal``."""

PTBXL_TO_TILED: dict[str, str] = {
    "NORM": "NORM",
    "PVC": "PVC",
    "WPW": "WPW",
    "CLBBB": "CLBBB",
    "CRBBB": "CRBBB",
    "AFIB": "AFIB",
    "AFLT": "AFLT",
    "PAC": "PAC",
    "SVTAC": "AT",
    "PSVT": "AT",
}
"""PTB-XL ``scp_codes`` key → tiled class. Nothing maps to AESC (see the module docstring)."""

PTBXL_DIAGNOSTIC_CODES: frozenset[str] = frozenset({"NORM", "WPW", "CLBBB", "CRBBB"})
"""Codes of :data:`PTBXL_TO_TILED` that are PTB-XL *diagnostic* statements (their likelihood is meaningful)."""

MIN_LIKELIHOOD = 50.0
"""Smallest PTB-XL likelihood (%) at which a diagnostic statement counts as present."""

UNTRAINED_CLASSES: frozenset[str] = frozenset({"AESC"})
"""Classes with no real training example; their threshold is fixed at 1.0 (never reported)."""

SNOMED_TO_TILED: dict[str, str] = {
    "426783006": "NORM",  # sinus rhythm (the Challenge has no "normal ECG" code; closest equivalent)
    "427172004": "PVC",  # premature ventricular contractions
    "17338001": "PVC",  # ventricular premature beats (scored as the same diagnosis)
    "74390002": "WPW",  # Wolff-Parkinson-White pattern
    "733534002": "CLBBB",  # complete left bundle branch block
    "164909002": "CLBBB",  # left bundle branch block (scored as the same diagnosis)
    "713427006": "CRBBB",  # complete right bundle branch block
    "59118001": "CRBBB",  # right bundle branch block (scored as the same diagnosis)
    "164889003": "AFIB",  # atrial fibrillation
    "164890007": "AFLT",  # atrial flutter
    "251187003": "AESC",  # atrial escape beat
    "233892002": "AESC",  # accelerated atrial escape rhythm
    "284470004": "PAC",  # premature atrial contraction
    "63593006": "PAC",  # supraventricular premature beats (scored as the same diagnosis)
    "713422000": "AT",  # atrial tachycardia
    "67198005": "AT",  # paroxysmal supraventricular tachycardia
    "426761007": "AT",  # supraventricular tachycardia
}
"""PhysioNet/CinC Challenge 2021 SNOMED-CT codes (``#Dx:`` header lines; ``dx_mapping_*.csv``) → tiled class."""


def parse_scp_codes(value: str | Mapping[str, float]) -> dict[str, float]:
    """``scp_codes`` as a dict code → likelihood (%), from the CSV cell text (a Python dict literal) or a mapping."""
    if isinstance(value, Mapping):
        return {str(k): float(v) for k, v in value.items()}
    parsed = ast.literal_eval(value)
    if not isinstance(parsed, dict):
        raise ValueError(f"scp_codes must be a dict literal, got {value!r}")
    return {str(k): float(v) for k, v in parsed.items()}


def tiled_labels(scp_codes: str | Mapping[str, float]) -> tuple[str, ...]:
    """Tiled classes a PTB-XL record carries, in :data:`TILED_CLASSES` order (may be empty).

    Diagnostic codes count at likelihood ≥ :data:`MIN_LIKELIHOOD`; rhythm/form codes at any likelihood.
    """
    codes = parse_scp_codes(scp_codes)
    present = set()
    for code, likelihood in codes.items():
        target = PTBXL_TO_TILED.get(code)
        if target is None:
            continue
        if code in PTBXL_DIAGNOSTIC_CODES and likelihood < MIN_LIKELIHOOD:
            continue
        present.add(target)
    return tuple(c for c in TILED_CLASSES if c in present)


def tiled_target(labels: tuple[str, ...] | list[str]) -> list[float]:
    """Multi-hot vector (length 10, :data:`TILED_CLASSES` order) of a label tuple; unknown names raise ValueError."""
    unknown = set(labels) - set(TILED_CLASSES)
    if unknown:
        raise ValueError(f"unknown tiled classes {sorted(unknown)}; valid: {', '.join(TILED_CLASSES)}")
    return [1.0 if c in labels else 0.0 for c in TILED_CLASSES]


def fusion_label(scp_codes: str | Mapping[str, float], diagnostic_class: Mapping[str, str]) -> int | None:
    """1 = abnormal, 0 = normal, ``None`` = no diagnostic statement (see the module docstring).

    Parameters
    ----------
    scp_codes : str or mapping
        The record's ``scp_codes``.
    diagnostic_class : mapping
        Diagnostic statement code → superclass, from :func:`load_diagnostic_classes`.
    """
    superclasses = {diagnostic_class[c] for c in parse_scp_codes(scp_codes) if c in diagnostic_class}
    if not superclasses:
        return None
    return 0 if superclasses == {"NORM"} else 1


def load_diagnostic_classes(scp_statements_csv: str | Path) -> dict[str, str]:
    """Read PTB-XL ``scp_statements.csv`` into code → ``diagnostic_class`` for diagnostic statements only."""
    import pandas as pd

    table = pd.read_csv(scp_statements_csv, index_col=0)
    diagnostic = table[table["diagnostic"] == 1]
    return {str(code): str(cls) for code, cls in diagnostic["diagnostic_class"].items()}


def snomed_tiled_labels(codes: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Tiled classes of a Challenge-2021 record from its SNOMED-CT codes (``#Dx:`` header), in class order."""
    present = {SNOMED_TO_TILED[c.strip()] for c in codes if c.strip() in SNOMED_TO_TILED}
    return tuple(c for c in TILED_CLASSES if c in present)
