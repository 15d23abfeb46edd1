"""WhatsApp Cloud API (Meta's own API, no Twilio in between): one adapter module.

- `GET` answers Meta's subscription challenge when `hub.verify_token` matches WHATSAPP_VERIFY_TOKEN.
- `POST` bodies are signed: `X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body with the app secret>`,
  compared in constant time before the body is parsed.
- Updates carry text, interactive replies (reply buttons, list rows), template quick replies, locations,
  media and delivery statuses; each message has a `wamid` id that the service dedupes on.
- Replies go to `POST {WHATSAPP_API_BASE}/{WHATSAPP_PHONE_NUMBER_ID}/messages`: up to 3 choices as reply
  buttons, up to 10 as a list, more as numbered text; approved templates for messages the bot starts
  outside the 24-hour window (Meta refuses free-form messages there with error 131047).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any, ClassVar

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from bot.channels.base import (
    KIB,
    BadRequest,
    ChannelConfigError,
    DeliveryUpdate,
    Forbidden,
    MediaUnavailable,
    Parsed,
    SendError,
    SendResult,
    ignored,
)
from bot.channels.media import WHATSAPP_MEDIA_KINDS, fetch_bounded
from bot.channels.render import numbered, split_paragraphs
from bot.config import Settings
from bot.edge.json import InvalidJson, parse_json
from bot.vocab.messages import Attachment, Button, InboundMessage, Location, OutboundMessage
from bot.vocab.text import clean_text

DEFAULT_API_BASE = "https://graph.facebook.com/v21.0"
TEXT_MAX_CHARS = 4096
INTERACTIVE_BODY_MAX = 1024
BUTTON_TITLE_MAX = 20
ROW_TITLE_MAX = 24
MAX_BUTTONS = 3
MAX_ROWS = 10
MESSAGE_MAX_CHARS = 4096
"""Inbound text is cut to this, like the other channels' limit."""
OUTSIDE_WINDOW = 131047
"""Meta's error when a free-form message is sent more than 24 hours after the person last wrote."""
STATUSES = {"sent": "sent", "delivered": "delivered", "read": "delivered", "failed": "failed"}
LIST_BUTTON = {"es": "Opciones", "en": "Options", "fr": "Options", "ht": "Chwa yo"}


def signature_ok(app_secret: str, body: bytes, header: str | None) -> bool:
    """`sha256=<hex>` of the raw body, compared in constant time."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256=").strip().lower())


def _changes(update: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if update.get("object") != "whatsapp_business_account" or not isinstance(update.get("entry"), list):
        raise BadRequest("not a WhatsApp Cloud API update: object/entry missing")
    for entry in update["entry"]:
        for change in entry.get("changes", []) if isinstance(entry, dict) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if isinstance(value, dict) and change.get("field") == "messages":
                yield value


def _parts(message: dict[str, Any]) -> tuple[Location | None, Attachment | None]:
    """A location pin, or media by kind with its Graph media id (fetching it needs the token)."""
    kind = str(message.get("type") or "")
    if kind == "location":
        spot = message.get("location") if isinstance(message.get("location"), dict) else {}
        assert isinstance(spot, dict)
        pin = Location.checked(
            spot.get("latitude"), spot.get("longitude"), spot.get("name"), spot.get("address")
        )
        return pin, None if pin else Attachment("other")
    if kind in ("text", "interactive", "button"):
        return None, None
    body = message.get(kind) if isinstance(message.get(kind), dict) else {}
    assert isinstance(body, dict)
    ref, mime = body.get("id"), body.get("mime_type")
    return None, Attachment(
        WHATSAPP_MEDIA_KINDS.get(kind, "other"),
        str(mime)[:100] if mime else None,
        str(ref)[:200] if ref else None,
    )


def _text_of(message: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The text the dialogue reads, and what else the message carried (media, location)."""
    kind = message.get("type")
    if kind == "text":
        return str((message.get("text") or {}).get("body") or ""), {}
    if kind == "interactive":
        interactive = message.get("interactive") or {}
        reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
        return str(reply.get("id") or reply.get("title") or ""), {}
    if kind == "button":
        button = message.get("button") or {}
        return str(button.get("payload") or button.get("text") or ""), {}
    if kind == "location":
        return (
            "",
            {},
        )  # the pin is InboundMessage.location: never kept in metadata (it is logged and journaled)
    return "", {"media": 1, "media_type": str(kind or "unknown")}


