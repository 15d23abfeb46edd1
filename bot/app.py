"""The HTTP service: webhooks, health, metrics and the web chat page."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from bot.channels import ChannelError, RestChannel
from bot.config import Settings
from bot.metrics import MESSAGES_IN, MESSAGES_OUT, metrics_response
from bot.runtime import Runtime, start_runtime

WEB_DIR = Path(__file__).resolve().parent / "web"
log = logging.getLogger(__name__)


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def healthz(request: Request) -> JSONResponse:
    parts = await _runtime(request).health()
    ok = all(state == "up" for state in parts.values())
    return JSONResponse({"status": "ok" if ok else "degraded", **parts}, status_code=200 if ok else 503)


async def rest_webhook(request: Request) -> Response:
    channel = RestChannel()
    try:
        await channel.verify(request)
        messages = await channel.parse(request)
    except ChannelError as exc:
        return JSONResponse({"error": str(exc)}, status_code=exc.status)
    replies = []
    for inbound in messages:
        MESSAGES_IN.labels(channel=channel.name).inc()
        for outbound in await _runtime(request).conversations.handle(inbound):
            MESSAGES_OUT.labels(channel=channel.name, language=outbound.language or "unknown").inc()
            replies.append(channel.render(outbound))
    return JSONResponse(replies)


async def chat_page(request: Request) -> FileResponse:
    return FileResponse(WEB_DIR / "index.html")


async def metrics(request: Request) -> Response:
    return metrics_response()


def create_app(settings: Settings, *, runtime: Runtime | None = None, manage_rasa: bool = True) -> Starlette:
    """The ASGI app; pass `runtime` to reuse one already started (tests, benchmarks)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own = runtime is None
        app.state.runtime = runtime or await start_runtime(settings, manage_rasa=manage_rasa)
        try:
            yield
        finally:
            if own:
                await app.state.runtime.aclose()

    routes = [
        Route("/", chat_page),
        Route("/healthz", healthz),
        Route("/metrics", metrics),
        Route("/webhooks/rest/webhook", rest_webhook, methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
