"""Telegram through python-telegram-bot, inside our Starlette app (PTB's custom-webhook pattern).

The secret header is compared in constant time; updates are parsed with `Update.de_json`; private
text messages and button presses become InboundMessages; edits and channel posts are ignored;
group chats get one polite line. Replies use HTML parse mode and inline keyboards.
"""

from __future__ import annotations

import contextlib
import hmac
import html
from typing import ClassVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from telegram import (
    Bot,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest as TelegramBadRequest
from telegram.error import Forbidden as TelegramForbidden
from telegram.error import NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import Application

from bot.channels.base import (
    KIB,
    MAX_MEDIA_BYTES,
    BadRequest,
    ChannelConfigError,
    Forbidden,
    MediaUnavailable,
    Parsed,
    SendError,
    SendResult,
    ignored,
)
from bot.channels.render import numbered, split_paragraphs
from bot.config import Settings
from bot.edge.json import parse_json
from bot.vocab.messages import Attachment, InboundMessage, Location, OutboundMessage
from bot.vocab.text import MAX_MESSAGE_CHARS, clean_text

TELEGRAM_MAX_CHARS = 4096
RETRY_AFTER_SECONDS = "5"
SHARE_LOCATION_PAYLOAD = "/share_location"
"""The dialogue's request for a pin (bot/dialogue/location.py): a reply-keyboard button that sends one."""
GROUP_NOTICE = "infobot answers only in private chats: please write to me directly. / Escríbame en privado."


class TelegramChannel:
    name: ClassVar[str] = "telegram"
    path: ClassVar[str] = "/webhooks/telegram"
    serves: ClassVar[tuple[str, ...]] = ("telegram",)
    reply_within: ClassVar[float | None] = None
    max_body_bytes: ClassVar[int] = 1024 * KIB
    """An update carries entities and a reply's quoted message."""
    address_budget: ClassVar[str] = "provider_address"

    @staticmethod
    def refuse_flood(retry_after: int) -> Response:
        """A quiet 200: Telegram would retry an error."""
        return ignored(retry_after)

    def __init__(self, token: str | None, webhook_secret: str | None, api_base: str) -> None:
        self._token, self._secret = token, webhook_secret
        self._app: Application | None = None  # type: ignore[type-arg,unused-ignore]
        self._api_base = api_base

    @classmethod
    def from_settings(cls, settings: Settings) -> TelegramChannel:
        return cls(settings.telegram_bot_token, settings.telegram_webhook_secret, settings.telegram_api_base)

    @staticmethod
    def missing_settings(settings: Settings) -> list[str]:
        values = {
            "TELEGRAM_BOT_TOKEN": settings.telegram_bot_token,
            "TELEGRAM_WEBHOOK_SECRET": settings.telegram_webhook_secret,
        }
        return [name for name, value in values.items() if not value]

    @property
    def enabled(self) -> bool:
        return bool(self._token and self._secret)

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self._token, self._secret) if s)

    async def start(self) -> None:
        """Build PTB's Application without an updater: updates come from our webhook route."""
        if not self._token:
            return
        builder = Application.builder().token(self._token).base_url(self._api_base)
        if self._api_base.endswith("/bot"):  # files come from <host>/file/bot<token>/<path>
            builder = builder.base_file_url(self._api_base.removesuffix("bot") + "file/bot")
        self._app = builder.updater(None).build()
        await self._app.initialize()

    async def aclose(self) -> None:
        if self._app is not None:
            await self._app.shutdown()

    @property
    def bot(self) -> Bot:
        if self._app is None:
            raise ChannelConfigError("TELEGRAM_BOT_TOKEN is not set: the Telegram channel is off")
        return self._app.bot

    async def verify(self, request: Request) -> None:
        if not self._secret or self._app is None:
            raise ChannelConfigError("TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET are needed")
        given = request.headers.get("x-telegram-bot-api-secret-token", "")
        if not hmac.compare_digest(given.encode(), self._secret.encode()):
            raise Forbidden("X-Telegram-Bot-Api-Secret-Token is missing or wrong")

    async def parse(self, request: Request) -> Parsed:
        try:
            data = parse_json(await request.body())  # Telegram never sends lone surrogates or NUL
            update = Update.de_json(data, self.bot) if isinstance(data, dict) else None
        except (AttributeError, KeyError, TypeError, ValueError, OverflowError) as exc:  # mistyped fields too
            raise BadRequest(f"not a Telegram Update: {exc}") from exc
        if update is None or not isinstance(data.get("update_id"), int):
            raise BadRequest("not a Telegram Update: update_id is required")
        return self._parsed(update)

    def _parsed(self, update: Update) -> Parsed:
        """A private message or button press; edits, channel posts and joins carry nothing to answer;
        a group chat is told once that infobot answers only in private."""
        message_id = str(update.update_id)
        if update.callback_query is not None and update.callback_query.message is not None:
            query = update.callback_query
            pressed = InboundMessage(
                channel=self.name,
                sender=_chat_id(query.message.chat),  # type: ignore[union-attr]
                text=_text(query.data),
                message_id=message_id,
                metadata={"callback_query_id": str(query.id)},
            )
            return Parsed(messages=(pressed,))
        message = update.message
        if message is None:
            return Parsed()
        chat_id = _chat_id(message.chat)
        if message.chat.type != "private":
            return Parsed(group_chat=int(chat_id))
        attachment = _attachment(message)
        written = InboundMessage(
            channel=self.name,
            sender=chat_id,
            text=_text(message.text if message.text is not None else message.caption),
            message_id=message_id,
            metadata={"media": 0 if attachment is None else 1},
            location=_location(message),
            attachment=attachment,
        )
        return Parsed(messages=(written,))

    def render_answer(self, inbound: InboundMessage, replies: list[OutboundMessage]) -> str:
        return ""  # replies go through the Bot API

    def respond(self, request: Request, status: str, answer: str) -> Response:
        """200 whatever happened to an authentic update (anything else makes Telegram retry it), but 503
        while another worker still holds it."""
        if status == "in_progress":
            return JSONResponse(
                {"status": status}, status_code=503, headers={"Retry-After": RETRY_AFTER_SECONDS}
            )
        shown = {"sent": "ok", "late": "ok", "limited": "ignored", "empty": "ignored"}.get(status, status)
        return JSONResponse({"status": shown})

    async def acknowledge(self, inbound: InboundMessage) -> None:
        """A pressed button's spinner stops (the reply is what matters: errors are ignored)."""
        if "callback_query_id" in inbound.metadata:
            await self.answer_callback(inbound.metadata["callback_query_id"])

    async def answer_callback(self, callback_query_id: str) -> None:
        with contextlib.suppress(TelegramError):  # the spinner stops by itself; the reply is what matters
            await self.bot.answer_callback_query(callback_query_id)

    async def fetch_media(self, ref: str) -> tuple[bytes, str | None]:
        """A file_id through getFile and the bot token's file URL (never shown to anyone)."""
        try:
            found = await self.bot.get_file(ref)
            if found.file_size is not None and found.file_size > MAX_MEDIA_BYTES:
                raise MediaUnavailable("larger than the console shows")
            data = await found.download_as_bytearray()
        except TelegramError as exc:
            raise MediaUnavailable(f"Telegram refused the file: {exc.__class__.__name__}") from exc
        if len(data) > MAX_MEDIA_BYTES:
            raise MediaUnavailable("larger than the console shows")
        return bytes(data), None

    async def notify_group(self, chat_id: int) -> None:
        await self.bot.send_message(chat_id, GROUP_NOTICE)

    @staticmethod
    def render(
        message: OutboundMessage,
    ) -> list[tuple[str, InlineKeyboardMarkup | ReplyKeyboardMarkup | None]]:
        """HTML-escaped text pieces; the keyboard goes with the last piece. A request for a pin becomes a
        one-time reply keyboard (Telegram cannot put it on an inline keyboard)."""
        pieces = split_paragraphs(html.escape(message.text, quote=False), TELEGRAM_MAX_CHARS)
        keyboard: InlineKeyboardMarkup | ReplyKeyboardMarkup | None = None
        pin = next((b for b in message.buttons if b.payload == SHARE_LOCATION_PAYLOAD), None)
        if pin is not None:
            button = KeyboardButton(pin.title, request_location=True)
            keyboard = ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True)
        elif message.buttons:
            rows = [
                [InlineKeyboardButton(f"{n}. {b.title}", callback_data=b.payload[:64])]
                for n, b in numbered(message.buttons)
            ]
            keyboard = InlineKeyboardMarkup(rows)
        return [(p, keyboard if i == len(pieces) - 1 else None) for i, p in enumerate(pieces)]

    async def send(self, message: OutboundMessage) -> SendResult:
        provider_id = None
        for text, keyboard in self.render(message):
            try:
                sent = await self.bot.send_message(
                    int(message.recipient), text, parse_mode=ParseMode.HTML, reply_markup=keyboard
                )
            except TelegramForbidden as exc:  # the person blocked the bot (HTTP 403)
                raise SendError(
                    f"Telegram refused the message: {exc.message}", retryable=False, code=403
                ) from exc
            except TelegramBadRequest as exc:
                raise SendError(f"Telegram refused the message: {exc.message}", retryable=False) from exc
            except RetryAfter as exc:
                wait = exc.retry_after
                seconds = wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)
                raise SendError(
                    "Telegram asked to slow down (HTTP 429)", retryable=True, code=429, retry_after=seconds
                ) from exc
            except (TimedOut, NetworkError) as exc:
                raise SendError(
                    f"Telegram could not be reached: {exc.__class__.__name__}", retryable=True
                ) from exc
            provider_id = str(sent.message_id)
        return SendResult(ok=True, provider_id=provider_id)


