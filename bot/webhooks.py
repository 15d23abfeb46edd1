"""The webhook routes: one generic route for every registered adapter, plus the Twilio status callback and
the web chat's outbox. Malformed requests get 400, forged ones 403, never 500."""

from __future__ import annotations

from functools import partial

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.channels import registry
from bot.channels.base import ChannelError
from bot.channels.rest import RestChannel
from bot.channels.webchat_token import WebChatTokens
from bot.metrics import DUPLICATES, MESSAGES_IN, MESSAGES_OUT
from bot.ratelimit import sender_verdict
from bot.runtime import Runtime
from bot.vocab.messages import InboundMessage, OutboundMessage
from bot.vocab.text import clean_text
from bot.webchat import take_web_chat_outbox

GROUP_NOTICE_SECONDS = 365 * 24 * 3600
"""A group chat is told once a year at most that the bot answers only in private."""
MAX_SID_CHARS = 64
"""Twilio's message SIDs have 34 characters; the delivery_status key holds 64."""
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


async def channel_webhook(request: Request, adapter_name: str) -> Response:
    """The one route every adapter shares: verify → parse → statuses recorded → per person: the limit,
    the provider told the message was seen, the service's receive (claim, lock, understand, decide,
    record, complete) → the adapter's answer. Malformed or forged requests get 4xx, never 500."""
    runtime = runtime_of(request)
    adapter = runtime.channels[adapter_name]
    try:
        await adapter.verify(request)
        parsed = await adapter.parse(request)
    except ChannelError as exc:
        return _error(exc)
    for update in parsed.statuses:
        await runtime.recorder.delivery_status(
            update.provider_id, update.channel, update.status, update.error_code
        )
    if parsed.group_chat is not None and await runtime.store.claim(
        f"{adapter.name}-group:{parsed.group_chat}", GROUP_NOTICE_SECONDS
    ):
        await adapter.notify_group(parsed.group_chat)
    status, answer = "empty", ""
    for inbound in parsed.messages:
        verdict = await sender_verdict(request, adapter.name, inbound.conversation_id)
        if not verdict.allowed:  # one person's flood; the others in the same update are still answered
            request.state.retry_after = verdict.retry_after
            status = "limited" if status == "empty" else status
            continue
        await adapter.acknowledge(inbound)
        receipt = await runtime.conversations.receive(
            inbound, adapter.reply_within, partial(adapter.render_answer, inbound)
        )
        if receipt.status == "duplicate":
            DUPLICATES.labels(channel=inbound.channel).inc()
        else:
            _count(inbound, receipt.replies)
        status, answer = receipt.status, receipt.rendered
    return adapter.respond(request, status, answer)


def channel_routes() -> list[Route]:
    """Each registered adapter's webhook (named after the adapter), and Meta's GET challenge where the
    adapter answers one."""
    routes = [
        Route(cls.path, partial(channel_webhook, adapter_name=cls.name), methods=["POST"])
        for cls in registry.ADAPTERS
    ]
    routes += [
        Route(cls.path, partial(_challenge, adapter_name=cls.name), methods=["GET"])
        for cls in registry.ADAPTERS
        if hasattr(cls, "challenge")
    ]
    return routes


async def _challenge(request: Request, adapter_name: str) -> Response:
    answer: Response = runtime_of(request).channels[adapter_name].challenge(request)  # type: ignore[attr-defined]
    return answer


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


async def twilio_status(request: Request) -> Response:
    runtime = runtime_of(request)
    try:
        await runtime.channels["twilio"].verify(request)
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
