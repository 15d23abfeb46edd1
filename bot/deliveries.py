"""Exactly-once processing of a provider's deliveries (Twilio, Telegram), and replies that survive a
restart. `ConversationService.receive` and `recover_deliveries` are the way in; the turn itself is the
service's.

Exactly once, for provider deliveries: claim → process → complete.
- The claim (`store.claim_delivery`) is held only while the turn runs (CLAIM_SECONDS, renewed every
  third of it while a slow turn goes on), so a worker that crashes or is killed mid-turn frees the
  message within seconds and the provider's retry is processed. A turn that fails (the apology is
  sent) or an answer that could not be given (500) releases the claim at once.
- Completion marks the delivery done for DEDUPE_SECONDS: a retry of an answered message gets nothing.
- A retry that arrives while another worker holds the delivery waits (within the webhook's time) for
  that claim: answered meanwhile → nothing more (empty TwiML, or 200 for Telegram); expired (that
  worker died) → this retry processes it. Still held at the end of the wait (a slow turn) → 503 with
  Retry-After: the provider retries, and never gets a second answer (the first worker's journal also
  answers if it dies later).
- Redis forgets (restarted empty) and goes down: every answered delivery is also written to SQL
  (bot/state/sql_deliveries.py, in group commits). While the store's memory is younger than
  DISTRUST_SECONDS, SQL is read as well (answered before the restart?); while the store is down, the
  claim itself is taken in SQL, shared by the workers. Store and database both unavailable: the message
  is processed anyway and the risk said in the log — better a rare duplicate than a lost message.

Late replies survive a restart: a claimed delivery is written to the deliveries journal (bot/journal.py,
fsynced) before it is processed and marked done once its replies are given (in the TwiML answer, or
sent through the provider's API when not ready within the webhook's wait). `recover` (at
start-up and every few seconds) processes what was journaled and not done — deliveries whose worker
died — once their claim has expired, and sends the replies through the provider's API. The claim
makes it safe: a delivery still held by a live worker is left alone, one already answered is dropped.
If a worker dies after its turn changed the conversation but before answering, the recovered turn is
decided again from the newer state: the person still gets one answer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.channels.base import ContactStopped, SendError
from bot.journal import Entry, Journal, in_file_thread
from bot.outbound import OutboundSender
from bot.state.base import ConversationStore, Delivery, StoreUnavailable
from bot.state.sql_deliveries import SqlDeliveries
from bot.vocab.messages import InboundMessage, OutboundMessage

log = logging.getLogger("infobot.deliveries")
DEDUPE_SECONDS = 48 * 3600
"""Provider retries of one message id within two days are answered once (RapidPro keeps a day or two)."""
CLAIM_SECONDS = 15
"""A claim not renewed (every third of this) for this long is free again: a turn renews it as long as it
runs; a dead worker's claim frees its message for the provider's retry, or the recovery, soon."""
HOLDER_WAIT_SECONDS = 8.0
"""How long a retry waits for another worker's claim when the webhook gives no time of its own."""
HOLDER_POLL_SECONDS = 0.25
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
    """False when the turn failed and the replies are an apology: the claim is released, not completed."""
    events: tuple[str, ...] = ()
    """The names of the turn's events (an opt-out's confirmation is sent even late)."""


@dataclass(frozen=True)
class Receipt:
    """What became of a provider's delivery."""

    status: str
    """answered (the replies go in the webhook's answer), sent (through the provider's API), late (will
    be sent through the API), duplicate (answered before) or in_progress (another worker still holds it
    after the wait: ask the provider to retry)."""
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


