"""Redis down (a real redis-server killed): opt-outs are still respected and still recorded, a
conversation held by staff stays quiet, what Redis missed reaches it when it is back, and deliveries are
still answered once — claimed in SQL while Redis is down or after it came back empty."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.channels.base import ContactStopped
from bot.db import session_factory
from bot.db.models import ContactPreference, Escalation
from bot.state.record import StoredConversation
from tests.durability.conftest import (
    Bot,
    OwnRedis,
    bot_settings,
    fresh_postgres,
    own_redis,
    running_bot,
    texts,
)
from tests.durability.test_database_down import Outage, person
from tests.durability.test_exactly_once import NO_LIMITS, with_nlu
from tests.helpers.fake_provider import FakeProvider


@pytest.fixture
async def redis_server(tmp_path: Path) -> AsyncIterator[OwnRedis]:
    with own_redis(tmp_path / "redis") as server:
        yield server


@pytest.fixture
async def worker(tmp_path: Path, fake_twilio: FakeProvider, redis_server: OwnRedis) -> AsyncIterator[Bot]:
    settings = bot_settings(
        tmp_path, fake_twilio, DATABASE_URL=fresh_postgres(), REDIS_URL=redis_server.url, **NO_LIMITS
    )
    async with running_bot(settings) as bot:
        yield bot


async def back_up(bot: Bot, server: OwnRedis) -> None:
    server.start()
    for _ in range(100):
        if await bot.runtime.store.ping():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the worker did not reconnect to Redis")


def opted_out_in_sql(bot: Bot, sender: str) -> bool:
    with session_factory(bot.runtime.database)() as session:
        row = session.get(ContactPreference, person(bot, sender))
        return bool(row and row.opted_out)


async def test_an_opt_out_holds_and_is_recorded_while_redis_is_down_and_after_it_lost_everything(
    worker: Bot, redis_server: OwnRedis
) -> None:
    assert texts(await worker.twilio("hola", "SMr01", "+50640000001"))
    assert texts(await worker.twilio("STOP", "SMr02", "+50640000001"))
    assert opted_out_in_sql(worker, "+50640000001")

    redis_server.kill()
    assert texts(await worker.twilio("hola", "SMr03", "+50640000001")) == []  # opted out: nothing
    with pytest.raises(ContactStopped):
        await worker.runtime.sender.check_allowed("whatsapp:+50640000001", "whatsapp")
    assert texts(await worker.twilio("hola", "SMr04", "+50640000002"))  # anyone else is answered
    [confirmation] = texts(await worker.twilio("STOP", "SMr05", "+50640000003"))  # an opt-out now
    assert "START" in confirmation
    assert opted_out_in_sql(worker, "+50640000003")
    assert texts(await worker.twilio("hola", "SMr06", "+50640000003")) == []

    await back_up(worker, redis_server)  # no snapshot: Redis lost every conversation
    assert await worker.runtime.store.get("whatsapp:+50640000001") is None
    assert texts(await worker.twilio("hola", "SMr07", "+50640000001")) == []
    assert texts(await worker.twilio("hola", "SMr08", "+50640000003")) == []
    assert texts(await worker.twilio("START", "SMr09", "+50640000003"))  # and START still works
    assert not opted_out_in_sql(worker, "+50640000003")


async def test_an_opt_out_made_while_redis_was_down_reaches_the_state_redis_comes_back_with(
    worker: Bot, redis_server: OwnRedis
) -> None:
    assert texts(await worker.twilio("hola", "SMs01", "+50650000001"))
    redis_server.snapshot()  # Redis will come back with this state: not opted out
    redis_server.kill()
    assert texts(await worker.twilio("STOP", "SMs02", "+50650000001"))
    await back_up(worker, redis_server)
    stale = StoredConversation.from_dict(await worker.runtime.store.get("whatsapp:+50650000001"))
    assert not stale.contact.opted_out
    await worker.runtime.replay_journals()  # every minute
    fixed = StoredConversation.from_dict(await worker.runtime.store.get("whatsapp:+50650000001"))
    assert fixed.contact.opted_out
    assert texts(await worker.twilio("hola", "SMs03", "+50650000001")) == []
    durable = worker.runtime.conversations.durable
    assert durable is not None and durable.journal.pending() == []


async def test_a_conversation_held_by_staff_stays_quiet_while_redis_is_down(
    worker: Bot, redis_server: OwnRedis
) -> None:
    assert texts(await worker.twilio("0", "SMh01", "+50660000001"))  # asks for a person
    with session_factory(worker.runtime.database).begin() as session:
        claimed = session.execute(
            update(Escalation)
            .where(Escalation.person == person(worker, "+50660000001"))
            .values(status="claimed", claimed_by="agent@example.org")
        )
        assert claimed.rowcount == 1  # type: ignore[attr-defined]
    redis_server.kill()
    assert texts(await worker.twilio("hola", "SMh02", "+50660000001")) == []  # staff answer, not the bot
    assert texts(await worker.twilio("hola", "SMh03", "+50660000002"))


async def test_a_delivery_answered_before_redis_lost_everything_is_not_answered_again(
    worker: Bot, redis_server: OwnRedis
) -> None:
    assert texts(await worker.twilio("hola", "SMd01", "+50680000001"))
    await asyncio.sleep(0.2)  # the completion reaches SQL in the background
    redis_server.kill()
    assert texts(await worker.twilio("hola", "SMd01", "+50680000001")) == []  # Redis down: SQL remembers
    await back_up(worker, redis_server)  # empty
    assert texts(await worker.twilio("hola", "SMd01", "+50680000001")) == []  # Redis forgot: SQL did not
    assert texts(await worker.twilio("hola", "SMd02", "+50680000001"))  # a new message is answered


async def test_two_workers_answer_a_delivery_once_while_redis_is_down(
    tmp_path: Path, fake_twilio: FakeProvider, redis_server: OwnRedis
) -> None:
    database = fresh_postgres()
    env = {"DATABASE_URL": database, "REDIS_URL": redis_server.url, **NO_LIMITS}
    one = bot_settings(tmp_path / "one", fake_twilio, **env)
    two = bot_settings(tmp_path / "two", fake_twilio, **env)
    async with running_bot(one) as first, running_bot(two) as second:
        for bot in (first, second):
            with_nlu(bot, delay=0.2)
        redis_server.kill()
        sids = [f"SMq{n:029d}" for n in range(4)]
        copies = [(w, sid, f"+5069000{n:04d}") for n, sid in enumerate(sids) for w in (first, second) * 2]
        responses = await asyncio.gather(*(w.twilio("hola", sid, who) for w, sid, who in copies))
        for sid in sids:
            answered = [r for (_, s, _), r in zip(copies, responses, strict=True) if s == sid and texts(r)]
            assert len(answered) == 1, sid
        await asyncio.sleep(0.2)
        again = await asyncio.gather(*(w.twilio("hola", sid, who) for w, sid, who in copies))
        assert [texts(r) for r in again] == [[]] * len(copies)
        assert fake_twilio.requests == []


async def test_an_opt_out_holds_when_redis_lost_the_conversation_and_the_database_is_cut(
    worker: Bot, redis_server: OwnRedis
) -> None:
    assert texts(await worker.twilio("STOP", "SMo01", "+50681000001"))  # taken by this worker
    with session_factory(worker.runtime.database).begin() as session:  # taken by another worker
        session.add(ContactPreference(person=person(worker, "+50681000002"), opted_out=True))
    await worker.runtime.replay_journals()  # every minute: the worker's memory of opt-outs is refreshed
    redis_server.kill()
    await back_up(worker, redis_server)  # empty
    Outage(worker).cut()
    assert texts(await worker.twilio("necesito un médico", "SMo02", "+50681000001")) == []
    assert texts(await worker.twilio("necesito un médico", "SMo03", "+50681000002")) == []
    with pytest.raises(ContactStopped):
        await worker.runtime.sender.check_allowed("whatsapp:+50681000002", "whatsapp")
    assert texts(await worker.twilio("hola", "SMo04", "+50681000003"))  # others are still answered
