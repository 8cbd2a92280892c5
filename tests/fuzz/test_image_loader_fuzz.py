"""Property tests of the image loader (`digitize.load.load_image`) on mutated real images.

Seeds: the bundled photos (JPEG) and images made from them (PNG RGB/palette/16-bit grey, TIFF raw/LZW, BMP, WebP,
progressive JPEG, a one-page PDF). Mutations: truncation, bit flips, junk, deleted or repeated spans, and header
edits that keep the file well-formed (PNG IHDR size with a fixed CRC, JPEG SOF size, PDF MediaBox). Whatever the
bytes, `load_image` returns an RGB ``uint8`` array within the size limits or raises `EcgInputError`.
"""

from __future__ import annotations

import functools
import io
import re
import struct
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fuzzkit import FIELD_VALUES, SAMPLES, TALLY, apply_edits, edits, examples, time_limit  # noqa: E402

from digitize.load import MAX_PIXELS, MIN_SIDE_PX, load_image  # noqa: E402
from ecg.errors import EcgInputError  # noqa: E402

SIZES = st.sampled_from([0, 1, 199, 200, 4096, 30_000, 65_535, 2**31 - 1, 2**32 - 1]) | st.integers(0, 2**32 - 1)


@functools.cache
def _seeds() -> tuple[tuple[str, bytes], ...]:
    """``(name, encoded bytes)`` for each seed image (small versions keep one decode at a few ms)."""
    photo = Image.open(SAMPLES / "photo-ptbxl-00256.jpg").convert("RGB")
    small = photo.resize((photo.width // 2, photo.height // 2))

    def encode(im: Image.Image, fmt: str, **kw) -> bytes:
        buffer = io.BytesIO()
        im.save(buffer, fmt, **kw)
        return buffer.getvalue()

    grey16 = Image.fromarray(np.asarray(small.convert("L"), dtype=np.uint16) * 257)
    return (
        ("photo.jpg", (SAMPLES / "photo-ptbxl-00001.jpg").read_bytes()),
        ("small.jpg", encode(small, "JPEG", quality=80)),
        ("progressive.jpg", encode(small, "JPEG", quality=60, progressive=True)),
        ("rgb.png", encode(small, "PNG")),
        ("palette.png", encode(small.convert("P", palette=Image.Palette.ADAPTIVE), "PNG")),
        ("grey16.png", encode(grey16, "PNG")),
        ("raw.tif", encode(small, "TIFF")),
        ("lzw.tif", encode(small, "TIFF", compression="tiff_lzw")),
        ("image.bmp", encode(small, "BMP")),
        ("image.webp", encode(small, "WEBP", quality=70)),
        ("page.pdf", encode(small, "PDF", resolution=100.0)),
    )


HEADER_VALUES = st.tuples(SIZES, SIZES, FIELD_VALUES | SIZES.map(str), FIELD_VALUES | SIZES.map(str))
"""New width and height (PNG, JPEG), or new MediaBox corner values (PDF: the last two as text)."""


def edit_header(data: bytes, values: tuple[int, int, str, str]) -> bytes:
    """Change the declared size while keeping the file well-formed, so the decoder gets past its checksums."""
    width, height, box_x, box_y = values
    out = bytearray(data)
    if data.startswith(b"\x89PNG") and len(data) >= 33:
        out[16:24] = struct.pack(">II", width, height)
        out[29:33] = struct.pack(">I", zlib.crc32(bytes(out[12:29])))
    elif data.startswith(b"\xff\xd8"):
        sof = max(data.find(b"\xff\xc0"), data.find(b"\xff\xc2"))
        if sof > 0:
            out[sof + 5 : sof + 9] = struct.pack(">HH", height & 0xFFFF, width & 0xFFFF)
    elif data.startswith(b"%PDF"):
        text = data.decode("latin-1")
        box = f"/MediaBox [ 0 0 {box_x} {box_y} ]"
        out = bytearray(re.sub(r"/MediaBox \[[^\]]*\]", lambda _: box, text, count=1), "latin-1")
    return bytes(out)


def _load_or_refuse(source, target: str) -> None:
    """The oracle: an RGB uint8 image within the size limits, or an `EcgInputError`, within the hang limit."""
    TALLY[target] += 1
    with time_limit():
        try:
            rgb = load_image(source)
        except EcgInputError as exc:
            assert str(exc).strip()
            TALLY[f"{target}: refused"] += 1
            return
    assert isinstance(rgb, np.ndarray) and rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3
    assert MIN_SIDE_PX <= min(rgb.shape[:2]) and rgb.shape[0] * rgb.shape[1] <= MAX_PIXELS
    TALLY[f"{target}: loaded"] += 1


def _mutated_image(data: st.DataObject) -> tuple[str, bytes]:
    index = data.draw(st.integers(0, len(_seeds()) - 1), label="seed")
    name, raw = _seeds()[index]
    how = data.draw(st.sampled_from(["bytes", "header", "header+bytes"]), label="mutation")
    if how.startswith("header"):
        raw = edit_header(raw, data.draw(HEADER_VALUES, label="header values"))
    if how.endswith("bytes"):
        raw = apply_edits(raw, data.draw(edits(len(raw)), label="edits"))
    return name, raw


@examples(1.5)
@given(st.data())
def test_mutated_image_loads_or_refuses(data):
    name, raw = _mutated_image(data)
    if data.draw(st.booleans(), label="from a file"):
        suffix = data.draw(st.sampled_from([Path(name).suffix, ".png", ".jpg", ".pdf", ""]), label="suffix")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp, f"upload{suffix}")
            path.write_bytes(raw)
            _load_or_refuse(path, "image mutated")
    else:
        _load_or_refuse(raw, "image mutated")


DTYPES = st.sampled_from([np.uint8, np.uint16, np.int32, np.float32, np.float64, np.bool_])
SHAPES = st.tuples(st.integers(0, 320), st.integers(0, 320)) | st.tuples(
    st.integers(0, 320), st.integers(0, 320), st.integers(0, 5)
)


@st.composite
def arrays(draw: st.DrawFn) -> np.ndarray:
    """Any dtype and shape; content either drawn element by element (NaN, infinity, extremes) or seeded noise."""
    dtype, shape = draw(DTYPES), draw(SHAPES)
    if draw(st.booleans()):
        return draw(hnp.arrays(dtype, shape))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = draw(st.sampled_from([1.0, 255.0, 65535.0, 1e30]))
    return (rng.random(shape) * scale).astype(dtype)


@examples(0.5)
@given(arrays(), st.one_of(st.none(), st.floats(), st.integers(-(2**31), 2**31)))
@example(np.full((300, 300, 3), np.nan, dtype=np.float32), None)
def test_arrays_load_or_refuse(array, fill):
    """Already decoded arrays (grey, RGB, RGBA; any dtype and value, NaN and infinity included)."""
    if fill is not None and array.size and array.dtype.kind == "f":
        array = array.copy()
        array.flat[:: max(1, array.size // 7)] = fill
    _load_or_refuse(array, "image array")


# --- regressions found by the properties above ----------------------------------------------------------------------
def test_pdf_whose_page_tree_points_at_a_missing_page_is_refused():
    """Found by fuzzing: a one-page PDF whose /Kids names a missing object raised pypdfium2's PdfiumError."""
    pdf = dict(_seeds())["page.pdf"]
    missing_kid = pdf.replace(b"/Kids [ 1 0 R ]", b"/Kids [ 9 0 R ]")
    not_a_page = pdf.replace(b"/Type /Page\n", b"/Type /Xage\n")
    for broken in (missing_kid, not_a_page):
        assert broken != pdf
        _load_or_refuse_strictly(broken)


def test_empty_array_is_refused():
    """Found by fuzzing: a (0, 0) float array raised numpy's ValueError from nanmax."""
    _load_or_refuse_strictly(np.zeros((0, 0), dtype=np.float32))


def _load_or_refuse_strictly(source) -> None:
    try:
        load_image(source)
    except EcgInputError as exc:
        assert str(exc)
    else:
        raise AssertionError("expected a refusal")
