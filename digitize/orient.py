"""Quarter-turn orientation of an ECG image: a portrait phone photo (90°/270°) or a sheet scanned upside down (180°).

**Orientation network** (``models/orient.onnx``, trained by :mod:`digitize.train.orient`): the grey page shrunk to fit
a 256 px square, letterboxed so the aspect ratio is kept (a landscape page turned by 90° becomes portrait), goes
through a small CNN with four outputs, the quarter turns 0–3 that make it upright. When the largest softmax reaches
the manifest's ``thresholds.confident`` (chosen on validation so that no wrong call passes it) that turn is applied
and called confident; otherwise, and when the model file is missing or fails its sha256 check, the heuristic below
decides and the note says so. The session is made once per process (CPU, one thread).

**Heuristic** (:func:`heuristic_orientation`). Two questions, answered on a small copy of the ink layer (grid colour
removed):

* **Lying or standing?** Trace rows are bands of ink across the page with blank paper between them, so in an
  upright page the amount of ink per pixel row swings strongly (rows, gaps) while the amount per pixel column is
  nearly even. The ratio of the two profiles' coefficients of variation says whether the page is turned by a
  quarter.
* **Which way up?** Each row begins with the calibration pulse, a flat-topped step *up* from the baseline at the
  left end. Upside down it is a step *down* at the right end. Where no pulse is found, the QRS complexes decide
  weakly: most leads' largest deflection points up (R waves), so the ink reaches further above the baseline than
  below it.

Measured with ``bench/orientation_eval.py`` (each image turned by every quarter; 2026-12-02): on the 36 ECG-Image-Kit
kit-dev images (144 cases) the network path puts 90 % upright (clean 100 %, scan 73 %, photo 98 %) with 0 confident
but wrong calls, the heuristic alone 51 % with 2 confident wrong; on 12 DataSynth renders of LUDB records (48 cases)
100 % versus 69 %. About 6 ms per call with the network, 20–50 ms for the heuristic.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from scipy.ndimage import gaussian_filter1d

from digitize.grid import TYPICAL_PAGE_WIDTH_MM
from digitize.layout import find_rows
from digitize.preprocess import ink_layers
from digitize.pulse import find_pulse
from digitize.segment import open_digitizer_model
from digitize.trace import trace_probability
from ecg.errors import ModelError
from ecg.manifest import ModelIntegrityError, resolve_models_dir

WORK_SIDE_PX = 1100
"""Longest side (px) of the copy the orientation is judged on."""

LYING_RATIO = 1.6
"""Variation of the ink profile along y / along x above which the rows surely lie horizontally (below the inverse:
surely standing). Measured on upright DataSynth renders: mostly 1.3–4.3, but one 50 mm/s 3×4 page 0.9, so only a
clear inverse turns the page."""

MIN_PULSE_ROWS = 2
"""Rows that must show a calibration pulse at their start, with none on the turned page, to decide which way is up."""

POLARITY_MARGIN = 0.15
"""Relative up/down reach difference the QRS polarity needs before it decides 0° versus 180° on its own."""


INPUT_SIDE = 256
"""Side (px) of the square the orientation network sees: the grey page shrunk to fit, letterboxed (aspect kept)."""

MODEL_NAME = "orient"
"""Name of the orientation network in ``models/manifest.json`` (file ``models/orient.onnx``)."""


@dataclass(frozen=True)
class Orientation:
    """How far the image is turned and how sure that is.

    ``quarter_turns`` is the number of counter-clockwise quarter turns (``np.rot90`` k) that make the page
    upright; ``confident`` is False when the evidence was weak (then only the sure part of it is applied, and
    the quality is lowered); ``note`` says what was decided and why.
    """

    quarter_turns: int
    confident: bool
    note: str

    @property
    def degrees(self) -> int:
        """Clockwise rotation of the page as found (0, 90, 180, 270)."""
        return (90 * self.quarter_turns) % 360


def shrink_grey(image: np.ndarray, side: int = INPUT_SIDE) -> np.ndarray:
    """Grey uint8 copy of ``image`` (RGB or grey) whose longest side is ``side`` px (aspect ratio kept)."""
    grey = image if image.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(image[:, :, :3]), cv2.COLOR_RGB2GRAY)
    height, width = grey.shape[:2]
    scale = side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    return cv2.resize(np.ascontiguousarray(grey), size, interpolation=interpolation)


def letterbox(grey: np.ndarray, side: int = INPUT_SIDE) -> np.ndarray:
    """``grey`` (uint8, longest side ≤ ``side``) centred on a black ``side``×``side`` square, as float32 in 0–1."""
    height, width = grey.shape
    out = np.zeros((side, side), np.float32)
    top, left = (side - height) // 2, (side - width) // 2
    out[top : top + height, left : left + width] = grey.astype(np.float32) * np.float32(1.0 / 255.0)
    return out


def model_input(image: np.ndarray, side: int = INPUT_SIDE) -> np.ndarray:
    """The orientation network's input ``(1, 1, side, side)`` float32 for an RGB (or grey) image of any size."""
    return letterbox(shrink_grey(image, side), side)[None, None]


