"""Writes what the programme counts and what staff need to SQL: message events, unanswered questions,
transcripts, scam reports, dead letters and delivery statuses; and what retention and erasure remove.

These records are best effort: a database outage costs statistics, never a person's reply. What must
not be lost (escalations, erasures, opt-outs, referrals) goes through the write-ahead journal instead
(bot/durable.py, bot/referrals/log.py). SQLAlchemy is synchronous here, so writes run in a worker
thread; people are pseudonymised.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import (
    AppliedEntry,
    ContactPreference,
    DeadLetter,
    DeliveryClaim,
    DeliveryStatus,
    Escalation,
    MediaReference,
    MessageEvent,
    Referral,
    ScamReport,
    TranscriptMessage,
    UnansweredQuestion,
)
from bot.dialogue.engine import Turn
from bot.dialogue.events import AttachmentForStaff, ErasureRequested, Fallback, ScamReported
from bot.privacy import pseudonymise
from bot.vocab.messages import InboundMessage, OutboundMessage

log = logging.getLogger(__name__)
ERASED = "erased"
PRIORITY = {"emergency": 0, "trafficking": 1, "asked": 2, "repeated_fallback": 3, "staff": 2}
"""Lower is more urgent: the console queue is ordered by priority, then waiting time."""


def erase_person(session: Session, person: str, conversation_id: str) -> None:
    """A deletion request: transcripts, media references, unanswered questions, scam reports, dead letters
    and addresses go; statistics stay, anonymous. An opt-out stays (by pseudonym): erasing must not make a
    person who said STOP reachable again."""
    for model in (TranscriptMessage, UnansweredQuestion, ScamReport, MediaReference):
        session.execute(delete(model).where(model.person == person))
    session.execute(delete(DeadLetter).where(DeadLetter.conversation_id == conversation_id))
    session.execute(
        update(Escalation)
        .where(Escalation.person == person)
        .values(conversation_id="", person=ERASED, status="closed", outcome="erased")
    )
    for stat in (Referral, MessageEvent):
        session.execute(update(stat).where(stat.person == person).values(person=ERASED))


def _deleted(session: Session, statement: Any) -> int:
    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
    return int(result.rowcount or 0)


def purge_expired(sessions: sessionmaker[Session], days: int, now: dt.datetime | None = None) -> int:
    """Retention, for every table that holds an address or a person's words: transcripts, unanswered
    questions, dead letters (address and text), delivery statuses and applied journal keys older than
    `days` are deleted; scam reports lose their pseudonym (the masked offer stays, for the trends);
    closed escalations lose their address; contact preferences go unless they are an opt-out. Delivery
    claims (no personal data) go after two days, the dedupe horizon. Returns the number of rows deleted."""
    cutoff = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=days)
    with sessions.begin() as session:
        deleted = sum(
            _deleted(session, delete(model).where(column < cutoff))
            for model, column in (
                (TranscriptMessage, TranscriptMessage.at),
                (MediaReference, MediaReference.at),
                (UnansweredQuestion, UnansweredQuestion.at),
                (DeadLetter, DeadLetter.created_at),
                (DeliveryStatus, DeliveryStatus.updated_at),
                (AppliedEntry, AppliedEntry.applied_at),
            )
        )
        deleted += _deleted(
            session,
            delete(ContactPreference).where(
                ContactPreference.opted_out.is_(False),
                ContactPreference.changed_at < cutoff,
                (ContactPreference.erased_at.is_(None)) | (ContactPreference.erased_at < cutoff),
            ),
        )
        two_days_ago = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=2)  # the dedupe horizon
        deleted += _deleted(session, delete(DeliveryClaim).where(DeliveryClaim.updated_at < two_days_ago))
        session.execute(update(ScamReport).where(ScamReport.at < cutoff).values(person=ERASED))
        session.execute(
            update(Escalation)
            .where(Escalation.status == "closed", Escalation.created_at < cutoff)
            .values(conversation_id="")
        )
    return deleted


def _said(inbound: InboundMessage) -> str:
    """The transcript line of what the person sent: a shared pin is only marked, never its coordinates."""
    if inbound.text or (inbound.location is None and inbound.attachment is None):
        return inbound.text
    return "[location]" if inbound.location is not None else f"[{inbound.attachment.kind}]"  # type: ignore[union-attr]


def _waits_for_staff(session: Session, person: str) -> bool:
    """An escalation of the person is queued or claimed: what they send now is for the agent too."""
    waiting = select(Escalation.id).where(Escalation.person == person, Escalation.status != "closed")
    return session.scalar(waiting.limit(1)) is not None


def _media_reference(person: str, inbound: InboundMessage, event: AttachmentForStaff) -> MediaReference:
    """The provider's handle to a voice note or file for the agent holding the conversation."""
    adapter = str(
        inbound.metadata.get("adapter") or ("telegram" if inbound.channel == "telegram" else "twilio")
    )
    return MediaReference(
        person=person,
        channel=inbound.channel,
        adapter=adapter,
        kind=event.kind,
        content_type=event.content_type[:100] if event.content_type else None,
        ref=event.ref[:600],
    )


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

        The caller waits until its turn is committed or has failed (logged): whatever goes wrong in a
        batch, every waiting turn is released, so no request ever waits on a broken write.
        """
        if any(isinstance(e, ErasureRequested) for e in turn.events):
            return  # the erasure itself is written ahead (bot/durable.py); its words are not kept
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((inbound, turn, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_batches())
        await done

    async def _write_batches(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await asyncio.to_thread(self._write_batch, [(i, t) for i, t, _ in batch])
            except Exception as exc:  # any failure: statistics must never cost a person their reply
                log.error("could not record %d turn(s): %s", len(batch), exc.__class__.__name__)
            finally:
                for _, _, done in batch:
                    if not done.done():
                        done.set_result(None)

    def _write_batch(self, batch: list[tuple[InboundMessage, Turn]]) -> None:
        """One transaction; if a turn in it is unwritable (not a database outage), the others are
        written one by one so a single bad turn loses only its own records."""
        try:
            self._write(batch)
        except (OperationalError, InterfaceError):
            raise
        except Exception:
            if len(batch) == 1:
                raise
            failed = 0
            for item in batch:
                try:
                    self._write([item])
                except Exception as exc:  # noqa: BLE001 - counted and reported below, without data
                    log.error("could not record a turn: %s", exc.__class__.__name__)
                    failed += 1
            log.error("recorded %d of %d turns of a batch that failed", len(batch) - failed, len(batch))

    def _write(self, batch: list[tuple[InboundMessage, Turn]]) -> None:
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
        session.add(TranscriptMessage(person=person, direction="in", text=_said(inbound)))
        session.add_all(
            TranscriptMessage(person=person, direction="bot", text=m.transcript or m.text)
            for m in turn.messages
        )
        for event in turn.events:
            if isinstance(event, Fallback) and inbound.text.strip():
                session.add(
                    UnansweredQuestion(
                        person=person,
                        channel=inbound.channel,
                        language=state.language or "es",
                        text=self._mask(inbound.text),
                    )
                )
            if isinstance(event, AttachmentForStaff) and (
                state.handed_over or _waits_for_staff(session, person)
            ):
                session.add(_media_reference(person, inbound, event))
            if isinstance(event, ScamReported):
                session.add(
                    ScamReport(
                        person=person,
                        channel=inbound.channel,
                        country=state.country,
                        language=state.language or "es",
                        verdict=str(event.verdict),
                        signals=",".join(event.signals),
                        text=event.text,
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
