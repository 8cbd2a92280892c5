"""The long fuzz run: the properties of ``tests/fuzz`` under the ``long`` Hypothesis profile, for a time budget.

Each target (one property: a reader round trip, a mutated-file reader, the report JSON builder, the image loader,
the HTTP API operations under schemathesis) is called again and again with fresh random inputs until its share of
the budget is spent (shares by cost: the API and the image loader get more). Prints per target the inputs tried,
their outcomes where the property tallies them (read / refused, loaded / refused), the unexpected failures (must be
0: an exception other than `EcgInputError`, a hang, a 5xx or an answer outside the OpenAPI spec) and the time.
Exit status 1 when any failure was found; the first failure of each target is printed with its reproduction blob.

Usage::

    python bench/fuzz.py --minutes 10 [--only csv,api]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FUZZ = REPO / "tests" / "fuzz"
os.environ["ECGSCREEN_FUZZ_PROFILE"] = "long"  # read when the test modules are imported
sys.path[:0] = [str(REPO), str(FUZZ), str(REPO / "tests" / "api")]


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"fuzz_{name}", FUZZ / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


@dataclass
class Target:
    name: str
    run: Callable[[], None]
    tally_key: str
    share: float
    calls: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _targets() -> list[Target]:
    readers, report = _module("test_readers_fuzz"), _module("test_report_fuzz")
    images, api = _module("test_image_loader_fuzz"), _module("test_api_schemathesis")

    def every_operation() -> None:
        for operation_id in api.OPERATIONS:
            api.test_operation_answers_within_spec(operation_id)

    return [
        Target("csv round trip", readers.test_csv_round_trip, "csv round trip", 0.5),
        Target("edf round trip", readers.test_edf_round_trip, "edf round trip", 0.5),
        Target("wfdb round trip", readers.test_wfdb_round_trip, "wfdb round trip", 0.5),
        Target("json round trip", readers.test_json_round_trip, "json round trip", 0.25),
        Target("csv mutated", readers.test_mutated_csv_reads_or_refuses, "csv mutated", 1.0),
        Target("edf mutated", readers.test_mutated_edf_reads_or_refuses, "edf mutated", 1.0),
        Target("wfdb mutated", readers.test_mutated_wfdb_reads_or_refuses, "wfdb mutated", 1.0),
        Target("json mutated", readers.test_mutated_json_reads_or_refuses, "json mutated", 0.5),
        Target("patient fields", report.test_patient_fields_are_normalised_or_refused, "patient fields", 0.25),
        Target("report json", report.test_report_json_matches_schema, "report json", 0.75),
        Target("image mutated", images.test_mutated_image_loads_or_refuses, "image mutated", 2.0),
        Target("image array", images.test_arrays_load_or_refuse, "image array", 0.5),
        Target("api (10 operations)", every_operation, "api operation ", 3.0),
        Target("api analyze mutated", api.test_mutated_records_through_analyze, "api analyze, mutated records", 1.5),
    ]


@contextmanager
def _c_output_silenced() -> Iterator[None]:
    """Send file descriptors 1 and 2 to /dev/null (pyedflib and the ASGI client print from C or below Python's
    streams); the report is written to a duplicate of the original stdout."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


def _tried(tally, key: str) -> int:
    """Inputs tried for a tally key; a key ending in a space (``"api operation "``) sums every key it starts."""
    if key.endswith(" "):
        return sum(v for k, v in tally.items() if k.startswith(key) and ":" not in k)
    return tally[key]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="total budget over all targets")
    parser.add_argument("--only", default="", help="comma-separated substrings of target names")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    import fuzzkit

    targets = _targets()
    if args.only:
        wanted = [w.strip() for w in args.only.split(",") if w.strip()]
        targets = [t for t in targets if any(w in t.name for w in wanted)]
    total_share = sum(t.share for t in targets)
    print(
        f"fuzzing {len(targets)} targets for {args.minutes:g} min (profile long, "
        f"{fuzzkit.LONG_EXAMPLES} examples per weight unit per call)",
        flush=True,
    )
    for target in targets:
        budget = args.minutes * 60 * target.share / total_share
        start = time.perf_counter()
        while time.perf_counter() - start < budget:
            target.calls += 1
            try:
                with _c_output_silenced():
                    target.run()
            except Exception as exc:  # a failing property is what the run looks for
                if len(target.failures) < 3:
                    target.failures.append("".join(traceback.format_exception(exc))[-3000:])
                else:
                    target.failures.append(type(exc).__name__)
        target.seconds = time.perf_counter() - start
        outcomes = {k.split(": ", 1)[1]: v for k, v in fuzzkit.TALLY.items() if k.startswith(f"{target.tally_key}: ")}
        detail = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
        print(
            f"  {target.name:<22} inputs {_tried(fuzzkit.TALLY, target.tally_key):>7}  "
            f"unexpected failures {len(target.failures)}  {target.seconds:6.1f} s"
            + (f"  ({detail})" if detail else ""),
            flush=True,
        )
    if any(t.name.startswith("api") for t in targets):
        per_op = {k.split()[-1]: v for k, v in sorted(fuzzkit.TALLY.items()) if k.startswith("api operation ")}
        print("  api inputs per operation: " + ", ".join(f"{k} {v}" for k, v in per_op.items()))
    failed = [t for t in targets if t.failures]
    total = sum(_tried(fuzzkit.TALLY, t.tally_key) for t in targets)
    print(
        f"total inputs {total}, unexpected failures {sum(len(t.failures) for t in targets)}, "
        f"{sum(t.seconds for t in targets) / 60:.1f} min"
    )
    for target in failed:
        print(f"\n--- first failure of {target.name} ---\n{target.failures[0]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