def parse_update(body: bytes, phone_number_id: str | None) -> Parsed:
    """Messages and delivery statuses of one signed update; other numbers' updates are ignored."""
    try:
        data = parse_json(body, strings="clean")
    except InvalidJson as exc:
        raise BadRequest(str(exc)) from exc
    if not isinstance(data, dict):
        raise BadRequest("not a WhatsApp Cloud API update: the body must be a JSON object")
    messages: list[InboundMessage] = []
    statuses: list[DeliveryUpdate] = []
    for value in _changes(data):
        ours = str((value.get("metadata") or {}).get("phone_number_id") or "")
        if phone_number_id and ours and ours != phone_number_id:
            continue
        for message in value.get("messages") or []:
            if not isinstance(message, dict) or not message.get("from") or not message.get("id"):
                raise BadRequest("a message without 'from' or 'id'")
            text, extra = _text_of(message)
            pin, attachment = _parts(message)
            if attachment is not None and attachment.kind == "reaction":
                continue  # an emoji on one of our messages: nothing to answer
            caption = (message.get(str(message.get("type"))) or {}) if attachment else {}
            text = text or (str(caption.get("caption") or "") if isinstance(caption, dict) else "")
            messages.append(
                InboundMessage(
                    channel="whatsapp",
                    sender="+" + str(message["from"]).lstrip("+"),
                    text=clean_text(text, MESSAGE_MAX_CHARS),
                    message_id=str(message["id"]),
                    metadata={"reply_from": ours or phone_number_id, "adapter": "whatsapp_cloud", **extra},
                    location=pin,
                    attachment=attachment,
                )
            )
        for status in value.get("statuses") or []:
            mapped = STATUSES.get(str(status.get("status"))) if isinstance(status, dict) else None
            if mapped and status.get("id"):
                errors = status.get("errors") or [{}]
                code = errors[0].get("code") if isinstance(errors[0], dict) else None
                statuses.append(
                    DeliveryUpdate(str(status["id"]), "whatsapp", mapped, str(code) if code else None)
                )
    return Parsed(messages=tuple(messages), statuses=tuple(statuses))


def _short(title: str, limit: int) -> str:
    return title if len(title) <= limit else title[: limit - 1] + "…"


Numbered = list[tuple[str, Button]]


def _fitting(choices: Numbered) -> tuple[Numbered, Numbered]:
    """A list holds 10 rows: 0 (a person) always among them, the first others, the rest as numbered lines
    under the text."""
    if len(choices) <= MAX_ROWS:
        return choices, []
    person = [c for c in choices if c[0] == "0"]
    others = [c for c in choices if c[0] != "0"]
    room = MAX_ROWS - len(person)
    return others[:room] + person, others[room:]


def render(message: OutboundMessage) -> list[dict[str, Any]]:
    """The Graph API payloads (without `to`) for one neutral reply: text pieces, then the choices."""
    choices, overflow = _fitting(numbered(message.buttons))
    if not choices:
        return [{"type": "text", "text": {"body": p}} for p in split_paragraphs(message.text, TEXT_MAX_CHARS)]
    text = message.text
    if overflow:  # typed by number like every choice: "10" is read as the 10th
        text += "\n\n" + "\n".join(f"*{n}* {b.title}" for n, b in overflow)
    pieces = split_paragraphs(text, INTERACTIVE_BODY_MAX)
    payloads: list[dict[str, Any]] = [{"type": "text", "text": {"body": p}} for p in pieces[:-1]]
    body = {"text": pieces[-1] if pieces else "…"}
    if len(choices) <= MAX_BUTTONS:
        buttons = [
            {
                "type": "reply",
                "reply": {"id": b.payload[:256], "title": _short(f"{n}. {b.title}", BUTTON_TITLE_MAX)},
            }
            for n, b in choices
        ]
        interactive: dict[str, Any] = {"type": "button", "body": body, "action": {"buttons": buttons}}
    else:
        rows = [
            {
                "id": b.payload[:200],
                "title": _short(f"{n}. {b.title}", ROW_TITLE_MAX),
                "description": b.title[:72],
            }
            for n, b in choices
        ]
        label = LIST_BUTTON.get(message.language or "es", LIST_BUTTON["es"])
        interactive = {
            "type": "list",
            "body": body,
            "action": {"button": label, "sections": [{"rows": rows}]},
        }
    return [*payloads, {"type": "interactive", "interactive": interactive}]


