"""/api/v1/reports through the real app (TestClient): success and error paths of every route."""

from __future__ import annotations

import json
import logging
import re
import time

import pytest
from api_testkit import AUTH

from report.model import MAX_FIELD_CHARS


def _wait_done(client, location: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(location, headers=AUTH).json()
        if body["state"] in ("done", "failed"):
            return body
        time.sleep(0.05)
    raise AssertionError("job did not finish")


def test_image_report_with_wait_and_every_file(client, photo_bytes, settings):
    response = client.post(
        "/api/v1/reports?wait=true", headers=AUTH, files={"file": ("scan.bin", photo_bytes)},
        data={"patient_id": "A-7", "patient_name": "Ada Example", "patient_age": "61", "patient_sex": "f"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert re.fullmatch(r"[0-9a-f]{32}", body["id"])
    assert response.headers["location"] == f"/api/v1/reports/{body['id']}"
    report = body["report"]
    assert report["id"] == body["id"] and report["input"]["kind"] == "image"
    assert report["patient"] == {"id": "A-7", "name": "Ada Example", "age": 61, "sex": "F"}
    assert report["status"]["confirmation"] == "unconfirmed: requires physician review"
    magic = {"pdf": b"%PDF-", "overlay.png": b"\x89PNG", "signals.csv": b"time_s,I,II", "signals.edf": b"0       "}
    assert set(body["links"]) == {"self", *magic}
    for name, prefix in magic.items():
        got = client.get(body["links"][name], headers=AUTH)
        assert got.status_code == 200 and got.content.startswith(prefix), name
    assert client.get(body["links"]["self"], headers=AUTH).json()["report"] == report


def test_record_report_without_wait_then_poll(client, edf_bytes):
    response = client.post("/api/v1/reports", headers=AUTH, files={"file": ("x.jpg", edf_bytes)})
    assert response.status_code == 202
    assert response.json()["state"] in ("queued", "running", "done")
    body = _wait_done(client, response.headers["location"])
    assert body["state"] == "done" and body["report"]["input"]["kind"] == "signal"
    assert "overlay.png" not in body["links"]  # no digitization for a record
    missing = client.get(f"/api/v1/reports/{body['id']}/overlay.png", headers=AUTH)
    assert missing.status_code == 404 and "no overlay.png" in missing.json()["detail"]
    assert client.get(body["links"]["signals.csv"], headers=AUTH).status_code == 200


def test_delete_erases_report_and_files(client, edf_bytes, settings):
    body = client.post("/api/v1/reports?wait=true", headers=AUTH, files={"file": ("r.edf", edf_bytes)}).json()
    folder = settings.data_dir / "jobs" / body["id"]
    assert (folder / "report.pdf").exists()
    assert client.delete(f"/api/v1/reports/{body['id']}", headers=AUTH).status_code == 204
    assert not folder.exists()
    assert client.get(f"/api/v1/reports/{body['id']}", headers=AUTH).status_code == 404
    assert client.get(f"/api/v1/reports/{body['id']}/pdf", headers=AUTH).status_code == 404
    assert client.delete(f"/api/v1/reports/{body['id']}", headers=AUTH).status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/reports/0123456789abcdef0123456789abcdef",
                                  "/api/v1/reports/..%2F..%2Fetc%2Fpasswd", "/api/v1/reports/nothex"])
def test_unknown_or_malformed_ids_are_404(client, path):
    response = client.get(path, headers=AUTH)
    assert response.status_code == 404


def test_unknown_file_name_is_404(client, edf_bytes):
    body = client.post("/api/v1/reports?wait=true", headers=AUTH, files={"file": ("r.edf", edf_bytes)}).json()
    response = client.get(f"/api/v1/reports/{body['id']}/secrets.txt", headers=AUTH)
    assert response.status_code == 404 and "unknown file" in response.json()["detail"]


def _stored_jobs(settings) -> list:
    jobs = settings.data_dir / "jobs"
    return sorted(jobs.iterdir()) if jobs.exists() else []


@pytest.mark.parametrize(("content", "name"), [
    (b"just some text, no ECG here\n" * 10, "ecg.jpg"),  # the name lies; the content decides
    (b"\x00\x01\x02\x03" * 200, "ecg.png"),
    (b"GIF89a" + b"\x00" * 100, "ecg.gif"),
])
def test_non_image_is_415_and_nothing_stored(client, settings, content, name):
    response = client.post("/api/v1/reports", headers=AUTH, files={"file": (name, content)})
    assert response.status_code == 415 and "detected from its content" in response.json()["detail"]
    assert _stored_jobs(settings) == []


def test_oversize_is_413_declared_and_chunked(make_client, settings):
    client = make_client(max_upload_mb=0.05)  # 51 kB
    big = b"\x89PNG\r\n\x1a\n" + b"\x00" * 400_000
    response = client.post("/api/v1/reports", headers=AUTH, files={"file": ("big.png", big)})
    assert response.status_code == 413 and "limit" in response.json()["detail"]

    def chunks():
        for _ in range(20):
            yield b"x" * 50_000

    chunked = client.post("/api/v1/reports", headers={**AUTH, "Content-Type": "multipart/form-data; boundary=b"},
                          content=chunks())
    assert chunked.status_code == 413
    # just above the file limit but within the multipart allowance: counted after parsing
    near = b"\x89PNG\r\n\x1a\n" + b"\x00" * 60_000
    assert client.post("/api/v1/reports", headers=AUTH, files={"file": ("n.png", near)}).status_code == 413
    assert _stored_jobs(settings) == []


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("patient_age", "old", "whole number"), ("patient_age", "300", "0–130"), ("patient_sex", "X", "M or F"),
])
def test_bad_patient_fields_are_422(client, edf_bytes, settings, field, value, reason):
    response = client.post("/api/v1/reports", headers=AUTH, files={"file": ("r.edf", edf_bytes)}, data={field: value})
    assert response.status_code == 422 and reason in response.json()["detail"]
    assert _stored_jobs(settings) == []


