"""The real app behind a real uvicorn server (its own HTTP parsing included), with Twilio, Telegram and the
console configured, local fake provider APIs, and either the real Rasa NLU or a dead NLU address."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import text

from bot.app import create_app
from bot.config import Settings
from bot.db import make_engine
from tests.channels.conftest import (
    PUBLIC_BASE_URL,
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    TWILIO_SID,
    TWILIO_TOKEN,
    sign,
)
from tests.console.conftest import NO_RASA, create_staff
from tests.helpers.app import make_settings
from tests.helpers.fake_provider import FakeProvider, serve, telegram_responder, twilio_responder

__all__ = ["PUBLIC_BASE_URL", "REST_API_TOKEN", "STAFF_EMAIL", "TELEGRAM_SECRET", "Server", "running", "sign"]
POSTGRES_URL = os.environ.get("INFOBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
STAFF_EMAIL = "agent@example.org"
REST_API_TOKEN = "rest-api-token-for-edge-tests"
"""Set so that the outbox parses its body (it serves only an authenticated front-end or a web chat token)."""
UNLIMITED = "100000/minute"
"""The fuzzing is of parsing and handling: the abuse limits (tested on their own) must not answer for it."""


@dataclass
class Server:
    url: str
    settings: Settings
    twilio_api: FakeProvider
    telegram_api: FakeProvider


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_schema(schema: str) -> str:
    """A database URL whose tables live in a fresh schema of the test PostgreSQL."""
    engine = make_engine(POSTGRES_URL)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"))
    except Exception as exc:  # noqa: BLE001 - turned into a clear instruction
        pytest.fail(
            f"These tests need PostgreSQL at {POSTGRES_URL} ({exc.__class__.__name__}). Install it: "
            "`apt-get install -y postgresql` and allow trust auth for 127.0.0.1, or set "
            "INFOBOT_TEST_POSTGRES_URL."
        )
    finally:
        engine.dispose()
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


@contextmanager
def running(tmp_path: Path, rasa_url: str, **env: str) -> Iterator[Server]:
    """The app served by uvicorn on a free loopback port, until the block ends."""
    with serve(twilio_responder) as twilio_api, serve(telegram_responder) as telegram_api:
        limits = {
            name: UNLIMITED
            for name in (
                "INFOBOT_RATE_LIMIT_SENDER",
                "INFOBOT_RATE_LIMIT_REST",
                "INFOBOT_RATE_LIMIT_OUTBOX",
                "INFOBOT_RATE_LIMIT_PROVIDER",
                "INFOBOT_RATE_LIMIT_LOGIN",
            )
        }
        settings = make_settings(
            tmp_path,
            RASA_URL=rasa_url,
            TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
            TWILIO_ACCOUNT_SID=TWILIO_SID,
            TWILIO_API_BASE=twilio_api.url,
            PUBLIC_BASE_URL=PUBLIC_BASE_URL,
            TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN,
            TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET,
            TELEGRAM_API_BASE=f"{telegram_api.url}/bot",
            REST_API_TOKEN=REST_API_TOKEN,
            **{**limits, **env},
        )
        create_staff(settings, STAFF_EMAIL, "agent")
        port = free_port()
        config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 120
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        try:
            yield Server(f"http://127.0.0.1:{port}", settings, twilio_api, telegram_api)
        finally:
            server.should_exit = True
            thread.join(30)


@pytest.fixture(scope="module")
def dead_nlu_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """NLU unreachable (every message gets the numbered menu), PostgreSQL: NUL and the like reach a real
    database here, which SQLite would store without complaint."""
    tmp = tmp_path_factory.mktemp("edge-dead")
    with running(tmp, NO_RASA, DATABASE_URL=postgres_schema("edge_fuzz")) as server:
        yield server


@pytest.fixture(scope="module")
def live_server(rasa_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The real Rasa NLU, SQLite."""
    with running(tmp_path_factory.mktemp("edge-live"), rasa_url) as server:
        yield server