def _chat_id(chat: Chat | None) -> str:
    """Telegram's chat ids are integers: anything else did not come from Telegram (and cannot be answered)."""
    chat_id = getattr(chat, "id", None)
    if type(chat_id) is not int:
        raise BadRequest("not a Telegram Update: chat.id must be an integer")
    return str(chat_id)


def _text(value: object) -> str:
    """A message's text or a button's data, cleaned and bounded (bot/vocab/text.py)."""
    if value is not None and not isinstance(value, str):
        raise BadRequest("not a Telegram Update: text must be a string")
    return clean_text(value or "", MAX_MESSAGE_CHARS)


def _location(message: Message) -> Location | None:
    """A shared location, or a venue's (a place picked from the map, with its title and address)."""
    if message.venue is not None:
        spot = message.venue.location
        return Location.checked(spot.latitude, spot.longitude, message.venue.title, message.venue.address)
    if message.location is not None:
        return Location.checked(message.location.latitude, message.location.longitude)
    return None


def _attachment(message: Message) -> Attachment | None:
    """What a message carried besides text; the file_id lets staff fetch a voice note (getFile)."""
    if message.voice is not None:
        return Attachment("voice", message.voice.mime_type, message.voice.file_id)
    if message.audio is not None:
        return Attachment("audio", message.audio.mime_type, message.audio.file_id)
    if message.photo:
        return Attachment("image", "image/jpeg", message.photo[-1].file_id)
    if message.document is not None:
        return Attachment("document", message.document.mime_type, message.document.file_id)
    for kind, part in (("video", message.video), ("video", message.video_note), ("video", message.animation)):
        if part is not None:
            return Attachment(kind, None, part.file_id)
    if message.sticker is not None:
        return Attachment("sticker")
    if message.contact is not None:
        return Attachment("contact")  # a phone number of someone else: never kept
    if message.text is None and message.location is None and message.venue is None:
        return Attachment("other")  # a poll, a dice, a game...: not text either
    return None
