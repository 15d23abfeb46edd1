"""The real app and runtime in the test's own event loop (several workers can share one loop), a fake
Twilio API on loopback, and helpers to cut PostgreSQL or Redis."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from sqlalchemy import Engine, text
from twilio.request_validator import RequestValidator

from bot.app import create_app
from bot.config import Settings
from bot.db import make_engine
from bot.runtime import Runtime, start_runtime
from tests.helpers.app import make_settings
from tests.helpers.fake_provider import FakeProvider, serve, twilio_responder

NO_RASA = "http://127.0.0.1:9"
"""No NLU: the bot answers with the numbered menu; numbers, payloads, STOP and erasure need none."""
TWILIO_TOKEN = "twilio-auth-token-for-durability-tests"
TWILIO_SID = "AC00000000000000000000000000000042"
PUBLIC = "https://bot.example.org"
POSTGRES_URL = os.environ.get("INFOBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
SCHEMA = "infobot_durability"


@pytest.fixture
def fake_twilio() -> Iterator[FakeProvider]:
    with serve(twilio_responder) as provider:
        yield provider


def bot_settings(tmp_path: Path, api: FakeProvider, **env: str) -> Settings:
    return make_settings(
        tmp_path,
        RASA_URL=NO_RASA,
        TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
        TWILIO_ACCOUNT_SID=TWILIO_SID,
        TWILIO_API_BASE=api.url,
        PUBLIC_BASE_URL=PUBLIC,
        **env,
    )


@dataclass
class Bot:
    runtime: Runtime
    client: httpx.AsyncClient

    async def twilio(self, body: str, sid: str, sender: str = "+50688887777") -> httpx.Response:
        params = {
            "MessageSid": sid,
            "SmsMessageSid": sid,
            "AccountSid": TWILIO_SID,
            "From": f"whatsapp:{sender}",
            "To": "whatsapp:+14155238886",
            "Body": body,
            "NumMedia": "0",
        }
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC + "/webhooks/twilio", params)
        return await self.client.post(
            "/webhooks/twilio", data=params, headers={"X-Twilio-Signature": signature}
        )


@asynccontextmanager
async def running_bot(settings: Settings) -> AsyncIterator[Bot]:
    """One worker: its runtime started in this loop (start-up replay and recovery included)."""
    runtime = await start_runtime(settings, manage_rasa=False)
    app = create_app(settings, runtime=runtime)
    app.state.runtime = runtime  # the lifespan does this under uvicorn; ASGITransport runs no lifespan
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as client:
            yield Bot(runtime, client)
    finally:
        await runtime.aclose()


def fresh_postgres() -> str:
    """A clean schema in the test database; the URL that uses it."""
    engine = make_engine(POSTGRES_URL)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}"))
    except Exception as exc:  # noqa: BLE001 - turned into a clear instruction
        pytest.fail(
            f"These tests need PostgreSQL at {POSTGRES_URL} ({exc.__class__.__name__}): "
            "set INFOBOT_TEST_POSTGRES_URL"
        )
    finally:
        engine.dispose()
    return POSTGRES_URL + f"?options=-csearch_path%3D{SCHEMA}"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


DOWN_DATABASE = "postgresql://postgres@127.0.0.1:1/nothing"


def down_engine() -> Engine:
    """A database that refuses connections, as PostgreSQL does while it is down."""
    return make_engine(DOWN_DATABASE)


@dataclass
class OwnRedis:
    """A redis-server of the test's own, to kill and restart: it comes back with its last snapshot
    (`snapshot()`), or empty if none was taken — as a real Redis without persistence loses everything."""

    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        options = ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory)]
        options += ["--dbfilename", "dump.rdb", "--appendonly", "no", "--save", ""]
        self.process = subprocess.Popen(
            ["redis-server", *options], cwd=self.directory, stdout=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start (is it installed? apt-get install -y redis-server)")

    def snapshot(self) -> None:
        redis.Redis.from_url(self.url).save()

    def forget(self) -> None:
        (self.directory / "dump.rdb").unlink(missing_ok=True)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None


@contextmanager
def own_redis(directory: Path) -> Iterator[OwnRedis]:
    directory.mkdir(parents=True, exist_ok=True)
    server = OwnRedis(closed_port(), directory)
    server.start()
    try:
        yield server
    finally:
        server.kill()


def texts(response: httpx.Response) -> list[str]:
    """The <Message> bodies of a TwiML answer."""
    import re

    return re.findall(r"<Message>(.*?)</Message>", response.text, flags=re.S)


def sent_bodies(api: FakeProvider) -> list[dict[str, Any]]:
    return [r.form for r in api.sent("/Messages.json")]
