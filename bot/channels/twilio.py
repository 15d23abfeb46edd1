"""Twilio Messaging for WhatsApp and SMS: one adapter, the kind taken from the `whatsapp:` prefix.

Signatures are checked with twilio's RequestValidator against the one URL Twilio was configured to call:
PUBLIC_BASE_URL + path + query when it is set (nothing the request says about its host counts, so a
signature made for another deployment on the same account is refused), otherwise the URL as received,
whose scheme and client address uvicorn takes from X-Forwarded-* only from FORWARDED_ALLOW_IPS
(bot/serve.py). The validator tries each URL with and without its port.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, ClassVar

from aiohttp import ClientError
from starlette.requests import Request
from starlette.responses import Response
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from bot.channels.base import (
    KIB,
    BadRequest,
    ChannelConfigError,
    Forbidden,
    MediaUnavailable,
    Parsed,
    SendError,
    SendResult,
)
from bot.channels.media import WHATSAPP_MEDIA_KINDS, fetch_bounded
from bot.channels.render import sms_body, whatsapp_bodies
from bot.config import Settings
from bot.vocab.messages import Attachment, InboundMessage, Location, OutboundMessage
from bot.vocab.text import MAX_MESSAGE_CHARS, clean_text

WHATSAPP_PREFIX = "whatsapp:"
TWILIO_API = "https://api.twilio.com"
MAX_MEDIA_URL_CHARS = 512
MAX_BODY_CHARS = MAX_MESSAGE_CHARS
MAX_ADDRESS_CHARS = 128
SETTLE_LOOKBACK = 20
"""Newest messages to one address read when settling a send in doubt (a campaign sends one each)."""
TWIML_REPLY_SECONDS = 8.0
"""Answer inside Twilio's webhook (15 s limit) when ready by then; later replies go through the REST API
(journaled, so they survive a restart: bot/deliveries.py)."""
RETRY_AFTER_SECONDS = "5"
OUTSIDE_WHATSAPP_WINDOW = 63016
"""Twilio's error when a free-form WhatsApp message is sent more than 24 hours after the person wrote."""


RETRY_AFTER: ContextVar[float | None] = ContextVar("twilio_retry_after", default=None)
"""The Retry-After of this task's last Twilio answer (TwilioRestException does not carry headers)."""


class _RetryAfterClient(AsyncTwilioHttpClient):
    """twilio's async client, remembering each answer's Retry-After for the task that asked."""

    async def request(self, *args: Any, **kwargs: Any) -> TwilioResponse:
        response = await super().request(*args, **kwargs)
        value = (response.headers or {}).get("Retry-After")
        try:
            RETRY_AFTER.set(float(value) if value is not None else None)
        except ValueError:  # an HTTP date: not used by Twilio's API; back off by our own schedule
            RETRY_AFTER.set(None)
        return response


@dataclass(frozen=True)
class TwilioForm:
    """The fields of Twilio's Messaging webhook that infobot uses; the others are ignored."""

    from_: str
    to: str
    body: str
    message_sid: str
    num_media: int
    media_type: str | None
    truncated: bool = False
    """The Body was longer than MAX_BODY_CHARS and was cut: the reply says so (a 400 nobody would see)."""
    location: Location | None = None
    """WhatsApp's shared location (Latitude, Longitude, Address, Label); malformed numbers are ignored."""
    media_url: str | None = None
    message_type: str | None = None

    @classmethod
    def parse(cls, form: Mapping[str, str]) -> TwilioForm:
        form = {name: clean_text(value) for name, value in form.items()}  # no NUL or controls reach SQL
        missing = [name for name in ("From", "To", "MessageSid") if not form.get(name)]
        if missing:
            raise BadRequest(f"missing required field(s): {', '.join(missing)}")
        if too_long := [name for name in ("From", "To", "MessageSid") if len(form[name]) > MAX_ADDRESS_CHARS]:
            raise BadRequest(f"field(s) longer than {MAX_ADDRESS_CHARS} characters: {', '.join(too_long)}")
        try:
            num_media = int(form.get("NumMedia") or 0)
        except ValueError as exc:
            raise BadRequest("NumMedia must be a number") from exc
        body = form.get("Body") or ""
        return cls(
            form["From"],
            form["To"],
            body[:MAX_BODY_CHARS],
            form["MessageSid"],
            num_media,
            form.get("MediaContentType0"),
            truncated=len(body) > MAX_BODY_CHARS,
            location=Location.checked(
                form["Latitude"], form["Longitude"], form.get("Label"), form.get("Address")
            )
            if form.get("Latitude") and form.get("Longitude")
            else None,
            media_url=(form.get("MediaUrl0") or "")[:MAX_MEDIA_URL_CHARS] or None,
            message_type=form.get("MessageType"),
        )

    @property
    def kind(self) -> str:
        return "whatsapp" if self.from_.startswith(WHATSAPP_PREFIX) else "sms"

    @property
    def attachment(self) -> Attachment | None:
        """What the media is, from MessageType when Twilio gives one, else the content type."""
        if self.num_media <= 0 and self.message_type not in ("sticker", "contacts", "reaction"):
            return None
        content = (self.media_type or "").lower()
        if self.message_type in WHATSAPP_MEDIA_KINDS:
            kind = WHATSAPP_MEDIA_KINDS[self.message_type]
        elif content in ("image/webp",):
            kind = "sticker"
        elif "vcard" in content:
            kind = "contact"
        else:
            kind = {"audio": "voice", "image": "image", "video": "video"}.get(
                content.split("/")[0], "document"
            )
        return Attachment(kind, self.media_type, self.media_url)


