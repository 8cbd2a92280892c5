"""Score text crops against the 12 lead names with a CTC text-line recogniser (PP-OCRv4 rec, ONNX).

The recogniser (``models/label_rec.onnx``: PaddleOCR's PP-OCRv4 mobile recognition model, Apache-2.0, as shipped in
the ``rapidocr-onnxruntime`` 1.4.4 wheel; its character list is in the model's metadata) maps a 48-px-high text line
to per-frame character probabilities. Instead of decoding free text, each lead name is scored by its CTC likelihood
p(name | crop) (Graves et al. 2006, forward algorithm), with look-alike characters allowed ('I' ≈ 'l' ≈ '|', the
Roman numerals 'Ⅰ', 'Ⅱ', 'Ⅲ'); the best name and its probability are returned. A crop that says something else
("25mm/s") gives every name a probability near 0.

The model is loaded once per process after its sha256 is checked against ``models/manifest.json``
(:func:`ecg.manifest.verified_entry`); one thread, CPU.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from ecg.manifest import DEFAULT_MODELS_DIR, verified_entry
from ecg.record import LEADS

MODEL_NAME = "label_rec"
HEIGHT, MAX_WIDTH = 48, 320
"""Input height of the recogniser (px) and the widest crop fed (px)."""

LOOK_ALIKE: dict[str, str] = {"I": "Il|ǀ1", "1": "1lI|ǀ", "V": "Vv", "R": "R", "L": "L", "F": "F", "a": "aα"}
"""Characters the recogniser may read for a label character."""

WHOLE: dict[str, tuple[str, ...]] = {"I": ("Ⅰ",), "II": ("Ⅱ",), "III": ("Ⅲ",)}
"""Single Unicode characters that spell a whole lead name."""


class LabelRecogniser:
    """An onnxruntime session of the text-line recogniser and its character table."""

    def __init__(self, models_dir: str | Path = DEFAULT_MODELS_DIR) -> None:
        import onnxruntime as ort

        _, path = verified_entry(models_dir, MODEL_NAME, missing_message=f"model {MODEL_NAME}.onnx is missing")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        characters = self.session.get_modelmeta().custom_metadata_map["character"].splitlines()
        self.index = {c: i + 1 for i, c in enumerate(characters)}  # 0 is the CTC blank
        self.patterns = {lead: self._patterns(lead) for lead in LEADS}

    def _patterns(self, lead: str) -> list[list[list[int]]]:
        """Each way of spelling ``lead``: a list of positions, each the class indices allowed there."""
        spelled = [[[self.index[c] for c in LOOK_ALIKE.get(ch, ch) if c in self.index] for ch in lead]]
        for whole in WHOLE.get(lead, ()):
            if whole in self.index:
                spelled.append([[self.index[whole]]])
        return [p for p in spelled if all(p)]

    def probabilities(self, crops: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Per-frame class probabilities (frames, classes) of each grey crop (text dark on light)."""
        if not crops:
            return []
        widths = [min(MAX_WIDTH, max(8, int(np.ceil(HEIGHT * c.shape[1] / max(1, c.shape[0]))))) for c in crops]
        batch = np.ones((len(crops), 3, HEIGHT, max(widths)), dtype=np.float32)
        for i, (crop, w) in enumerate(zip(crops, widths, strict=True)):
            resized = cv2.resize(crop, (w, HEIGHT), interpolation=cv2.INTER_AREA if crop.shape[0] > HEIGHT else
                                 cv2.INTER_LINEAR).astype(np.float32)
            batch[i, :, :, :w] = (resized / 255.0 - 0.5) / 0.5
        out = self.session.run(None, {self.session.get_inputs()[0].name: batch})[0]
        frames = [int(np.ceil(out.shape[1] * w / batch.shape[3])) + 1 for w in widths]
        return [out[i, : min(out.shape[1], f)] for i, f in enumerate(frames)]

    def score(self, crops: Sequence[np.ndarray]) -> list[tuple[str, float]]:
        """Best lead name and its probability for each crop (I, II, III from their strokes, the rest by CTC)."""
        strokes = [roman_strokes(c) for c in crops]
        rest = [c for c, n in zip(crops, strokes, strict=True) if not n]
        scored = iter([score for crop in rest for score in self._ctc_scores([crop])])  # one by one: no padding
        return [("I" * n, STROKE_PROBABILITY) if n else next(scored) for n in strokes]

    def recognise(self, crops: Sequence[np.ndarray]) -> list[tuple[str, float]]:
        """Best lead name and its probability for each crop, by the recogniser only (no stroke counting)."""
        return [score for crop in crops for score in self._ctc_scores([crop])]

    def _ctc_scores(self, crops: Sequence[np.ndarray]) -> list[tuple[str, float]]:
        result = []
        for probs in self.probabilities(crops):
            best = max(
                ((lead, sum(ctc_probability(probs, p) for p in patterns)) for lead, patterns in self.patterns.items()),
                key=lambda item: item[1],
            )
            result.append((best[0], float(min(1.0, best[1]))))
        return result