def upright(image: np.ndarray, orientation: Orientation) -> np.ndarray:
    """The image turned upright (a contiguous copy when turned)."""
    if orientation.quarter_turns % 4 == 0:
        return image
    return np.ascontiguousarray(np.rot90(image, orientation.quarter_turns))


def detect_orientation(image: np.ndarray, models_dir: str | Path | None = None) -> Orientation:
    """Quarter turns that make ``image`` (RGB, any size) upright; see the module docstring.

    The orientation network (``<models_dir>/orient.onnx``; default ``models/`` or ``ECGSCREEN_MODELS_DIR``) decides
    when its softmax maximum reaches the manifest's threshold; otherwise, or without the model, the heuristic does.
    """
    model = orientation_model(models_dir)
    if model is None:
        return heuristic_orientation(image)
    probabilities = model.probabilities(image)
    turns = int(np.argmax(probabilities))
    p = float(probabilities[turns])
    if p >= model.threshold:
        why = f"orientation model p={p:.2f}"
        if turns == 0:
            return Orientation(0, True, f"orientation upright ({why})")
        return Orientation(turns, True, f"image was rotated by {90 * turns}°; corrected ({why})")
    found = heuristic_orientation(image)
    note = f"{found.note}; orientation model unsure ({90 * turns}° p={p:.2f} < {model.threshold:.2f}), heuristic used"
    return Orientation(found.quarter_turns, found.confident, note)


def heuristic_orientation(image: np.ndarray) -> Orientation:
    """Quarter turns from the ink profiles, the calibration pulses and the QRS polarity (no model)."""
    prob = _small_probability(image)
    ratio = _profile_ratio(prob)
    if ratio <= 1.0 / LYING_RATIO:
        base, lying_sure = 1, True
    else:
        base, lying_sure = 0, ratio >= LYING_RATIO
    turned = np.rot90(prob, base)
    upside, up_sure, why = _upside_down(turned)
    # Only sure evidence turns the page: a weak guess leaves it as found and lowers the quality instead. A quarter
    # turn also needs the calibration pulses of the turned page (ink profiles alone misjudged upright kit-dev pages).
    if not up_sure:
        base = 0
    turns = (base + (2 if upside and up_sure else 0)) % 4
    confident = lying_sure and up_sure
    degrees = (90 * turns) % 360
    if turns == 0:
        note = "orientation upright" if confident else f"orientation not verified (taken as found; {why})"
    else:
        note = f"image was rotated by {degrees}°; corrected ({why})"
    if not lying_sure:
        note += f"; row direction unclear (profile ratio {ratio:.2f})"
    return Orientation(turns, confident, note)


class OrientationModel:
    """An onnxruntime session (one thread) of the orientation network, opened by :func:`ecg.models.open_model`.

    Raises ``ecg.errors.ModelError`` subclasses (missing, sha256 mismatch, unreadable) like the trace model.
    """

    def __init__(self, models_dir: str | Path | None = None, *, threads: int = 1) -> None:
        model = open_digitizer_model(models_dir, MODEL_NAME, threads=threads)
        self.record, self.path, self.session = model.entry, model.path, model.session
        self.threshold = float(self.record.thresholds.get("confident", 0.9))
        self.side = int(self.record.inputs.get("image", {}).get("shape", [0, 0, INPUT_SIDE])[2])

    def probabilities(self, image: np.ndarray) -> np.ndarray:
        """Softmax (4,) over the quarter turns (``np.rot90`` k) that make ``image`` (RGB or grey) upright."""
        logits = self.session.run(None, {"image": model_input(image, self.side)})[0][0].astype(np.float64)
        exp = np.exp(logits - logits.max())
        return exp / exp.sum()


_MODELS: dict[str, OrientationModel | None] = {}


def orientation_model(models_dir: str | Path | None = None) -> OrientationModel | None:
    """The process-wide orientation model of ``models_dir`` (``ECGSCREEN_MODELS_DIR`` or ``models/``), or None.

    None when the file or its manifest entry is missing or the file's sha256 differs (the heuristic is used then).
    """
    folder = resolve_models_dir(models_dir)
    key = str(folder.resolve())
    if key not in _MODELS:
        try:
            _MODELS[key] = OrientationModel(folder)
        except ModelError as error:
            if isinstance(error, ModelIntegrityError):
                warnings.warn(f"orientation model refused, heuristic used: {error}", RuntimeWarning, stacklevel=2)
            _MODELS[key] = None
    return _MODELS[key]