class TwilioChannel:
    name: ClassVar[str] = "twilio"
    path: ClassVar[str] = "/webhooks/twilio"
    serves: ClassVar[tuple[str, ...]] = ("whatsapp", "sms")
    reply_within: ClassVar[float | None] = TWIML_REPLY_SECONDS
    max_body_bytes: ClassVar[int] = 64 * KIB
    """A form of a few dozen fields and a body of at most 1,600 characters."""
    address_budget: ClassVar[str] = "provider_address"

    def __init__(
        self,
        auth_token: str | None,
        account_sid: str | None,
        public_base_url: str | None,
        api_base: str | None = None,
    ) -> None:
        self._token, self._sid = auth_token, account_sid
        self._public_base = public_base_url.rstrip("/") if public_base_url else None
        self._api_base = api_base
        self._validator = RequestValidator(auth_token) if auth_token else None
        self._client: Client | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> TwilioChannel:
        return cls(
            settings.twilio_auth_token,
            settings.twilio_account_sid,
            settings.public_base_url,
            settings.twilio_api_base,
        )

    @staticmethod
    def missing_settings(settings: Settings) -> list[str]:
        values = {
            "TWILIO_ACCOUNT_SID": settings.twilio_account_sid,
            "TWILIO_AUTH_TOKEN": settings.twilio_auth_token,
        }
        return [name for name, value in values.items() if not value]

    @property
    def enabled(self) -> bool:
        return self._validator is not None

    async def start(self) -> None:
        return None

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self._token,) if s)

    def _candidate_urls(self, request: Request) -> list[str]:
        """The URL Twilio signed: PUBLIC_BASE_URL's when set, else the URL as received (X-Forwarded-Host
        is never believed: it is not one of the headers a trusted proxy's uvicorn settings cover)."""
        if self._public_base:
            path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return [f"{self._public_base}{path}"]
        return [str(request.url)]

    async def verify(self, request: Request) -> None:
        if self._validator is None:
            raise ChannelConfigError("TWILIO_AUTH_TOKEN is not set: the Twilio channel is off")
        signature = request.headers.get("x-twilio-signature")
        if not signature:
            raise Forbidden("missing X-Twilio-Signature")
        form = await request.form()
        params = {k: str(v) for k, v in form.multi_items()}
        if not any(self._validator.validate(url, params, signature) for url in self._candidate_urls(request)):
            raise Forbidden("X-Twilio-Signature does not match")

    async def parse(self, request: Request) -> Parsed:
        form = TwilioForm.parse({k: str(v) for k, v in (await request.form()).multi_items()})
        sender = form.from_.removeprefix(WHATSAPP_PREFIX)
        reply_from = form.to
        metadata = {
            "reply_from": reply_from,
            "media": form.num_media,
            **({"truncated": True} if form.truncated else {}),
        }
        inbound = InboundMessage(
            channel=form.kind,
            sender=sender,
            text=form.body,
            message_id=form.message_sid,
            metadata=metadata,
            location=form.location,
            attachment=form.attachment,
        )
        return Parsed(messages=(inbound,))

    def render_answer(self, inbound: InboundMessage, replies: list[OutboundMessage]) -> str:
        return self.twiml([body for reply in replies for body in self.bodies(inbound.channel, reply)])

    def respond(self, request: Request, status: str, answer: str) -> Response:
        """TwiML when answered in time; empty TwiML otherwise (an error would only make Twilio retry),
        but 503 while another worker still holds the message, so Twilio tries again later."""
        if status == "in_progress":
            return Response(status_code=503, headers={"Retry-After": RETRY_AFTER_SECONDS})
        return Response(answer if status == "answered" else self.twiml([]), media_type="application/xml")

    async def acknowledge(self, inbound: InboundMessage) -> None:
        return None

    async def notify_group(self, chat_id: int) -> None:
        return None

    @staticmethod
    def bodies(kind: str, message: OutboundMessage) -> list[str]:
        return whatsapp_bodies(message) if kind == "whatsapp" else [sms_body(message)]

    @staticmethod
    def refuse_flood(retry_after: int) -> Response:
        """An empty TwiML answer: Twilio would retry an error."""
        return Response(TwilioChannel.twiml([]), media_type="application/xml")

    @staticmethod
    def twiml(bodies: list[str]) -> str:
        response = MessagingResponse()
        for body in bodies:
            response.message(body)
        return str(response)

    def _rest(self) -> Client:
        if not (self._sid and self._token):
            raise ChannelConfigError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are needed to send messages")
        if self._client is None:
            self._client = Client(self._sid, self._token, http_client=_RetryAfterClient(timeout=10))
            if self._api_base:
                self._client.api.base_url = self._api_base.rstrip("/")
        return self._client

    async def send_body(self, kind: str, to: str, from_: str, body: str) -> SendResult:
        """One message through Twilio's REST API; errors carry their retry policy."""
        return await self._create(kind, to, {"from_": from_, "body": body})

    async def send_initiated(
        self,
        kind: str,
        to: str,
        sender: str,
        *,
        body: str | None = None,
        content_sid: str | None = None,
        variables: Mapping[str, str] | None = None,
    ) -> SendResult:
        """A message the bot starts (campaigns): from `sender`, a number (TWILIO_SMS_FROM,
        TWILIO_WHATSAPP_FROM) or a Messaging Service (MG...); a text, or an approved WhatsApp template
        (Content API: ContentSid + ContentVariables) for someone outside the 24-hour window."""
        params: dict[str, Any] = (
            {"messaging_service_sid": sender} if sender.startswith("MG") else {"from_": sender}
        )
        if self._public_base:  # delivered / read / failed come back to bot/webhooks.py twilio_status
            params["status_callback"] = f"{self._public_base}/webhooks/twilio/status"
        if content_sid:
            params.update(content_sid=content_sid, content_variables=json.dumps(dict(variables or {})))
        else:
            params["body"] = body or ""
        return await self._create(kind, to, params)

    async def _create(self, kind: str, to: str, params: dict[str, Any]) -> SendResult:
        prefix = WHATSAPP_PREFIX if kind == "whatsapp" else ""
        RETRY_AFTER.set(None)
        try:
            created = await self._rest().messages.create_async(to=f"{prefix}{to}", **params)
        except TwilioRestException as exc:
            retryable = exc.status >= 500 or exc.status == 429
            code = f" (Twilio error {exc.code})" if exc.code else ""
            raise SendError(
                f"Twilio refused the message: HTTP {exc.status}{code}",
                retryable=retryable,
                code=exc.code,
                retry_after=RETRY_AFTER.get(),
                maybe_sent=exc.status >= 500,
            ) from exc
        except (ClientError, TimeoutError) as exc:
            raise SendError(
                f"Twilio could not be reached: {exc.__class__.__name__}", retryable=True, maybe_sent=True
            ) from exc
        return SendResult(ok=True, provider_id=created.sid)

    async def sent_since(self, kind: str, to: str, sender: str, since: dt.datetime) -> list[tuple[str, str]]:
        """(sid, body) of the messages Twilio holds from `sender` to `to` created since `since`, newest
        first: how a send interrupted mid-way (crash, timeout) is settled without sending it twice."""
        prefix = WHATSAPP_PREFIX if kind == "whatsapp" else ""
        params: dict[str, Any] = {
            "to": f"{prefix}{to}",
            "limit": SETTLE_LOOKBACK,
            "page_size": SETTLE_LOOKBACK,
        }
        if not sender.startswith("MG"):
            params["from_"] = sender
        try:
            found = await self._rest().messages.list_async(**params)
        except TwilioException as exc:  # a page that is not 200 comes as the base class
            raise SendError(f"Twilio's list failed: {exc.__class__.__name__}", retryable=True) from exc
        except (ClientError, TimeoutError) as exc:
            raise SendError(f"Twilio could not be reached: {exc.__class__.__name__}", retryable=True) from exc
        return [
            (m.sid, m.body or "")
            for m in found
            if m.date_created is not None
            and m.date_created >= since
            and str(m.direction or "").startswith("outbound")
            and (not sender.startswith("MG") or m.messaging_service_sid == sender)
        ]

    async def send(self, message: OutboundMessage) -> SendResult:
        """Every body of the rendered message; the result carries the last provider id."""
        if not message.reply_from:
            raise SendError(
                "no Twilio number to send from: the person has not written to one yet", retryable=False
            )
        result = SendResult(ok=False)
        for body in self.bodies(message.channel, message):
            result = await self.send_body(message.channel, message.recipient, message.reply_from, body)
        return result

    async def fetch_media(self, ref: str) -> tuple[bytes, str | None]:
        """A media URL of our own account, fetched with its SID and token (Twilio's media need HTTP basic
        auth); its redirect to Twilio's storage is followed without the credentials (httpx drops them)."""
        if not (self._sid and self._token):
            raise MediaUnavailable("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are needed to fetch media")
        ours = f"{TWILIO_API}/2010-04-01/Accounts/{self._sid}/"
        if not ref.startswith(ours) or "/Media/" not in ref or ".." in ref:
            raise MediaUnavailable("not a media URL of this Twilio account")
        url = (self._api_base.rstrip("/") + ref.removeprefix(TWILIO_API)) if self._api_base else ref
        return await fetch_bounded(url, auth=(self._sid, self._token))

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.http_client.close()
