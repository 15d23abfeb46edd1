"""The webhook routes: authenticate, parse, dedupe, handle, answer. Malformed requests get 400, never 500."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.channels.base import ChannelConfigError, ChannelError
from bot.channels.rest import RestChannel
from bot.channels.telegram import Ignored
from bot.channels.whatsapp_cloud import WhatsAppCloudChannel
from bot.metrics import DUPLICATES, MESSAGES_IN, MESSAGES_OUT
from bot.ratelimit import sender_verdict, too_many
from bot.runtime import Runtime
from bot.vocab.messages import InboundMessage, OutboundMessage
from bot.vocab.text import clean_text
from bot.webchat import take_web_chat_outbox
from bot.webchat_token import WebChatTokens

TWIML_REPLY_SECONDS = 8.0
"""Answer inside Twilio's webhook (15 s limit) when ready by then; later replies go through the REST API
(journaled, so they survive a restart: bot/service.py `receive`)."""
MAX_SID_CHARS = 64
"""Twilio's message SIDs have 34 characters; the delivery_status key holds 64."""
RETRY_AFTER = "5"
"""Seconds a provider is asked to wait before retrying a delivery another worker still holds."""
TWILIO_STATUS = {
    "accepted": "queued",
    "queued": "queued",
    "scheduled": "queued",
    "sending": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "failed": "failed",
    "undelivered": "undelivered",
    "canceled": "failed",
}


def runtime_of(request: Request) -> Runtime:
    """The running parts, attached to the app at start-up."""
    runtime: Runtime = request.app.state.runtime
    return runtime


def _error(exc: ChannelError) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=exc.status, headers=getattr(exc, "headers", None))


def web_chat_tokens(request: Request) -> WebChatTokens:
    tokens: WebChatTokens = request.app.state.web_chat_tokens
    return tokens


def _count(inbound: InboundMessage, replies: list[OutboundMessage]) -> None:
    MESSAGES_IN.labels(channel=inbound.channel).inc()
    for reply in replies:
        MESSAGES_OUT.labels(channel=inbound.channel, language=reply.language or "unknown").inc()


async def rest_webhook(request: Request) -> Response:
    channel = RestChannel()
    tokens = web_chat_tokens(request)
    try:
        identity = tokens.for_message(request)
        messages = await channel.parse(request, sender=identity.sender)
    except ChannelError as exc:
        return _error(exc)
    rendered = []
    for inbound in messages:
        verdict = await sender_verdict(request, "rest", inbound.conversation_id)
        if not verdict.allowed:
            return tokens.attach(request, too_many(verdict), identity)
        replies = await runtime_of(request).conversations.handle(inbound)
        _count(inbound, replies)
        rendered += [channel.render(reply) for reply in replies]
    return tokens.attach(request, JSONResponse(rendered), identity)


async def rest_outbox(request: Request) -> Response:
    """Staff messages waiting for a web-chat person (the page asks every few seconds), each given once."""
    channel = RestChannel()
    try:
        identity = web_chat_tokens(request).for_outbox(request)
        sender = identity.sender or await channel.parse_outbox_request(request)
    except ChannelError as exc:
        return _error(exc)
    conversation_id = InboundMessage(channel=channel.name, sender=sender, text="").conversation_id
    waiting = await take_web_chat_outbox(runtime_of(request).store, conversation_id)
    return JSONResponse(
        [
            channel.render(
                OutboundMessage(recipient=sender, text=m["text"], language=m.get("language"), channel="rest")
            )
            for m in waiting
        ]
    )


async def twilio_webhook(request: Request) -> Response:
    runtime = runtime_of(request)
    channel = runtime.twilio
    try:
        await channel.verify(request)
        [inbound] = await channel.parse(request)
    except ChannelError as exc:
        return _error(exc)
    twiml = "application/xml"
    if not (await sender_verdict(request, "twilio", inbound.conversation_id)).allowed:
        return Response(channel.twiml([]), media_type=twiml)  # an error would only make Twilio retry

    def render(replies: list[OutboundMessage]) -> str:
        return channel.twiml([body for reply in replies for body in channel.bodies(inbound.channel, reply)])

    conversations = runtime.conversations
    receipt = await conversations.receive(inbound, reply_within=TWIML_REPLY_SECONDS, render=render)
    if receipt.status == "duplicate":
        DUPLICATES.labels(channel=inbound.channel).inc()
    if receipt.status == "in_progress":  # another worker still on it after the wait: Twilio, try later
        return Response(status_code=503, headers={"Retry-After": RETRY_AFTER})
    if receipt.status != "answered":  # a duplicate, or a late reply sent through the API
        return Response(channel.twiml([]), media_type=twiml)
    _count(inbound, receipt.replies)
    return Response(receipt.rendered, media_type=twiml)


