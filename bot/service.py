"""Handles one inbound message end to end: dedupe, lock, state, NLU, dialogue, state again, records.

Every channel calls `ConversationService.handle` (REST) or `receive` (channels whose provider gives each
message an id and retries it: Twilio, Telegram); a failure in one conversation is contained here.

Exactly once, for provider deliveries: claim → process → complete.
- The claim (`store.claim_delivery`) is held only while the turn runs (CLAIM_SECONDS, renewed every
  third of it while a slow turn goes on), so a worker that crashes or is killed mid-turn frees the
  message within seconds and the provider's retry is processed. A turn that fails (the apology is
  sent) or an answer that could not be given (500) releases the claim at once.
- Completion marks the delivery done for DEDUPE_SECONDS: a retry of an answered message gets nothing.
- A retry that arrives while the first delivery is still being processed also gets nothing (empty
  TwiML, or 200 for Telegram): the first will answer, and if its worker dies, the journal below does.
- Redis forgets (restarted empty) and goes down: every answered delivery is also written to SQL
  (bot/state/sql_deliveries.py), and while the store cannot vouch — down, or its memory younger than
  DISTRUST_SECONDS — claims are taken in SQL too, shared by the workers. Store and database both
  unavailable: the message is processed anyway and the risk said in the log — better a rare duplicate
  than a lost message.

Late replies survive a restart: a claimed delivery is written to the deliveries journal (bot/journal.py,
fsynced) before it is processed and marked done once its replies are given (in the TwiML answer, or
sent through the provider's API when not ready within the webhook's wait). `recover_deliveries` (at
start-up and every few seconds) processes what was journaled and not done — deliveries whose worker
died — once their claim has expired, and sends the replies through the provider's API. The claim
makes it safe: a delivery still held by a live worker is left alone, one already answered is dropped.
If a worker dies after its turn changed the conversation but before answering, the recovered turn is
decided again from the newer state: the person still gets one answer.

What matters (escalations, erasures, opt-outs/ins, referrals) is written ahead before the person is
told (bot/durable.py, bot/referrals/log.py), and the reply says what is true: "erased" only once done.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Protocol

from sqlalchemy.exc import SQLAlchemyError

from bot.channels.base import InboundMessage, OutboundMessage
from bot.content.library import ContentSource
from bot.dialogue import replies
from bot.dialogue.engine import (
    EMPTY_DIRECTORY,
    ESCALATING,
    Turn,
    erasure_reply,
    escalation_not_passed,
    respond,
)
from bot.dialogue.keywords import number_choice
from bot.dialogue.state import ConversationState
from bot.durable import (
    APPLY_SECONDS,
    ContactFlags,
    DurableRecords,
    Kept,
    contact_preference,
    erasure,
    escalation,
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
from bot.state.base import ConversationStore, Delivery, StoreUnavailable
from bot.state.sql_deliveries import SqlDeliveries
from bot.vocab.text import INLINE_CHARS

log = logging.getLogger("infobot.conversation")
DEDUPE_SECONDS = 48 * 3600
"""Provider retries of one message id within two days are answered once (RapidPro keeps a day or two)."""
CLAIM_SECONDS = 30
"""A claim not renewed for this long is free again: longer than a turn takes, short enough that the
provider's retry of a message whose worker died is answered."""
RECORD_SECONDS = 5.0
"""A turn waits this long for its statistics to be written; then the reply goes anyway."""
DISTRUST_SECONDS = 15 * 60
"""A store whose memory is younger than this (Redis restarted empty, or down: claims made meanwhile are
not in it) cannot vouch that a delivery is new: SQL is asked too. Providers retry within minutes."""
SQL_CLAIM_SECONDS = 2.0
"""How long a claim waits for SQL when it must ask it; then the delivery is processed."""
GIVE_UP_SECONDS = 3600
"""A journaled delivery still unanswered after an hour is dropped (logged): the answer would come too late."""


@dataclass(frozen=True)
class Handled:
    replies: list[OutboundMessage]
    ok: bool
    """False when the turn failed and the replies are an apology: the delivery is not marked done."""


@dataclass(frozen=True)
class Receipt:
    """What became of a provider's delivery."""

    status: str
    """answered (the replies go in the webhook's answer), sent (through the provider's API), late (will
    be sent through the API), duplicate (answered before) or in_progress (another worker answers)."""
    replies: list[OutboundMessage] = field(default_factory=list)
    """The replies when answered or sent; empty otherwise."""
    rendered: str = ""
    """When answered: the replies as the webhook's answer (TwiML)."""