def test_empty_missing_and_unreadable_files(client, settings):
    empty = client.post("/api/v1/reports", headers=AUTH, files={"file": ("e.png", b"")})
    assert empty.status_code == 400 and "empty" in empty.json()["detail"]
    missing = client.post("/api/v1/reports", headers=AUTH, data={"patient_age": "40"})
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "file"]
    broken = b"\x89PNG\r\n\x1a\n" + b"garbage" * 100  # PNG magic, undecodable body
    response = client.post("/api/v1/reports?wait=true", headers=AUTH, files={"file": ("b.png", broken)})
    assert response.status_code == 422 and response.json()["detail"].startswith("input refused")
    assert response.json()["state"] == "failed"
    assert _stored_jobs(settings) == []  # the refused input is not kept


def test_callback_needs_webhooks_enabled(client, edf_bytes):
    response = client.post("/api/v1/reports", headers=AUTH, files={"file": ("r.edf", edf_bytes)},
                           data={"callback_url": "http://127.0.0.1:9/hook"})
    assert response.status_code == 422 and "not enabled" in response.json()["detail"]


def test_patient_fields_never_logged_and_capped(client, edf_bytes, caplog):
    secret_name, secret_id = "Zebulon Quux-Secretname", "PID-SECRET-4242"
    with caplog.at_level(logging.DEBUG):
        body = client.post("/api/v1/reports?wait=true", headers={**AUTH, "X-Request-ID": "req-test-1"},
                           files={"file": ("r.edf", edf_bytes)},
                           data={"patient_name": secret_name + "x" * 500, "patient_id": secret_id}).json()
    assert len(body["report"]["patient"]["name"]) <= MAX_FIELD_CHARS
    logged = "\n".join(json.dumps(vars(r), default=str) for r in caplog.records)
    assert any(r.getMessage() == "job accepted" for r in caplog.records)  # the logs were captured
    assert "Zebulon" not in logged and secret_id not in logged


def test_request_id_is_echoed(client):
    assert client.get("/livez", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    generated = client.get("/livez", headers={"X-Request-ID": "bad id with spaces"}).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{16}", generated)


def test_cors_off_by_default_and_on_when_configured(make_client):
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    off = make_client().options("/api/v1/reports", headers=preflight)
    assert "access-control-allow-origin" not in off.headers
    on = make_client(cors_origins=["https://app.example"]).options("/api/v1/reports", headers=preflight)
    assert on.headers["access-control-allow-origin"] == "https://app.example"


def test_the_report_route_answers_json_valid_against_the_report_schema(client, edf_bytes):
    import json
    from pathlib import Path

    import jsonschema

    schema = json.loads((Path(__file__).resolve().parents[2] / "report" / "schema.json").read_text())
    posted = client.post("/api/v1/reports?wait=true", headers=AUTH, files={"file": ("r.edf", edf_bytes)}).json()
    answer = client.get(f"/api/v1/reports/{posted['id']}", headers=AUTH)
    assert answer.status_code == 200 and answer.json()["state"] == "done"
    jsonschema.validate(answer.json()["report"], schema)
    assert answer.json()["report"] == posted["report"]
    declared = client.app.openapi()["paths"]["/api/v1/reports/{job_id}"]["get"]["responses"]["200"]
    assert "JobResponse" in json.dumps(declared)
