"""The batch writer never leaves a turn waiting: whatever a batch raises (here text PostgreSQL refuses:
a lone surrogate, a NUL), every waiting turn is released and the other turns of the batch are written."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.db import make_engine, migrate, session_factory
from bot.db.models import TranscriptMessage
from bot.dialogue.engine import Turn
from bot.dialogue.state import ConversationState
from bot.records import SqlRecorder
from bot.vocab.messages import InboundMessage, OutboundMessage
from tests.durability.conftest import fresh_postgres

SECRET = b"test-secret-key-0123456789-abcdefghijkl"


async def test_a_turn_postgresql_refuses_neither_hangs_nor_costs_the_others_their_records() -> None:
    engine = make_engine(fresh_postgres())
    migrate(engine)
    recorder = SqlRecorder(session_factory(engine), SECRET, lambda text: text)
    # InboundMessage cleans what a person writes, so the refused text is in the bot's reply here
    replies = ["hola", "hola \ud800", "bonjou", "nul \x00 byte", "hello", "salut"]
    turns = [
        recorder.record(
            InboundMessage(channel="rest", sender=f"p{n}", text=reply),
            Turn(ConversationState(), messages=[OutboundMessage(f"p{n}", reply)]),
        )
        for n, reply in enumerate(replies)
    ]
    async with asyncio.timeout(30):  # before the fix the batch writer died and these waited forever
        await asyncio.gather(*turns)
    with engine.connect() as conn:
        written = conn.execute(
            select(TranscriptMessage.text).where(TranscriptMessage.direction == "bot")
        ).all()
    assert sorted(text for (text,) in written) == ["bonjou", "hello", "hola", "salut"]
    async with asyncio.timeout(30):  # and the writer still works afterwards
        await recorder.record(
            InboundMessage(channel="rest", sender="p9", text="again"), Turn(ConversationState())
        )
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(TranscriptMessage)).scalar_one() == 9
    engine.dispose()
