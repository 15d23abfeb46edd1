"""Rasa's REST channel: `{"sender", "message"}` in, a JSON list of replies out."""

from __future__ import annotations

from typing import Any, ClassVar

from starlette.requests import Request

from bot.channels.base import BadRequest, SendResult
from bot.channels.render import numbered
from bot.edge.json import InvalidJson, parse_json
from bot.vocab.messages import InboundMessage, OutboundMessage

MAX_MESSAGE_CHARS = 4096
MAX_SENDER_CHARS = 128
WEB_CHAT_SENDERS = "webchat:"
"""Reserved for conversations the server names (bot/webchat_token.py): no REST body can speak as one."""


class RestChannel:
    name: ClassVar[str] = "rest"

    async def verify(self, request: Request) -> None:
        """The REST channel is the open test and web-chat channel: nothing to verify."""

    async def parse(self, request: Request, sender: str | None = None) -> list[InboundMessage]:
        """`sender` is the web chat token's conversation when there is one; the body's is then ignored."""
        body = await _json_object(request, '{"sender": ..., "message": ...}')
        sender, message = sender or _sender(body), body.get("message")
        if not isinstance(message, str) or not message.strip():
            raise BadRequest("'message' is required and must be a non-empty string")
        if len(message) > MAX_MESSAGE_CHARS:
            raise BadRequest(f"'message' is longer than {MAX_MESSAGE_CHARS} characters")
        return [InboundMessage(channel=self.name, sender=sender, text=message)]

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
