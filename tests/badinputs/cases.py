"""The bad-input corpus: one typed row per case (types and outcome rules in `outcomes`), with its builder
(`builders`, `record_builders`) and the outcome stated for the CLI and for the API."""

from __future__ import annotations

import builders as b
import record_builders as r
from outcomes import INSUFFICIENT, NOT_NORMAL, UNSUPPORTED, Case, Outcome, Refused, Reported, StageCheck

__all__ = ["CASES", "CASE_IDS", "Case", "Refused", "Reported", "api_form"]


def same(outcome: Outcome, **kw) -> dict:
    return {"cli": outcome, "api": outcome, **kw}


def refused(reason: str, status: int = 422, **kw) -> dict:
    return same(Refused(reason, status), **kw)


def reported(**kw) -> dict:
    stage = kw.pop("stage", None)
    return {**same(Reported(**kw)), "stage": stage, "slow": True}


def _patient_case(id_: str, what: str, options: dict[str, str], expected: dict[str, object], pdf_text=(), **kw) -> Case:
    return Case(
        id_,
        what,
        "record",
        r.record_file("record.edf", b.sample_record),
        patient=options,
        **{**reported(kind="signal", patient=expected, pdf_text=pdf_text), **kw},
    )


DIGITIZE_OK = StageCheck("digitize", 200)
ANALYZE_OK = StageCheck("analyze", 200)
TEN_KB = "A" * 10_240

