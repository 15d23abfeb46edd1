"""One recipient through the channel adapters, with the platforms' rules.

WhatsApp outside the 24-hour window gets the campaign's approved template (Twilio Content API), or is
skipped and counted — never a free-form message. 429/5xx/timeouts are retried later (honouring
Retry-After, else exponential backoff); other errors are final. Twilio 21610 (the person replied STOP
to the carrier) and Telegram 403 (the person blocked the bot) end the person's subscriptions; 21610
also records the opt-out, as a STOP written to the bot would.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns.claims import Claimed, Outcome
from bot.campaigns.pacing import Pacer
from bot.campaigns.spec import CampaignSpec, Template
from bot.campaigns.subscribers import end_subscriptions
from bot.channels.base import SendError, SendResult
from bot.channels.telegram import TelegramChannel
from bot.channels.twilio import TwilioChannel
from bot.config import CampaignSettings
from bot.db.models import ContactPreference
from bot.state.base import ConversationStore, StoreUnavailable
from bot.state.record import read_conversation
from bot.vocab.messages import OutboundMessage

log = logging.getLogger(__name__)
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
        await pacer.wait(r.channel)
        try:
            result = await self._send(r, template)
        except SendError as exc:
            return await self._failed(r, exc)
        return Outcome(r.id, "sent", provider_id=result.provider_id, template=template is not None)

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

    async def _failed(self, r: Claimed, exc: SendError) -> Outcome:
        provider = "telegram" if r.channel == "telegram" else "twilio"
        reason = f"{provider}_{exc.code}" if exc.code else f"{provider}_error"
        if exc.code == CARRIER_STOP and provider == "twilio":
            await asyncio.to_thread(self._unsubscribe, r.person, "carrier_stop", True)
        elif exc.code == TELEGRAM_BLOCKED and provider == "telegram":
            await asyncio.to_thread(self._unsubscribe, r.person, "blocked", False)
        elif exc.retryable and r.attempts + 1 < self.settings.attempts:
            wait = exc.retry_after or min(MAX_BACKOFF, BASE_BACKOFF * 2**r.attempts)
            retry_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=wait)
            return Outcome(r.id, "pending", reason, retry_at=retry_at)
        log.warning("campaign %s: recipient %d failed: %s", self.spec.id, r.id, reason)
        return Outcome(r.id, "failed", reason)

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
