"""Messages that are not immediate replies (staff answers, late replies): checked, retried, dead-lettered.

Policy: nothing is sent to a person who opted out (ContactStopped) — known from the contact
(bot/state/record.py) and from SQL's contact preferences, so an opt-out holds while Redis is down
or after it lost its data; when neither can say, nothing is sent (SendError naming why); on WhatsApp
nothing free-form is sent more than 24 hours after the person's last message (Twilio would refuse it
with error 63016);
5xx and timeouts are retried with exponential backoff, 4xx never; after the last try the message
goes to the dead-letter list that the staff console shows.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping

from bot.channels.base import ContactStopped, Sender, SendError, SendResult
from bot.metrics import SEND_FAILURES
from bot.state.base import ConversationStore, StoreUnavailable
from bot.state.record import Contact, read_conversation
from bot.vocab.messages import OutboundMessage

log = logging.getLogger(__name__)
WHATSAPP_WINDOW_SECONDS = 24 * 3600
DeadLetterSink = Callable[[str, OutboundMessage, str, int], Awaitable[None]]
"""(conversation id, message, error, attempts) -> stored for staff to retry."""
OptedOutInSql = Callable[[str], Awaitable[bool | None]]
"""(conversation id) -> whether SQL's contact preferences say the person opted out; None: cannot say."""


class OutsideWhatsAppWindow(SendError):
    def __init__(self) -> None:
        super().__init__(
            "the person last wrote more than 24 hours ago: WhatsApp only allows an approved "
            "template now (Twilio error 63016)",
            retryable=False,
            code=63016,
        )


class OutboundSender:
    def __init__(
        self,
        channels: Mapping[str, Sender],
        store: ConversationStore,
        dead_letter: DeadLetterSink,
        attempts: int = 4,
        base_delay: float = 0.5,
        opted_out_in_sql: OptedOutInSql | None = None,
    ) -> None:
        self._channels, self._store, self._dead_letter = channels, store, dead_letter
        self._opted_out_in_sql = opted_out_in_sql
        self.attempts, self.base_delay = attempts, base_delay

    async def check_allowed(self, conversation_id: str, channel: str) -> Contact:
        """Raise ContactStopped or OutsideWhatsAppWindow instead of sending what must not be sent; the
        contact (never the dialogue's state) says who, from which number, and when they last wrote."""
        try:
            kept, store_down = await read_conversation(self._store, conversation_id), False
            contact = kept.contact if kept else Contact()
        except StoreUnavailable:
            contact, store_down = Contact(), True
        in_sql = await self._opted_out_in_sql(conversation_id) if self._opted_out_in_sql else None
        if store_down and in_sql is None:
            raise SendError(
                "cannot check whether this person opted out: the store and the database are unavailable",
                retryable=False,
            )
        if contact.opted_out or in_sql:
            raise ContactStopped("this person opted out (STOP): nothing can be sent until they write START")
        last_wrote = contact.last_inbound_at or 0
        if channel == "whatsapp" and not store_down and last_wrote < time.time() - WHATSAPP_WINDOW_SECONDS:
            raise OutsideWhatsAppWindow()
        return contact

    async def send(self, conversation_id: str, message: OutboundMessage) -> SendResult:
        """Send with retries; a message that still fails is dead-lettered and its error returned."""
        channel = self._channels.get(message.channel)
        if channel is None:
            raise SendError(f"the {message.channel} channel is not configured", retryable=False)
        error = ""
        attempt = 0
        for attempt in range(1, self.attempts + 1):
            try:
                return await channel.send(message)
            except SendError as exc:
                error = str(exc)
                SEND_FAILURES.labels(channel=message.channel, retryable=str(exc.retryable).lower()).inc()
                log.warning(
                    "send failed (attempt %d/%d, retryable=%s): %s",
                    attempt,
                    self.attempts,
                    exc.retryable,
                    exc,
                )
                if not exc.retryable:
                    break
                if attempt < self.attempts:
                    await asyncio.sleep(self.base_delay * 2 ** (attempt - 1))
        await self._dead_letter(conversation_id, message, error, attempt)
        return SendResult(ok=False, error=error)
