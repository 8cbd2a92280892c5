"""CSV contract: header ``time_s,I,II,III,aVR,aVL,aVF,V1,V2,V3,V4,V5,V6``; one row per sample; mV; empty cell = NaN.

Reading is lenient about lead labels (``AVR``, ``avr``, ``Lead II`` …, see :func:`ecg.lead_name`), missing leads
(they become NaN rows) and column order, and strict about everything else: unknown columns, text in numbers,
infinite values and irregular time steps are refused with the row and column at fault.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from ecg.errors import FormatError, InvalidRecordError
from ecg.record import LEADS, EcgRecord, lead_name

TIME_COLUMN = "time_s"
_TIME_ALIASES = {"time_s", "time", "t", "t_s", "seconds", "time(s)"}
_INDEX_ALIASES = {"sample", "index", "n", "unnamed: 0"}
VALUE_DECIMALS = 4
"""mV values are written with 4 decimals (0.1 µV), well below any ECG's noise floor."""


def write_csv(record: EcgRecord, path: str | Path) -> None:
    """Write ``record`` in the CSV contract."""
    table = np.column_stack([record.time_s, record.signals.T.astype(np.float64)])
    buffer = io.StringIO()
    buffer.write(",".join((TIME_COLUMN, *LEADS)) + "\n")
    time_fmt = "%.6f"
    value_fmt = f"%.{VALUE_DECIMALS}f"
    for row in table:
        cells = [time_fmt % row[0]]
        cells += ["" if np.isnan(v) else value_fmt % v for v in row[1:]]
        buffer.write(",".join(cells) + "\n")
    Path(path).write_text(buffer.getvalue(), encoding="utf-8")


def read_csv(path: str | Path, *, fs: float | None = None) -> EcgRecord:
    """Read a CSV record.

    Parameters
    ----------
    path : path of the CSV file.
    fs : sampling rate in Hz; needed only when the file has no ``time_s`` column (it is otherwise derived from it).
    """
    path = Path(path)
    if path.stat().st_size == 0:
        raise FormatError(f"{path.name}: the file is empty")
    _check_text_encoding(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise FormatError(f"{path.name}: not a readable CSV table ({_first_line(exc)})") from None
    if frame.empty:
        raise FormatError(f"{path.name}: the table has a header but no rows")

    time_col, leads, unknown = None, {}, []
    for column in frame.columns:
        key = str(column).strip()
        if key.lower() in _TIME_ALIASES:
            time_col = column
        elif key.lower() in _INDEX_ALIASES:
            continue
        elif (name := lead_name(key)) is not None:
            if name in leads:
                raise FormatError(f"{path.name}: lead {name} appears in two columns")
            leads[name] = column
        else:
            unknown.append(key)
    if len(unknown) == 1 and not leads and (separator := next((c for c in ";\t|" if c in unknown[0]), None)):
        raise FormatError(
            f"{path.name}: the columns are separated by {separator!r}; ecgscreen reads comma-separated values with "
            f"'.' as the decimal point (header {TIME_COLUMN},{','.join(LEADS)})"
        )
    if unknown:
        raise FormatError(
            f"{path.name}: unknown column(s) {', '.join(map(repr, unknown))}; "
            f"expected the header {TIME_COLUMN},{','.join(LEADS)}"
        )
    if not leads:
        raise FormatError(f"{path.name}: no lead columns found; expected the header {TIME_COLUMN},{','.join(LEADS)}")

    values = {name: _numeric_column(frame[col], path.name, name) for name, col in leads.items()}
    if time_col is not None:
        fs_from_time = _sampling_rate(_numeric_column(frame[time_col], path.name, TIME_COLUMN), path.name)
        if fs is not None and abs(fs_from_time - fs) > 0.01 * fs:
            raise FormatError(f"{path.name}: time_s implies {fs_from_time:g} Hz but {fs:g} Hz was given")
        fs = fs_from_time
    elif fs is None:
        raise FormatError(f"{path.name}: no {TIME_COLUMN} column, so the sampling rate is unknown; give it explicitly")
    missing = [name for name in LEADS if name not in leads]
    meta = {"source": str(path), "format": "csv", "units": "mV"}
    if missing:
        meta["missing_leads"] = missing
    try:
        return EcgRecord.from_leads(values, fs, meta)
    except InvalidRecordError as exc:
        raise InvalidRecordError(f"{path.name}: {exc}") from None


def _numeric_column(column: pd.Series, file_name: str, label: str) -> np.ndarray:
    text = column.str.strip()
    blank = text.eq("") | text.str.lower().isin({"nan", "na", "null", "none"})
    numbers = pd.to_numeric(text.where(~blank), errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(np.isnan(numbers) & ~blank.to_numpy())
    if bad.size:
        row = int(bad[0])
        raise FormatError(f"{file_name}: row {row + 2}, column {label}: {column.iloc[row]!r} is not a number")
    infinite = np.flatnonzero(np.isinf(numbers))
    if infinite.size:
        raise FormatError(f"{file_name}: row {int(infinite[0]) + 2}, column {label}: infinite value")
    return numbers


def _sampling_rate(time_s: np.ndarray, file_name: str) -> float:
    if np.isnan(time_s).any():
        raise FormatError(f"{file_name}: the time_s column has empty cells")
    if len(time_s) < 2:
        raise FormatError(f"{file_name}: a single row cannot define a sampling rate")
    steps = np.diff(time_s)
    step = float(np.median(steps))
    if step <= 0:
        raise FormatError(f"{file_name}: time_s does not increase")
    worst = float(np.max(np.abs(steps - step)))
    if worst > 0.01 * step + 5e-7:
        row = int(np.argmax(np.abs(steps - step))) + 3
        raise FormatError(f"{file_name}: irregular time step at row {row} ({worst * 1e3:.3f} ms off the median)")
    return _rate_from_times(time_s, file_name)


def _rate_from_times(time_s: np.ndarray, file_name: str) -> float:
    """The rate (Hz) the time stamps encode: the one with the fewest decimals (0–3) that reproduces every stamp to
    the µs they are written with, else the rate over the whole span. One step rounded to the µs would be off by
    up to 1e-6·fs² Hz (360 Hz would read back as 359.97 Hz)."""
    with np.errstate(divide="ignore", over="ignore"):
        span_fs = (len(time_s) - 1) / float(time_s[-1] - time_s[0])
    if not np.isfinite(span_fs):
        raise FormatError(f"{file_name}: the time_s step is too small to give a sampling rate")
    index = np.arange(len(time_s))
    for decimals in range(4):
        candidate = round(span_fs, decimals)
        if candidate > 0:
            offsets = time_s - index / candidate
            if float(offsets.max() - offsets.min()) <= 1e-6 + 1e-9 * float(np.abs(time_s).max()):
                return candidate
    return round(span_fs, 6)


def _check_text_encoding(path: Path) -> None:
    """Refuse UTF-16/32 text (Excel's "Unicode text") and binary files with a reason, before pandas guesses."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FormatError(f'{path.name}: the file is UTF-16 text; save it as UTF-8 ("CSV UTF-8") and try again')
    if b"\x00" in head:
        raise FormatError(f"{path.name}: binary content, not a CSV text table")


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
