"""Web chat identity: the server, not the page, names a web-chat person's conversation.

The page's first message carries `X-Infobot-Web-Chat: 1`; the answer sets a signed token (itsdangerous,
keyed with the "webchat" key derived from the installation's secret) in an HttpOnly, SameSite=Strict
cookie scoped to /webhooks/rest. Every later request from that browser talks as the token's conversation,
and the outbox (staff replies) serves only the token's holder. Token conversations are named
`webchat:<random>`, a sender that a REST body may not use, so no REST client can address them.

Plain REST clients (Rasa's `{"sender", "message"}`, for tests and custom front-ends) keep working without
a token; with REST_API_TOKEN set they must send `Authorization: Bearer <token>`, and only such an
authenticated front-end may read the outbox of the senders it names.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from bot.channels.base import ChannelError, Forbidden
from bot.config import Settings
from bot.privacy import derive_key

COOKIE = "infobot_webchat"
COOKIE_PATH = "/webhooks/rest"
START_HEADER = "x-infobot-web-chat"
"""Sent by the page: 'I am the web chat; if I hold no valid token, start a conversation for me'."""
SENDER_PREFIX = "webchat:"
"""Token conversations' senders, refused in REST bodies (bot/channels/rest.py): the namespaces never meet."""
REFRESH_AFTER_SECONDS = 24 * 3600
"""A token older than this is re-signed on use, so an active conversation's cookie never runs out."""


class Unauthorized(ChannelError):
    """No credential at all: answer 401 and say which one is expected."""

    status = 401
    headers = {"WWW-Authenticate": 'Bearer realm="infobot"'}


@dataclass(frozen=True)
class RestIdentity:
    sender: str | None
    """The conversation's sender when a web chat token names it; None when the REST body names it."""
    new_token: str | None = None
    """A token to hand to the browser with the answer (a new conversation, or a refresh)."""


class WebChatTokens:
    def __init__(self, key: bytes, max_age_seconds: int, api_token: str | None, secure: bool) -> None:
        self._serializer = URLSafeTimedSerializer(key, salt="infobot-webchat-conversation")
        self._max_age = max_age_seconds
        self._api_token = api_token.encode() if api_token else None
        self._secure = secure

    @classmethod
    def from_settings(cls, settings: Settings) -> WebChatTokens:
        return cls(
            derive_key(settings.secret_key, "webchat"),
            settings.conversation_ttl_seconds,
            settings.rest_api_token,
            secure=(settings.public_base_url or "").startswith("https://"),
        )

    def issue(self) -> tuple[str, str]:
        """A new conversation: its sender and its token."""
        sender = SENDER_PREFIX + secrets.token_urlsafe(18)
        return sender, self._serializer.dumps(sender)

    def _read(self, token: str) -> tuple[str, float] | None:
        """The token's sender and when it was signed; None when forged, altered or expired."""
        try:
            sender, signed_at = self._serializer.loads(token, max_age=self._max_age, return_timestamp=True)
        except BadSignature:
            return None
        if not isinstance(sender, str) or not sender.startswith(SENDER_PREFIX):
            return None
        return sender, signed_at.timestamp()

    def for_message(self, request: Request) -> RestIdentity:
        """Who a REST message speaks as: the token's conversation, a new one for the page, or the body's."""
        token = request.cookies.get(COOKIE)
        starts = request.headers.get(START_HEADER) == "1"
        if token:
            read = self._read(token)
            if read is not None:
                sender, signed_at = read
                stale = time.time() - signed_at > REFRESH_AFTER_SECONDS
                return RestIdentity(sender, self._serializer.dumps(sender) if stale else None)
            if not starts:
                raise Forbidden("the web chat token is not valid (expired or altered): reload the page")
        if starts:
            sender, token = self.issue()
            return RestIdentity(sender, token)
        self._require_bearer(request)
        return RestIdentity(None)

    def for_outbox(self, request: Request) -> RestIdentity:
        """Only the token's holder, or a front-end authenticated with REST_API_TOKEN, reads an outbox."""
        token = request.cookies.get(COOKIE)
        if token:
            read = self._read(token)
            if read is None:
                raise Forbidden("the web chat token is not valid (expired or altered): reload the page")
            return RestIdentity(read[0])
        if self._api_token is not None and self._bearer_ok(request):
            return RestIdentity(None)
        raise Unauthorized("the outbox serves the web chat's own conversation: its token is missing")

    def _bearer_ok(self, request: Request) -> bool:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        return (
            self._api_token is not None
            and scheme.lower() == "bearer"
            and hmac.compare_digest(given.strip().encode(), self._api_token)
        )

    def _require_bearer(self, request: Request) -> None:
        if self._api_token is None or self._bearer_ok(request):
            return
        if request.headers.get("authorization"):
            raise Forbidden("the REST API token does not match")
        raise Unauthorized("this server requires 'Authorization: Bearer <REST_API_TOKEN>'")

    def attach(self, request: Request, response: Response, identity: RestIdentity) -> Response:
        """Hand a new or refreshed token to the browser (HttpOnly: the page's scripts never see it)."""
        if identity.new_token:
            response.set_cookie(
                COOKIE,
                identity.new_token,
                max_age=self._max_age,
                path=COOKIE_PATH,
                secure=self._secure or request.url.scheme == "https",
                httponly=True,
                samesite="strict",
            )
        return response
