"""`ecgscreen analyze` end to end through the console-script entry point (exit codes, JSON, no tracebacks)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from analyze.simulate import simulate_ecg
from ecg.io import write_record

REPO = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess:
    code = "import sys; from api.cli import main; sys.argv = ['ecgscreen', *sys.argv[1:]]; main()"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def records(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("records")
    paths = [write_record(simulate_ecg(), folder / "normal.csv"),
             write_record(simulate_ecg(pr_ms=260, heart_rate_bpm=45), folder / "block.edf")]
    return paths


def test_one_record_to_stdout(records):
    result = run("analyze", str(records[0]), "--sex", "F")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert set(doc) == {"measurements", "findings", "source"}
    assert doc["measurements"]["heart_rate_bpm"] == pytest.approx(60, abs=1)
    assert any(f["code"] == "SR" for f in doc["findings"])


def test_several_records_to_a_folder(records, tmp_path):
    out = tmp_path / "out"
    result = run("analyze", *map(str, records), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["block.json", "normal.json"]
    block = json.loads((out / "block.json").read_text())
    assert {"SBRAD", "1AVB"} <= {f["code"] for f in block["findings"]}


def test_short_record_is_a_one_line_error(tmp_path):
    path = write_record(simulate_ecg(duration_s=1.0), tmp_path / "short.csv")
    result = run("analyze", str(path))
    assert result.returncode != 0
    assert "1.0 s long" in result.stderr and "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("args", [("missing.csv",), ("x.png",), ("{rec}", "--sex", "Q"), ("{rec}", "--method", "x")])
def test_bad_input_exits_non_zero_without_traceback(args, records):
    result = run("analyze", *(a.format(rec=records[0]) for a in args))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.strip()


def test_several_records_need_a_folder(records, tmp_path):
    result = run("analyze", *map(str, records), "-o", str(tmp_path / "one.json"))
    assert result.returncode != 0 and "folder" in result.stderr
