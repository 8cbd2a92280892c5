"""The corpus table itself: enough cases, every case documented in README.md, builders that make distinct files."""

from __future__ import annotations

from cases import CASES, Refused, Reported
from make_readme import HERE, render


def test_corpus_has_enough_cases_with_stated_outcomes():
    assert len(CASES) >= 45
    for case in CASES:
        assert isinstance(case.cli, (Refused, Reported)) and isinstance(case.api, (Refused, Reported)), case.id
        for outcome in (case.cli, case.api):
            if isinstance(outcome, Refused):
                assert outcome.reason.strip() and outcome.api_status in (400, 413, 415, 422), case.id


def test_readme_lists_every_case_and_is_current():
    readme = (HERE / "README.md").read_text(encoding="utf-8")
    for case in CASES:
        assert f"`{case.id}`" in readme, f"{case.id} missing from README.md"
    assert readme == render(), "README.md is stale: run .venv/bin/python tests/badinputs/make_readme.py"
