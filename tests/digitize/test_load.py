"""Bad and good inputs to `digitize.load.load_image` and the pipeline's "no ECG found" check."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from digitize.load import MAX_PIXELS, ImageTooLargeError, NoEcgFoundError, load_image
from digitize.pipeline import digitize_image
from ecg.errors import EcgInputError


def _png_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width × height`` but carries no pixel data (a decompression-bomb shape)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    iend = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk)) + iend


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(EcgInputError, match="empty"):
        load_image(path)


def test_truncated_jpeg_is_refused(tmp_path):
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (600, 800, 3), dtype=np.uint8)).save(buf, format="JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 3])
    with pytest.raises(EcgInputError, match="truncated or corrupt"):
        load_image(path)


def test_not_an_image_is_refused(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("this is not an image")
    with pytest.raises(EcgInputError, match="not an image format"):
        load_image(path)


def test_one_pixel_image_is_refused():
    with pytest.raises(EcgInputError, match="1×1"):
        load_image(_png_bytes(np.zeros((1, 1, 3), np.uint8)))


def test_all_white_image_has_no_ecg():
    with pytest.raises(NoEcgFoundError, match="no ECG found"):
        load_image(_png_bytes(np.full((800, 1000, 3), 255, np.uint8)))


def test_random_noise_photo_has_no_ecg():
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 255, (600, 800, 3), dtype=np.uint8)
    with pytest.raises(NoEcgFoundError, match="no ECG found"):
        digitize_image(noise)


def test_oversize_header_is_refused_before_decoding():
    side = int(np.sqrt(MAX_PIXELS)) + 100
    with pytest.raises(ImageTooLargeError, match="megapixels"):
        load_image(_png_header_only(side, side))


def test_exif_orientation_is_honoured():
    array = np.zeros((300, 500, 3), np.uint8)
    array[:, :250] = 255  # left half white
    im = Image.fromarray(array)
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise when displayed
    buf = io.BytesIO()
    im.save(buf, format="JPEG", exif=exif)
    rgb = load_image(buf.getvalue())
    assert rgb.shape == (500, 300, 3)
    assert rgb[:250].mean() > 200 and rgb[260:].mean() < 50  # the white half is now on top


def test_tiff_and_grey_arrays_load():
    array = np.tile(np.linspace(0, 255, 400, dtype=np.uint8), (300, 1))
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="TIFF")
    assert load_image(buf.getvalue()).shape == (300, 400, 3)
    assert load_image(array).shape == (300, 400, 3)


def test_pdf_without_rasteriser_gives_clear_error():
    try:
        import pypdfium2  # noqa: F401
    except ImportError:
        with pytest.raises(EcgInputError, match="pypdfium2"):
            load_image(b"%PDF-1.4\n%fake\n")
    else:
        with pytest.raises(EcgInputError):
            load_image(b"%PDF-1.4\n%fake\n")
