"""Print the runtime requirements of ``pyproject.toml`` for an image, with the onnxruntime build swapped.

    python docker/requirements.py --onnxruntime onnxruntime --extra ray > requirements.txt

The project lists ``onnxruntime-gpu`` (the GPU image); the CPU image installs the plain ``onnxruntime`` instead.
"""

from __future__ import annotations

import argparse
import re
import tomllib
from pathlib import Path


def requirements(pyproject: Path, onnxruntime: str, extras: list[str]) -> list[str]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    deps = list(project["dependencies"])
    for extra in extras:
        deps += project.get("optional-dependencies", {})[extra]
    out = []
    for dep in deps:
        name = re.split(r"[\s<>=!~;\[]", dep, maxsplit=1)[0].lower()
        out.append(re.sub(r"^onnxruntime(-gpu)?", onnxruntime, dep) if name in ("onnxruntime", "onnxruntime-gpu")
                   else dep)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyproject", type=Path, default=Path("pyproject.toml"))
    parser.add_argument("--onnxruntime", default="onnxruntime", choices=["onnxruntime", "onnxruntime-gpu"])
    parser.add_argument("--extra", action="append", default=[], help="optional-dependency group to add")
    args = parser.parse_args()
    print("\n".join(requirements(args.pyproject, args.onnxruntime, [e for e in args.extra if e])))


if __name__ == "__main__":
    main()