class WhatsAppCloudChannel:
    """WhatsApp through Meta's Cloud API; on when WHATSAPP_TOKEN, WHATSAPP_APP_SECRET and
    WHATSAPP_PHONE_NUMBER_ID are set (WHATSAPP_VERIFY_TOKEN for the subscription challenge)."""

    name: ClassVar[str] = "whatsapp_cloud"
    path: ClassVar[str] = "/webhooks/whatsapp"
    serves: ClassVar[tuple[str, ...]] = ("whatsapp",)
    reply_within: ClassVar[float | None] = None
    max_body_bytes: ClassVar[int] = 1024 * KIB
    """Meta batches several messages and statuses in one notification."""
    address_budget: ClassVar[str] = "provider_address"

    @staticmethod
    def refuse_flood(retry_after: int) -> Response:
        """A quiet 200: Meta would retry an error."""
        return ignored(retry_after)

    def __init__(
        self,
        token: str | None,
        app_secret: str | None,
        verify_token: str | None,
        phone_number_id: str | None,
        api_base: str | None = None,
    ) -> None:
        self._token, self._secret, self._verify_token = token, app_secret, verify_token
        self.phone_number_id = phone_number_id
        self._api_base = (api_base or DEFAULT_API_BASE).rstrip("/")
        self._http: httpx.AsyncClient | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> WhatsAppCloudChannel:
        return cls(
            settings.whatsapp_token,
            settings.whatsapp_app_secret,
            settings.whatsapp_verify_token,
            settings.whatsapp_phone_number_id,
            settings.whatsapp_api_base,
        )

    @staticmethod
    def missing_settings(settings: Settings) -> list[str]:
        values = {
            "WHATSAPP_TOKEN": settings.whatsapp_token,
            "WHATSAPP_APP_SECRET": settings.whatsapp_app_secret,
            "WHATSAPP_PHONE_NUMBER_ID": settings.whatsapp_phone_number_id,
        }
        return [name for name, value in values.items() if not value]

    @property
    def enabled(self) -> bool:
        return bool(self._token and self._secret and self.phone_number_id)

    async def start(self) -> None:
        return None

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self._token, self._secret, self._verify_token) if s)

    def challenge(self, request: Request) -> Response:
        """Meta's subscription check: echo `hub.challenge` when the verify token matches."""
        params = request.query_params
        given = params.get("hub.verify_token", "")
        if (
            not self._verify_token
            or params.get("hub.mode") != "subscribe"
            or not hmac.compare_digest(given.encode(), self._verify_token.encode())
        ):
            return PlainTextResponse("forbidden", status_code=403)
        return PlainTextResponse(params.get("hub.challenge", "")[:200])

    async def verify(self, request: Request) -> None:
        if not self.enabled or not self._secret:
            raise ChannelConfigError(
                "WHATSAPP_TOKEN, WHATSAPP_APP_SECRET and WHATSAPP_PHONE_NUMBER_ID are needed"
            )
        if not signature_ok(self._secret, await request.body(), request.headers.get("x-hub-signature-256")):
            raise Forbidden("X-Hub-Signature-256 is missing or does not match")

    async def parse(self, request: Request) -> Parsed:
        return parse_update(await request.body(), self.phone_number_id)

    def render_answer(self, inbound: InboundMessage, replies: list[OutboundMessage]) -> str:
        return ""  # replies go through the Graph API

    def respond(self, request: Request, status: str, answer: str) -> Response:
        """200 for an authentic update whatever became of it: anything else makes Meta resend all of it."""
        return JSONResponse({"status": "ok"})

    async def acknowledge(self, inbound: InboundMessage) -> None:
        return None

    async def notify_group(self, chat_id: int) -> None:
        return None

    def _client(self) -> httpx.AsyncClient:
        if not self.enabled:
            raise ChannelConfigError("the WhatsApp Cloud API channel is off")
        if self._http is None:
            self._http = httpx.AsyncClient(
                base_url=self._api_base, timeout=10.0, headers={"Authorization": f"Bearer {self._token}"}
            )
        return self._http

    async def post(self, to: str, payload: dict[str, Any]) -> SendResult:
        """One Graph API message; errors carry their retry policy (5xx, 429 and timeouts retry)."""
        body = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to.lstrip("+"),
            **payload,
        }
        try:
            response = await self._client().post(f"/{self.phone_number_id}/messages", json=body)
        except httpx.HTTPError as exc:
            raise SendError(
                f"WhatsApp Cloud API could not be reached: {exc.__class__.__name__}", retryable=True
            ) from exc
        if response.status_code >= 400:
            code = _error_code(response)
            retryable = response.status_code >= 500 or response.status_code == 429
            raise SendError(
                f"WhatsApp Cloud API refused the message: HTTP {response.status_code} (error {code})",
                retryable=retryable,
                code=code,
            )
        ids = [m.get("id") for m in (_json(response).get("messages") or []) if isinstance(m, dict)]
        return SendResult(ok=True, provider_id=str(ids[0]) if ids else None)

    async def send(self, message: OutboundMessage) -> SendResult:
        result = SendResult(ok=False)
        for payload in render(message):
            result = await self.post(message.recipient, payload)
        return result

    async def send_template(
        self, to: str, name: str, language: str, variables: list[str] | None = None
    ) -> SendResult:
        """An approved template: the only message allowed outside the 24-hour window."""
        template: dict[str, Any] = {"name": name, "language": {"code": language}}
        if variables:
            parameters = [{"type": "text", "text": v} for v in variables]
            template["components"] = [{"type": "body", "parameters": parameters}]
        return await self.post(to, {"type": "template", "template": template})

    async def fetch_media(self, ref: str) -> tuple[bytes, str | None]:
        """A media id: its short-lived URL from the Graph API, then the bytes, both with the token."""
        if not self.enabled or not ref.isdigit():
            raise MediaUnavailable("not a WhatsApp Cloud API media id, or the channel is off")
        try:
            response = await self._client().get(f"/{ref}")
        except httpx.HTTPError as exc:
            raise MediaUnavailable(
                f"WhatsApp Cloud API could not be reached: {exc.__class__.__name__}"
            ) from exc
        url = _json(response).get("url")
        if response.status_code != 200 or not isinstance(url, str) or not url.startswith("https://"):
            raise MediaUnavailable(f"WhatsApp Cloud API answered HTTP {response.status_code}")
        return await fetch_bounded(url, headers={"Authorization": f"Bearer {self._token}"})

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except (json.JSONDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _error_code(response: httpx.Response) -> int | None:
    error = _json(response).get("error")
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, int) else None
