"""The one channel contract: every adapter turns requests into InboundMessage and sends OutboundMessage."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from starlette.requests import Request


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


@dataclass(frozen=True)
class SendResult:
    ok: bool
    provider_id: str | None = None
    error: str | None = None


class ChannelError(Exception):
    """Base of channel errors; `status` is the HTTP answer a webhook gives for it."""

    status: int = 400


class BadRequest(ChannelError):
    """The request is malformed: answer 400 with the reason, lose nothing else."""

    status = 400


class Forbidden(ChannelError):
    """Authentication failed (missing or wrong signature/secret)."""

    status = 403


class ChannelConfigError(ChannelError):
    """The channel lacks a credential it needs."""

    status = 503


class SendError(ChannelError):
    """Sending failed; `retryable` says whether trying again may help (5xx, timeouts)."""

    def __init__(self, message: str, *, retryable: bool, code: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code
        """The provider's error code when it gave one (e.g. Twilio 63016: outside the WhatsApp window)."""


class ContactStopped(ChannelError):
    """The person opted out: nothing may be sent to them."""

    status = 409


class Channel(Protocol):
    """What every adapter provides; adding a channel is one module and one registry line."""

    name: ClassVar[str]

    async def verify(self, request: Request) -> None:
        """Raise Forbidden unless the request really comes from the provider."""

    async def parse(self, request: Request) -> list[InboundMessage]:
        """Turn the request into messages; raise BadRequest when it is malformed."""

    async def send(self, message: OutboundMessage) -> SendResult:
        """Deliver a message that is not an immediate reply (staff answers, retries)."""

    def secrets(self) -> tuple[str, ...]:
        """Values that must never reach a log."""
