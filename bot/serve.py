"""`infobot serve`: runs the service with uvicorn and says when it is ready and how long it took."""

from __future__ import annotations

import asyncio
import signal
import time

import uvicorn
from starlette.types import ASGIApp

from bot.app import create_app
from bot.config import Settings
from bot.logs import configure_json_logging

KEEP_ALIVE_SECONDS = 90


async def _announce_when_ready(server: uvicorn.Server, host: str, port: int, started: float) -> None:
    while not server.started:
        if server.should_exit:
            return
        await asyncio.sleep(0.1)
    base = f"http://{host}:{port}"
    print(f"infobot ready in {time.monotonic() - started:.1f} s", flush=True)
    print(f"  web chat:       {base}/", flush=True)
    print(f"  REST webhook:   {base}/webhooks/rest/webhook", flush=True)
    print(f"  health:         {base}/healthz", flush=True)
    print(f"  staff console:  {base}/console/", flush=True)
    print("  first console account: .venv/bin/infobot staff add you@example.org --role admin", flush=True)
    print("                         (it asks for the password on stdin)", flush=True)


def uvicorn_config(settings: Settings, app: ASGIApp, host: str, port: int) -> uvicorn.Config:
    """How uvicorn runs the app; X-Forwarded-For/-Proto are believed only from FORWARDED_ALLOW_IPS."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        # Longer than a reverse proxy's idle timeout (nginx 75 s, cloud load balancers 60 s): a reused
        # upstream connection must never be closed under a request in flight (sporadic 502s, slow tails).
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        # The client address (abuse limits) and the scheme (Twilio signatures without PUBLIC_BASE_URL)
        # come from a proxy's headers only when the proxy is one we were told about: anyone else could
        # write them.
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )


async def serve(settings: Settings, host: str, port: int) -> int:
    started = time.monotonic()
    configure_json_logging()
    server = uvicorn.Server(uvicorn_config(settings, create_app(settings), host, port))
    announcer = asyncio.create_task(_announce_when_ready(server, host, port, started))
    # Closing the terminal (SIGHUP) shuts down as SIGTERM does: requests finish, then Rasa is stopped.
    hangup = signal.signal(signal.SIGHUP, server.handle_exit)
    try:
        await server.serve()
    finally:
        signal.signal(signal.SIGHUP, hangup)
    announcer.cancel()
    return 0 if server.started else 1
