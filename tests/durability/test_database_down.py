"""PostgreSQL down: an emergency escalation, an opt-out and an erasure request are journaled, the person
is told only what is true, and all three reach SQL once the database is back (exactly once)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.db import session_factory
from bot.db.models import ContactPreference, Escalation, TranscriptMessage
from bot.journal import Journal
from bot.privacy import pseudonymise
from tests.durability.conftest import Bot, bot_settings, down_engine, fresh_postgres, running_bot, texts
from tests.durability.test_exactly_once import NO_LIMITS
from tests.helpers.fake_provider import FakeProvider

ERASED_ES = "Borramos los datos de su conversación"
RECORDED_ES = "Registramos su solicitud de borrar sus datos"
NOT_PASSED_ES = "no pude pasar su mensaje a nuestro equipo"


@pytest.fixture
async def worker(tmp_path: Path, fake_twilio: FakeProvider) -> AsyncIterator[Bot]:
    settings = bot_settings(tmp_path, fake_twilio, DATABASE_URL=fresh_postgres(), **NO_LIMITS)
    async with running_bot(settings) as bot:
        yield bot


class Outage:
    """Every SQL path of the running worker pointed at a port where nothing listens, and back."""

    def __init__(self, bot: Bot) -> None:
        self.bot, self.up = bot, session_factory(bot.runtime.database)
        self.down = session_factory(down_engine())

    def _point(self, sessions: object) -> None:
        durable = self.bot.runtime.conversations.durable
        assert durable is not None
        durable._sessions = sessions  # type: ignore[assignment]
        self.bot.runtime.recorder._sessions = sessions  # type: ignore[assignment]

    def cut(self) -> None:
        self._point(self.down)

    def restore(self) -> None:
        self._point(self.up)


def person(bot: Bot, sender: str) -> str:
    return pseudonymise(bot.runtime.settings.pseudonym_key, f"whatsapp:{sender}")


def count(bot: Bot, query: object) -> int:
    with bot.runtime.database.connect() as conn:
        return int(conn.execute(query).scalar_one())  # type: ignore[call-overload]


async def test_what_matters_is_journaled_while_the_database_is_down_and_applied_when_it_returns(
    worker: Bot,
) -> None:
    # the same messages with the database up: what a person is told when all is well
    usual_emergency = texts(await worker.twilio("/emergency", "SMup01", "+50610000001"))
    usual_stop = texts(await worker.twilio("STOP", "SMup02", "+50610000002"))
    assert ERASED_ES in texts(await worker.twilio("borren mis datos", "SMup03", "+50610000003"))[0]

    await worker.twilio("hola", "SMdb00", "+50620000003")  # the erasing person's transcript, before
    erasing = person(worker, "+50620000003")
    assert count(worker, select(func.count()).where(TranscriptMessage.person == erasing)) >= 2
    outage = Outage(worker)
    outage.cut()
    emergency = texts(await worker.twilio("/emergency", "SMdb01", "+50620000001"))
    stop = texts(await worker.twilio("STOP", "SMdb02", "+50620000002"))
    [erasure] = texts(await worker.twilio("borren mis datos", "SMdb03", "+50620000003"))
    assert emergency == usual_emergency  # "a person will answer": the escalation is on disk
    assert not any(NOT_PASSED_ES in t for t in emergency)
    assert stop == usual_stop
    assert RECORDED_ES in erasure and ERASED_ES not in erasure  # not "erased" before it is

    durable = worker.runtime.conversations.durable
    assert durable is not None
    assert sorted(e.kind for e in durable.journal.pending()) == [
        "contact_preference",
        "erasure",
        "escalation",
    ]
    assert await durable.replay() == 0  # still down: nothing lost, nothing applied
    assert len(durable.journal.pending()) == 3
    assert count(worker, select(func.count()).where(Escalation.person == person(worker, "+50620000001"))) == 0

    outage.restore()
    await worker.runtime.replay_journals()
    await worker.runtime.replay_journals()  # a second replay (or another worker's) doubles nothing
    assert durable.journal.pending() == []
    [urgent] = [e for e in _escalations(worker) if e.person == person(worker, "+50620000001")]
    assert (urgent.reason, urgent.priority, urgent.conversation_id) == (
        "emergency",
        0,
        "whatsapp:+50620000001",
    )
    with session_factory(worker.runtime.database)() as session:
        stopped = session.get(ContactPreference, person(worker, "+50620000002"))
        erased = session.get(ContactPreference, erasing)
    assert stopped is not None and stopped.opted_out
    assert erased is not None and erased.erased_at is not None and not erased.opted_out
    assert count(worker, select(func.count()).where(TranscriptMessage.person == erasing)) == 0


def _escalations(bot: Bot) -> list[Escalation]:
    with session_factory(bot.runtime.database)() as session:
        return list(session.scalars(select(Escalation)))


async def test_an_escalation_that_reached_neither_disk_nor_database_is_not_promised(
    worker: Bot, tmp_path: Path
) -> None:
    durable = worker.runtime.conversations.durable
    assert durable is not None
    unwritable = tmp_path / "journal-is-a-directory"
    unwritable.mkdir()
    durable.journal = Journal(unwritable)
    Outage(worker).cut()
    replies = texts(await worker.twilio("/emergency", "SMlost1", "+50630000001"))
    assert any(NOT_PASSED_ES in t for t in replies)  # "write again", not "a person will answer"
    assert len(replies) >= 2  # the safety guidance is still given
    [erasure] = texts(await worker.twilio("borren mis datos", "SMlost2", "+50630000002"))
    assert RECORDED_ES not in erasure and ERASED_ES not in erasure


async def test_journaled_entries_reach_sql_within_seconds_of_the_database_coming_back(worker: Bot) -> None:
    outage = Outage(worker)
    outage.cut()
    assert texts(await worker.twilio("STOP", "SMsoon1", "+50640000009"))  # journaled, not applied
    await asyncio.sleep(1)
    outage.restore()
    deadline = time.monotonic() + 20  # the replay loop retries every 5 s while entries wait (not 60 s)
    while not _opted_out_in_sql(worker, "+50640000009") and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    assert _opted_out_in_sql(worker, "+50640000009")


def _opted_out_in_sql(bot: Bot, sender: str) -> bool:
    with session_factory(bot.runtime.database)() as session:
        row = session.get(ContactPreference, person(bot, sender))
        return bool(row and row.opted_out)
