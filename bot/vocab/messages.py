"""The messages every layer speaks: what a person sent, what the bot answers, and the choices offered.

Channels turn provider requests into InboundMessage and render OutboundMessage; the dialogue reads the
one and writes the other without knowing any channel.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from bot.vocab.text import clean_text


@dataclass(frozen=True)
class Button:
    """A choice offered to the person; `payload` is what comes back when it is chosen."""

    title: str
    payload: str


@dataclass(frozen=True)
class Location:
    """A pin the person shared (WhatsApp location, Telegram location or venue). Personal data: read for
    the one reply and never stored; only the hub the person then chooses is."""

    latitude: float
    longitude: float
    name: str | None = None
    """A venue's or labelled pin's name, as the provider gave it."""
    address: str | None = None

    @classmethod
    def checked(
        cls, latitude: object, longitude: object, name: object = None, address: object = None
    ) -> Location | None:
        """The pin, or None when the coordinates are not two finite numbers within range."""
        try:
            lat, lon = float(str(latitude)), float(str(longitude))
        except ValueError:
            return None
        if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
            return None
        label = clean_text(str(name), 200) or None if name else None
        where = clean_text(str(address), 300) or None if address else None
        return cls(lat, lon, label, where)


ATTACHMENT_KINDS = ("voice", "audio", "image", "video", "document", "sticker", "contact", "reaction", "other")


@dataclass(frozen=True)
class Attachment:
    """Something sent that is not text. `ref` is the provider's handle to fetch it (Twilio's media URL,
    Telegram's file_id), used only by the console, with the provider's credentials, for staff."""

    kind: str
    """One of ATTACHMENT_KINDS."""
    content_type: str | None = None
    ref: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ATTACHMENT_KINDS:
            object.__setattr__(self, "kind", "other")


@dataclass(frozen=True)
class InboundMessage:
    """One message from a person, whatever the channel."""

    channel: str
    sender: str
    text: str
    message_id: str | None = None
    received_at: float = field(default_factory=time.time)
    metadata: dict[str, Any] = field(default_factory=dict)
    location: Location | None = None
    attachment: Attachment | None = None
    """What the message carried besides text (a caption, when there is one, is the text)."""

    def __post_init__(self) -> None:
        # a journaled delivery comes back as plain dicts (bot/deliveries.py): rebuild the typed parts
        if isinstance(self.location, dict):
            object.__setattr__(self, "location", Location.checked(**self.location))
        if isinstance(self.attachment, dict):
            object.__setattr__(self, "attachment", Attachment(**self.attachment))
        # Whoever built it (a channel, the terminal, a replayed journal entry, a future adapter): no lone
        # surrogate, NUL or control character goes on to a hash, a log or SQL. Channels also bound the length.
        object.__setattr__(self, "sender", clean_text(self.sender))
        object.__setattr__(self, "text", clean_text(self.text))
        if self.message_id is not None:
            object.__setattr__(self, "message_id", clean_text(self.message_id))

    @property
    def conversation_id(self) -> str:
        return f"{self.channel}:{self.sender}"

    def parts(self) -> dict[str, Any]:
        """The location and attachment as plain data, for the deliveries journal."""
        return {
            "location": asdict(self.location) if self.location else None,
            "attachment": asdict(self.attachment) if self.attachment else None,
        }


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
    transcript: str | None = None
    """What transcripts keep instead of `text` when the text holds personal data that must not be stored
    (distances from a shared location, which would locate the person)."""
