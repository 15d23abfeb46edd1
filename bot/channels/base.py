"""The one channel contract: every adapter turns requests into InboundMessage and sends OutboundMessage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

from starlette.requests import Request

from bot.vocab.messages import InboundMessage, OutboundMessage


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


class Sender(Protocol):
    """What the outbound sender needs of an adapter: deliver a message that is not an immediate reply."""

    async def send(self, message: OutboundMessage) -> SendResult:
        """Deliver it, raising SendError with its retry policy."""


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
