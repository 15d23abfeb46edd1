"""Handles one inbound message end to end: dedupe, lock, state, NLU, dialogue, state again, records.

Every channel calls `ConversationService.handle`; a failure in one conversation is contained here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError

from bot.channels.base import InboundMessage, OutboundMessage
from bot.content.library import ContentSource
from bot.dialogue import replies
from bot.dialogue.engine import EMPTY_DIRECTORY, Turn, respond
from bot.dialogue.keywords import number_choice
from bot.dialogue.state import ConversationState
from bot.i18n import translate
from bot.metrics import HANDLE_SECONDS
from bot.nlu.client import NluService
from bot.nlu.types import FALLBACK_INTENT, NluResult
from bot.privacy import pseudonymise
from bot.referrals import Directory
from bot.referrals.log import ReferralLog, ReferralRecord
from bot.referrals.notify import HubNotifier
from bot.state.base import ConversationStore, StoreUnavailable

log = logging.getLogger("infobot.conversation")
DEDUPE_SECONDS = 48 * 3600
"""Provider retries of one message id within two days are answered once (RapidPro keeps a day or two)."""


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
    ) -> None:
        self.store, self.nlu, self.content = store, nlu, content
        self.directory, self.referrals = directory, referrals
        self._tasks: set[asyncio.Task[bool]] = set()
        self.recorder: TurnRecorder = recorder or NullRecorder()
        self._secret = secret_key
        self._today = today

    async def first_delivery(self, inbound: InboundMessage) -> bool:
        """False for a provider's retry of a message already handled (atomic across workers)."""
        if inbound.message_id is None:
            return True
        try:
            return await self.store.claim(f"{inbound.channel}:{inbound.message_id}", DEDUPE_SECONDS)
        except StoreUnavailable:
            log.error("store unavailable: cannot dedupe, handling the delivery")
            return True

    async def handle(self, inbound: InboundMessage) -> list[OutboundMessage]:
        """The replies to one message; never raises for a problem inside one conversation."""
        who = pseudonymise(self._secret, inbound.conversation_id)
        started = time.perf_counter()
        language = "es"  # the conversation's, once its state is read: even an apology is in their language
        try:
            try:
                async with self.store.lock(inbound.conversation_id):
                    state = ConversationState.from_dict(await self.store.get(inbound.conversation_id))
                    language = state.language or language
                    turn = await self._decide(state, inbound)
                    await self._log_referrals(inbound, turn)
                    if any(e.name == "erasure_requested" for e in turn.events):
                        await self.store.drop(inbound.conversation_id)
                    else:
                        await self.store.update(inbound.conversation_id, turn.state.to_dict())
            except StoreUnavailable as exc:
                log.error("store unavailable, answering without memory: %s", exc, extra={"conversation": who})
                turn = await self._decide(ConversationState(), inbound)
        except Exception:  # the one boundary: a bug in one conversation must not affect the others
            log.exception("failed to handle a message", extra={"conversation": who})
            sorry = translate(language, "Sorry, something went wrong. Please try again.")
            return [replace(replies.say(inbound.sender, language, sorry), channel=inbound.channel)]
        try:
            await self.recorder.record(inbound, turn)
        except Exception:  # a recording bug must not cost the person their answer
            log.exception("failed to record a turn", extra={"conversation": who})
        HANDLE_SECONDS.labels(channel=inbound.channel).observe(time.perf_counter() - started)
        for event in turn.events:
            log.info("event %s", event.name, extra={"conversation": who, "channel": inbound.channel})
        return [replace(m, channel=inbound.channel, reply_from=turn.state.reply_from) for m in turn.messages]

    async def _log_referrals(self, inbound: InboundMessage, turn: Turn) -> None:
        """Consented referrals are written ahead (spool, then SQL) before the person is told."""
        if self.referrals is None:
            return
        for event in turn.events:
            data = event.data
            if event.name == "referral_consented":
                record = ReferralRecord.now(
                    code=data["code"],
                    idempotency_key=data["idempotency_key"],
                    service=data["service"],
                    hub_id=data["hub_id"],
                    country=data["country"],
                    language=turn.state.language or "es",
                    channel=inbound.channel,
                    person=pseudonymise(self._secret, inbound.conversation_id),
                    consent_version=data["consent_version"],
                )
                outcome = await asyncio.to_thread(self.referrals.log, record)
                log.info("referral %s %s", record.code, outcome)
                self.notify_hub(record)
            elif event.name == "referral_disaggregated":
                sex, age = data.get("sex"), data.get("age")
                await asyncio.to_thread(self._disaggregate, data["code"], sex, age)

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

    async def _decide(self, state: ConversationState, inbound: InboundMessage) -> Turn:
        reply_from = inbound.metadata.get("reply_from")
        state = replace(state, last_inbound_at=inbound.received_at, reply_from=reply_from or state.reply_from)
        parse = await self._parse(state, inbound.text)
        return respond(state, inbound, parse, self.content.current(), self._today(), self.directory)

    async def _parse(self, state: ConversationState, text: str) -> NluResult:
        """Numbers, button payloads and media need no NLU: they keep the conversation's language."""
        if not text.strip() or text.strip().startswith("/") or number_choice(text) is not None:
            lang = state.language or "es"
            return NluResult(text, FALLBACK_INTENT, 0.0, lang, 1.0)
        return await self.nlu.parse(text)
