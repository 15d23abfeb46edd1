"""Shared fixtures: a real Rasa NLU server trained from intents/ (once per test session)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from bot.config import PROJECT_ROOT
from bot.nlu.server import RasaServer
from bot.nlu.training import train


@pytest.fixture(scope="session")
def rasa_url() -> Iterator[str]:
    """Trains (or reuses) the model for the current intents/ and serves it with real Rasa on loopback."""
    model, _ = train(PROJECT_ROOT, PROJECT_ROOT / "intents", PROJECT_ROOT / "models")
    server = RasaServer(PROJECT_ROOT, model)
    loop = asyncio.new_event_loop()
    loop.run_until_complete(server.start())
    try:
        yield server.url
    finally:
        loop.run_until_complete(server.stop())
        loop.close()
