"""The bad-input corpus through ``POST /api/v1/reports?wait=true`` and, for a subset, the stage endpoints.

Real app, real pipeline, stand-in classifier models (`conftest.api`). For every case: no 5xx; the status and the
reason as stated; for refused inputs nothing stored (no job row, no job folder); for reports, the report as stated.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from api_testkit import AUTH
from cases import CASES, Case, Refused, Reported, api_form
from expect import check_report, contains


def stored(client) -> tuple[dict[str, int], list[str]]:
    """Job rows per state and job folders: what the service keeps."""
    services = client.app.state.services
    return services.store.counts(), sorted(p.name for p in services.jobs_dir.iterdir())


def upload(case: Case, source: Path) -> dict:
    return {"file": (case.upload_name or source.name, source.read_bytes())}


def _params(selected=lambda case: True):
    return [pytest.param(c, id=c.id, marks=[pytest.mark.slow] if c.slow else []) for c in CASES if selected(c)]


@pytest.mark.parametrize("case", _params())
def test_case_through_api(case: Case, built, api):
    source = built(case)
    before = stored(api)
    response = api.post("/api/v1/reports?wait=true", headers=AUTH, files=upload(case, source), data=api_form(case))
    assert response.status_code < 500, response.text
    body = response.json()
    expected = case.api
    if isinstance(expected, Refused):
        detail = str(body.get("detail"))
        assert response.status_code == expected.api_status, f"{response.status_code}: {detail}"
        assert contains(detail, expected.api_reason or expected.reason), detail
        assert str(api.app.state.services.jobs_dir.parent) not in detail  # no server paths in answers
        assert stored(api) == before, "a refused input left a job row or files behind"
        return
    assert isinstance(expected, Reported)
    assert response.status_code == 200, response.text
    assert body["state"] == "done"
    check_report(body["report"], expected)
    assert set(stored(api)[1]) - set(before[1]) == {body["id"]}  # one job folder, named by its random id
    assert api.get(body["links"]["pdf"], headers=AUTH).content[:5] == b"%PDF-"
    assert api.delete(f"/api/v1/reports/{body['id']}", headers=AUTH).status_code == 204
    assert stored(api)[1] == before[1]


@pytest.mark.parametrize("case", _params(lambda c: c.stage is not None))
def test_case_through_stage_endpoint(case: Case, built, api):
    assert case.stage is not None
    source = built(case)
    before = stored(api)
    response = api.post(f"/api/v1/{case.stage.endpoint}", headers=AUTH, files=upload(case, source))
    assert response.status_code == case.stage.status, response.text
    if response.status_code == 200:
        assert "record" in response.json() if case.stage.endpoint == "digitize" else "measurements" in response.json()
    else:
        assert contains(str(response.json()["detail"]), case.stage.reason), response.text
    assert stored(api) == before  # stages never store anything


def test_refused_input_without_wait_keeps_only_the_reason(built, api):
    """Without ``?wait`` the client learns the refusal by polling, so the failed job's row stays (state and
    reason); the uploaded file and every job file are gone."""
    case = next(c for c in CASES if c.id == "truncated_jpeg")
    source = built(case)
    response = api.post("/api/v1/reports", headers=AUTH, files=upload(case, source))
    assert response.status_code == 202
    job_id = response.json()["id"]
    assert api.app.state.services.runner.wait(job_id, 60)
    body = api.get(f"/api/v1/reports/{job_id}", headers=AUTH).json()
    assert body["state"] == "failed" and contains(body["error"], "input refused: ")
    assert contains(body["error"], case.api.reason)
    assert not (api.app.state.services.jobs_dir / job_id).exists()
    assert api.delete(f"/api/v1/reports/{job_id}", headers=AUTH).status_code == 204
