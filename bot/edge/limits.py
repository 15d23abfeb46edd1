"""Limits at the edge, checked before any route parses, authenticates or stores anything.

Per route: a body size cap (413), enforced from Content-Length before the route runs and again on the
bytes actually streamed (Starlette's RequestBodyLimitMiddleware, so a chunked or lying body is cut off
as soon as it passes the cap, without reading the rest); multipart bodies refused (415), because Starlette
spools their file parts to disk before a Twilio signature or the console's CSRF token could be checked and
no route of ours takes files; and a deadline for the whole body (408), so a client trickling bytes does
not hold a request open forever.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar, Protocol

from prometheus_client import Counter
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

KIB = 1024
BODY_SECONDS = 30.0
"""Time a client has to send a whole body; far more than a provider or a phone on a slow network needs."""

EDGE_REFUSALS = Counter(
    "infobot_edge_refusals_total", "Requests refused at the edge, before any route ran", ["route", "reason"]
)


@dataclass(frozen=True)
class RouteLimit:
    name: str
    """The metric label: which kind of route refused the request."""
    max_bytes: int


class LimitedRoute(Protocol):
    """A channel adapter as the edge sees it (bot/channels/base.py's Channel)."""

    name: ClassVar[str]
    path: ClassVar[str]
    max_body_bytes: ClassVar[int]


DEFAULT_LIMIT = RouteLimit("other", 64 * KIB)
OWN_ROUTE_LIMITS: dict[str, RouteLimit] = {
    "/webhooks/rest/": RouteLimit("rest", 64 * KIB),
    "/webhooks/twilio/status": RouteLimit("twilio_status", 64 * KIB),
    "/console": RouteLimit("console", 64 * KIB),
}
"""Path prefix -> limit for the routes that are not a channel's webhook (the web chat's outbox, delivery
statuses, console forms of a few fields); each channel declares its own (`route_limits`)."""


def route_limits(channels: Iterable[type[LimitedRoute]]) -> dict[str, RouteLimit]:
    """Every channel's webhook with the cap it declares, and the service's own routes."""
    own = {c.path: RouteLimit(c.name, c.max_body_bytes) for c in channels}
    return {**OWN_ROUTE_LIMITS, **own}


def route_limit(path: str, limits: Mapping[str, RouteLimit]) -> RouteLimit:
    """The limit of the longest prefix of `path` in `limits`, else the default."""
    matches = [prefix for prefix in limits if path.startswith(prefix)]
    return limits[max(matches, key=len)] if matches else DEFAULT_LIMIT


class BodyTimeout(Exception):
    """The client did not finish sending its body in time."""


class EdgeLimits:
    """ASGI middleware: refuse what is too big, multipart or too slow before the app sees the body."""

    def __init__(
        self, app: ASGIApp, limits: Mapping[str, RouteLimit], body_seconds: float = BODY_SECONDS
    ) -> None:
        self.app = app
        self.limits = dict(limits)
        self.body_seconds = body_seconds
        self._limited = {
            limit: RequestBodyLimitMiddleware(app, max_body_size=limit.max_bytes)
            for limit in (DEFAULT_LIMIT, *self.limits.values())
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = route_limit(scope.get("path", ""), self.limits)
        refusal = _refusal(scope, limit)
        if refusal is not None:
            status, reason, message = refusal
            EDGE_REFUSALS.labels(route=limit.name, reason=reason).inc()
            await JSONResponse({"error": message}, status_code=status, headers=_CLOSE)(scope, receive, send)
            return
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        deadline = time.monotonic() + self.body_seconds
        try:
            await self._limited[limit](scope, _with_deadline(receive, deadline), watched_send)
        except BodyTimeout:
            EDGE_REFUSALS.labels(route=limit.name, reason="slow_body").inc()
            if started:
                raise
            message = f"the body was not received within {self.body_seconds:g} seconds"
            await JSONResponse({"error": message}, status_code=408, headers=_CLOSE)(scope, receive, send)


_CLOSE = {"connection": "close"}
"""After a refusal the rest of the body is never read: the connection cannot be reused."""


def _refusal(scope: Scope, limit: RouteLimit) -> tuple[int, str, str] | None:
    """(status, metric reason, message) when the headers alone decide, else None."""
    lengths: set[str] = set()
    for name, value in scope.get("headers", []):
        if name == b"content-type" and b"multipart/" in value.lower():
            return 415, "multipart", "multipart bodies are not accepted here"
        if name == b"content-length":
            lengths.add(value.decode("latin-1").strip())
    if not lengths:
        return None
    if len(lengths) > 1 or not all(v.isdigit() and v.isascii() for v in lengths):
        return 400, "bad_length", "Content-Length is not one whole number"
    if int(lengths.pop()) > limit.max_bytes:
        return 413, "too_large", f"the body is larger than {limit.max_bytes} bytes"
    return None


def _with_deadline(receive: Receive, deadline: float) -> Receive:
    """`receive` that gives up on the request body at `deadline`; later messages (disconnects, once the
    body is in) are waited for as usual."""
    body_done = False

    async def receive_until_deadline() -> Message:
        nonlocal body_done
        if body_done:
            return await receive()
        try:
            message = await asyncio.wait_for(receive(), max(deadline - time.monotonic(), 0.0))
        except TimeoutError as exc:
            raise BodyTimeout from exc
        body_done = message["type"] != "http.request" or not message.get("more_body", False)
        return message

    return receive_until_deadline
