"""Rasa's REST channel: `{"sender", "message"}` in, a JSON list of replies out."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.channels.base import KIB, BadRequest, Parsed, SendResult, too_many
from bot.channels.render import numbered
from bot.channels.webchat_token import SENDER_PREFIX, RestIdentity, WebChatTokens
from bot.config import Settings
from bot.edge.json import InvalidJson, parse_json
from bot.vocab.messages import InboundMessage, OutboundMessage

MAX_MESSAGE_CHARS = 4096
MAX_SENDER_CHARS = 128
WEB_CHAT_SENDERS = SENDER_PREFIX
"""Reserved for conversations the server names (webchat_token.py): no REST body can speak as one."""
REST_REPLY_SECONDS = 300.0
"""A REST client waits for its answer in the response: as long as a turn can take."""


class RestChannel:
    name: ClassVar[str] = "rest"
    path: ClassVar[str] = "/webhooks/rest/webhook"
    serves: ClassVar[tuple[str, ...]] = ("rest",)
    reply_within: ClassVar[float | None] = REST_REPLY_SECONDS
    max_body_bytes: ClassVar[int] = 64 * KIB
    """A message is at most 4,096 characters (16 KiB of UTF-8), with its metadata."""
    address_budget: ClassVar[str] = "rest_address"
    enabled: ClassVar[bool] = True

    @staticmethod
    def refuse_flood(retry_after: int) -> Response:
        """429 with Retry-After: a browser can wait."""
        return too_many(retry_after)

    @classmethod
    def from_settings(cls, settings: Settings) -> RestChannel:
        return cls()

    @staticmethod
    def missing_settings(settings: Settings) -> list[str]:
        return []

    async def start(self) -> None:
        return None

    async def aclose(self) -> None:
        return None

    async def verify(self, request: Request) -> None:
        """Who speaks: the web chat token's conversation, a new one for the page, or the body's sender
        (with REST_API_TOKEN, only for a client holding it); kept on the request for parse and respond."""
        request.state.rest_identity = _tokens(request).for_message(request)

    async def parse(self, request: Request) -> Parsed:
        """The token's conversation when there is one; the body's sender is then ignored."""
        identity: RestIdentity = request.state.rest_identity
        body = await _json_object(request, '{"sender": ..., "message": ...}')
        sender, message = identity.sender or _sender(body), body.get("message")
        if not isinstance(message, str) or not message.strip():
            raise BadRequest("'message' is required and must be a non-empty string")
        if len(message) > MAX_MESSAGE_CHARS:
            raise BadRequest(f"'message' is longer than {MAX_MESSAGE_CHARS} characters")
        return Parsed(messages=(InboundMessage(channel=self.name, sender=sender, text=message),))

    def render_answer(self, inbound: InboundMessage, replies: list[OutboundMessage]) -> str:
        return json.dumps([self.render(reply) for reply in replies], ensure_ascii=False)

    def respond(self, request: Request, status: str, answer: str) -> Response:
        """The replies as Rasa's REST list; 429 over the per-person limit; the token handed on."""
        tokens, identity = _tokens(request), request.state.rest_identity
        if status == "limited":
            refusal = too_many(int(getattr(request.state, "retry_after", 60)))
            return tokens.attach(request, refusal, identity)
        if status == "in_progress":
            return JSONResponse({"error": "this message is being answered"}, status_code=409)
        return tokens.attach(request, Response(answer or "[]", media_type="application/json"), identity)

    async def acknowledge(self, inbound: InboundMessage) -> None:
        return None

    async def notify_group(self, chat_id: int) -> None:
        return None

    async def parse_outbox_request(self, request: Request) -> str:
        """The sender whose waiting staff messages the web chat page asks for: `{"sender": ...}`."""
        return _sender(await _json_object(request, '{"sender": ...}'))

    async def send(self, message: OutboundMessage) -> SendResult:
        return SendResult(ok=False, error="the REST channel only answers requests; it cannot push messages")

    def secrets(self) -> tuple[str, ...]:
        return ()

    @staticmethod
    def render(message: OutboundMessage) -> dict[str, Any]:
        """Rasa's REST output, with buttons in menu order (0, a person, last) and our metadata."""
        out: dict[str, Any] = {"recipient_id": message.recipient, "text": message.text}
        if message.buttons:
            out["buttons"] = [
                {"title": b.title, "payload": b.payload, "number": n} for n, b in numbered(message.buttons)
            ]
        out["metadata"] = {
            "intent": message.intent,
            "language": message.language,
            "content_id": message.content_id,
        }
        return out


def _tokens(request: Request) -> WebChatTokens:
    tokens: WebChatTokens = request.app.state.web_chat_tokens
    return tokens


async def _json_object(request: Request, shape: str) -> dict[str, Any]:
    try:
        # lone surrogates, NUL and control characters are dropped: a browser cutting an emoji in half
        # should still get its answer, and none of them can reach a hash, a log or SQL
        body = parse_json(await request.body(), strings="clean")
    except InvalidJson as exc:
        raise BadRequest(str(exc)) from exc
    if not isinstance(body, dict):
        raise BadRequest(f"the body must be a JSON object {shape}")
    return body


def _sender(body: dict[str, Any]) -> str:
    sender = body.get("sender")
    if not isinstance(sender, str) or not sender.strip():
        raise BadRequest("'sender' is required and must be a non-empty string")
    if len(sender) > MAX_SENDER_CHARS:
        raise BadRequest(f"'sender' is longer than {MAX_SENDER_CHARS} characters")
    if sender.startswith(WEB_CHAT_SENDERS):
        raise BadRequest(f"senders beginning with {WEB_CHAT_SENDERS!r} are the web chat's own conversations")
    return sender
