"""One recipient through the channel adapters, with the platforms' rules.

WhatsApp outside the 24-hour window gets the campaign's approved template (Twilio Content API), or is
skipped and counted — never a free-form message. 429/5xx/timeouts are retried later (honouring
Retry-After, else exponential backoff); other errors are final. Twilio 21610 (the person replied STOP
to the carrier) and Telegram 403 (the person blocked the bot) end the person's subscriptions; 21610
also records the opt-out, as a STOP written to the bot would.

A recipient *in doubt* (its worker died mid-send, or Twilio timed out or answered 5xx) is settled with
the provider before anything is sent again: Twilio's message list shows whether it took the message
(then it counts as sent, with Twilio's sid); if not, it is sent now. Telegram keeps no list of what a
bot sent, so there a recipient in doubt ends as `unknown` rather than risk a second message.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns.claims import Claimed, Outcome
from bot.campaigns.pacing import Pacer
from bot.campaigns.spec import CampaignSpec, Template
from bot.campaigns.subscribers import end_subscriptions
from bot.channels.base import SendError, SendResult
from bot.channels.telegram import TelegramChannel
from bot.channels.twilio import TwilioChannel
from bot.config import CampaignSettings
from bot.db.models import CampaignRecipient, ContactPreference
from bot.state.base import ConversationStore, StoreUnavailable
from bot.state.record import read_conversation
from bot.vocab.messages import OutboundMessage

log = logging.getLogger(__name__)
CLOCK_SKEW = dt.timedelta(minutes=2)
"""Twilio's clock against ours when settling a send in doubt."""
WINDOW_SECONDS = 24 * 3600
CARRIER_STOP = 21610
TELEGRAM_BLOCKED = 403
BASE_BACKOFF = 1.0
MAX_BACKOFF = 300.0
WindowOpen = Callable[[str], Awaitable[bool]]
"""(conversation id) → the person wrote within 24 hours (WhatsApp's customer service window)."""


def store_window(store: ConversationStore) -> WindowOpen:
    """The window from the conversation store; when it cannot say, the window counts as closed
    (a template, or a skip: never a free-form message WhatsApp would refuse)."""

    async def window_open(conversation_id: str) -> bool:
        try:
            kept = await read_conversation(store, conversation_id)
        except StoreUnavailable:
            return False
        last = (kept.contact.last_inbound_at if kept else None) or 0
        return last >= time.time() - WINDOW_SECONDS

    return window_open


@dataclass
class Deliverer:
    spec: CampaignSpec
    settings: CampaignSettings
    sessions: sessionmaker[Session]
    twilio: TwilioChannel | None
    telegram: TelegramChannel | None
    window_open: WindowOpen

    async def deliver(self, r: Claimed, pacer: Pacer) -> Outcome:
        """Send to one recipient, once the channel's rate limit lets it."""
        if not r.reachable:
            return Outcome(r.id, "skipped", "opted_out")
        template = None
        if r.channel == "whatsapp" and not await self.window_open(f"whatsapp:{r.address}"):
            template = self.spec.whatsapp_template.get(r.language)
            if template is None:
                return Outcome(r.id, "skipped", "outside_window_no_template")
        if r.in_doubt_since is not None and (settled := await self._settle(r, template)) is not None:
            return settled
        await pacer.wait(r.channel)
        started = dt.datetime.now(dt.UTC)
        try:
            result = await self._send(r, template)
        except SendError as exc:
            return await self._failed(r, exc, started)
        return Outcome(r.id, "sent", provider_id=result.provider_id, template=template is not None)

    async def _settle(self, r: Claimed, template: Template | None) -> Outcome | None:
        """An earlier send may have reached the provider: the outcome if it did (or if nobody can say),
        None when it certainly did not (send now)."""
        sender = self.settings.sender(r.channel)
        if r.channel == "telegram" or self.twilio is None or sender is None or r.in_doubt_since is None:
            return Outcome(r.id, "unknown", "interrupted_mid_send")
        try:
            found = await self.twilio.sent_since(r.channel, r.address, sender, r.in_doubt_since - CLOCK_SKEW)
        except SendError as exc:
            if exc.retryable and r.attempts + 1 < self.settings.attempts:
                return Outcome(r.id, "pending", "settle_retry", retry_at=self._backoff(r, exc))
            return Outcome(r.id, "unknown", "unconfirmed")
        text = self.spec.messages[r.language]
        known = await asyncio.to_thread(self._recorded, [sid for sid, _ in found])
        for sid, body in found:
            if sid not in known and (body == text or template is not None):  # a template: Twilio's text
                return Outcome(r.id, "sent", "settled", provider_id=sid, template=template is not None)
        return None

    def _recorded(self, sids: list[str]) -> set[str]:
        """Sids some recipient already owns (an earlier campaign with the same text): never this one."""
        if not sids:
            return set()
        with self.sessions() as session:
            owned = session.scalars(
                select(CampaignRecipient.provider_id).where(CampaignRecipient.provider_id.in_(sids))
            )
            return {sid for sid in owned if sid}

    async def _send(self, r: Claimed, template: Template | None) -> SendResult:
        text = self.spec.messages[r.language]
        if r.channel == "telegram":
            if self.telegram is None:
                raise SendError("the Telegram channel is not configured", retryable=False)
            return await self.telegram.send(
                OutboundMessage(recipient=r.address, text=text, channel="telegram", language=r.language)
            )
        sender = self.settings.sender(r.channel)
        if self.twilio is None or sender is None:
            raise SendError(f"no Twilio sender configured for {r.channel}", retryable=False)
        if template is None:
            return await self.twilio.send_initiated(r.channel, r.address, sender, body=text)
        return await self.twilio.send_initiated(
            r.channel, r.address, sender, content_sid=template.content_sid, variables=template.variables
        )

    async def _failed(self, r: Claimed, exc: SendError, started: dt.datetime) -> Outcome:
        provider = "telegram" if r.channel == "telegram" else "twilio"
        reason = f"{provider}_{exc.code}" if exc.code else f"{provider}_error"
        if exc.code == CARRIER_STOP and provider == "twilio":
            await asyncio.to_thread(self._unsubscribe, r.person, "carrier_stop", True)
        elif exc.code == TELEGRAM_BLOCKED and provider == "telegram":
            await asyncio.to_thread(self._unsubscribe, r.person, "blocked", False)
        elif exc.retryable and r.attempts + 1 < self.settings.attempts:
            doubt = started if exc.maybe_sent and provider == "twilio" else None
            return Outcome(r.id, "pending", reason, retry_at=self._backoff(r, exc), in_doubt_since=doubt)
        elif exc.maybe_sent and provider == "twilio":
            return Outcome(r.id, "unknown", reason)  # retries spent, and it may have gone: not "failed"
        log.warning("campaign %s: recipient %d failed: %s", self.spec.id, r.id, reason)
        return Outcome(r.id, "failed", reason)

    @staticmethod
    def _backoff(r: Claimed, exc: SendError) -> dt.datetime:
        wait = exc.retry_after or min(MAX_BACKOFF, BASE_BACKOFF * 2**r.attempts)
        return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=wait)

    def _unsubscribe(self, person: str, reason: str, opt_out: bool) -> None:
        now = dt.datetime.now(dt.UTC)
        with self.sessions.begin() as session:
            end_subscriptions(session, person, reason, now)
            if opt_out:
                row = session.get(ContactPreference, person)
                if row is None:
                    session.add(ContactPreference(person=person, opted_out=True, changed_at=now))
                else:
                    row.opted_out, row.changed_at = True, now
