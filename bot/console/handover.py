"""A person from the hotline takes a conversation over and hands it back.

The conversation state's `handed_over` flag keeps the bot quiet while staff answer (opt-out words
still work); it is changed under the conversation's lock so no message is answered half-way.
Sending goes through the runtime's OutboundSender: its checks (opted out, WhatsApp's 24-hour window)
come back as one clear sentence for the console instead of a silent failure. The web chat cannot be pushed
to: its messages wait in the conversation's state until the page fetches them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.channels.base import ContactStopped, OutboundMessage, SendError
from bot.dialogue.state import ConversationState
from bot.i18n import N_, translate
from bot.outbound import OutsideWhatsAppWindow
from bot.runtime import Runtime
from bot.webchat import queue_for_web_chat

HAND_BACK = N_(
    "Our team has finished answering you here. infobot will answer your messages again. "
    "Reply 0 at any time to talk to a person."
)


WEB_CHAT_FULL = "the person's web chat has not fetched the earlier messages yet (page closed?)"


@dataclass(frozen=True)
class Delivery:
    ok: bool
    problem: str = ""


def address(conversation_id: str) -> str:
    """The person's address on the channel: the part after `<channel>:`."""
    return conversation_id.split(":", 1)[1]


async def set_handed_over(runtime: Runtime, conversation_id: str, value: bool) -> None:
    async with runtime.store.lock(conversation_id):
        state = ConversationState.from_dict(await runtime.store.get(conversation_id))
        state.handed_over = value
        await runtime.store.update(conversation_id, state.to_dict())


async def deliver(
    runtime: Runtime, conversation_id: str, channel: str, text: str, language: str | None
) -> Delivery:
    """Send a message through the person's channel; never raises for a refusal, says why instead."""
    try:
        state = await runtime.sender.check_allowed(conversation_id, channel)
    except OutsideWhatsAppWindow as exc:
        return Delivery(False, f"Not sent — outside WhatsApp's 24-hour window: {exc}.")
    except ContactStopped as exc:
        return Delivery(False, f"Not sent — {exc}.")
    if channel == "rest":
        if not await queue_for_web_chat(runtime.store, conversation_id, text, language):
            return Delivery(False, f"Not sent — {WEB_CHAT_FULL}.")
        return Delivery(True)
    message = OutboundMessage(
        recipient=address(conversation_id),
        text=text,
        channel=channel,
        reply_from=state.reply_from,
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
