"""Checking an outcome against a case's expectation (shared by the CLI and the API tests)."""

from __future__ import annotations

from typing import Any

from outcomes import Reported


def norm(text: str) -> str:
    """Lower case, whitespace runs collapsed (the CLI's console wraps long lines)."""
    return " ".join(str(text).split()).lower()


def contains(haystack: str, needle: str) -> bool:
    return norm(needle) in norm(haystack)


def remarks(report: dict[str, Any]) -> str:
    """Every free-text remark of a report, one per line."""
    lines: list[str] = []
    digitization = report.get("digitization") or {}
    lines += digitization.get("notes", []) + digitization.get("warnings", [])
    for lead, reasons in (digitization.get("lead_reasons") or {}).items():
        lines += [f"{lead}: {r}" for r in reasons]
    lines += list(report.get("notes") or [])
    lines += [f"{stage}: {message}" for stage, message in (report.get("errors") or {}).items()]
    lines += list(report["status"].get("reasons") or [])
    missing = (report.get("measurements") or {}).get("missing") or {}
    lines += [f"{name}: {why}" for name, why in missing.items()]
    return "\n".join(lines)


def check_report(report: dict[str, Any], expected: Reported) -> None:
    """Assert that ``report`` is what ``expected`` states (raises AssertionError with the evidence)."""
    screening = report["status"]["screening"]
    text = remarks(report)
    assert screening in expected.screening, f"status {screening!r} not in {expected.screening}; remarks:\n{text}"
    assert report["status"]["confirmation"] == "unconfirmed: requires physician review"
    assert report["input"]["kind"] == expected.kind
    for remark in expected.remarks:
        alternatives = remark if isinstance(remark, tuple) else (remark,)
        assert any(contains(text, a) for a in alternatives), f"no remark mentions {alternatives}; remarks:\n{text}"
    digitization = report.get("digitization") or {}
    for key, value in expected.digitization.items():
        assert digitization.get(key) == value, f"digitization {key} = {digitization.get(key)!r}, expected {value!r}"
    confidence = digitization.get("lead_confidence") or {}
    claimed = [lead for lead in expected.unread_leads if confidence.get(lead, 0.0) >= 0.5]
    assert not claimed, f"leads not on the paper claimed as read: {claimed} ({confidence})"
    if expected.patient is not None:
        for key, value in expected.patient.items():
            assert report["patient"][key] == value, f"patient {key} = {report['patient'][key]!r}"
