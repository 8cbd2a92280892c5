"""The printout is drawn in true millimetres: at 254 dpi the grid must be exactly 10 px per mm."""

import numpy as np
import pypdfium2 as pdfium
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfgen.canvas import Canvas

from ecg.io import read_record
from report.ecg_plot import PrintSettings, draw_ecg

DPI = 254  # 10 px per mm


def _render(path, record, x_mm=15.0, y_mm=40.0):
    c = Canvas(str(path), pagesize=landscape(A4))
    draw_ecg(c, record, x_mm, y_mm)
    c.showPage()
    c.save()
    page = pdfium.PdfDocument(str(path))[0]
    return np.asarray(page.render(scale=DPI / 72).to_pil().convert("RGB"))


def _line_positions(profile: np.ndarray, level: float = 0.5) -> np.ndarray:
    """Centres of runs where a 1-D 'redness' profile exceeds ``level`` × its maximum."""
    mask = profile > level * profile.max()
    edges = np.diff(np.concatenate(([0], mask.astype(int), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return (starts + stops - 1) / 2


def test_major_and_minor_grid_pitch_is_10_px_per_mm(tmp_path, sample_record_path):
    image = _render(tmp_path / "ecg.pdf", read_record(sample_record_path)).astype(float)
    red, green = image[..., 0], image[..., 1]
    grid = np.clip(red - green, 0, None)  # grid is red/pink, trace is black
    height = image.shape[0]
    top = int(height - (40 + PrintSettings().height_mm()) * DPI / 25.4) + 20  # a band inside the grid
    band = grid[top : top + 40]
    major = _line_positions(np.sort(band, axis=0)[-5])  # strongest lines only
    spacing = np.diff(major)
    spacing = spacing[spacing > 30]
    assert len(spacing) >= 40
    assert np.median(spacing) == 50.0  # 5 mm major pitch
    assert np.all(np.abs(spacing - 50.0) <= 1.0)
    minor = _line_positions(np.median(band, axis=0), level=0.2)  # every line, minor included
    minor_spacing = np.diff(minor)
    assert len(minor_spacing) >= 200  # about 260 mm of grid
    assert np.median(minor_spacing) == 10.0
    assert np.mean(np.abs(minor_spacing - 10.0) <= 1.0) > 0.95


def test_missing_lead_is_left_blank(tmp_path, sample_record_path):
    record = read_record(sample_record_path)
    sig = record.signals.copy()
    sig[6] = np.nan  # V1 missing
    image = _render(tmp_path / "ecg.pdf", type(record)(sig, record.fs))
    full = _render(tmp_path / "full.pdf", record)
    dark_missing = (image.min(axis=2) < 80).sum()
    dark_full = (full.min(axis=2) < 80).sum()
    assert dark_missing < dark_full  # less ink: the V1 window is empty


def test_grid_on_page_one_of_the_report_is_true_millimetres(tmp_path, sample_record_path):
    """The same check on page 1 of a real report PDF (A4), where the ECG shares the page with text."""
    from pathlib import Path

    from report.pdf import MARGIN_MM, write_pdf
    from report.pipeline import Pipeline

    result = Pipeline(Path("/nonexistent-models")).run(sample_record_path)  # classifiers unavailable: still a report
    pdf = pdfium.PdfDocument(str(write_pdf(result, tmp_path / "report.pdf")))
    image = np.asarray(pdf[0].render(scale=DPI / 72).to_pil().convert("RGB")).astype(float)
    grid = np.clip(image[..., 0] - image[..., 1], 0, None)
    bottom = int(image.shape[0] - (MARGIN_MM + 9) * DPI / 25.4)  # lower edge of the ECG area
    band = grid[bottom - 60 : bottom - 20]
    major = _line_positions(np.sort(band, axis=0)[-5])
    spacing = np.diff(major)
    spacing = spacing[spacing > 30]
    assert len(spacing) >= 40
    assert np.median(spacing) == 50.0
    assert np.all(np.abs(spacing - 50.0) <= 1.0)
