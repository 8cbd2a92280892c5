"""Types of the bad-input corpus: a `Case` and its stated outcomes for the CLI and the API.

Outcomes:

* `Refused` — CLI ``ecgscreen report`` exits with ``cli_exit`` (2) and one ``error: …`` line on stderr containing
  ``reason``; the API answers ``api_status`` with ``reason`` (or ``api_reason``) in the JSON ``detail`` and stores
  nothing (no job row, no job folder). The CLI leaves no output file.
* `Reported` — a report is produced (CLI exit 0 with the PDF and JSON written; API 200 with ``?wait=true``) whose
  ``status.screening`` is one of ``screening``, whose remarks (digitization notes, warnings and lead reasons, report
  notes, stage errors, status reasons, missing measurements) contain every entry of ``remarks`` (a tuple entry means
  "any of these"), whose ``digitization`` has the given field values and whose ``patient`` is ``patient``.

Substring checks are case-insensitive and whitespace-normalised. The table is `cases.CASES`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Builder = Callable[[Path], Path]

READ = ("normal", "abnormal — review")
"""A report that read the ECG (the stand-in classifiers decide between these two)."""
NOT_NORMAL = ("abnormal — review", "insufficient quality")
INSUFFICIENT = ("insufficient quality",)
UNSUPPORTED = "unsupported content"
"""The refusal shared by the CLI and the API for content that is neither an image nor a record."""


@dataclass(frozen=True)
class Refused:
    reason: str
    api_status: int = 422
    api_reason: str | None = None
    cli_exit: int = 2


@dataclass(frozen=True)
class Reported:
    screening: tuple[str, ...] = READ
    remarks: tuple[str | tuple[str, ...], ...] = ()
    digitization: dict[str, object] = field(default_factory=dict)
    patient: dict[str, object] | None = None
    kind: Literal["image", "signal"] = "image"
    pdf_text: tuple[str, ...] = ()
    """Text that page 1 of the PDF shows literally (checked on the CLI's PDF)."""
    unread_leads: tuple[str, ...] = ()
    """Leads that are not on the paper: the digitization must not claim them (absent or confidence < 0.5)."""

    def text(self) -> str:
        parts = [f"report ({self.kind}), status {' / '.join(self.screening)}"]
        parts += [f"{k} = {v}" for k, v in self.digitization.items()]
        for remark in self.remarks:
            alternatives = remark if isinstance(remark, tuple) else (remark,)
            parts.append("remarks mention " + " or ".join(f"`{a}`" for a in alternatives))
        if self.patient is not None:
            parts.append("patient fields: " + ", ".join(f"{k} = {v!r:.60}" for k, v in self.patient.items()))
        parts += [f"PDF shows `{t}` as text" for t in self.pdf_text]
        if self.unread_leads:
            parts.append(f"{', '.join(self.unread_leads)} not claimed as read (confidence < 0.5)")
        return "; ".join(parts)


Outcome = Refused | Reported


@dataclass(frozen=True)
class StageCheck:
    """A single-stage endpoint call: ``POST /api/v1/<endpoint>`` answers ``status`` with ``reason`` in the detail."""

    endpoint: Literal["digitize", "analyze"]
    status: int
    reason: str = ""


@dataclass(frozen=True)
class Case:
    id: str
    what: str
    entry: Literal["image", "record"]
    build: Builder
    cli: Outcome
    api: Outcome
    patient: dict[str, str] = field(default_factory=dict)
    """CLI option (``--id``, ``--name``, ``--age``, ``--sex``) → value; sent as the API's ``patient_*`` fields."""
    stage: StageCheck | None = None
    upload_name: str | None = None
    """The file name the API upload claims (default: the built file's name)."""
    slow: bool = False
    """Builds a large file or runs the whole pipeline (> 1 s)."""
