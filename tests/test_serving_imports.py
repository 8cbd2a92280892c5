"""Serving never imports torch: every module outside the training sub-packages, imported in a fresh process, leaves
``torch`` out of ``sys.modules`` (torch is the optional ``train`` extra; the service and the CLI run without it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("ecg", "synth", "digitize", "analyze", "classify", "report", "api")


def serving_modules() -> list[str]:
    """Dotted names of every module of the packages, except ``*/train/*`` and ``__main__`` modules."""
    names = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            if "train" in parts or parts[-1] == "__main__":
                continue
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


CHILD = """
import importlib, json, sys
culprits, skipped = [], []
for name in json.loads(sys.argv[1]):
    try:
        importlib.import_module(name)
    except ImportError as exc:  # an optional serving extra that is not installed (e.g. ray)
        if "torch" in str(exc):
            raise
        skipped.append(name)
        continue
    if "torch" in sys.modules:
        culprits.append(name)
        break
print(json.dumps({"culprits": culprits, "skipped": skipped, "torch": "torch" in sys.modules}))
"""


def test_no_serving_module_imports_torch():
    modules = serving_modules()
    assert len(modules) > 50 and "report.pipeline" in modules and "classify.train.tiled" not in modules
    out = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(modules)], capture_output=True, text=True, cwd=REPO, timeout=300,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert not result["torch"], f"torch imported by {result['culprits']}"
    assert len(result["skipped"]) < 5, result["skipped"]
