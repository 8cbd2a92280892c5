"""What an upload is, from its first bytes (magic numbers), never from its file name.

Images: PNG, JPEG, TIFF, BMP, WebP, PDF. Signal records: EDF/EDF+ (header starts with ``0`` and 7 spaces),
JSON (an object; an array too, so that the reader says what it needs) and CSV (a text header line naming
``time_s`` or leads, separated by commas — or by ';' or tabs, which the reader then refuses with that reason).
WFDB needs two files (``.hea`` + ``.dat``) and cannot come as one upload, and UTF-16 text is not read: both are
refused (415) with that reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["image", "record"]


@dataclass(frozen=True)
class Sniffed:
    kind: Kind
    format: str
    suffix: str
    """The suffix the stored copy gets, so the pipeline dispatches on the sniffed type."""


class UnsupportedMediaError(ValueError):
    """The bytes are neither an image nor a signal record we read (HTTP 415)."""


_IMAGE_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png", ".png"),
    (b"\xff\xd8\xff", "jpeg", ".jpg"),
    (b"II*\x00", "tiff", ".tif"),
    (b"MM\x00*", "tiff", ".tif"),
    (b"BM", "bmp", ".bmp"),
    (b"%PDF-", "pdf", ".pdf"),
)
_LEAD_WORDS = ("time_s", "i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6")


def sniff(head: bytes, *, accept: tuple[Kind, ...] = ("image", "record")) -> Sniffed:
    """Classify an upload by its first bytes (give at least 512); raises `UnsupportedMediaError` with the reason."""
    found = _sniff(head)
    if found is None and (reason := _known_unsupported(head)):
        raise UnsupportedMediaError(reason)
    if found is None:
        raise UnsupportedMediaError(
            "unsupported content: expected an image (PNG, JPEG, TIFF, BMP, WebP, PDF) or a signal record "
            "(EDF, CSV, JSON); the file type is detected from its content, not its name"
        )
    if found.kind not in accept:
        wanted = " or ".join("an image" if k == "image" else "a signal record (EDF, CSV, JSON)" for k in accept)
        raise UnsupportedMediaError(f"this endpoint needs {wanted}; the upload is {found.kind} ({found.format})")
    return found


def _sniff(head: bytes) -> Sniffed | None:
    for magic, name, suffix in _IMAGE_MAGIC:
        if head.startswith(magic):
            return Sniffed("image", name, suffix)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed("image", "webp", ".webp")
    if head.startswith(b"0       ") and len(head) >= 256:
        return Sniffed("record", "edf", ".edf")
    text = _text(head)
    if text is None:
        return None
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):  # an array is refused by the reader with its reason
        return Sniffed("record", "json", ".json")
    first = stripped.splitlines()[0] if stripped else ""
    cells = [c.strip().strip('"').lower() for c in re.split(r"[,;\t]", first)]  # the reader explains ';' and tabs
    if len(cells) >= 2 and sum(c in _LEAD_WORDS for c in cells) >= 2:
        return Sniffed("record", "csv", ".csv")
    return None


_WFDB_RECORD_LINE = re.compile(r"^[\w.-]+(/\d+)? +\d+ +\d+(\.\d+)?(/\S+)?( +\d+)?")
_WFDB_SIGNAL_LINE = re.compile(r"^\S+ +\d+(x\d+)?(:\d+)?(\+\d+)? ", re.MULTILINE)


def _known_unsupported(head: bytes) -> str | None:
    """A specific reason for uploads we recognise but cannot take as one file, else None."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return 'the upload is UTF-16 text; save the CSV as UTF-8 ("CSV UTF-8") and upload it again'
    text = _text(head)
    lines = [line for line in (text or "").splitlines() if line.strip() and not line.startswith("#")]
    if len(lines) >= 2 and _WFDB_RECORD_LINE.match(lines[0]) and _WFDB_SIGNAL_LINE.match(lines[1]):
        return (
            "the upload is a WFDB header (.hea); a WFDB record is two files (.hea + .dat) and cannot be uploaded "
            "as one: convert it to EDF, CSV or JSON (ecgscreen digitize/analyze write these), or use the CLI"
        )
    return None


def _text(head: bytes) -> str | None:
    """The bytes as UTF-8 text (a multi-byte character cut at the end is tolerated), or None for binary."""
    for cut in range(4):
        try:
            text = head[: len(head) - cut].decode("utf-8-sig")
        except UnicodeDecodeError:
            continue
        return None if "\x00" in text else text
    return None