def _small_probability(image: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    scale = min(1.0, WORK_SIDE_PX / max(height, width))
    small = image
    if scale < 1.0:
        small = cv2.resize(image, (max(1, round(width * scale)), max(1, round(height * scale))), cv2.INTER_AREA)
    return trace_probability(ink_layers(small))


def _profile_ratio(prob: np.ndarray) -> float:
    """Coefficient of variation of the ink per pixel row over that per pixel column (> 1: rows lie horizontally).

    Profiles are smoothed over ~1 mm and their outer tenths (margins, header, desk) left out.
    """
    sigma = max(1.0, prob.shape[1] / TYPICAL_PAGE_WIDTH_MM)

    def variation(axis: int) -> float:
        profile = prob.mean(axis=axis)
        cut = profile.size // 10
        profile = gaussian_filter1d(profile[cut : profile.size - cut].astype(np.float64), sigma)
        return float(profile.std() / max(profile.mean(), 1e-6))

    return variation(1) / max(variation(0), 1e-6)


def _upside_down(prob: np.ndarray) -> tuple[bool, bool, str]:
    """Whether a horizontally lying page is upside down, whether that is sure, and the evidence."""
    px_per_mm = max(1.0, prob.shape[1] / TYPICAL_PAGE_WIDTH_MM)
    flipped = np.ascontiguousarray(prob[::-1, ::-1])
    pulses_up = _pulse_count(prob, px_per_mm)
    pulses_down = _pulse_count(flipped, px_per_mm)
    more, fewer = max(pulses_up, pulses_down), min(pulses_up, pulses_down)
    evidence = f"calibration pulses at the row starts {more} vs {fewer} turned"
    if more >= MIN_PULSE_ROWS and fewer == 0:
        return pulses_down > pulses_up, True, evidence
    if more > fewer:
        return pulses_down > pulses_up, False, evidence
    polarity = _polarity(prob, px_per_mm)
    if abs(polarity) >= POLARITY_MARGIN:
        return polarity < 0, False, f"no clear calibration pulse; QRS polarity {polarity:+.2f}"
    return False, False, "no clear calibration pulse or QRS polarity"


def _pulse_count(prob: np.ndarray, px_per_mm: float) -> int:
    """Rows whose left end starts with a calibration pulse (an upward flat-topped step)."""
    baselines, _ = find_rows(prob, px_per_mm)
    if baselines.size == 0:
        return 0
    spacing = float(np.median(np.diff(baselines))) if baselines.size > 1 else 25.0 * px_per_mm
    count = 0
    for y in baselines:
        band = prob[max(0, int(y - 0.3 * spacing)) : int(y + 0.3 * spacing) + 1] >= 0.5
        columns = np.flatnonzero(band.any(axis=0))
        if columns.size == 0:
            continue
        x0 = int(columns[0])
        pulse = find_pulse(
            prob,
            float(y),
            x0 - 2,
            x0 + int(15 * px_per_mm),
            px_per_mm_x=px_per_mm,
            band_px=(int(y - 0.9 * spacing), int(y + 0.2 * spacing)),
            min_height_mm=2.0,
            require_rising_edge=True,
        )
        count += pulse is not None
    return count


def _polarity(prob: np.ndarray, px_per_mm: float) -> float:
    """(up reach − down reach) / (up + down) of the ink around each row's baseline, summed over rows (−1…1)."""
    baselines, _ = find_rows(prob, px_per_mm)
    if baselines.size == 0:
        return 0.0
    spacing = float(np.median(np.diff(baselines))) if baselines.size > 1 else 25.0 * px_per_mm
    ink = prob >= 0.5
    up = down = 0.0
    for y in baselines:
        top, bottom = max(0, int(y - 0.5 * spacing)), min(prob.shape[0], int(y + 0.5 * spacing))
        rows = np.arange(top, bottom)[:, None]
        band = ink[top:bottom]
        has = band.any(axis=0)
        if not has.any():
            continue
        highest = np.where(band, rows, bottom).min(axis=0)[has]
        lowest = np.where(band, rows, top).max(axis=0)[has]
        level = float(np.median(highest))
        up += float(np.percentile(level - highest, 99.0))
        down += float(np.percentile(lowest - level, 99.0))
    return (up - down) / max(up + down, 1e-6)