CASES: tuple[Case, ...] = (
    # --- control inputs: the corpus's expectations are only meaningful if the good path reads ---------------------
    Case(
        "control_png",
        "clean 3×4+1 print (150 dpi) of a bundled PTB-XL record",
        "image",
        b.ecg_image("ecg.png"),
        **reported(digitization={"layout": "3x4+1", "speed_mm_s": 25.0, "gain_mm_mv": 10.0}, stage=DIGITIZE_OK),
    ),
    Case(
        "control_csv",
        "the bundled record in the CSV contract",
        "record",
        r.record_file("record.csv", b.sample_record),
        **reported(kind="signal", stage=ANALYZE_OK),
    ),
    # --- empty, truncated, mislabelled ------------------------------------------------------------------------------
    Case(
        "empty_file",
        "0-byte file named record.csv",
        "record",
        b.raw("record.csv", b""),
        cli=Refused("empty"),
        api=Refused("empty", 400),
    ),
    Case(
        "zero_byte_png",
        "0-byte file named ecg.png",
        "image",
        b.raw("ecg.png", b""),
        cli=Refused("empty (0 bytes)"),
        api=Refused("empty", 400),
        stage=StageCheck("digitize", 400, "empty"),
    ),
    Case(
        "truncated_jpeg",
        "the bundled photo cut after a third of its bytes",
        "image",
        b.truncated_jpeg,
        **refused("truncated or corrupt", stage=StageCheck("digitize", 422, "truncated or corrupt")),
    ),
    Case("png_named_jpg", "PNG bytes named .jpg", "image", b.png_bytes_as("ecg.jpg"), **reported()),
    Case("jpeg_named_png", "JPEG bytes named .png", "image", b.ecg_image("ecg.png", fmt="JPEG"), **reported()),
    Case(
        "png_named_csv",
        "PNG bytes named .csv: the CLI trusts the name and must say what the content is; the API goes by content",
        "image",
        b.png_bytes_as("record.csv"),
        cli=Refused("content is an image (png)"),
        api=Reported(),
        slow=True,
    ),
    Case(
        "html_named_jpg",
        "an HTML page named .jpg",
        "image",
        b.text("ecg.jpg", "<!doctype html><html><body><h1>ECG</h1></body></html>\n"),
        **refused(UNSUPPORTED, 415),
    ),
    Case(
        "gif",
        "an ECG print saved as GIF (not a supported format)",
        "image",
        b.ecg_image("ecg.gif"),
        **refused(UNSUPPORTED, 415),
    ),
    Case("zip", "a ZIP archive holding an ECG PNG", "image", b.zip_of_ecg, **refused(UNSUPPORTED, 415)),
    Case(
        "executable",
        "a Windows executable (MZ header) named ecg.png",
        "image",
        b.raw("ecg.png", b"MZ\x90\x00\x03" + bytes(59) + b"This program cannot be run in DOS mode." + bytes(400)),
        **refused(UNSUPPORTED, 415, stage=StageCheck("digitize", 415, UNSUPPORTED)),
    ),
    # --- PDFs -----------------------------------------------------------------------------------------------------
    Case("pdf_no_pages", "a valid PDF with zero pages", "image", b.empty_pdf, **refused("not a readable PDF")),
    Case(
        "pdf_50_pages",
        "a 50-page PDF: page 1 the ECG, pages 2–50 blank",
        "image",
        b.pdf_pages(50),
        **reported(remarks=("50 pages",)),
    ),
    # --- sizes --------------------------------------------------------------------------------------------------
    Case(
        "decompression_bomb",
        "30000×30000 1-bit PNG of ~110 kB (900 megapixels when decoded)",
        "image",
        b.decompression_bomb,
        **refused("more pixels than the 50 MP limit", stage=StageCheck("digitize", 422, "50 MP limit")),
        slow=True,
    ),
    Case("one_pixel", "a 1×1 PNG", "image", b.one_pixel, **refused("1×1 pixels")),
    Case("thin_strip", "a 20000×50 PNG strip", "image", b.thin_strip, **refused("20000×50 pixels")),
    # --- pictures that are not (readable) ECGs -----------------------------------------------------------------
    Case(
        "white_page",
        "an all-white A4 page at 150 dpi",
        "image",
        b.white_page,
        **refused("no ECG found", stage=StageCheck("digitize", 422, "no ECG found")),
    ),
    Case(
        "photo_of_something_else",
        "a synthetic landscape photo (gradients, shapes, noise), no ECG",
        "image",
        b.synthetic_scene,
        **refused("no ECG found", stage=StageCheck("digitize", 422, "no ECG found")),
    ),
    Case(
        "random_noise",
        "uniform random RGB noise (1600×1200), no ECG",
        "image",
        b.random_noise,
        **refused("no ECG found", stage=StageCheck("digitize", 422, "no ECG found")),
    ),
    Case(
        "text_page",
        "a typed letter (A4, 150 dpi, text lines only), no ECG",
        "image",
        b.text_page,
        **refused("no ECG found", stage=StageCheck("digitize", 422, "no ECG found")),
    ),
    Case(
        "ruled_notebook_photo",
        "a photo-like ruled notebook page with handwriting-like scribbles (long straight lines), no ECG",
        "image",
        b.ruled_page,
        **refused("no ECG found", stage=StageCheck("digitize", 422, "no ECG found")),
    ),
    # --- unusual but readable ECG prints -----------------------------------------------------------------------
    Case(
        "rotated_90",
        "the print turned 90° counter-clockwise",
        "image",
        b.ecg_image("ecg.png", transform=b.rotate(1)),
        **reported(remarks=(("90°", "270°"),), digitization={"layout": "3x4+1"}),
    ),
    Case(
        "rotated_180",
        "the print upside down",
        "image",
        b.ecg_image("ecg.png", transform=b.rotate(2)),
        **reported(remarks=("180°",), digitization={"layout": "3x4+1"}),
    ),
    Case(
        "speed_50",
        "printed at 50 mm/s (the calibration pulse is twice as wide)",
        "image",
        b.ecg_image("ecg.png", speed_mm_s=50.0),
        **reported(remarks=("50 mm/s",), digitization={"speed_mm_s": 50.0}),
    ),
    Case(
        "gain_5",
        "printed at 5 mm/mV (the calibration pulse is 5 mm tall)",
        "image",
        b.ecg_image("ecg.png", gain_mm_mv=5.0),
        **reported(remarks=("5 mm/mV",), digitization={"gain_mm_mv": 5.0}),
    ),
    Case(
        "layout_6x2",
        "a 6×2 layout",
        "image",
        b.ecg_image("ecg.png", layout="6x2"),
        **reported(digitization={"layout": "6x2"}, stage=DIGITIZE_OK),
    ),
    Case(
        "screenshot",
        "the print inside a viewer window (title bar, toolbar, side panel, status bar): read as 3x4+1; since 0.3.0 "
        "the grid counts as one line family, the quality (0.40) caps every lead below 0.5 and the report may say "
        "insufficient quality (the record is as good as the bare print's, 6.5 dB: an honest, too-cautious answer)",
        "image",
        b.ecg_image("screen.png", transform=b.screenshot),
        **reported(screening=("normal", "abnormal — review", "insufficient quality"), digitization={"layout": "3x4+1"}),
    ),
    Case(
        "six_leads",
        "only the limb leads (left column of a 6×2 print)",
        "image",
        b.ecg_image("ecg.png", layout="6x2", transform=b.left_half),
        **reported(screening=NOT_NORMAL, unread_leads=("V1", "V2", "V3", "V4", "V5", "V6")),
    ),
    Case(
        "exif_orientation",
        "phone JPEG stored sideways with EXIF orientation 8",
        "image",
        b.exif_rotated,
        **reported(digitization={"layout": "3x4+1"}),
    ),
    # --- encodings of a good print -------------------------------------------------------------------------------
    Case("png_16bit", "16-bit greyscale PNG", "image", b.sixteen_bit, **reported()),
    Case("png_grey", "8-bit greyscale PNG", "image", b.grayscale, **reported()),
    Case("png_transparent", "RGBA PNG: black ink on a transparent background", "image", b.transparent, **reported()),
    Case("bmp", "BMP", "image", b.ecg_image("ecg.bmp"), **reported()),
    Case("webp", "WebP", "image", b.ecg_image("ecg.webp"), **reported()),
    Case("tiff", "TIFF", "image", b.ecg_image("ecg.tif"), **reported()),
    # --- CSV ----------------------------------------------------------------------------------------------------
    Case(
        "csv_missing_leads",
        "CSV with only time_s, I, II, V2",
        "record",
        r.csv_edit("record.csv", r.keep_columns("time_s", "I", "II", "V2")),
        **reported(kind="signal", screening=INSUFFICIENT, remarks=("leads not in the record: III", "3 of 12 leads")),
    ),
    Case(
        "csv_no_time",
        "CSV without the time_s column",
        "record",
        r.csv_edit("record.csv", lambda rows: [r[1:] for r in rows]),
        **refused("time_s"),
    ),
    Case(
        "csv_extra_column",
        "CSV with an extra SpO2 column",
        "record",
        r.csv_edit("record.csv", r.add_column("SpO2", "98")),
        **refused("spo2"),
    ),
    Case(
        "csv_renamed_columns",
        "CSV headed Lead I, D2, D3, AVR, avl, aVF, v1…",
        "record",
        r.csv_edit(
            "record.csv",
            r.rename_header({"I": "Lead I", "II": "D2", "III": "D3", "aVR": "AVR", "aVL": "avl", "V1": "v1"}),
        ),
        **reported(kind="signal"),
    ),
    Case(
        "csv_text_in_numbers",
        "CSV with '0.12mV' in row 100, lead II",
        "record",
        r.csv_edit("record.csv", r.set_cell(100, "II", "0.12mV")),
        **refused("0.12mV", stage=StageCheck("analyze", 422, "0.12mV")),
    ),
    Case(
        "csv_inf",
        "CSV with inf in lead V3",
        "record",
        r.csv_edit("record.csv", r.set_cell(40, "V3", "inf")),
        **refused("inf"),
    ),
    Case(
        "csv_nan",
        "CSV with NaN in five cells of lead V4 (not recorded there)",
        "record",
        r.csv_edit("record.csv", lambda rows: [r.set_cell(k, "V4", "NaN")(rows) for k in range(10, 15)][-1]),
        **reported(kind="signal"),
    ),
    Case(
        "csv_header_only",
        "CSV with the header and no data rows",
        "record",
        b.text("record.csv", "time_s,I,II,III,aVR,aVL,aVF,V1,V2,V3,V4,V5,V6\n"),
        **refused("header but no rows"),
    ),
    Case(
        "csv_utf16",
        "the CSV saved as UTF-16 (Excel 'Unicode text')",
        "record",
        r.csv_edit("record.csv", lambda rows: rows, encoding="utf-16"),
        **refused("UTF-16", 415),
    ),
    Case(
        "csv_semicolon",
        "CSV with ';' separators and decimal commas (European Excel)",
        "record",
        r.csv_edit("record.csv", r.decimal_commas, sep=";"),
        **refused("separated by ';'"),
    ),
    # --- durations and sampling rates --------------------------------------------------------------------------
    Case(
        "record_1s",
        "a 1 s record (CSV)",
        "record",
        r.record_file("short.csv", lambda: r.first_seconds(1.0)),
        **reported(
            kind="signal",
            screening=INSUFFICIENT,
            remarks=("at least 4 s",),
            stage=StageCheck("analyze", 422, "at least 4 s"),
        ),
    ),
    Case(
        "record_1khz",
        "the record at 1000 Hz (CSV)",
        "record",
        r.record_file("fast.csv", lambda: r.resampled(1000)),
        **reported(kind="signal"),
    ),
    Case(
        "record_250hz",
        "the record at 250 Hz (EDF)",
        "record",
        r.record_file("slow.edf", lambda: r.resampled(250)),
        **reported(kind="signal", stage=ANALYZE_OK),
    ),
    # --- EDF ----------------------------------------------------------------------------------------------------
    Case(
        "edf_range_x1000",
        "EDF whose physical range is 1000× too large (values read as volts of mV)",
        "record",
        r.edf_patched("record.edf", physical_min="-5000000", physical_max="5000000"),
        **refused("must be in mV"),
    ),
    Case(
        "edf_range_degenerate",
        "EDF with physical minimum = maximum",
        "record",
        r.edf_patched("record.edf", physical_min="5", physical_max="5"),
        **refused("physical"),
    ),
    Case(
        "edf_zero_records",
        "EDF header saying 0 data records, no data",
        "record",
        r.edf_patched("record.edf", records="0", drop_data=True),
        **refused("not a readable EDF"),
    ),
    Case(
        "edf_truncated",
        "EDF with its data cut after the header",
        "record",
        r.edf_patched("record.edf", drop_data=True),
        **refused("edf"),
    ),
    # --- JSON ---------------------------------------------------------------------------------------------------
    Case(
        "json_array",
        "JSON that is an array",
        "record",
        r.json_record("record.json", [1, 2, 3]),
        **refused("not an ecgscreen.record JSON document"),
    ),
    Case(
        "json_wrong_types",
        "JSON record with fs = 'fast'",
        "record",
        r.json_sample_with(fs="fast"),
        **refused("fs", stage=StageCheck("analyze", 422, "fs")),
    ),
    Case(
        "json_ragged",
        "JSON record whose leads have different lengths",
        "record",
        r.json_sample_with(leads={"I": [0.0] * 5000, "II": [0.0] * 4000}),
        **refused("length"),
    ),
    # --- WFDB ---------------------------------------------------------------------------------------------------
    Case(
        "wfdb_missing_dat",
        "WFDB header whose .dat file is absent; the API takes one file, so the header alone is uploaded",
        "record",
        r.wfdb_header_only,
        cli=Refused("ptbxl-00001.dat"),
        api=Refused("WFDB", 415),
    ),
    # --- patient fields -----------------------------------------------------------------------------------------
    _patient_case(
        "patient_markup",
        "markup and script in the name",
        {"--name": "<b>Bo</b><script>alert(1)</script>&amp;"},
        {"name": "<b>Bo</b><script>alert(1)</script>&amp;"},
        pdf_text=("<b>Bo</b><script>alert(1)</script>&amp;",),
    ),
    _patient_case(
        "patient_sql", "SQL injection in the ID", {"--id": "1'; DROP TABLE jobs; --"}, {"id": "1'; DROP TABLE jobs; --"}
    ),
    _patient_case(
        "patient_path_traversal",
        "path traversal in ID and name",
        {"--id": "../../../../etc/passwd", "--name": "..\\..\\windows\\win.ini"},
        {"id": "../../../../etc/passwd", "name": "..\\..\\windows\\win.ini"},
    ),
    Case(
        "patient_10kb",
        "a 10 kB name: refused by CLI and API alike (limit 1000 characters; kept names are capped at 120)",
        "record",
        r.record_file("record.edf", b.sample_record),
        patient={"--name": TEN_KB},
        **refused("at most 1000 characters"),
    ),
    _patient_case(
        "patient_long_name",
        "a 400-character name: accepted, stored and printed capped at 120 characters",
        {"--name": "B" * 400},
        {"name": "B" * 119 + "…"},
    ),
    _patient_case(
        "patient_bidi",
        "a name with a right-to-left override and zero-width characters (printed text would read reversed)",
        {"--name": "Ann\u202eenoD\u200b Smith\u2066"},
        {"name": "AnnenoD Smith"},
        pdf_text=("AnnenoD Smith",),
    ),
    _patient_case(
        "upload_name_traversal",
        "API upload named ../../../../tmp/evil.edf (the CLI reads the file as given)",
        {},
        {},
        upload_name="../../../../tmp/evil.edf",
    ),
    _patient_case(
        "patient_control_chars",
        "newline and terminal escape in the name",
        {"--name": "Ann\nEve\x1b[2J"},
        {"name": "Ann Eve [2J"},
    ),
    _patient_case(
        "patient_unicode",
        "accents, CJK and an emoji in the name",
        {"--name": "José Ñúñez 山田 👍"},
        {"name": "José Ñúñez 山田 👍"},
    ),
    Case(
        "patient_age_out_of_range",
        "age 300",
        "record",
        r.record_file("record.edf", b.sample_record),
        patient={"--age": "300"},
        **refused("0–130"),
    ),
    Case(
        "patient_age_text",
        "age 'old'",
        "record",
        r.record_file("record.edf", b.sample_record),
        patient={"--age": "old"},
        cli=Refused("invalid value for '--age'"),
        api=Refused("whole number"),
    ),
    Case(
        "patient_sex_invalid",
        "sex 'X'",
        "record",
        r.record_file("record.edf", b.sample_record),
        patient={"--sex": "X"},
        **refused("M or F"),
    ),
)

CASE_IDS = tuple(c.id for c in CASES)
assert len(set(CASE_IDS)) == len(CASE_IDS), "case ids must be unique"


def api_form(case: Case) -> dict[str, str]:
    """The case's patient options as the API's form fields."""
    names = {"--id": "patient_id", "--name": "patient_name", "--age": "patient_age", "--sex": "patient_sex"}
    return {names[k]: v for k, v in case.patient.items()}
