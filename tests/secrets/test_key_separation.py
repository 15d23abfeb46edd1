"""Each use of the secret has its own derived key: pseudonyms (records, Redis keys) and console session
cookies are made with different HKDF keys, never with the master key itself."""

from __future__ import annotations

import os
from pathlib import Path

import itsdangerous
import redis
from sqlalchemy import select
from starlette.testclient import TestClient

from bot.app import create_app
from bot.console import COOKIE
from bot.db import make_engine
from bot.db.models import MessageEvent
from bot.privacy import pseudonymise
from bot.runtime import start_runtime
from bot.vocab.messages import InboundMessage
from tests.console.conftest import NO_RASA, create_staff, log_in
from tests.helpers.app import make_settings

REDIS_URL = os.environ.get("INFOBOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


async def test_people_are_pseudonymised_with_the_pseudonym_key_not_the_master(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, RASA_URL=NO_RASA, REDIS_URL=REDIS_URL)
    sender = f"key-separation-{os.getpid()}"
    runtime = await start_runtime(settings, manage_rasa=False)
    try:
        await runtime.conversations.handle(InboundMessage(channel="rest", sender=sender, text="hola"))
    finally:
        await runtime.aclose()
    expected = pseudonymise(settings.pseudonym_key, f"rest:{sender}")
    with_master = pseudonymise(settings.secret_key, f"rest:{sender}")
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            people = set(conn.execute(select(MessageEvent.person)).scalars())
    finally:
        engine.dispose()
    assert people == {expected}
    keys = set(redis.Redis.from_url(REDIS_URL, decode_responses=True).keys("infobot:*"))
    try:
        assert f"infobot:conv:{expected}" in keys
        assert not any(with_master in key for key in keys)
    finally:
        redis.Redis.from_url(REDIS_URL).delete(f"infobot:conv:{expected}")


def test_console_cookies_are_signed_with_the_session_key_only(tmp_path: Path) -> None:
    """The same session payload, signed with the master key (or the pseudonym key), is not a session."""
    settings = make_settings(tmp_path, RASA_URL=NO_RASA)
    create_staff(settings, "admin@example.org", "admin")
    with TestClient(create_app(settings)) as client:
        log_in(client, "admin@example.org")
        genuine = client.cookies[COOKIE]
        payload = itsdangerous.TimestampSigner(settings.session_key.hex()).unsign(genuine)
        master, pseudonym = settings.secret_key.decode() + ":console", settings.pseudonym_key.hex()
        forgeries = [itsdangerous.TimestampSigner(key).sign(payload).decode() for key in (master, pseudonym)]
        for cookie, allowed in ((forgeries[0], False), (forgeries[1], False), (genuine, True)):
            client.cookies.clear()
            client.cookies.set(COOKIE, cookie, path="/console")
            response = client.get("/console/", follow_redirects=False)
            if allowed:
                assert response.status_code == 200
            else:
                assert response.status_code in (302, 303, 307)
                assert "/console/login" in response.headers["location"]
