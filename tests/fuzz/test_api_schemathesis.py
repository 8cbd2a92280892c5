"""Schemathesis against the service's own OpenAPI spec, in process (ASGI), authenticated with the test API key.

Every operation gets schema-conforming (positive) and schema-violating (negative) requests; each answer must not be
a 5xx and must conform to the spec: a documented status code, the documented content type and a body matching the
documented response schema. The pipeline is the stand-in of ``tests/api`` (real stages, fake classifier).
"""

from __future__ import annotations

import atexit
import functools
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "api"))
from api_testkit import AUTH, KEY  # noqa: E402
from fuzzkit import TALLY, apply_edits, edf_fields, edits, examples, seed_files, time_limit  # noqa: E402
from standin_app import standin_pipeline  # noqa: E402

from api.app import create_app  # noqa: E402
from api.core.config import Settings  # noqa: E402

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
OPERATIONS = (
    "create_report",
    "get_report",
    "correct_report",
    "list_report_versions",
    "delete_report",
    "get_report_file",
    "digitize",
    "analyze",
    "classify",
    "livez",
    "readyz",
    "metrics",
)
"""Every operation of the spec (a test below fails if the spec gains one that is not listed)."""


@functools.cache
def api_schema() -> schemathesis.BaseSchema:
    """The app on a throw-away data folder (removed at exit); schemathesis starts its lifespan once per process."""
    data_dir = Path(tempfile.mkdtemp(prefix="ecgscreen-fuzz-api-"))
    atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
    settings = Settings(data_dir=data_dir, api_keys=[KEY], workers=1, queue_size=4, wait_timeout_s=10)
    app = create_app(settings, pipeline_factory=lambda s: standin_pipeline())
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@functools.cache
def _strategy(operation_id: str, mode: GenerationMode) -> st.SearchStrategy:
    return api_schema().find_operation_by_id(operation_id).as_strategy(generation_mode=mode)


def test_every_operation_is_fuzzed():
    ids = {op.ok().definition.raw.get("operationId") for op in api_schema().get_all_operations()}
    assert ids == set(OPERATIONS)


@pytest.mark.parametrize("operation_id", OPERATIONS)
@examples(0.5)
@given(data=st.data())
def test_operation_answers_within_spec(operation_id, data):
    mode = data.draw(st.sampled_from([GenerationMode.POSITIVE, GenerationMode.NEGATIVE]), label="mode")
    case = data.draw(_strategy(operation_id, mode), label="case")
    TALLY[f"api operation {operation_id}"] += 1
    with time_limit():
        response = case.call(headers=AUTH)
    case.validate_response(response, checks=CHECKS, headers=AUTH)


@pytest.mark.parametrize("operation_id", ["create_report", "digitize", "analyze", "classify"])
def test_empty_upload_answer_is_documented(operation_id):
    """Found by schemathesis: an empty upload got 400, which no upload operation documented."""
    case = api_schema().find_operation_by_id(operation_id).Case(body={"file": b""}, media_type="multipart/form-data")
    response = case.call(headers=AUTH)
    assert response.status_code == 400
    case.validate_response(response, checks=CHECKS, headers=AUTH)


RECORD_SUFFIXES = (".csv", ".edf", ".json")
"""Record formats that come as one upload (WFDB needs two files)."""


@pytest.mark.slow
@examples(0.25)
@given(data=st.data())
def test_mutated_records_through_analyze(data):
    """Real records, mutated, posted to /api/v1/analyze: whatever the reader accepts goes on to the measurement, so
    this reaches `analyze.measure` with damaged signals. The answer is 200 or a documented 4xx, never a 5xx."""
    suffix = data.draw(st.sampled_from(RECORD_SUFFIXES), label="format")
    index = data.draw(st.integers(0, len(seed_files(suffix)) - 1), label="seed")
    raw = seed_files(suffix)[index][suffix]
    fields = edf_fields(raw) if suffix == ".edf" else []
    if data.draw(st.booleans(), label="mutate"):
        raw = apply_edits(raw, data.draw(edits(len(raw), fields), label="edits"), fields)
    case = api_schema().find_operation_by_id("analyze").Case(body={"file": raw}, media_type="multipart/form-data")
    TALLY["api analyze, mutated records"] += 1
    with time_limit():
        response = case.call(headers=AUTH)
    TALLY[f"api analyze, mutated records: {response.status_code}"] += 1
    case.validate_response(response, checks=CHECKS, headers=AUTH)