Render = Callable[[list[OutboundMessage]], str]
"""Replies → the webhook's answer (e.g. TwiML)."""


@dataclass(frozen=True)
class _Claim:
    key: str | None
    """None for a message without a provider id: nothing to claim."""
    token: str
    entry: Entry | None
    in_sql: bool = False
    """Also claimed in SQL (bot/state/sql_deliveries.py): the store could not vouch alone."""


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
        deliveries: Journal | None = None,
        sender: OutboundSender | None = None,
        claims: SqlDeliveries | None = None,
        claim_seconds: int = CLAIM_SECONDS,
    ) -> None:
        self.store, self.nlu, self.content = store, nlu, content
        self.directory, self.referrals, self.durable = directory, referrals, durable
        self.deliveries, self.sender, self.claim_seconds = deliveries, sender, claim_seconds
        self.claims = claims
        self._tasks: set[asyncio.Task[Any]] = set()
        self.recorder: TurnRecorder = recorder or NullRecorder()
        self._secret = secret_key
        self._today = today

    def _background(self, coroutine: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self, timeout: float) -> None:
        """At shutdown: let late replies and hub notifications in flight finish (the journal has them)."""
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=timeout)

    async def receive(
        self, inbound: InboundMessage, reply_within: float | None = None, render: Render | None = None
    ) -> Receipt:
        """Exactly once for a provider's delivery. With `reply_within` (Twilio's webhook) the replies,
        `render`ed, come back to be put in the answer when ready in time (rendering is part of answering:
        if it fails, the claim is released and the webhook fails, so the retry is processed), else they
        are sent through the provider's API when ready; without it (Telegram) they always are."""
        found, claim = await self._claim(inbound)
        if found is Delivery.DONE:
            return Receipt("duplicate")
        if found is Delivery.IN_PROGRESS:
            return Receipt("in_progress")
        answer: asyncio.Future[Receipt] | None = None
        if reply_within is not None:
            answer = asyncio.get_running_loop().create_future()
        work = self._background(self._answer(inbound, claim, answer, render))
        if answer is None:
            return Receipt("sent", await work)
        await asyncio.wait({answer, work}, timeout=reply_within, return_when=asyncio.FIRST_COMPLETED)
        if not answer.done():
            if work.done():
                work.result()  # it failed before answering: the error is the webhook's (500, retried)
            answer.cancel()
            return Receipt("late")
        await work  # the claim is completed before the provider hears the answer
        return answer.result()

    async def _claim(self, inbound: InboundMessage) -> tuple[Delivery, _Claim]:
        """Take the delivery (journaled once ours), or say it is a duplicate or held by another worker."""
        if inbound.message_id is None:
            return Delivery.NEW, _Claim(None, "", None)
        key, token = f"{inbound.channel}:{inbound.message_id}", uuid.uuid4().hex
        found, in_sql = await self._take(key, token)
        entry = None
        if found is Delivery.NEW and self.deliveries is not None:
            entry = Entry("delivery", _inbound_data(inbound), key=f"delivery:{key}")
            try:
                await in_file_thread(self.deliveries.append, entry)
            except OSError as exc:
                log.error("deliveries journal unwritable (%s): this delivery dies with its worker", exc)
                entry = None
        return found, _Claim(key, token, entry, bool(in_sql))

    async def _take(
        self, key: str, token: str, *, store_required: bool = False
    ) -> tuple[Delivery, bool | None]:
        """Claim in the store; in SQL as well while the store cannot vouch (down, or its memory younger
        than DISTRUST_SECONDS). Returns the claim and whether SQL holds it too — None when neither could
        be asked (the delivery is processed: better a rare duplicate than a lost message)."""
        try:
            found = await self.store.claim_delivery(key, token, self.claim_seconds)
            trusted = time.time() - self.store.memory_since > DISTRUST_SECONDS
        except StoreUnavailable:
            if store_required:
                raise
            log.error("store unavailable: the delivery is claimed in SQL")
            found, trusted = Delivery.NEW, False
        if found is not Delivery.NEW or trusted or self.claims is None:
            return found, False
        try:
            in_sql = await asyncio.wait_for(
                asyncio.to_thread(self.claims.claim, key, token, self.claim_seconds), SQL_CLAIM_SECONDS
            )
        except (SQLAlchemyError, TimeoutError) as exc:
            log.error(
                "cannot dedupe, store and database unavailable (%s): processing", exc.__class__.__name__
            )
            return Delivery.NEW, None
        if in_sql is Delivery.DONE:
            await self._complete(_Claim(key, token, None))
        elif in_sql is Delivery.IN_PROGRESS:
            await self._release(_Claim(key, token, None))
        return in_sql, in_sql is Delivery.NEW

    async def _answer(
        self,
        inbound: InboundMessage,
        claim: _Claim,
        answer: asyncio.Future[Receipt] | None,
        render: Render | None = None,
    ) -> list[OutboundMessage]:
        """Process under a renewed claim, answer (in the webhook's response or through the API), then
        complete; any failure releases the claim so the provider's retry, or the recovery, answers."""
        renewal = self._background(self._renew(claim))
        try:
            handled = await self._handled(inbound)
            if answer is not None and not answer.done():
                rendered = render(handled.replies) if render is not None else ""
                answer.set_result(Receipt("answered", handled.replies, rendered))
            else:
                await self._send(inbound, handled.replies)
        except BaseException:
            renewal.cancel()
            await self._release(claim)
            raise
        renewal.cancel()
        await (self._complete(claim) if handled.ok else self._release(claim))
        if claim.entry is not None and self.deliveries is not None:
            try:
                await in_file_thread(self.deliveries.mark_done, claim.entry.key)
            except OSError as exc:  # the recovery will find the claim done and drop the entry
                log.error("deliveries journal unwritable (%s)", exc)
        return handled.replies

    async def _send(self, inbound: InboundMessage, replies: list[OutboundMessage]) -> None:
        if self.sender is None:
            raise RuntimeError("no sender: replies to this channel cannot be sent outside a webhook answer")
        for reply in replies:
            await self.sender.send(inbound.conversation_id, reply)

    async def _renew(self, claim: _Claim) -> None:
        while claim.key is not None:
            await asyncio.sleep(self.claim_seconds / 3)
            try:
                renewed = await self.store.renew_delivery(claim.key, claim.token, self.claim_seconds)
                if not renewed and not claim.in_sql:
                    log.warning("a delivery's claim expired while it was processed: it may be answered twice")
                    return
            except StoreUnavailable:
                pass
            if claim.in_sql and self.claims is not None:
                await self._in_sql(self.claims.renew, claim.key, claim.token, self.claim_seconds)

    async def _complete(self, claim: _Claim) -> None:
        """Done in the store and, in the background, in SQL: the record that outlives a Redis restart."""
        if claim.key is None:
            return
        try:
            await self.store.complete_delivery(claim.key, DEDUPE_SECONDS)
        except StoreUnavailable:
            log.error("store unavailable: completion recorded in SQL only")
        if self.claims is not None:
            self._background(self._in_sql(self.claims.complete, claim.key))

    async def _release(self, claim: _Claim) -> None:
        if claim.key is None:
            return
        try:
            await self.store.release_delivery(claim.key, claim.token)
        except StoreUnavailable:
            log.error("store unavailable: a failed delivery's claim expires by itself")
        if claim.in_sql and self.claims is not None:
            await self._in_sql(self.claims.release, claim.key, claim.token)

    @staticmethod
    async def _in_sql(work: Callable[..., object], *args: str | int) -> None:
        try:
            await asyncio.wait_for(asyncio.to_thread(work, *args), SQL_CLAIM_SECONDS)
        except (SQLAlchemyError, TimeoutError) as exc:
            log.error("delivery claim not written to SQL (%s)", exc.__class__.__name__)

    async def recover_deliveries(self) -> int:
        """Answer journaled deliveries whose worker died (their claim expired); drop those answered
        elsewhere or too old. Returns how many were answered now."""
        if self.deliveries is None:
            return 0
        answered = 0
        for entry in await in_file_thread(self.deliveries.pending):
            if entry.kind != "delivery":
                continue
            age = (dt.datetime.now(dt.UTC) - entry.written_at).total_seconds()
            if age > GIVE_UP_SECONDS:
                log.error("journaled delivery %s dropped: unanswered for %d s", entry.key, age)
                await in_file_thread(self.deliveries.mark_done, entry.key)
                continue
            if age < self.claim_seconds:
                continue  # its worker may still be on it (a live claim is renewed; this one is young)
            inbound = InboundMessage(**entry.data)
            key, token = f"{inbound.channel}:{inbound.message_id}", uuid.uuid4().hex
            try:
                found, in_sql = await self._take(key, token, store_required=True)
            except StoreUnavailable:
                break  # cannot tell whether a live worker holds them: next time
            if found is Delivery.DONE:
                await in_file_thread(self.deliveries.mark_done, entry.key)
            elif found is Delivery.NEW:
                try:
                    await self._answer(inbound, _Claim(key, token, entry, bool(in_sql)), None)
                    answered += 1
                except Exception as exc:  # noqa: BLE001 - kept in the journal for the next pass
                    log.error("recovering a delivery failed (%s)", exc.__class__.__name__)
        await in_file_thread(self.deliveries.compact)
        if answered:
            log.info("recovered %d journaled deliver%s", answered, "y" if answered == 1 else "ies")
        return answered

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
                    stored = await self.store.get(inbound.conversation_id)
                    state = (
                        await self._remembered(who) if stored is None else ConversationState.from_dict(stored)
                    )
                    language = state.language or language
                    turn = await self._decide(state, inbound)
                    kept = await self._write_ahead(inbound, turn, who, in_store=True)
                    if any(e.name == "erasure_requested" for e in turn.events):
                        await self.store.drop(inbound.conversation_id)
                    else:
                        await self.store.update(inbound.conversation_id, turn.state.to_dict())
                    turn = self._truthful(turn, kept, in_store=True)
            except StoreUnavailable as exc:
                log.error(
                    "store unavailable, answering from SQL's memory: %s", exc, extra={"conversation": who}
                )
                turn = await self._decide(await self._remembered(who), inbound)
                kept = await self._write_ahead(inbound, turn, who, in_store=False)
                turn = self._truthful(turn, kept, in_store=False)
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
        messages = [
            replace(m, channel=inbound.channel, reply_from=turn.state.reply_from) for m in turn.messages
        ]
        return Handled(messages, True)

    async def _remembered(self, person: str) -> ConversationState:
        """A conversation the store does not have (new, expired, Redis lost or down): what SQL knows
        that must hold anyway — the person opted out, or staff hold the conversation."""
        flags = await self.durable.contact_flags(person) if self.durable is not None else None
        flags = flags or ContactFlags(opted_out=False, held_by_staff=False)
        return ConversationState(opted_out=flags.opted_out, handed_over=flags.held_by_staff)

    async def _write_ahead(
        self, inbound: InboundMessage, turn: Turn, person: str, *, in_store: bool
    ) -> dict[str, Kept]:
        """Referrals, escalations, erasures, opt-outs and opt-ins: journaled before the person is told.
        Returns the worst outcome per kind (escalation, erasure, contact_preference)."""
        await self._log_referrals(inbound, turn)
        if self.durable is None:
            return {}
        cid, language = inbound.conversation_id, turn.state.language or "es"
        topic = next((m.intent for m in turn.messages if m.intent), None)
        entries: list[Entry] = []
        for event in turn.events:
            if event.name == "escalation_requested":
                reason = str(event.data.get("reason", "asked"))
                entries.append(
                    escalation(cid, person, inbound.channel, language, turn.state.country, topic, reason)
                )
            elif event.name == "erasure_requested":
                entries.append(erasure(cid, person, sync_store=not in_store))
            elif event.name in ("opted_out", "opted_in"):
                opted_out = event.name == "opted_out"
                entries.append(contact_preference(cid, person, opted_out=opted_out, sync_store=not in_store))
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
        if kept.get("contact_preference") is Kept.LOST and not in_store:
            return replace(turn, messages=[sorry])
        if kept.get("escalation") is Kept.LOST:
            messages = [
                escalation_not_passed(to, lang) if m.intent in ESCALATING and m.content_id is None else m
                for m in turn.messages
            ]
            return replace(turn, messages=messages)
        return turn

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
                outcome = await self._log_referral(record)
                log.info("referral %s %s", record.code, outcome)
                self.notify_hub(record)
            elif event.name == "referral_disaggregated":
                sex, age = data.get("sex"), data.get("age")
                with contextlib.suppress(TimeoutError):  # optional statistics: never worth a long wait
                    await asyncio.wait_for(
                        asyncio.to_thread(self._disaggregate, data["code"], sex, age), APPLY_SECONDS
                    )

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

    async def _decide(self, state: ConversationState, inbound: InboundMessage) -> Turn:
        reply_from = inbound.metadata.get("reply_from")
        state = replace(state, last_inbound_at=inbound.received_at, reply_from=reply_from or state.reply_from)
        parse = await self._parse(state, inbound.text)
        content, today = self.content.current(), self._today()
        decide = partial(respond, state, inbound, parse, content, today, self.directory)
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


def _inbound_data(inbound: InboundMessage) -> dict[str, Any]:
    """The delivery as the journal keeps it (InboundMessage(**data) rebuilds it)."""
    return {
        "channel": inbound.channel,
        "sender": inbound.sender,
        "text": inbound.text,
        "message_id": inbound.message_id,
        "received_at": inbound.received_at,
        "metadata": dict(inbound.metadata),
    }
