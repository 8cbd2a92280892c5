"""API keys (hashed, several, file-based revocation, 401s), public health routes, JSON logs with request ids."""

from __future__ import annotations

import json
import logging
import os

import pytest
from api_testkit import AUTH, KEY

from api.core.logging import JsonFormatter, request_id
from api.core.security import KeyRing, key_digest

PROTECTED = [
    ("post", "/api/v1/reports"), ("get", "/api/v1/reports/0123456789abcdef0123456789abcdef"),
    ("get", "/api/v1/reports/0123456789abcdef0123456789abcdef/pdf"),
    ("delete", "/api/v1/reports/0123456789abcdef0123456789abcdef"),
    ("post", "/api/v1/digitize"), ("post", "/api/v1/analyze"), ("post", "/api/v1/classify"), ("get", "/metrics"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_every_protected_route_needs_a_key(client, method, path):
    missing = getattr(client, method)(path)
    assert missing.status_code == 401 and "missing API key" in missing.json()["detail"]
    wrong = getattr(client, method)(path, headers={"X-API-Key": KEY + "x"})
    assert wrong.status_code == 401 and "invalid" in wrong.json()["detail"]


def test_public_routes_and_bearer(client):
    assert client.get("/livez").status_code == 200
    assert client.get("/readyz").json()["ready"] is True  # stand-in classifier loaded
    page = client.get("/")
    assert page.status_code == 200 and "API key" in page.text and 'id="upload-form"' in page.text
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/metrics", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200


def test_readyz_reports_missing_models(make_client):
    from report.pipeline import Pipeline

    client = make_client(pipeline=Pipeline("/nonexistent-models"))
    response = client.get("/readyz")
    assert response.status_code == 503 and "classifiers unavailable" in response.json()["reasons"][0]
    relaxed = make_client(pipeline=Pipeline("/nonexistent-models"), require_models=False)
    assert relaxed.get("/readyz").status_code == 200


def test_keys_file_digests_several_keys_and_revocation(make_client, tmp_path):
    keys_file = tmp_path / "keys.txt"
    keys_file.write_text(f"# app backend\nsha256:{key_digest('backend-key')}\nops-key\n")
    client = make_client(api_keys=[], api_keys_file=keys_file)
    for key in ("backend-key", "ops-key"):
        assert client.get("/metrics", headers={"X-API-Key": key}).status_code == 200
    assert client.get("/metrics", headers=AUTH).status_code == 401  # env key not configured here
    keys_file.write_text("ops-key\n")  # revoke the backend key
    stat = keys_file.stat()
    os.utime(keys_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert client.get("/metrics", headers={"X-API-Key": "backend-key"}).status_code == 401
    assert client.get("/metrics", headers={"X-API-Key": "ops-key"}).status_code == 200


def test_keyring_keeps_only_digests_and_rejects_malformed_file(tmp_path):
    ring = KeyRing(["k1", "k2"])
    assert ring.accepts("k1") and ring.accepts("k2") and not ring.accepts("k3") and not ring.accepts("")
    assert "k1" not in repr(vars(ring))  # only digests are held
    bad = tmp_path / "bad.txt"
    bad.write_text("sha256:not-hex\n")
    with pytest.raises(ValueError, match="malformed key digest"):
        KeyRing([], bad)
    assert not KeyRing([], tmp_path / "absent.txt").configured


def test_no_keys_configured_refuses_everything(make_client):
    client = make_client(api_keys=[])
    assert client.get("/metrics", headers=AUTH).status_code == 401


def test_json_log_lines_carry_the_request_id():
    token = request_id.set("rid-42")
    try:
        record = logging.LogRecord("ecgscreen.api", logging.INFO, __file__, 1, "job accepted", (), None)
        record.job_id = "abc"
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id.reset(token)
    assert line["request_id"] == "rid-42" and line["job_id"] == "abc" and line["msg"] == "job accepted"
