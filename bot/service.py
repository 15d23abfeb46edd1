"""Handles one inbound message end to end: claim, lock, state, NLU, dialogue, state again, records, send.

The generic webhook (bot/webhooks.py) calls `ConversationService.receive` for every channel, REST included
(each message carries the provider's id, or the web chat's, for dedupe); `handle` is the same turn without
the claim, for the terminal chat and tests. A failure in one conversation is contained here. The stored
conversation is the dialogue's state and the contact, apart (bot/state/record.py); the dialogue's events
take effect in one place (`_write_ahead`).

Exactly once for provider deliveries, and late replies that survive a restart: bot/deliveries.py.

What matters (escalations, erasures, opt-outs/ins, referrals) is written ahead before the person is
told (bot/durable.py, bot/referrals/log.py), and the reply says what is true: "erased" only once done.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any, Protocol

from sqlalchemy.exc import SQLAlchemyError

from bot.content.library import ContentSource
from bot.deliveries import Deliveries, Handled, Receipt, Render
from bot.dialogue import replies
from bot.dialogue.engine import (
    EMPTY_DIRECTORY,
    ESCALATING,
    Turn,
    erasure_reply,
    escalation_not_passed,
    respond,
)
from bot.dialogue.events import (
    AlertsEnded,
    AlertsSubscribed,
    ErasureRequested,
    EscalationRequested,
    OptedIn,
    OptedOut,
    ReferralConsented,
    ReferralDisaggregated,
)
from bot.dialogue.keywords import number_choice
from bot.dialogue.state import ConversationState
from bot.durable import (
    APPLY_SECONDS,
    DurableRecords,
    Kept,
    contact_preference,
    erasure,
    escalation,
    subscription,
)
from bot.i18n import translate
from bot.journal import Entry, Journal, in_file_thread
from bot.metrics import HANDLE_SECONDS
from bot.nlu.client import NluService
from bot.nlu.types import FALLBACK_INTENT, NluResult
from bot.outbound import OutboundSender
from bot.privacy import pseudonymise
from bot.referrals import Directory
from bot.referrals.log import ReferralLog, ReferralRecord
from bot.referrals.notify import HubNotifier
from bot.state.base import ConversationStore, StoreUnavailable
from bot.state.record import (
    Contact,
    StoredConversation,
    read_conversation,
    write_conversation,
)
from bot.state.sql_deliveries import SqlDeliveries
from bot.vocab.messages import InboundMessage, OutboundMessage
from bot.vocab.text import INLINE_CHARS

log = logging.getLogger("infobot.conversation")
RECORD_SECONDS = 5.0
"""A turn waits this long for its statistics to be written; then the reply goes anyway."""


class TurnRecorder(Protocol):
    async def record(self, inbound: InboundMessage, turn: Turn) -> None:
        """Persist what the programme counts and staff need (events, escalations, transcripts)."""


class NullRecorder:
    async def record(self, inbound: InboundMessage, turn: Turn) -> None:
        return None


class ConversationService:
    def __init__(
        self,
        store: ConversationStore,
        nlu: NluService,
        content: ContentSource,
        secret_key: bytes,
        recorder: TurnRecorder | None = None,
        today: Callable[[], dt.date] = dt.date.today,
        directory: Directory = EMPTY_DIRECTORY,
        referrals: ReferralLog | None = None,
        durable: DurableRecords | None = None,
        journal: Journal | None = None,
        sender: OutboundSender | None = None,
        claims: SqlDeliveries | None = None,
    ) -> None:
        self.store, self.nlu, self.content = store, nlu, content
        self.directory, self.referrals, self.durable = directory, referrals, durable
        self.deliveries = Deliveries(store, self._handled, journal, sender, claims)
        self._tasks: set[asyncio.Task[Any]] = set()
        self.recorder: TurnRecorder = recorder or NullRecorder()
        self._secret = secret_key
        self._today = today

    async def drain(self, timeout: float) -> None:
        """At shutdown: let late replies and hub notifications in flight finish (the journal has them)."""
        await self.deliveries.drain(timeout)
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=timeout)

    async def receive(
        self, inbound: InboundMessage, reply_within: float | None = None, render: Render | None = None
    ) -> Receipt:
        """Exactly once for a provider's delivery (bot/deliveries.py): with `reply_within` (Twilio's
        webhook) the `render`ed replies come back when ready in time, else they are sent through the
        provider's API; without it (Telegram) they always are."""
        return await self.deliveries.receive(inbound, reply_within, render)

    async def recover_deliveries(self) -> int:
        """Answer journaled deliveries whose worker died; see bot/deliveries.py."""
        return await self.deliveries.recover()

    async def handle(self, inbound: InboundMessage) -> list[OutboundMessage]:
        """The replies to one message; never raises for a problem inside one conversation."""
        return (await self._handled(inbound)).replies

    async def _handled(self, inbound: InboundMessage) -> Handled:
        who = pseudonymise(self._secret, inbound.conversation_id)
        started = time.perf_counter()
        language = "es"  # the conversation's, once its state is read: even an apology is in their language
        try:
            try:
                async with self.store.lock(inbound.conversation_id):
                    kept = await read_conversation(self.store, inbound.conversation_id)
                    kept = kept or await self._remembered(who)
                    language = kept.dialogue.language or language
                    contact = wrote(kept.contact, inbound)
                    turn = await self._decide(kept.dialogue, contact, inbound)
                    outcomes = await self._write_ahead(inbound, turn, contact, who, in_store=True)
                    if any(isinstance(e, ErasureRequested) for e in turn.events):
                        await self.store.drop(inbound.conversation_id)
                    else:
                        await write_conversation(
                            self.store, inbound.conversation_id, StoredConversation(turn.state, contact)
                        )
                    turn = self._truthful(turn, outcomes, in_store=True)
            except StoreUnavailable as exc:
                log.error(
                    "store unavailable, answering from SQL's memory: %s", exc, extra={"conversation": who}
                )
                kept = await self._remembered(who)
                contact = wrote(kept.contact, inbound)
                turn = await self._decide(kept.dialogue, contact, inbound)
                outcomes = await self._write_ahead(inbound, turn, contact, who, in_store=False)
                turn = self._truthful(turn, outcomes, in_store=False)
        except Exception:  # the one boundary: a bug in one conversation must not affect the others
            log.exception("failed to handle a message", extra={"conversation": who})
            sorry = translate(language, "Sorry, something went wrong. Please try again.")
            return Handled(
                [replace(replies.say(inbound.sender, language, sorry), channel=inbound.channel)], False
            )
        try:
            await asyncio.wait_for(self.recorder.record(inbound, turn), RECORD_SECONDS)
        except Exception:  # a recording bug or a slow database must not cost the person their answer
            log.exception("failed to record a turn", extra={"conversation": who})
        HANDLE_SECONDS.labels(channel=inbound.channel).observe(time.perf_counter() - started)
        for event in turn.events:
            log.info("event %s", event.name, extra={"conversation": who, "channel": inbound.channel})
        messages = [replace(m, channel=inbound.channel, reply_from=contact.reply_from) for m in turn.messages]
        return Handled(messages, True, tuple(e.name for e in turn.events))

    async def _remembered(self, person: str) -> StoredConversation:
        """A conversation the store does not have (new, expired, Redis lost or down): what SQL knows
        that must hold anyway — the person opted out, or staff hold the conversation."""
        if self.durable is None:
            return StoredConversation()
        flags = await self.durable.contact_flags(person)
        return StoredConversation(
            ConversationState(handed_over=flags.held_by_staff), Contact(opted_out=flags.opted_out)
        )

    async def _write_ahead(
        self, inbound: InboundMessage, turn: Turn, contact: Contact, person: str, *, in_store: bool
    ) -> dict[str, Kept]:
        """The one place the dialogue's events take effect. Referrals, escalations, erasures, opt-outs
        and opt-ins are journaled before the person is told; STOP and START change the contact. The
        other events are only logged and counted (bot/records.py). Returns the worst outcome per kind
        (escalation, erasure, contact_preference)."""
        cid, language = inbound.conversation_id, turn.state.language or "es"
        topic = next((m.intent for m in turn.messages if m.intent), None)
        entries: list[Entry] = []
        for event in turn.events:
            match event:
                case ReferralConsented():
                    await self._log_referral_consented(inbound, turn, event)
                case ReferralDisaggregated(code=code, sex=sex, age=age) if self.referrals is not None:
                    with contextlib.suppress(TimeoutError):  # optional statistics: never worth a long wait
                        await asyncio.wait_for(
                            asyncio.to_thread(self._disaggregate, code, sex, age), APPLY_SECONDS
                        )
                case EscalationRequested(reason=reason):
                    entries.append(
                        escalation(cid, person, inbound.channel, language, turn.state.country, topic, reason)
                    )
                case ErasureRequested():
                    entries.append(erasure(cid, person, sync_store=not in_store))
                case AlertsSubscribed() | AlertsEnded():  # consent to campaign alerts (issue 16)
                    alerts = event.consented() if isinstance(event, AlertsSubscribed) else None
                    entries.append(subscription(cid, person, inbound.channel, inbound.sender, alerts))
                case OptedOut() | OptedIn():
                    contact.opted_out = isinstance(event, OptedOut)
                    entries.append(
                        contact_preference(cid, person, opted_out=contact.opted_out, sync_store=not in_store)
                    )
        if self.durable is None:
            return {}
        outcomes = await self.durable.keep(entries)
        order = [Kept.APPLIED, Kept.JOURNALED, Kept.LOST]
        worst: dict[str, Kept] = {}
        for entry in entries:
            worst[entry.kind] = max(worst.get(entry.kind, Kept.APPLIED), outcomes[entry.key], key=order.index)
        return worst

    @staticmethod
    def _truthful(turn: Turn, kept: dict[str, Kept], *, in_store: bool) -> Turn:
        """The replies say only what is true: "erased" once erased; "a person will answer" once the
        request is on disk or in SQL; an opt-out confirmed once it is held somewhere."""
        lang = turn.state.language or "es"
        to = turn.messages[0].recipient if turn.messages else ""
        sorry = replies.say(to, lang, translate(lang, "Sorry, something went wrong. Please try again."))
        if "erasure" in kept:
            done = kept["erasure"] is Kept.APPLIED and in_store
            return replace(
                turn,
                messages=[sorry] if kept["erasure"] is Kept.LOST else [erasure_reply(to, lang, done=done)],
            )
        if kept.get("subscription") is Kept.LOST or (
            kept.get("contact_preference") is Kept.LOST and not in_store
        ):
            return replace(turn, messages=[sorry])
        if kept.get("escalation") is Kept.LOST:
            messages = [
                escalation_not_passed(to, lang) if m.intent in ESCALATING and m.content_id is None else m
                for m in turn.messages
            ]
            return replace(turn, messages=messages)
        return turn

    async def _log_referral_consented(
        self, inbound: InboundMessage, turn: Turn, event: ReferralConsented
    ) -> None:
        """A consented referral is written ahead (spool, then SQL) before the person is told."""
        if self.referrals is None:
            return
        record = ReferralRecord.now(
            code=event.code,
            idempotency_key=event.idempotency_key,
            service=event.service,
            hub_id=event.hub_id,
            country=event.country,
            language=turn.state.language or "es",
            channel=inbound.channel,
            person=pseudonymise(self._secret, inbound.conversation_id),
            consent_version=event.consent_version,
        )
        outcome = await self._log_referral(record)
        log.info("referral %s %s", record.code, outcome)
        if outcome == "spooled" and self.durable is not None:
            self.durable.pending.set()  # the replay loop retries within seconds
        self.notify_hub(record)

    async def _log_referral(self, record: ReferralRecord) -> str:
        """Journaled (in the journal's own threads), then stored in SQL without waiting long for it."""
        assert self.referrals is not None
        await in_file_thread(self.referrals.spool, record)
        try:
            await asyncio.wait_for(asyncio.to_thread(self.referrals.store, record), APPLY_SECONDS)
        except (SQLAlchemyError, TimeoutError) as exc:
            log.error("referral %s spooled: database unavailable (%s)", record.code, exc.__class__.__name__)
            return "spooled"
        return "stored"

    def notify_hub(self, record: ReferralRecord) -> None:
        """Deliver a logged referral to its hub's webhook in the background (bot's and staff's referrals
        alike); the person's reply and the agent's page do not wait for it."""
        hub = self.directory.get(record.hub_id)
        if self.referrals is None or hub is None or not hub.webhook_url:
            return
        task = asyncio.get_running_loop().create_task(HubNotifier(self.referrals).notify(record, hub))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _disaggregate(self, code: str, sex: str | None, age: str | None) -> None:
        assert self.referrals is not None
        try:
            self.referrals.disaggregate(code, sex, age)
        except SQLAlchemyError:  # optional statistics: never worth failing the conversation
            log.warning("could not store optional referral statistics for %s", code)

    async def _decide(self, state: ConversationState, contact: Contact, inbound: InboundMessage) -> Turn:
        parse = await self._parse(state, inbound.text)
        content, today = self.content.current(), self._today()
        decide = partial(
            respond, state, inbound, parse, content, today, self.directory, stopped=contact.opted_out
        )
        # a long text in a thread: the scam check and place matching cost more on it
        turn = decide() if len(inbound.text) <= INLINE_CHARS else await asyncio.to_thread(decide)
        if inbound.metadata.get("truncated") and turn.messages:  # cut by the channel (bot/channels/twilio.py)
            lang = turn.state.language or "es"
            note = translate(lang, "Your message was very long: I read only its beginning.")
            turn.messages.insert(0, replies.say(inbound.sender, lang, note))
            log.info("message truncated", extra={"channel": inbound.channel})
        return turn

    async def _parse(self, state: ConversationState, text: str) -> NluResult:
        """Numbers, button payloads and media need no NLU: they keep the conversation's language."""
        if not text.strip() or text.strip().startswith("/") or number_choice(text) is not None:
            lang = state.language or "es"
            return NluResult(text, FALLBACK_INTENT, 0.0, lang, 1.0)
        return await self.nlu.parse(text)


def wrote(contact: Contact, inbound: InboundMessage) -> Contact:
    """The contact as this message leaves it: who wrote, on which channel, to which of our numbers, when
    (the WhatsApp window counts from here)."""
    reply_from = inbound.metadata.get("reply_from")
    return replace(
        contact,
        channel=inbound.channel,
        address=inbound.sender,
        reply_from=reply_from or contact.reply_from,
        last_inbound_at=inbound.received_at,
        outbox=list(contact.outbox),
    )
