"""Job-finished callbacks: a JSON POST signed with HMAC-SHA256, retried with exponential back-off.

Headers: ``X-Ecgscreen-Timestamp`` (Unix seconds) and ``X-Ecgscreen-Signature: sha256=<hex>`` where the digest is
``HMAC(secret, timestamp + "." + body)``. A receiver recomputes it with `signature` and rejects old timestamps.
The body carries the job id, state, screening status and links, never the patient fields.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

SIGNATURE_HEADER = "X-Ecgscreen-Signature"
TIMESTAMP_HEADER = "X-Ecgscreen-Timestamp"


class WebhookUrlError(ValueError):
    """The callback URL is not acceptable (scheme, host not allowed, webhooks not configured)."""


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of ``timestamp.body`` under ``secret``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def check_webhook_url(url: str, *, secret: str | None, allowed_hosts: list[str]) -> str:
    """Validate a callback URL against the settings; returns it or raises `WebhookUrlError`."""
    if not secret:
        raise WebhookUrlError("webhooks are not enabled on this server (no ECGSCREEN_WEBHOOK_SECRET)")
    if len(url) > 2000:
        raise WebhookUrlError("callback URL longer than 2000 characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookUrlError("callback URL must be an absolute http(s) URL")
    if allowed_hosts and parts.hostname not in allowed_hosts:
        raise WebhookUrlError(f"callback host {parts.hostname!r} is not in ECGSCREEN_WEBHOOK_HOSTS")
    return url


class WebhookSender:
    """Delivers callbacks on background threads so workers never wait on a slow receiver."""

    def __init__(
        self, secret: str | None, *, attempts: int = 4, backoff_s: float = 1.0, timeout_s: float = 10.0,
        on_outcome: Callable[[str], None] | None = None,
    ) -> None:
        self.secret, self.attempts, self.backoff_s, self.timeout_s = secret, attempts, backoff_s, timeout_s
        self.on_outcome = on_outcome or (lambda outcome: None)

    def send(self, url: str, payload: dict[str, Any]) -> threading.Thread:
        thread = threading.Thread(target=self.deliver, args=(url, payload), name="webhook", daemon=True)
        thread.start()
        return thread

    def deliver(self, url: str, payload: dict[str, Any]) -> bool:
        """POST until a 2xx answer or the attempts are used up; True when delivered."""
        assert self.secret, "webhook sender without a secret"
        body = json.dumps(payload, separators=(",", ":")).encode()
        delay = self.backoff_s
        for attempt in range(1, self.attempts + 1):
            stamp = str(int(time.time()))
            request = urllib.request.Request(url, data=body, method="POST", headers={
                "Content-Type": "application/json",
                TIMESTAMP_HEADER: stamp,
                SIGNATURE_HEADER: signature(self.secret, stamp, body),
                "User-Agent": "ecgscreen-webhook/1",
            })
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310 - checked URL
                    if 200 <= response.status < 300:
                        self.on_outcome("delivered")
                        return True
            except (urllib.error.URLError, OSError, ValueError):
                pass
            if attempt < self.attempts:
                self.on_outcome("retried")
                time.sleep(delay)
                delay *= 2
        self.on_outcome("failed")
        return False