STROKE_PROBABILITY = 0.95
"""Probability given to a label read as 1–3 upright strokes (I, II, III)."""


def roman_strokes(crop: np.ndarray) -> int:
    """Number of separate upright bars (1–3) when the crop shows nothing else, else 0.

    The recogniser reads a lone 'I' as '1' and 'III' as '11'; sans-serif I, II and III are just bars (each blob
    at least 3 times as high as wide, all about equally high and level), which is simpler to count than to read.
    """
    binary = (crop < 128).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    biggest = max((int(s[4]) for s in stats[1:]), default=0)
    blobs = [s for s in stats[1:] if s[4] >= max(3, 0.15 * biggest)]
    if not 1 <= len(blobs) <= 3:
        return 0
    heights = np.array([b[3] for b in blobs], dtype=float)
    tops = np.array([b[1] for b in blobs], dtype=float)
    tall = all(b[3] >= 3 * b[2] and b[4] >= 0.6 * b[2] * b[3] for b in blobs)
    level = heights.max() - heights.min() <= 0.15 * heights.max() + 1 and np.ptp(tops) <= 0.15 * heights.max() + 1
    return len(blobs) if tall and level else 0


def ctc_probability(probs: np.ndarray, positions: Sequence[Sequence[int]]) -> float:
    """p(label | frames) under CTC (blank = class 0) where position k may be any class in ``positions[k]``."""
    n = len(positions)
    frames = probs.shape[0]
    if frames < n:
        return 0.0
    emit = np.stack([probs[:, list(c)].sum(axis=1) for c in positions], axis=1)  # (frames, n)
    blank = probs[:, 0]
    # states 0..2n: blank, char 0, blank, char 1, …, blank
    states = 2 * n + 1
    skip = np.zeros(states, dtype=bool)  # a character state may be entered from two states back
    for k in range(1, n):
        skip[2 * k + 1] = list(positions[k]) != list(positions[k - 1])
    rows = np.empty((frames, states))
    rows[:, 0::2] = blank[:, None]
    rows[:, 1::2] = emit
    alpha = np.zeros(states)
    alpha[0], alpha[1] = rows[0, 0], rows[0, 1]
    for t in range(1, frames):
        previous = alpha.copy()
        previous[1:] += alpha[:-1]
        previous[2:] += np.where(skip[2:], alpha[:-2], 0.0)
        alpha = previous * rows[t]
    return float(alpha[-1] + alpha[-2])


_CACHE: dict[str, LabelRecogniser] = {}


def default_recogniser(models_dir: str | Path | None = None) -> LabelRecogniser:
    """The process-wide recogniser; ``ECGSCREEN_MODELS_DIR`` overrides the folder."""
    folder = str(Path(models_dir or os.environ.get("ECGSCREEN_MODELS_DIR") or DEFAULT_MODELS_DIR).resolve())
    if folder not in _CACHE:
        _CACHE[folder] = LabelRecogniser(folder)
    return _CACHE[folder]


def score_leads(crops: Sequence[np.ndarray]) -> list[tuple[str, float]]:
    """Best lead name and probability for each crop (the default recogniser)."""
    return default_recogniser().score(crops)
