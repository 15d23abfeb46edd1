"""The HTTP service: webhooks, health, metrics, the web chat page and the staff console."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route

from bot.channels import registry
from bot.channels.webchat_token import WebChatTokens
from bot.config import Settings
from bot.console import console_app
from bot.edge.limits import EdgeLimits, route_limits
from bot.metrics import metrics_response
from bot.ratelimit import AddressLimits, Limiter, guarded_routes
from bot.runtime import Runtime, start_runtime
from bot.webhooks import channel_routes, rest_outbox, runtime_of, twilio_status

WEB_DIR = Path(__file__).resolve().parent / "web"
WEB_CHAT_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


async def healthz(request: Request) -> JSONResponse:
    parts = await runtime_of(request).health()
    ok = all(state == "up" for state in parts.values())
    return JSONResponse({"status": "ok" if ok else "degraded", **parts}, status_code=200 if ok else 503)


async def chat_page(request: Request) -> FileResponse:
    return FileResponse(WEB_DIR / "index.html", headers=WEB_CHAT_HEADERS)


async def chat_script(request: Request) -> FileResponse:
    return FileResponse(WEB_DIR / "chat.js", media_type="text/javascript", headers=WEB_CHAT_HEADERS)


async def metrics(request: Request) -> Response:
    return metrics_response()


def create_app(settings: Settings, *, runtime: Runtime | None = None, manage_rasa: bool = True) -> Starlette:
    """The ASGI app; pass `runtime` to reuse one already started (tests, benchmarks)."""
    limiter = Limiter(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own = runtime is None
        app.state.runtime = runtime or await start_runtime(settings, manage_rasa=manage_rasa)
        try:
            yield
        finally:
            await limiter.aclose()
            if own:
                await app.state.runtime.aclose()

    routes = [
        Route("/", chat_page),
        Route("/chat.js", chat_script),
        Route("/healthz", healthz),
        Route("/metrics", metrics),
        *channel_routes(),
        Route("/webhooks/rest/outbox", rest_outbox, methods=["POST"]),
        Route("/webhooks/twilio/status", twilio_status, methods=["POST"]),
        Mount("/console", app=console_app(settings)),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(EdgeLimits, limits=route_limits(registry.ADAPTERS)),
            Middleware(
                AddressLimits,
                limiter=limiter,
                settings=settings.rate_limits,
                guarded=guarded_routes(registry.ADAPTERS),
            ),
        ],
    )
    app.state.limiter = limiter
    app.state.web_chat_tokens = WebChatTokens.from_settings(settings)
    return app
