"""Text on the printout: OpenCV Hershey fonts (always available, no font files), neutral header vocabularies and
handwriting words. Nothing here names a real person: identifiers and dates are random, names are placeholders.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ecg.errors import EcgInputError

FONTS: dict[str, int] = {
    "simplex": cv2.FONT_HERSHEY_SIMPLEX,
    "duplex": cv2.FONT_HERSHEY_DUPLEX,
    "complex": cv2.FONT_HERSHEY_COMPLEX,
    "triplex": cv2.FONT_HERSHEY_TRIPLEX,
    "plain": cv2.FONT_HERSHEY_PLAIN,
    "simplex-italic": cv2.FONT_HERSHEY_SIMPLEX | cv2.FONT_ITALIC,
    "complex-italic": cv2.FONT_HERSHEY_COMPLEX | cv2.FONT_ITALIC,
}
"""Printed fonts by name (OpenCV Hershey vector fonts)."""

SCRIPT_FONTS = (cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, cv2.FONT_HERSHEY_SCRIPT_COMPLEX)
"""Handwriting-like fonts."""

_REFERENCE_SCALE_HEIGHT = 21.0  # cap height (px) of a Hershey font at scale 1 ("H" in SIMPLEX is 21 px tall)

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class TextItem:
    """A piece of text drawn on the sheet: its string, kind (label, header, footer) and box (x0, y0, x1, y1) px."""

    text: str
    kind: str
    box: Box


def font_code(name: str) -> int:
    """The OpenCV font constant of a font name; unknown names raise `EcgInputError` listing the valid ones."""
    try:
        return FONTS[name]
    except KeyError:
        raise EcgInputError(f"unknown font {name!r}; choose one of {', '.join(FONTS)}") from None


def draw_text(
    image: np.ndarray,
    text: str,
    origin: tuple[float, float],
    *,
    font: int,
    height_px: float,
    color_bgr: tuple[int, int, int],
    weight: float = 1.0,
) -> Box:
    """Draw ``text`` with its baseline-left corner at ``origin`` (px); returns its box (x0, y0, x1, y1) in px."""
    scale = max(height_px, 4.0) / _REFERENCE_SCALE_HEIGHT
    thickness = max(1, int(round(weight * height_px / 11.0)))
    (w, h), below = cv2.getTextSize(text, font, scale, thickness)
    x, y = int(round(origin[0])), int(round(origin[1]))
    cv2.putText(image, text, (x, y), font, scale, color_bgr, thickness, cv2.LINE_AA)
    pad = thickness / 2
    return (x - pad, y - h - pad, x + w + pad, y + below + pad)


def header_lines(rng: np.random.Generator, heart_rate_bpm: float | None) -> list[str]:
    """Two to five header lines: a placeholder identity line and a measurement block (rate from the beats)."""
    ident = f"ID: {rng.integers(10_000, 99_999_999)}"
    date = (
        f"{rng.integers(1990, 2025)}-{rng.integers(1, 13):02d}-{rng.integers(1, 29):02d} "
        f"{rng.integers(0, 24):02d}:{rng.integers(0, 60):02d}"
    )
    name = str(rng.choice(["Name: ________", "Patient: (anonymised)", "Name:", "Study subject", "Pt: ---"]))
    sex_age = f"{rng.choice(['M', 'F', '-'])}  {rng.integers(18, 95)} yrs" if rng.random() < 0.6 else ""
    rate = f"{heart_rate_bpm:.0f}" if heart_rate_bpm and np.isfinite(heart_rate_bpm) else "--"
    measures = [
        f"Vent. rate {rate} bpm",
        f"PR interval {rng.integers(110, 230)} ms",
        f"QRS duration {rng.integers(70, 150)} ms",
        f"QT/QTc {rng.integers(320, 460)}/{rng.integers(380, 480)} ms",
        f"P-R-T axes {rng.integers(-30, 90)} {rng.integers(-60, 120)} {rng.integers(-30, 90)}",
    ]
    first = "   ".join(part for part in (name, ident, date) if part)
    lines = [first] + ([sex_age] if sex_age else [])
    lines += measures[: int(rng.integers(0, len(measures) + 1))]
    return lines


def footer_text(speed_mm_s: float, gain_mm_mv: float, rng: np.random.Generator) -> str:
    """The calibration line printed under the traces, e.g. ``25 mm/s  10 mm/mV  0.05-150 Hz``."""
    parts = [f"{speed_mm_s:g} mm/s", f"{gain_mm_mv:g} mm/mV"]
    if rng.random() < 0.6:
        parts.append(str(rng.choice(["0.05-150 Hz", "0.5-40 Hz", "0.15-100 Hz", "0.05-40 Hz"])))
    if rng.random() < 0.3:
        parts.append(str(rng.choice(["50 Hz", "60 Hz", "~50Hz"])))
    return "    ".join(parts)


HANDWRITING_WORDS = (
    "ok", "seen", "repeat", "review", "??", "NSR?", "old ECG", "compare", "noted", "AF?", "sig.", "12:40",
    "done", "file", "urgent", "cf prior", "->", "x2", "pre-op", "call back",
)
"""Words for handwriting-like annotations (neutral clinical scribbles, no identities)."""

STAMP_WORDS = ("RECEIVED", "REVIEWED", "COPY", "FILED", "SCANNED", "CHECKED", "ARCHIVE")
"""Words for rubber stamps."""
