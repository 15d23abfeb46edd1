"""Writes what the programme counts and what staff need to SQL: message events, unanswered questions,
escalations with their transcript, dead letters and delivery statuses.

SQLAlchemy is synchronous here, so writes run in a worker thread; people are pseudonymised.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import InboundMessage, OutboundMessage
from bot.db.models import (
    DeadLetter,
    DeliveryStatus,
    Escalation,
    MessageEvent,
    Referral,
    ScamReport,
    TranscriptMessage,
    UnansweredQuestion,
)
from bot.dialogue.engine import Turn
from bot.dialogue.state import ConversationState
from bot.privacy import pseudonymise

log = logging.getLogger(__name__)
ERASED = "erased"
PRIORITY = {"emergency": 0, "trafficking": 1, "asked": 2, "repeated_fallback": 3, "staff": 2}
"""Lower is more urgent: the console queue is ordered by priority, then waiting time."""


def erase_person(sessions: sessionmaker[Session], person: str) -> None:
    """A deletion request: transcripts, unanswered questions and addresses go; statistics stay anonymous."""
    with sessions.begin() as session:
        session.execute(delete(TranscriptMessage).where(TranscriptMessage.person == person))
        session.execute(delete(UnansweredQuestion).where(UnansweredQuestion.person == person))
        session.execute(delete(ScamReport).where(ScamReport.person == person))
        session.execute(
            update(Escalation)
            .where(Escalation.person == person)
            .values(conversation_id="", person=ERASED, status="closed", outcome="erased")
        )
        for model in (Referral, MessageEvent):
            session.execute(update(model).where(model.person == person).values(person=ERASED))


def purge_expired(sessions: sessionmaker[Session], days: int, now: dt.datetime | None = None) -> int:
    """Retention: transcripts and unanswered questions older than `days` go; closed escalations lose
    their address. Returns the number of rows deleted."""
    cutoff = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=days)
    with sessions.begin() as session:
        deleted = 0
        for model in (TranscriptMessage, UnansweredQuestion):
            result: CursorResult[Any] = session.execute(delete(model).where(model.at < cutoff))  # type: ignore[assignment]
            deleted += result.rowcount
        session.execute(
            update(Escalation)
            .where(Escalation.status == "closed", Escalation.created_at < cutoff)
            .values(conversation_id="")
        )
    return int(deleted or 0)


class SqlRecorder:
    def __init__(
        self, sessions: sessionmaker[Session], secret_key: bytes, mask: Callable[[str], str]
    ) -> None:
        self._sessions, self._secret, self._mask = sessions, secret_key, mask
        self._pending: list[tuple[InboundMessage, Turn, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    def person(self, conversation_id: str) -> str:
        return pseudonymise(self._secret, conversation_id)

    async def record(self, inbound: InboundMessage, turn: Turn) -> None:
        """Group commit: turns that arrive while a batch is being written share the next transaction.

        The caller still waits until its turn is committed, so what a reply promises is in SQL.
        """
        if any(e.name == "erasure_requested" for e in turn.events):
            await self._guarded(
                asyncio.to_thread(erase_person, self._sessions, self.person(inbound.conversation_id))
            )
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((inbound, turn, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_batches())
        await done

    async def _write_batches(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            await self._guarded(asyncio.to_thread(self._write_batch, [(i, t) for i, t, _ in batch]))
            for _, _, done in batch:
                if not done.done():
                    done.set_result(None)

    @staticmethod
    async def _guarded(work: Awaitable[None]) -> None:
        try:
            await work
        except SQLAlchemyError as exc:  # statistics and transcripts must never cost a person their reply
            log.error("could not record turns: %s", exc.__class__.__name__)

    def _write_batch(self, batch: list[tuple[InboundMessage, Turn]]) -> None:
        with self._sessions.begin() as session:
            for inbound, turn in batch:
                self._add_turn(session, inbound, turn)

    def _add_turn(self, session: Session, inbound: InboundMessage, turn: Turn) -> None:
        person = self.person(inbound.conversation_id)
        state = turn.state
        intent = next((m.intent for m in turn.messages if m.intent), None)
        session.add(
            MessageEvent(
                person=person,
                channel=inbound.channel,
                language=state.language or "es",
                country=state.country,
                intent=intent,
            )
        )
        session.add(TranscriptMessage(person=person, direction="in", text=inbound.text))
        session.add_all(TranscriptMessage(person=person, direction="bot", text=m.text) for m in turn.messages)
        for event in turn.events:
            if event.name == "fallback" and inbound.text.strip():
                session.add(
                    UnansweredQuestion(
                        person=person,
                        channel=inbound.channel,
                        language=state.language or "es",
                        text=self._mask(inbound.text),
                    )
                )
            if event.name == "scam_reported":
                session.add(
                    ScamReport(
                        person=person,
                        channel=inbound.channel,
                        country=state.country,
                        language=state.language or "es",
                        verdict=str(event.data["verdict"]),
                        signals=",".join(event.data["signals"]),
                        text=str(event.data["text"]),
                    )
                )
            if event.name == "escalation_requested":
                self._escalate(session, inbound, turn, str(event.data.get("reason", "asked")), intent)

    @staticmethod
    def _scam_report(person: str, channel: str, state: ConversationState, data: dict[str, Any]) -> ScamReport:
        return ScamReport(
            person=person,
            channel=channel,
            country=state.country,
            language=state.language or "es",
            verdict=str(data["verdict"]),
            signals=",".join(data["signals"]),
            text=str(data["text"]),
        )

    def _escalate(
        self, session: Session, inbound: InboundMessage, turn: Turn, reason: str, topic: str | None
    ) -> None:
        """One open escalation per person: a new reason can only raise its priority."""
        person = self.person(inbound.conversation_id)
        priority = PRIORITY.get(reason, 2)
        open_one = session.scalars(
            select(Escalation).where(Escalation.person == person, Escalation.status != "closed")
        ).first()
        if open_one is not None:
            if priority < open_one.priority:
                open_one.priority, open_one.reason = priority, reason
            return
        session.add(
            Escalation(
                conversation_id=inbound.conversation_id,
                person=person,
                channel=inbound.channel,
                language=turn.state.language or "es",
                country=turn.state.country,
                topic=topic,
                reason=reason,
                priority=priority,
            )
        )

    async def dead_letter(
        self, conversation_id: str, message: OutboundMessage, error: str, attempts: int
    ) -> None:
        def write() -> None:
            with self._sessions.begin() as session:
                session.add(
                    DeadLetter(
                        channel=message.channel,
                        conversation_id=conversation_id,
                        body=message.text,
                        error=error,
                        attempts=attempts,
                    )
                )

        await asyncio.to_thread(write)

    async def delivery_status(
        self, provider_id: str, channel: str, status: str, error_code: str | None
    ) -> None:
        def write() -> None:
            with self._sessions.begin() as session:
                row = session.get(DeliveryStatus, provider_id)
                if row is None:
                    session.add(
                        DeliveryStatus(
                            provider_id=provider_id, channel=channel, status=status, error_code=error_code
                        )
                    )
                else:
                    row.status, row.error_code = status, error_code
                    row.updated_at = dt.datetime.now(dt.UTC)

        await asyncio.to_thread(write)
