"""Shared fixtures: a real Rasa NLU server trained from intents/ (once per test session), and both
conversation stores as one parametrised fixture (whatever holds state must behave alike)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator

import pytest

from bot.config import PROJECT_ROOT
from bot.nlu.server import RasaServer
from bot.nlu.training import train
from bot.state import ConversationStore, MemoryStore, RedisStore
from tests.helpers.services import require_redis


@pytest.fixture(scope="session")
def rasa_server() -> Iterator[RasaServer]:
    """Trains (or reuses) the model for the current intents/ and serves it with real Rasa on loopback.

    Rasa asks for its token on every request: send `params={"token": rasa_server.token}`."""
    model, _ = train(PROJECT_ROOT, PROJECT_ROOT / "intents", PROJECT_ROOT / "models")
    server = RasaServer(PROJECT_ROOT, model)
    loop = asyncio.new_event_loop()
    # The loop runs for the whole session: it reads Rasa's stderr (a full pipe would block Rasa) and restarts
    # Rasa if it dies. Run only inside start/stop, it did neither in between.
    thread = threading.Thread(target=loop.run_forever, name="rasa-server", daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result()
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()


@pytest.fixture(scope="session")
def rasa_url(rasa_server: RasaServer) -> Iterator[str]:
    """The session's Rasa, as a value for RASA_URL. Its token goes into RASA_TOKEN in this process's
    environment, where make_settings and `infobot` child processes (which inherit it) find it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RASA_TOKEN", rasa_server.token)
        yield rasa_server.url


STORE_SECRET = b"test-secret-key-0123456789-abcdefghijkl"


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[ConversationStore]:
    """The in-process store, then a real Redis (a missing Redis fails with what to install)."""
    if request.param == "memory":
        yield MemoryStore(ttl_seconds=60)
        return
    try:
        url = require_redis()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    redis_store = RedisStore(url, ttl_seconds=60, secret_key=STORE_SECRET)
    yield redis_store
    await redis_store.aclose()
