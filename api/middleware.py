"""ASGI middleware: request ids + JSON access log + request metrics, and the upload size limit.

Both are pure ASGI (no buffering of responses); the size limit answers 413 from ``Content-Length`` before the body is
read, and counts the bytes of chunked bodies as they arrive.
"""

from __future__ import annotations

import json
import re
import secrets
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.core.logging import get_logger, request_id
from api.core.metrics import Metrics

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
log = get_logger()


async def _json_response(send: Send, status: int, body: dict, headers: list[tuple[bytes, bytes]] = ()) -> None:
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()), *headers]})
    await send({"type": "http.response.body", "body": payload})


class RequestContextMiddleware:
    """Gives each request an id (``X-Request-ID``, taken from the client when well-formed), logs one JSON line per
    request (method, route template, status, duration — never query values or form fields) and counts it."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = given if _SAFE_ID.match(given) else secrets.token_hex(8)
        token = request_id.set(rid)
        status_code = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.requests.labels(scope["method"], template, str(status_code)).inc()
            self.metrics.request_seconds.labels(scope["method"], template).observe(elapsed)
            log.info("request", extra={"method": scope["method"], "route": template, "status": status_code,
                                       "ms": round(elapsed * 1000, 1)})
            request_id.reset(token)


class BodyLimitMiddleware:
    """413 for request bodies above ``limit`` bytes (declared or counted)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        detail = {"detail": f"request body larger than the limit of {self.limit / 2**20:.1f} MB"}
        if declared is not None:
            try:
                too_big = int(declared) > self.limit
            except ValueError:
                await _json_response(send, 400, {"detail": "malformed Content-Length"})
                return
            if too_big:
                await _json_response(send, 413, detail, [(b"connection", b"close")])
                return
            await self.app(scope, receive, send)
            return
        # no Content-Length (chunked): read it here, up to the limit, then replay it
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            size += len(message.get("body", b""))
            if size > self.limit:
                await _json_response(send, 413, detail, [(b"connection", b"close")])
                return
            chunks.append(message)
            more = message.get("more_body", False)
        await self.app(scope, _replay(chunks, receive), send)


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive
