"""Retention and erasure reach every table that holds an address or a person's words — dead letters,
delivery statuses, contact preferences, applied journal keys, scam reports, transcripts — on SQLite and
PostgreSQL; the web chat outbox goes with the conversation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from bot.db import make_engine, migrate, session_factory
from bot.db.models import (
    AppliedEntry,
    ContactPreference,
    DeadLetter,
    DeliveryStatus,
    Escalation,
    MessageEvent,
    ScamReport,
    TranscriptMessage,
    UnansweredQuestion,
)
from bot.durable import DurableRecords, erasure
from bot.journal import Journal
from bot.records import purge_expired
from bot.state import MemoryStore
from bot.vocab.messages import InboundMessage, OutboundMessage
from bot.webchat import queue_for_web_chat
from tests.durability.conftest import bot_settings, fresh_postgres, running_bot, texts
from tests.durability.test_exactly_once import NO_LIMITS
from tests.helpers.fake_provider import FakeProvider

NOW = dt.datetime.now(dt.UTC)
OLD = NOW - dt.timedelta(days=100)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path}/r.db" if request.param == "sqlite" else fresh_postgres()
    db = make_engine(url)
    migrate(db)
    yield db
    db.dispose()


def rows(engine: Engine, model: Any, *where: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


def letter(conversation_id: str, at: dt.datetime = NOW) -> DeadLetter:
    return DeadLetter(
        channel="whatsapp",
        conversation_id=conversation_id,
        body="Hola Ana",
        error="500",
        attempts=4,
        created_at=at,
    )


def test_retention_purges_or_anonymises_every_table_with_an_address_or_words(engine: Engine) -> None:
    sessions = session_factory(engine)
    with sessions.begin() as session:
        for at, who in ((OLD, "old"), (NOW, "new")):
            session.add(TranscriptMessage(person=who, direction="in", text="hola", at=at))
            session.add(UnansweredQuestion(person=who, channel="sms", language="es", text="???", at=at))
            session.add(letter(f"whatsapp:+506{who}", at))
            session.add(
                DeliveryStatus(provider_id=f"SM{who}", channel="sms", status="delivered", updated_at=at)
            )
            session.add(AppliedEntry(key=f"k-{who}", applied_at=at))
            session.add(
                ScamReport(
                    person=who,
                    channel="sms",
                    language="es",
                    verdict="likely_fraud",
                    signals="fee",
                    text="x",
                    at=at,
                )
            )
            session.add(ContactPreference(person=f"in-{who}", opted_out=False, changed_at=at))
            session.add(ContactPreference(person=f"out-{who}", opted_out=True, changed_at=at))
            for status in ("open", "closed"):
                session.add(
                    Escalation(
                        conversation_id=f"whatsapp:+506{who}{status}",
                        person=f"{who}-{status}",
                        channel="whatsapp",
                        language="es",
                        reason="asked",
                        priority=2,
                        status=status,
                        created_at=at,
                    )
                )
    deleted = purge_expired(sessions, 90)
    assert deleted == 6  # transcript, question, dead letter, status, applied key, opted-in preference
    assert rows(engine, TranscriptMessage) == rows(engine, UnansweredQuestion) == 1
    assert rows(engine, DeadLetter, DeadLetter.conversation_id == "whatsapp:+506old") == 0
    assert rows(engine, DeadLetter, DeadLetter.conversation_id == "whatsapp:+506new") == 1
    assert rows(engine, DeliveryStatus) == rows(engine, AppliedEntry) == 1
    assert rows(engine, ScamReport, ScamReport.person == "old") == 0 and rows(engine, ScamReport) == 2
    assert rows(engine, ContactPreference, ContactPreference.person == "in-old") == 0
    assert rows(engine, ContactPreference, ContactPreference.person == "out-old") == 1  # STOP holds forever
    assert rows(engine, Escalation, Escalation.conversation_id == "whatsapp:+506oldclosed") == 0
    assert rows(engine, Escalation, Escalation.conversation_id == "whatsapp:+506oldopen") == 1  # still needed
    assert purge_expired(sessions, 90) == 0


async def test_erasure_removes_the_persons_rows_everywhere_and_keeps_their_opt_out(
    engine: Engine, tmp_path: Path
) -> None:
    sessions = session_factory(engine)
    with sessions.begin() as session:
        for who in ("ana", "bob"):
            session.add(TranscriptMessage(person=who, direction="in", text="hola"))
            session.add(UnansweredQuestion(person=who, channel="sms", language="es", text="???"))
            session.add(letter(f"whatsapp:+{who}"))
            session.add(MessageEvent(person=who, channel="sms", language="es"))
            session.add(
                ScamReport(person=who, channel="sms", language="es", verdict="x", signals="", text="x")
            )
            session.add(
                Escalation(
                    conversation_id=f"whatsapp:+{who}",
                    person=who,
                    channel="whatsapp",
                    language="es",
                    reason="asked",
                    priority=2,
                )  # fmt: skip
            )
        session.add(ContactPreference(person="ana", opted_out=True, changed_at=NOW))
    durable = DurableRecords(sessions, Journal(tmp_path / "records.jsonl"), MemoryStore(60))
    await durable.keep([erasure("whatsapp:+ana", "ana", sync_store=False)])
    for model in (TranscriptMessage, UnansweredQuestion, ScamReport, MessageEvent):
        assert (
            rows(engine, model, model.person == "ana") == 0
            and rows(engine, model, model.person == "bob") == 1
        )
    assert rows(engine, DeadLetter, DeadLetter.conversation_id == "whatsapp:+ana") == 0
    assert rows(engine, DeadLetter, DeadLetter.conversation_id == "whatsapp:+bob") == 1
    assert rows(engine, Escalation, Escalation.conversation_id == "whatsapp:+ana") == 0
    assert rows(engine, MessageEvent, MessageEvent.person == "erased") == 1  # the statistic stays, anonymous
    with sessions() as session:
        kept = session.get(ContactPreference, "ana")
    assert kept is not None and kept.opted_out and kept.erased_at is not None


async def test_an_erasure_request_removes_dead_letters_and_the_web_chat_outbox(
    tmp_path: Path, fake_twilio: FakeProvider
) -> None:
    async with running_bot(bot_settings(tmp_path, fake_twilio, **NO_LIMITS)) as worker:
        runtime = worker.runtime
        runtime.sender.base_delay = 0.01
        for sender in ("+50670000001", "+50670000002"):
            assert texts(await worker.twilio("hola", f"SMret{sender}", sender))
            fake_twilio.failures = [500] * 4
            staff = OutboundMessage(recipient=sender, text="Hola, soy Ana del equipo.", channel="whatsapp")
            assert not (await runtime.sender.send(f"whatsapp:{sender}", staff)).ok
        assert rows(runtime.database, DeadLetter) == 2
        assert texts(await worker.twilio("borren mis datos", "SMret-erase", "+50670000001"))
        assert rows(runtime.database, DeadLetter, DeadLetter.conversation_id == "whatsapp:+50670000001") == 0
        assert rows(runtime.database, DeadLetter, DeadLetter.conversation_id == "whatsapp:+50670000002") == 1

        assert await queue_for_web_chat(runtime.store, "rest:web-7", "Hola, soy Ana.", "es")
        web = InboundMessage(channel="rest", sender="web-7", text="please delete my data")
        await runtime.conversations.handle(web)
        assert await runtime.store.get("rest:web-7") is None  # the staff message waiting there is gone
