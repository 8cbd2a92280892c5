"""Read an ECG image from disk or memory into an RGB array, refusing what cannot be a usable picture.

Accepted: PNG, JPEG (EXIF orientation honoured), TIFF, BMP/WebP (whatever Pillow decodes) and PDF pages (rasterised
with ``pypdfium2`` when it is installed). The pixel count is read from the header *before* decoding, so an oversize
or decompression-bomb file is refused without allocating it.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ecg.errors import EcgInputError, FormatError, UnsupportedFormatError

MAX_PIXELS = 50_000_000
"""Largest image accepted (pixels); beyond this the input is refused before it is decoded."""

MIN_SIDE_PX = 200
"""Smallest accepted image side (px); a 10 s ECG cannot be read from fewer pixels."""

IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".pdf")
"""File name endings accepted as images when a folder is given."""

PDF_DPI = 200.0
"""Resolution at which PDF pages are rasterised (dots per inch)."""

ImageSource = str | Path | bytes | np.ndarray


class ImageTooLargeError(EcgInputError):
    """The image has more than :data:`MAX_PIXELS` pixels."""


class NoEcgFoundError(EcgInputError):
    """The image holds no recognisable ECG (blank, uniform, or no grid and no traces)."""


def load_image(source: ImageSource, *, page: int = 0) -> np.ndarray:
    """Read an image as an RGB ``uint8`` array of shape ``(height, width, 3)``.

    Parameters
    ----------
    source : path, bytes or ndarray
        A file path, the encoded file's bytes, or an already decoded array (grey ``(H, W)``, RGB or RGBA).
    page : int
        Page to rasterise when ``source`` is a PDF (0-based).

    Raises
    ------
    EcgInputError
        (or a subclass) for an empty, truncated, undecodable, too small, too large or blank image.
    """
    if isinstance(source, np.ndarray):
        rgb = _array_to_rgb(source)
    else:
        data, name = _read_bytes(source)
        if data[:5] == b"%PDF-":
            rgb = _rasterise_pdf(data, name, page)
        else:
            rgb = _decode_raster(data, name)
    _check_dimensions(rgb.shape[1], rgb.shape[0], "image")
    _check_not_blank(rgb)
    return rgb


def _read_bytes(source: str | Path | bytes) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, name = bytes(source), "image"
    else:
        path = Path(source)
        if path.is_dir():
            raise EcgInputError(f"{path} is a folder, not an image")
        if not path.exists():
            raise FileNotFoundError(2, "No such file", str(path))
        data, name = path.read_bytes(), path.name
    if not data:
        raise FormatError(f"{name} is empty (0 bytes)")
    return data, name


def _check_dimensions(width: int, height: int, name: str) -> None:
    if width * height > MAX_PIXELS:
        raise ImageTooLargeError(
            f"{name} is {width}×{height} = {width * height / 1e6:.1f} megapixels; "
            f"at most {MAX_PIXELS / 1e6:.0f} are accepted (scan at 300 dpi or less)"
        )
    if min(width, height) < MIN_SIDE_PX:
        raise EcgInputError(f"{name} is only {width}×{height} pixels; an ECG needs at least {MIN_SIDE_PX} px a side")


def _decode_raster(data: bytes, name: str) -> np.ndarray:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                # Header only so far: refuse oversize images before any pixel is decoded.
                _check_dimensions(im.width, im.height, name)
                im.load()
                im = ImageOps.exif_transpose(im)
                return _pil_to_rgb(im)
    except UnidentifiedImageError:
        raise UnsupportedFormatError(
            f"{name} is not an image format that can be read (use PNG, JPEG, TIFF or PDF)"
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLargeError(f"{name} declares more pixels than the {MAX_PIXELS / 1e6:.0f} MP limit") from None
    except (OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, EcgInputError):
            raise
        raise FormatError(f"{name} is truncated or corrupt and cannot be decoded ({exc})") from None


def _pil_to_rgb(im: Image.Image) -> np.ndarray:
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(im, dtype=np.float64)
        span = max(float(arr.max() - arr.min()), 1e-9)
        grey = ((arr - arr.min()) / span * 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if im.mode in ("RGBA", "LA", "P", "PA"):
        im = im.convert("RGBA")
        background = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(background, im)
    return np.ascontiguousarray(np.asarray(im.convert("RGB"), dtype=np.uint8))


def _array_to_rgb(arr: np.ndarray) -> np.ndarray:
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise EcgInputError(f"image array must be (H, W), (H, W, 3) or (H, W, 4); got shape {arr.shape}")
    if arr.size == 0:
        raise EcgInputError(f"image array is empty (shape {arr.shape})")
    arr = arr[:, :, :3]
    if arr.dtype != np.uint8:
        if np.issubdtype(arr.dtype, np.floating) and np.nanmax(arr) <= 1.0:
            arr = arr * 255.0
        arr = np.clip(np.nan_to_num(arr), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(arr)


def _rasterise_pdf(data: bytes, name: str, page: int) -> np.ndarray:
    try:
        import pypdfium2 as pdfium  # optional dependency
    except ImportError:
        raise UnsupportedFormatError(
            f"{name} is a PDF; reading PDF pages needs the optional package pypdfium2 (pip install pypdfium2), "
            "or export the page as PNG"
        ) from None
    try:
        doc = pdfium.PdfDocument(data)
    except Exception as exc:  # pypdfium2 raises its own PdfiumError
        raise FormatError(f"{name} is not a readable PDF ({exc})") from None
    try:
        if not 0 <= page < len(doc):
            raise EcgInputError(f"{name} has {len(doc)} page(s); page {page} does not exist")
        try:
            pdf_page = doc[page]
            width_pt, height_pt = pdf_page.get_size()
        except pdfium.PdfiumError as exc:  # e.g. the page tree points at a missing or non-page object
            raise FormatError(f"{name} page {page} cannot be read ({exc})") from None
        scale = PDF_DPI / 72.0
        _check_dimensions(int(width_pt * scale), int(height_pt * scale), f"{name} page {page}")
        try:
            pil = pdf_page.render(scale=scale).to_pil()
        except pdfium.PdfiumError as exc:
            raise FormatError(f"{name} page {page} cannot be rendered ({exc})") from None
        return _pil_to_rgb(pil)
    finally:
        doc.close()


def _check_not_blank(rgb: np.ndarray) -> None:
    small = rgb[:: max(1, rgb.shape[0] // 400), :: max(1, rgb.shape[1] // 400)]
    grey = small.mean(axis=2)
    if float(np.percentile(grey, 99.5) - np.percentile(grey, 0.5)) < 12.0:
        raise NoEcgFoundError("no ECG found: the image is blank or uniform")
