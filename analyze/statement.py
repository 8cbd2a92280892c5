"""`Finding`: one waveform statement, its sentence in clinical words and the machine-readable values behind it."""

from __future__ import annotations

from dataclasses import dataclass, field

from analyze import codes as C

Evidence = dict[str, float | bool | str | None]


@dataclass(frozen=True)
class Finding:
    """One statement: its code (:data:`analyze.codes.CODES`), a sentence, and the values that fired it."""

    code: str
    statement: str
    evidence: Evidence = field(default_factory=dict)

    @property
    def abnormal(self) -> bool:
        return C.CODES[self.code].abnormal

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "statement": self.statement, "evidence": dict(self.evidence)}
