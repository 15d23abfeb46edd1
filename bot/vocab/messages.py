"""The messages every layer speaks: what a person sent, what the bot answers, and the choices offered.

Channels turn provider requests into InboundMessage and render OutboundMessage; the dialogue reads the
one and writes the other without knowing any channel.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from bot.vocab.text import clean_text


@dataclass(frozen=True)
class Button:
    """A choice offered to the person; `payload` is what comes back when it is chosen."""

    title: str
    payload: str


@dataclass(frozen=True)
class InboundMessage:
    """One message from a person, whatever the channel."""

    channel: str
    sender: str
    text: str
    message_id: str | None = None
    received_at: float = field(default_factory=time.time)
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Whoever built it (a channel, the terminal, a replayed journal entry, a future adapter): no lone
        # surrogate, NUL or control character goes on to a hash, a log or SQL. Channels also bound the length.
        object.__setattr__(self, "sender", clean_text(self.sender))
        object.__setattr__(self, "text", clean_text(self.text))
        if self.message_id is not None:
            object.__setattr__(self, "message_id", clean_text(self.message_id))

    @property
    def conversation_id(self) -> str:
        return f"{self.channel}:{self.sender}"


@dataclass(frozen=True)
class OutboundMessage:
    """One neutral reply; each channel's renderer decides markup, numbering and splitting."""

    recipient: str
    text: str
    buttons: tuple[Button, ...] = ()
    intent: str | None = None
    language: str | None = None
    content_id: str | None = None
    sms_text: str | None = None
    channel: str = ""
    """Set by the service: which channel the person uses (whatsapp, sms, telegram, rest)."""
    reply_from: str | None = None
    """Our address the person wrote to (a Twilio number), used when sending outside a reply."""