class Deliveries:
    def __init__(
        self,
        store: ConversationStore,
        process: Callable[[InboundMessage], Awaitable[Handled]],
        journal: Journal | None = None,
        sender: OutboundSender | None = None,
        claims: SqlDeliveries | None = None,
        claim_seconds: int = CLAIM_SECONDS,
    ) -> None:
        self.store, self._process, self.journal = store, process, journal
        self.sender, self.claims, self.claim_seconds = sender, claims, claim_seconds
        self._tasks: set[asyncio.Task[Any]] = set()
        self._completed: list[str] = []
        self._writer: asyncio.Task[None] | None = None

    def _background(self, coroutine: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self, timeout: float) -> None:
        """At shutdown: let late replies in flight finish (the journal has them anyway)."""
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=timeout)

    async def receive(
        self, inbound: InboundMessage, reply_within: float | None = None, render: Render | None = None
    ) -> Receipt:
        """Exactly once for a provider's delivery. With `reply_within` (Twilio's webhook) the replies,
        `render`ed, come back to be put in the answer when ready in time (rendering is part of answering:
        if it fails, the claim is released and the webhook fails, so the retry is processed), else they
        are sent through the provider's API when ready; without it (Telegram) they always are."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        found, claim = await self._claim(inbound)
        if found is Delivery.IN_PROGRESS:
            found, claim = await self._wait_for_holder(inbound, reply_within or HOLDER_WAIT_SECONDS)
            if reply_within is not None:
                reply_within = max(0.0, reply_within - (loop.time() - started))
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

    async def _wait_for_holder(self, inbound: InboundMessage, within: float) -> tuple[Delivery, _Claim]:
        """Another worker holds the delivery: wait until it has answered (DONE) or its claim expired (a
        dead worker's: the delivery is ours now), at most `within` seconds."""
        deadline = asyncio.get_running_loop().time() + within
        found, claim = Delivery.IN_PROGRESS, _Claim(None, "", None)
        while found is Delivery.IN_PROGRESS and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(HOLDER_POLL_SECONDS)
            found, claim = await self._claim(inbound)
        return found, claim

    async def _claim(self, inbound: InboundMessage) -> tuple[Delivery, _Claim]:
        """Take the delivery (journaled once ours), or say it is a duplicate or held by another worker."""
        if inbound.message_id is None:
            return Delivery.NEW, _Claim(None, "", None)
        key, token = f"{inbound.channel}:{inbound.message_id}", uuid.uuid4().hex
        found, in_sql = await self._take(key, token)
        entry = None
        if found is Delivery.NEW and self.journal is not None:
            entry = Entry("delivery", _inbound_data(inbound), key=f"delivery:{key}")
            try:
                await in_file_thread(self.journal.append, entry)
            except OSError as exc:
                log.error("deliveries journal unwritable (%s): this delivery dies with its worker", exc)
                entry = None
        return found, _Claim(key, token, entry, bool(in_sql))

    async def _take(
        self, key: str, token: str, *, store_required: bool = False
    ) -> tuple[Delivery, bool | None]:
        """Claim in the store. While the store cannot vouch, SQL is asked too: its memory younger than
        DISTRUST_SECONDS (restarted empty: a read of what SQL knows suffices, the store still excludes
        other workers), or down (the claim itself is taken in SQL, shared by the workers). Returns the
        claim and whether SQL holds it — None when neither could be asked (the delivery is processed:
        better a rare duplicate than a lost message)."""
        try:
            found = await self.store.claim_delivery(key, token, self.claim_seconds)
            store_up, trusted = True, time.time() - self.store.memory_since > DISTRUST_SECONDS
        except StoreUnavailable:
            if store_required:
                raise
            log.error("store unavailable: the delivery is claimed in SQL")
            found, store_up, trusted = Delivery.NEW, False, False
        if found is not Delivery.NEW or trusted or self.claims is None:
            return found, False
        ask = self.claims.state if store_up else self.claims.claim
        try:
            in_sql = await asyncio.wait_for(
                asyncio.to_thread(ask, key, token, self.claim_seconds), SQL_CLAIM_SECONDS
            )
        except (SQLAlchemyError, TimeoutError) as exc:
            log.error("cannot dedupe in SQL (%s): processing the delivery", exc.__class__.__name__)
            return Delivery.NEW, None
        if in_sql is Delivery.DONE and store_up:
            await self._complete(_Claim(key, token, None))
        elif in_sql is Delivery.IN_PROGRESS and store_up:
            await self._release(_Claim(key, token, None))
        return in_sql, in_sql is Delivery.NEW and not store_up

    async def _answer(
        self,
        inbound: InboundMessage,
        claim: _Claim,
        answer: asyncio.Future[Receipt] | None,
        render: Render | None = None,
        *,
        recovering: bool = False,
    ) -> list[OutboundMessage]:
        """Process under a renewed claim, answer (in the webhook's response or through the API), then
        complete; any failure releases the claim so the provider's retry, or the recovery, answers."""
        renewal = self._background(self._renew(claim))
        try:
            handled = await self._process(inbound)
            if answer is not None and not answer.done():
                rendered = render(handled.replies) if render is not None else ""
                answer.set_result(Receipt("answered", handled.replies, rendered))
            else:
                await self._send(inbound, handled, late=recovering or answer is not None)
        except BaseException:
            renewal.cancel()
            await self._release(claim)
            raise
        renewal.cancel()
        await (self._complete(claim) if handled.ok else self._release(claim))
        if claim.entry is not None and self.journal is not None:
            try:
                await in_file_thread(self.journal.mark_done, claim.entry.key)
            except OSError as exc:  # the recovery will find the claim done and drop the entry
                log.error("deliveries journal unwritable (%s)", exc)
        return handled.replies

    async def _send(self, inbound: InboundMessage, handled: Handled, *, late: bool) -> None:
        """Through the provider's API. A late reply is not sent to a person who opted out meanwhile
        (unless it is the confirmation of that opt-out)."""
        if self.sender is None:
            raise RuntimeError("no sender: replies to this channel cannot be sent outside a webhook answer")
        if late and "opted_out" not in handled.events and await self._opted_out(inbound):
            log.info("a late reply was not sent: the person opted out meanwhile")
            return
        for reply in handled.replies:
            await self.sender.send(inbound.conversation_id, reply)

    async def _opted_out(self, inbound: InboundMessage) -> bool:
        assert self.sender is not None
        try:
            await self.sender.check_allowed(inbound.conversation_id, inbound.channel)
        except ContactStopped:
            return True
        except SendError:  # cannot tell (or outside WhatsApp's window: the provider will say so)
            return False
        return False

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
            self._completed.append(claim.key)
            if self._writer is None or self._writer.done():
                self._writer = self._background(self._write_completions())

    async def _write_completions(self) -> None:
        """Group commit: completions that arrive while one batch is written share the next."""
        assert self.claims is not None
        while self._completed:
            batch, self._completed = self._completed, []
            await self._in_sql(self.claims.complete, *batch)

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

    async def recover(self) -> int:
        """Answer journaled deliveries whose worker died (their claim expired); drop those answered
        elsewhere or too old. Returns how many were answered now."""
        if self.journal is None:
            return 0
        answered = 0
        for entry in await in_file_thread(self.journal.pending):
            if entry.kind != "delivery":
                continue
            age = (dt.datetime.now(dt.UTC) - entry.written_at).total_seconds()
            if age > GIVE_UP_SECONDS:
                log.error("journaled delivery %s dropped: unanswered for %d s", entry.key, age)
                await in_file_thread(self.journal.mark_done, entry.key)
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
                await in_file_thread(self.journal.mark_done, entry.key)
            elif found is Delivery.NEW:
                try:
                    await self._answer(
                        inbound, _Claim(key, token, entry, bool(in_sql)), None, recovering=True
                    )
                    answered += 1
                except Exception as exc:  # noqa: BLE001 - kept in the journal for the next pass
                    log.error("recovering a delivery failed (%s)", exc.__class__.__name__)
        await in_file_thread(self.journal.compact)
        if answered:
            log.info("recovered %d journaled deliver%s", answered, "y" if answered == 1 else "ies")
        return answered


def _inbound_data(inbound: InboundMessage) -> dict[str, Any]:
    """The delivery as the journal keeps it (InboundMessage(**data) rebuilds it)."""
    return {
        "channel": inbound.channel,
        "sender": inbound.sender,
        "text": inbound.text,
        "message_id": inbound.message_id,
        "received_at": inbound.received_at,
        "metadata": dict(inbound.metadata),
        **inbound.parts(),  # a pin stays in the journal only until this delivery is answered
    }