async def twilio_status(request: Request) -> Response:
    runtime = runtime_of(request)
    try:
        await runtime.twilio.verify(request)
    except ChannelError as exc:
        return _error(exc)
    form = await request.form()
    sid, raw = clean_text(str(form.get("MessageSid") or "")), str(form.get("MessageStatus") or "").lower()
    if not sid or not raw or len(sid) > MAX_SID_CHARS:
        error = f"MessageSid (at most {MAX_SID_CHARS} characters) and MessageStatus are required"
        return JSONResponse({"error": error}, status_code=400)
    status = TWILIO_STATUS.get(raw)
    if status is None:
        return JSONResponse({"status": "ignored", "reason": f"status {raw!r} is not tracked"})
    kind = "whatsapp" if str(form.get("To", "")).startswith("whatsapp:") else "sms"
    error_code = clean_text(str(form.get("ErrorCode") or ""), 20) or None  # NUL never reaches SQL
    await runtime.recorder.delivery_status(sid, kind, status, error_code)
    return JSONResponse({"status": status})


async def telegram_webhook(request: Request) -> Response:
    runtime = runtime_of(request)
    channel = runtime.telegram
    try:
        await channel.verify(request)
        [inbound] = await channel.parse(request)
    except Ignored as exc:
        await _maybe_notify_group(runtime, str(exc))
        return JSONResponse({"status": "ignored"})
    except ChannelError as exc:
        return _error(exc)
    if not (await sender_verdict(request, "telegram", inbound.conversation_id)).allowed:
        return JSONResponse({"status": "ignored"})  # an error would only make Telegram retry
    if "callback_query_id" in inbound.metadata:
        await channel.answer_callback(inbound.metadata["callback_query_id"])
    receipt = await runtime.conversations.receive(inbound)  # the replies go out through the Bot API
    if receipt.status == "duplicate":
        DUPLICATES.labels(channel=inbound.channel).inc()
        return JSONResponse({"status": "duplicate"})
    if receipt.status == "in_progress":  # another worker still on it after the wait: Telegram retries
        return JSONResponse({"status": "in_progress"}, status_code=503, headers={"Retry-After": RETRY_AFTER})
    _count(inbound, receipt.replies)
    return JSONResponse({"status": "ok"})


def _whatsapp_cloud(runtime: Runtime) -> WhatsAppCloudChannel:
    if runtime.whatsapp_cloud is None:
        raise ChannelConfigError("the WhatsApp Cloud API channel is off")
    return runtime.whatsapp_cloud


async def whatsapp_challenge(request: Request) -> Response:
    """Meta's subscription check (GET): the challenge echoed when the verify token matches, else 403."""
    runtime = runtime_of(request)
    if runtime.whatsapp_cloud is None:
        return JSONResponse({"error": "the WhatsApp Cloud API channel is off"}, status_code=503)
    return runtime.whatsapp_cloud.challenge(request)


async def whatsapp_webhook(request: Request) -> Response:
    """Meta's signed updates: statuses recorded, each message answered once through the Graph API.
    Any answer but 200 makes Meta retry the whole update, so refusals are quiet once it is authentic."""
    runtime = runtime_of(request)
    try:
        channel = _whatsapp_cloud(runtime)
        await channel.verify(request)
        messages, statuses = await channel.parse(request)
    except ChannelError as exc:
        return _error(exc)
    for update in statuses:
        await runtime.recorder.delivery_status(
            update.provider_id, "whatsapp", update.status, update.error_code
        )
    for inbound in messages:
        if not (await sender_verdict(request, "whatsapp_cloud", inbound.conversation_id)).allowed:
            continue
        receipt = await runtime.conversations.receive(inbound)  # the replies go out through the Graph API
        if receipt.status == "duplicate":
            DUPLICATES.labels(channel=inbound.channel).inc()
            continue
        _count(inbound, receipt.replies)
    return JSONResponse({"status": "ok"})


async def _maybe_notify_group(runtime: Runtime, reason: str) -> None:
    """One polite line per group chat, ever (claimed in the store), then silence."""
    if not reason.startswith("group:"):
        return
    chat_id = int(reason.split(":", 1)[1])
    if await runtime.store.claim(f"telegram-group:{chat_id}", 365 * 24 * 3600):
        await runtime.telegram.notify_group(chat_id)
