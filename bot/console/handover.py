"""A person from the hotline takes a conversation over and hands it back.

The conversation state's `handed_over` flag keeps the bot quiet while staff answer (opt-out words
still work); it is changed under the conversation's lock so no message is answered half-way, and it follows
SQL (an escalation of the conversation is claimed). While the store is down the bot reads the claim from
SQL; the escalation is marked `handover_pending` and the flag is set once the store is back.
Sending goes through the runtime's OutboundSender: its checks (opted out, WhatsApp's 24-hour window)
come back as one clear sentence for the console instead of a silent failure. The web chat cannot be pushed
to: its messages wait in the conversation's state until the page fetches them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import ContactStopped, SendError
from bot.db import session_factory
from bot.db.models import Escalation
from bot.i18n import N_, translate
from bot.outbound import OutsideWhatsAppWindow
from bot.runtime import Runtime
from bot.state.base import StoreUnavailable
from bot.state.record import read_conversation, write_conversation
from bot.vocab.messages import OutboundMessage
from bot.webchat import queue_for_web_chat

HAND_BACK = N_(
    "Our team has finished answering you here. infobot will answer your messages again. "
    "Reply 0 at any time to talk to a person."
)


WEB_CHAT_FULL = "the person's web chat has not fetched the earlier messages yet (page closed?)"
WEB_CHAT_STORE_DOWN = (
    "the conversation store is unavailable, and web chat messages wait there until the person's page "
    "fetches them; try again when it is back"
)


@dataclass(frozen=True)
class Delivery:
    ok: bool
    problem: str = ""


def address(conversation_id: str) -> str:
    """The person's address on the channel: the part after `<channel>:`."""
    return conversation_id.split(":", 1)[1]


def _held_in_sql(sessions: sessionmaker[Session], conversation_id: str) -> bool:
    with sessions() as session:
        claimed = select(Escalation.id).where(
            Escalation.conversation_id == conversation_id, Escalation.status == "claimed"
        )
        return session.scalars(claimed.limit(1)).first() is not None


async def _follow_sql(runtime: Runtime, conversation_id: str) -> None:
    """Under the conversation's lock, set the quiet flag to what SQL says now (so a claim and a close
    racing with a late sync end as SQL ends). A conversation the store does not have is left alone:
    the bot reads SQL for it anyway."""
    sessions = session_factory(runtime.database)
    async with runtime.store.lock(conversation_id):
        kept = await read_conversation(runtime.store, conversation_id)
        if kept is None:
            return
        kept.dialogue.handed_over = await asyncio.to_thread(_held_in_sql, sessions, conversation_id)
        await write_conversation(runtime.store, conversation_id, kept)


def _mark_pending(sessions: sessionmaker[Session], escalation_id: int, pending: bool) -> None:
    with sessions.begin() as session:
        session.execute(
            update(Escalation).where(Escalation.id == escalation_id).values(handover_pending=pending)
        )


async def follow_handover(runtime: Runtime, escalation_id: int, conversation_id: str) -> bool:
    """After a claim or a close in SQL: the bot's quiet flag follows. False when the store is down (the
    escalation is marked and the flag follows once it is back)."""
    try:
        await _follow_sql(runtime, conversation_id)
    except StoreUnavailable:
        await asyncio.to_thread(_mark_pending, session_factory(runtime.database), escalation_id, True)
        return False
    return True


def _pending(sessions: sessionmaker[Session]) -> list[tuple[int, str]]:
    with sessions() as session:
        query = select(Escalation.id, Escalation.conversation_id).where(Escalation.handover_pending)
        return [(row.id, row.conversation_id) for row in session.execute(query.order_by(Escalation.id))]


async def heal_pending_handovers(runtime: Runtime) -> int:
    """Set the quiet flags the store missed while it was down; stops at the first sign it still is.
    Returns how many escalations were settled."""
    sessions = session_factory(runtime.database)
    settled = 0
    for escalation_id, conversation_id in await asyncio.to_thread(_pending, sessions):
        if conversation_id:
            await _follow_sql(runtime, conversation_id)  # StoreUnavailable: the next pass retries
        await asyncio.to_thread(_mark_pending, sessions, escalation_id, False)
        settled += 1
    return settled


async def deliver(
    runtime: Runtime, conversation_id: str, channel: str, text: str, language: str | None
) -> Delivery:
    """Send a message through the person's channel; never raises for a refusal, says why instead."""
    try:
        contact = await runtime.sender.check_allowed(conversation_id, channel)
    except OutsideWhatsAppWindow as exc:
        return Delivery(False, f"Not sent — outside WhatsApp's 24-hour window: {exc}.")
    except ContactStopped as exc:
        return Delivery(False, f"Not sent — {exc}.")
    except SendError as exc:  # e.g. neither the store nor the database can say whether they opted out
        return Delivery(False, f"Not sent — {exc}.")
    if channel == "rest":
        try:
            queued = await queue_for_web_chat(runtime.store, conversation_id, text, language)
        except StoreUnavailable:
            return Delivery(False, f"Not sent — {WEB_CHAT_STORE_DOWN}.")
        return Delivery(True) if queued else Delivery(False, f"Not sent — {WEB_CHAT_FULL}.")
    message = OutboundMessage(
        recipient=contact.address or address(conversation_id),
        text=text,
        channel=channel,
        reply_from=contact.reply_from,
        language=language,
    )
    try:
        result = await runtime.sender.send(conversation_id, message)
    except SendError as exc:
        return Delivery(False, f"Not sent — {exc}.")
    if not result.ok:
        return Delivery(False, f"Not delivered — {result.error} (it is in the dead letters, retry there).")
    return Delivery(True)


def hand_back_text(language: str) -> str:
    return translate(language, HAND_BACK)
