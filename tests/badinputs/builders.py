"""Small builders that write one bad (or unusual) image input into a folder and return its path.

Every builder has the signature ``build(folder) -> Path`` (signal records: `record_builders`). ECG images are
DataSynth renders of the bundled PTB-XL record (150 dpi, no distortion) so that each is made in well under a second;
large files (the decompression bomb, the 50-page PDF) are written at test time and never committed.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from ecg.io import read_record
from ecg.record import EcgRecord

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"
PHOTO = SAMPLES / "photo-ptbxl-00001.jpg"
RECORD = SAMPLES / "ptbxl-00001.hea"
DPI = 150.0

Builder = Callable[[Path], Path]


# --- sources ------------------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def sample_record() -> EcgRecord:
    """The bundled normal 10 s PTB-XL record at 500 Hz."""
    return read_record(RECORD, fs=500.0)


@lru_cache(maxsize=16)
def ecg_rgb(
    layout: str = "3x4+1", speed_mm_s: float = 25.0, gain_mm_mv: float = 10.0, paper: str = "red"
) -> np.ndarray:
    """A clean DataSynth print of the sample record, RGB uint8 (read-only: copy before editing)."""
    from synth import synthesize

    rendered = synthesize(
        sample_record(),
        seed=3,
        distortion="none",
        layout=layout,
        dpi=DPI,
        paper=paper,
        speed_mm_s=speed_mm_s,
        gain_mm_mv=gain_mm_mv,
    )
    rgb = np.ascontiguousarray(rendered.image[..., ::-1])  # DataSynth draws BGR
    rgb.setflags(write=False)
    return rgb


def _save(array_or_image: np.ndarray | Image.Image, path: Path, **options) -> Path:
    image = array_or_image if isinstance(array_or_image, Image.Image) else Image.fromarray(array_or_image)
    image.save(path, **options)
    return path


def _encoded(rgb: np.ndarray, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def raw(name: str, data: bytes) -> Builder:
    """Write ``data`` as ``name``."""

    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path

    return build


def text(name: str, content: str, encoding: str = "utf-8") -> Builder:
    return raw(name, content.encode(encoding))


# --- images ---------------------------------------------------------------------------------------------------------
def ecg_image(
    name: str, fmt: str | None = None, transform: Callable[[np.ndarray], np.ndarray] | None = None, **render
) -> Builder:
    """A DataSynth ECG print saved as ``name`` in ``fmt`` (default: from the suffix), optionally transformed."""

    def build(folder: Path) -> Path:
        rgb = np.array(ecg_rgb(**render))
        if transform is not None:
            rgb = transform(rgb)
        path = folder / name
        path.write_bytes(_encoded(rgb, fmt or _format_of(name)))
        return path

    return build


def _format_of(name: str) -> str:
    suffix = Path(name).suffix.lower().lstrip(".")
    return {"jpg": "JPEG", "jpeg": "JPEG", "tif": "TIFF", "png": "PNG", "bmp": "BMP", "webp": "WEBP", "gif": "GIF"}[
        suffix
    ]


def rotate(quarter_turns: int) -> Callable[[np.ndarray], np.ndarray]:
    """Counter-clockwise rotation by 90° steps."""
    return lambda rgb: np.ascontiguousarray(np.rot90(rgb, quarter_turns))


def left_half(rgb: np.ndarray) -> np.ndarray:
    """Keep the left column of a 6×2 print: the six limb leads only."""
    return np.ascontiguousarray(rgb[:, : rgb.shape[1] // 2])


def screenshot(rgb: np.ndarray) -> np.ndarray:
    """The ECG inside a desktop viewer: title bar, toolbar with buttons, side panel with text, status bar."""
    import cv2

    h, w = rgb.shape[:2]
    top, side, bottom = 90, 260, 30
    canvas = np.full((h + top + bottom, w + side, 3), 236, np.uint8)
    canvas[:34] = (45, 62, 92)  # title bar
    cv2.putText(
        canvas,
        "ECG Viewer 3.2 - patient_0001.xml",
        (14, 24),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.7,
        (255, 255, 255),
        1,
        cv2.LINE_AA,
    )
    for k, x in enumerate(range(w + side - 110, w + side - 10, 34)):
        cv2.circle(canvas, (x, 17), 9, ((200, 80, 80), (220, 190, 60), (90, 180, 90))[k % 3], -1)
    for k in range(8):  # toolbar buttons
        x0 = 12 + 92 * k
        cv2.rectangle(canvas, (x0, 44), (x0 + 82, 80), (210, 210, 210), -1)
        cv2.rectangle(canvas, (x0, 44), (x0 + 82, 80), (120, 120, 120), 1)
        cv2.putText(
            canvas,
            ("Open", "Save", "Print", "Zoom+", "Zoom-", "Leads", "Filter", "Help")[k],
            (x0 + 8, 68),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.5,
            (30, 30, 30),
            1,
            cv2.LINE_AA,
        )
    canvas[top:, :side] = (250, 250, 250)  # side panel
    for k, line in enumerate(("Patient", "ID 0001", "Age 56", "Sex F", "HR 72", "PR 160", "QRS 90", "QT 390")):
        cv2.putText(canvas, line, (16, top + 40 + 34 * k), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (20, 20, 20), 1, cv2.LINE_AA)
    canvas[top : top + h, side:] = rgb
    canvas[-bottom:] = (200, 200, 200)  # status bar
    cv2.putText(
        canvas,
        "25 mm/s  10 mm/mV  150 Hz",
        (side + 10, canvas.shape[0] - 9),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.5,
        (20, 20, 20),
        1,
        cv2.LINE_AA,
    )
    return canvas


def synthetic_scene(folder: Path) -> Path:
    """A 'photo of something else': sky gradient, a sun, hills, a house, leaves and sensor noise (no ECG)."""
    import cv2

    rng = np.random.default_rng(7)
    h, w = 1200, 1600
    y = np.linspace(0, 1, h)[:, None, None]
    sky = (np.array([70, 130, 220]) * (1 - y) + np.array([200, 225, 250]) * y).astype(np.float32)
    scene = np.broadcast_to(sky, (h, w, 3)).copy()
    cv2.circle(scene, (1250, 240), 110, (255, 220, 90), -1)
    hills = np.array([[0, 800], [300, 650], [700, 760], [1100, 600], [1600, 720], [1600, 1200], [0, 1200]])
    cv2.fillPoly(scene, [hills.astype(np.int32)], (60, 140, 60))
    cv2.rectangle(scene, (420, 640), (760, 900), (180, 90, 60), -1)
    cv2.fillPoly(scene, [np.array([[400, 640], [590, 500], [780, 640]], np.int32)], (120, 40, 40))
    cv2.rectangle(scene, (550, 760), (630, 900), (70, 40, 20), -1)
    for _ in range(300):
        cx, cy = int(rng.integers(0, w)), int(rng.integers(850, h))
        cv2.ellipse(
            scene,
            (cx, cy),
            (int(rng.integers(6, 20)), int(rng.integers(3, 9))),
            float(rng.uniform(0, 180)),
            0,
            360,
            tuple(float(v) for v in rng.uniform([20, 90, 20], [90, 180, 80])),
            -1,
        )
    scene += rng.normal(0, 6, scene.shape).astype(np.float32)
    return _save(np.clip(scene, 0, 255).astype(np.uint8), folder / "holiday.jpg", quality=90)


def random_noise(folder: Path) -> Path:
    """Uniform random RGB noise, 1600×1200 (every pixel independent)."""
    rng = np.random.default_rng(11)
    return _save(rng.integers(0, 256, (1200, 1600, 3), dtype=np.uint8), folder / "ecg.png")


def text_page(folder: Path) -> Path:
    """A typed letter: an A4 page at 150 dpi of dark text lines and a heading, no ECG."""
    import cv2

    rng = np.random.default_rng(12)
    page = np.full((1754, 1240, 3), 250, np.uint8)
    words = "patient referral letter dear colleague thank you for seeing this gentleman with chest pain".split()
    cv2.putText(page, "Cardiology clinic", (100, 130), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (10, 10, 10), 3, cv2.LINE_AA)
    y = 230
    while y < 1650:
        line = " ".join(rng.choice(words, size=int(rng.integers(5, 9))))
        cv2.putText(page, line, (100, y), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (25, 25, 25), 2, cv2.LINE_AA)
        y += 40 + (45 if rng.random() < 0.12 else 0)
    return _save(page, folder / "letter.png")


def ruled_page(folder: Path) -> Path:
    """A photo-like shot of a ruled notebook page with handwriting-like scribbles: long straight lines, no ECG."""
    import cv2

    rng = np.random.default_rng(13)
    h, w = 1200, 1600
    shade = np.linspace(235, 200, w)[None, :, None] * np.ones((h, 1, 3))
    page = (shade * np.array([1.0, 0.98, 0.92])).astype(np.float32)
    for y in range(120, h - 60, 48):
        cv2.line(page, (0, y), (w, y), (200, 160, 120), 2, cv2.LINE_AA)
    cv2.line(page, (160, 0), (160, h), (90, 90, 220), 2, cv2.LINE_AA)
    for y in range(160, h - 200, 96):
        x = 200
        while x < w - 150:
            length = int(rng.integers(40, 160))
            xs = np.arange(x, x + length, 3)
            ys = y - 12 + 10 * np.sin(xs / rng.uniform(4, 9)) + rng.normal(0, 2, xs.size)
            points = np.stack([xs, ys], axis=1).astype(np.int32)
            cv2.polylines(page, [points], False, (120, 60, 30), 2, cv2.LINE_AA)
            x += length + int(rng.integers(20, 50))
    page += rng.normal(0, 5, page.shape).astype(np.float32)
    return _save(np.clip(page, 0, 255).astype(np.uint8), folder / "notes.jpg", quality=88)


def white_page(folder: Path) -> Path:
    return _save(np.full((1754, 1240, 3), 255, np.uint8), folder / "scan.png")


def one_pixel(folder: Path) -> Path:
    return _save(np.zeros((1, 1, 3), np.uint8), folder / "ecg.png")


def thin_strip(folder: Path) -> Path:
    strip = np.full((50, 20000), 255, np.uint8)
    strip[20:30, ::7] = 0
    return _save(strip, folder / "strip.png")


def decompression_bomb(folder: Path) -> Path:
    """A valid 30000×30000 1-bit PNG (900 megapixels) of ~110 kB: the header must be refused before decoding."""
    side = 30000
    row = b"\x00" + b"\x00" * (side // 8)  # filter byte + packed bits
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row * 1000) for _ in range(side // 1000)) + packer.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path = folder / "bomb.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


def truncated_jpeg(folder: Path) -> Path:
    data = PHOTO.read_bytes()
    path = folder / "photo.jpg"
    path.write_bytes(data[: len(data) // 3])
    return path


def exif_rotated(folder: Path) -> Path:
    """Pixels stored turned 90° clockwise with EXIF Orientation 8 ('rotate 90° counter-clockwise to view')."""
    stored = Image.fromarray(np.ascontiguousarray(np.rot90(ecg_rgb(), -1)))
    exif = Image.Exif()
    exif[0x0112] = 8
    return _save(stored, folder / "phone.jpg", exif=exif.tobytes(), quality=92)


def sixteen_bit(folder: Path) -> Path:
    grey = np.asarray(Image.fromarray(np.array(ecg_rgb())).convert("L"), dtype=np.uint16) * 257
    return _save(Image.fromarray(grey), folder / "scan16.png")


def grayscale(folder: Path) -> Path:
    return _save(Image.fromarray(np.array(ecg_rgb())).convert("L"), folder / "grey.png")


def transparent(folder: Path) -> Path:
    """Black ink on a fully transparent background (alpha = darkness)."""
    grey = np.asarray(Image.fromarray(np.array(ecg_rgb())).convert("L"))
    rgba = np.zeros((*grey.shape, 4), np.uint8)
    rgba[..., 3] = 255 - grey
    return _save(Image.fromarray(rgba, "RGBA"), folder / "export.png")


def pdf_pages(n_pages: int) -> Builder:
    """A PDF whose page 1 is the ECG and pages 2…n are blank A4 (Pillow, one image per page)."""

    def build(folder: Path) -> Path:
        first = Image.fromarray(np.array(ecg_rgb()))
        blank = Image.new("L", (1240, 1754), 255)
        path = folder / f"chart-{n_pages}p.pdf"
        first.save(path, save_all=True, append_images=[blank] * (n_pages - 1), resolution=DPI)
        return path

    return build


def empty_pdf(folder: Path) -> Path:
    import pypdfium2 as pdfium

    path = folder / "empty.pdf"
    with open(path, "wb") as fh:
        pdfium.PdfDocument.new().save(fh)
    return path


def png_bytes_as(name: str) -> Builder:
    """The ECG PNG under another name (the content, not the name, is what it is)."""

    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(_encoded(np.array(ecg_rgb()), "PNG"))
        return path

    return build


def zip_of_ecg(folder: Path) -> Path:
    import zipfile

    path = folder / "ecgs.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("ecg.png", _encoded(np.array(ecg_rgb()), "PNG"))
    return path
