"""The one channel contract: every adapter turns requests into InboundMessage and sends OutboundMessage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

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

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        code: int | None = None,
        retry_after: float | None = None,
        maybe_sent: bool = False,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.maybe_sent = maybe_sent
        """No clear refusal (a timeout, a dropped connection, a 5xx): the provider may have taken it."""
        self.code = code
        """The provider's error code when it gave one (e.g. Twilio 63016: outside the WhatsApp window)."""
        self.retry_after = retry_after
        """Seconds the provider asked us to wait (Retry-After, Telegram's retry_after), when it said."""


class ContactStopped(ChannelError):
    """The person opted out: nothing may be sent to them."""

    status = 409


@dataclass(frozen=True)
class DeliveryUpdate:
    """A provider's report on a message we sent (sent, delivered, failed...)."""

    provider_id: str
    channel: str
    status: str
    error_code: str | None = None


@dataclass(frozen=True)
class Parsed:
    """What one authentic webhook request carries."""

    messages: tuple[InboundMessage, ...] = ()
    statuses: tuple[DeliveryUpdate, ...] = ()
    group_chat: int | None = None
    """A group chat the bot does not serve: told so once (claimed in the store), then silence."""


MAX_MEDIA_BYTES = 16 * 1024 * 1024
"""The largest voice note or file the console fetches for staff (WhatsApp's own limit for audio)."""


class MediaUnavailable(ChannelError):
    """A voice note or file could not be fetched from its provider (expired, refused, too big, off)."""

    status = 502


class MediaSource(Protocol):
    """An adapter that can fetch what a person sent, with its own credentials, for the console only."""

    async def fetch_media(self, ref: str) -> tuple[bytes, str | None]:
        """(the bytes, their content type); raise MediaUnavailable."""


class Sender(Protocol):
    """What the outbound sender needs of an adapter: deliver a message that is not an immediate reply."""

    async def send(self, message: OutboundMessage) -> SendResult:
        """Deliver it, raising SendError with its retry policy."""


KIB = 1024


def too_many(retry_after: int) -> Response:
    """429 with Retry-After: for a client that can wait (REST, the console)."""
    return JSONResponse(
        {"error": f"too many requests: try again in {retry_after} s"},
        status_code=429,
        headers={"Retry-After": str(retry_after)},
    )


def ignored(retry_after: int) -> Response:
    """200 and nothing done: a provider would only retry an error, multiplying the flood."""
    return JSONResponse({"status": "ignored"})


class Channel(Protocol):
    """What every adapter provides; adding a channel is one module and one line in registry.py: its
    route, its body cap (bot/edge/limits.py) and its per-address limit (bot/ratelimit.py) come from here.

    The generic route (bot/webhooks.py) runs verify → parse → per-person limit → acknowledge → the
    service's receive (claim, lock, understand, decide, record, complete) → respond, for every adapter."""

    name: ClassVar[str]
    """The adapter (twilio, telegram, whatsapp_cloud, rest); the conversation channel is InboundMessage's."""
    path: ClassVar[str]
    """Its webhook route (POST)."""
    serves: ClassVar[tuple[str, ...]]
    """The conversation channels it reaches (whatsapp and sms for Twilio)."""
    reply_within: ClassVar[float | None]
    """Seconds the replies may take to go in the webhook's own answer; None: they go through the API."""
    max_body_bytes: ClassVar[int]
    """The largest request body its route reads (413 above it, before parsing)."""
    address_budget: ClassVar[str]
    """Which per-address limit of RateLimitSettings its route counts against (rest_address for people's
    browsers, provider_address for a provider's servers)."""

    @staticmethod
    def refuse_flood(retry_after: int) -> Response:
        """The answer to an address over its limit: 429 for clients that wait, a quiet 200 for providers."""

    @property
    def enabled(self) -> bool:
        """Its credentials are set."""

    async def start(self) -> None:
        """Connect what must be connected before the first request."""

    async def aclose(self) -> None:
        """Release connections."""

    async def verify(self, request: Request) -> None:
        """Raise Forbidden unless the request really comes from the provider (ChannelConfigError when off)."""

    async def parse(self, request: Request) -> Parsed:
        """The messages and statuses of an authentic request; raise BadRequest when it is malformed."""

    def render_answer(self, inbound: InboundMessage, replies: list[OutboundMessage]) -> str:
        """The replies as the webhook's own answer (TwiML, JSON); unused when reply_within is None."""

    def respond(self, request: Request, status: str, answer: str) -> Response:
        """The HTTP answer: `status` is the service's receipt (answered, sent, late, duplicate,
        in_progress, limited, empty); `answer` the rendered replies when answered."""

    async def acknowledge(self, inbound: InboundMessage) -> None:
        """Tell the provider the message was seen before the turn runs (Telegram's button spinner)."""

    async def notify_group(self, chat_id: int) -> None:
        """The one line a group chat gets."""

    async def send(self, message: OutboundMessage) -> SendResult:
        """Deliver a message that is not an immediate reply (staff answers, late replies, retries)."""

    def secrets(self) -> tuple[str, ...]:
        """Values that must never reach a log."""
