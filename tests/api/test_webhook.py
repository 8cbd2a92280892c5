"""Signed webhooks with retries, against a receiver on 127.0.0.1 that fails once before accepting."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from api_testkit import AUTH

from api.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookUrlError, check_webhook_url, signature

SECRET = "hook-secret"


@pytest.fixture
def receiver():
    calls: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            calls.append({"body": body, "headers": dict(self.headers)})
            self.send_response(500 if len(calls) == 1 else 204)  # first delivery fails
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", calls
    server.shutdown()
    server.server_close()


def test_signed_webhook_is_retried_until_delivered(make_client, edf_bytes, receiver):
    url, calls = receiver
    client = make_client(webhook_secret=SECRET, webhook_backoff_s=0.05)
    response = client.post("/api/v1/reports", headers=AUTH, files={"file": ("r.edf", edf_bytes)},
                           data={"callback_url": url, "patient_name": "Hook Secretname"})
    assert response.status_code == 202
    deadline = time.monotonic() + 30
    while len(calls) < 2:
        assert time.monotonic() < deadline, f"webhook not retried: {len(calls)} call(s)"
        time.sleep(0.05)
    for call in calls:
        stamp = call["headers"][TIMESTAMP_HEADER]
        assert call["headers"][SIGNATURE_HEADER] == signature(SECRET, stamp, call["body"])
    payload = json.loads(calls[-1]["body"])
    assert payload["id"] == response.json()["id"] and payload["state"] == "done"
    assert payload["screening"] in ("normal", "abnormal — review", "insufficient quality")
    assert b"Secretname" not in calls[-1]["body"]
    time.sleep(0.1)
    metrics = client.get("/metrics", headers=AUTH).text
    assert 'ecgscreen_webhooks_total{outcome="retried"} 1.0' in metrics
    assert 'ecgscreen_webhooks_total{outcome="delivered"} 1.0' in metrics


def test_tampered_body_fails_verification():
    assert signature(SECRET, "1", b'{"a":1}') != signature(SECRET, "1", b'{"a":2}')
    assert signature(SECRET, "1", b"x") != signature(SECRET, "2", b"x")


@pytest.mark.parametrize(("url", "reason"), [
    ("ftp://127.0.0.1/x", "absolute http"), ("/relative", "absolute http"), ("http://evil.example/x", "not in"),
])
def test_webhook_url_checks(url, reason):
    with pytest.raises(WebhookUrlError, match=reason):
        check_webhook_url(url, secret=SECRET, allowed_hosts=["127.0.0.1"])
    assert check_webhook_url("http://127.0.0.1:8/x", secret=SECRET, allowed_hosts=["127.0.0.1"])
