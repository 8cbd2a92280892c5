"""Write ``tests/badinputs/README.md`` from the case table: ``python tests/badinputs/make_readme.py``."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from cases import CASES, Refused  # noqa: E402

INTRO = """# Bad-input corpus

Every case below is built by `cases.py` (builders in `builders.py`; large files such as the decompression bomb and the
50-page PDF are generated at test time, nothing binary is committed) and run through both entry points with the real
pipeline and stand-in classifier models:

* `test_cli.py`: `ecgscreen report INPUT -o OUT.pdf --json OUT.json [--id --name --age --sex]`, in-process through the
  console-script entry point, plus a few cases as real subprocesses of the installed script. Checked: no traceback,
  the exit code and the `error: …` message, no output file left for a refused input; for a report, its JSON.
* `test_api.py`: `POST /api/v1/reports?wait=true` (patient fields as `patient_*` form fields). Checked: no 5xx, the
  status and the reason in `detail`, no server path in the answer, nothing stored for a refused input (no job row, no
  job folder); for a report, its JSON. A subset also goes through `POST /api/v1/digitize` or `/api/v1/analyze`.

"Refused" means the CLI exits 2 with one `error: …` line containing the reason, and the API answers the status with
the reason in `detail`. "report" means a report is produced (CLI exit 0, API 200) that states what the column says;
its remarks are the digitization notes, warnings and lead reasons, the report notes, stage errors, status reasons and
missing-measurement reasons. Substrings are matched case-insensitively.

Run: `.venv/bin/pytest tests/badinputs -q` (about 3 minutes on a busy 2-core machine; `-m "not slow"` for the quick
refusals only). After editing `cases.py`: `.venv/bin/python tests/badinputs/make_readme.py`.

"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _outcome(outcome) -> str:
    if isinstance(outcome, Refused):
        return f"refused: exit {outcome.cli_exit}, `{outcome.reason}`"
    return outcome.text()


def _api(outcome) -> str:
    if isinstance(outcome, Refused):
        return f"{outcome.api_status} `{outcome.api_reason or outcome.reason}`, nothing stored"
    return "200, " + outcome.text()


def render() -> str:
    lines = [
        INTRO.rstrip("\n"),
        "",
        f"{len(CASES)} cases.",
        "",
        "| id | input | entry | CLI | API | stage endpoint |",
        "|---|---|---|---|---|---|",
    ]
    for case in CASES:
        stage = f"`{case.stage.endpoint}` → {case.stage.status} {case.stage.reason}".strip() if case.stage else ""
        lines.append(
            " | ".join(
                [
                    "",
                    f"`{case.id}`",
                    _cell(case.what),
                    case.entry,
                    _cell(_outcome(case.cli)),
                    _cell(_api(case.api)),
                    _cell(stage),
                    "",
                ]
            ).strip()
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    (HERE / "README.md").write_text(render(), encoding="utf-8")
    print(f"wrote {HERE / 'README.md'} ({len(CASES)} cases)")
