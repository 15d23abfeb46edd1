"""Abuse control: how often one client address, and one person, may reach the inbound routes.

Counted with the `limits` library (sliding window counters): in Redis when REDIS_URL is set, so every
worker shares one count, in this process's memory otherwise.

Two scopes, chosen so that a person and a provider never meet them and a flood always does:
- per client address, checked by `AddressLimits` before the route reads a byte of the body. The web chat
  and REST clients (60/min), the web chat outbox (300/min: each open page polls every 4 s) and console
  logins (20/min) have tight limits. Twilio and Telegram get only a flood ceiling (6000/min): all of a
  provider's legitimate traffic arrives from a few of its addresses, and those addresses are shared by
  every customer of the provider, so a stranger can make Twilio post forged-for-us requests from the very
  addresses our genuine messages come from. A limit that counted failed signatures per address would let
  that stranger lock our own messages out; forged requests are cheap to refuse (bounded body, one HMAC).
- per person (conversation), checked by the webhook after the request is authenticated and parsed:
  20 messages a minute, far above what a person types, even one in danger sending short messages.

Over a limit, REST and the console answer 429 with Retry-After; Twilio and Telegram get a quiet 200 (an
error would only make the provider retry) and the drop is counted in `infobot_rate_limited_total`.

If Redis fails, the address limits go on in this process's memory (a flood from one address is still held
back, per worker) and the per-person limits are skipped: nobody is refused because the limiter is down.
Redis is tried again after a few seconds.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, ClassVar, Protocol

import limits
import redis.asyncio as redis
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import RateLimiter, SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.channels.base import ignored, too_many
from bot.config import RateLimitSettings, Settings
from bot.metrics import RATE_LIMITED
from bot.privacy import derive_key, pseudonymise

log = logging.getLogger(__name__)
KEY_PREFIX = "infobot:limits"
REDIS_TIMEOUT_SECONDS = 0.5
"""A limiter that waits on a sick Redis would delay every message; past this it counts locally."""
RETRY_REDIS_AFTER_SECONDS = 5.0
STORAGE_ERRORS = (RedisError, StorageError, OSError, TimeoutError)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0
    """Seconds until the next request would be counted again (the Retry-After header)."""


ALLOWED = Verdict(True)


@dataclass(frozen=True)
class Guarded:
    """One inbound route under a per-address limit, and how it refuses without making a provider retry."""

    route: str
    limit: Callable[[RateLimitSettings], str]
    refuse: Callable[[int], Response]


def _too_many_logins(retry_after: int) -> Response:
    return PlainTextResponse(
        f"Too many login attempts from this address: try again in {retry_after} s.",
        status_code=429,
        headers={"Retry-After": str(retry_after)},
    )


OWN_ROUTES: Mapping[tuple[str, str], Guarded] = {
    ("POST", "/webhooks/rest/outbox"): Guarded("rest_outbox", lambda r: r.outbox_address, too_many),
    ("POST", "/webhooks/twilio/status"): Guarded("twilio_status", lambda r: r.provider_address, ignored),
    ("POST", "/console/login"): Guarded("console_login", lambda r: r.login_address, _too_many_logins),
}
"""The routes that are not a channel's webhook; each channel declares its own budget (`guarded_routes`)."""


class BudgetedRoute(Protocol):
    """A channel adapter as the address limits see it (bot/channels/base.py's Channel)."""

    name: ClassVar[str]
    path: ClassVar[str]
    address_budget: ClassVar[str]

    @staticmethod
    def refuse_flood(retry_after: int) -> Response: ...


def guarded_routes(channels: Iterable[type[BudgetedRoute]]) -> dict[tuple[str, str], Guarded]:
    """Every channel's webhook under the per-address budget it names, and the service's own routes."""
    own = {("POST", c.path): Guarded(c.name, attrgetter(c.address_budget), c.refuse_flood) for c in channels}
    return {**OWN_ROUTES, **own}


def client_address(scope: Scope) -> str:
    """The client's address as uvicorn resolved it (X-Forwarded-For only from FORWARDED_ALLOW_IPS).

    IPv6 clients are counted per /64 network: one subscriber holds a whole /64 and could otherwise
    write from a new address for every request."""
    client = scope.get("client")
    host = str(client[0]) if client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class Limiter:
    """Hits against the configured limits; Redis when configured, this process's memory otherwise."""

    def __init__(self, settings: Settings) -> None:
        self._limits = settings.rate_limits
        self._key = derive_key(settings.secret_key, "pseudonym")
        self._items: dict[str, list[limits.RateLimitItem]] = {}
        self._local = SlidingWindowCounterRateLimiter(MemoryStorage())
        self._shared: RateLimiter | None = None
        self._client: redis.Redis | None = None
        if settings.redis_url:
            self._client = redis.Redis.from_url(
                settings.redis_url,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                retry=Retry(NoBackoff(), 1),  # one immediate retry: a pooled connection Redis closed
            )
            options: dict[str, Any] = {"connection_pool": self._client.connection_pool}
            storage = RedisStorage(
                "async+redis://", implementation="redispy", key_prefix=KEY_PREFIX, **options
            )
            self._shared = SlidingWindowCounterRateLimiter(storage)
        self._shared_down_until = 0.0

    def _parsed(self, spec: str) -> list[limits.RateLimitItem]:
        if spec not in self._items:
            self._items[spec] = limits.parse_many(spec) if spec else []
        return self._items[spec]

    async def address(self, route: str, address: str, spec: str) -> Verdict:
        """Per client address: kept in memory when Redis is down (the flood case still holds)."""
        return await self._hit(self._parsed(spec), ("address", route, address), keep_locally=True)

    async def sender(self, conversation_id: str) -> Verdict:
        """Per person, whatever the route: skipped when Redis is down (never refuse someone for that)."""
        items = self._parsed(self._limits.sender)
        return await self._hit(items, ("sender", conversation_id), keep_locally=False)

    async def _hit(
        self, items: Sequence[limits.RateLimitItem], key: tuple[str, ...], *, keep_locally: bool
    ) -> Verdict:
        if not items:
            return ALLOWED
        identity = (*key[:-1], pseudonymise(self._key, key[-1]))
        if self._shared is not None and time.monotonic() >= self._shared_down_until:
            try:
                verdict = await asyncio.wait_for(
                    _apply(self._shared, items, identity), REDIS_TIMEOUT_SECONDS * 2
                )
            except STORAGE_ERRORS as exc:
                self._mark_down(exc)
            else:
                self._mark_up()
                return verdict
        if self._shared is not None and not keep_locally:
            return ALLOWED
        return await _apply(self._local, items, identity)

    def _mark_down(self, exc: BaseException) -> None:
        if not self._shared_down_until:
            log.error(
                "rate limits: Redis unavailable (%s); address limits continue in this process, "
                "per-person limits are off until it is back",
                exc.__class__.__name__,
            )
        self._shared_down_until = time.monotonic() + RETRY_REDIS_AFTER_SECONDS

    def _mark_up(self) -> None:
        if self._shared_down_until:
            log.warning("rate limits: Redis is back; limits are shared between workers again")
        self._shared_down_until = 0.0

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


async def _apply(
    strategy: RateLimiter, items: Sequence[limits.RateLimitItem], key: tuple[str, ...]
) -> Verdict:
    for item in items:
        if not await strategy.hit(item, *key):
            stats = await strategy.get_window_stats(item, *key)
            return Verdict(False, max(1, math.ceil(stats.reset_time - time.time())))
    return ALLOWED


class AddressLimits:
    """ASGI middleware: the per-address limit of each guarded route, before the route reads the body."""

    def __init__(
        self,
        app: ASGIApp,
        limiter: Limiter,
        settings: RateLimitSettings,
        guarded: Mapping[tuple[str, str], Guarded],
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.settings = settings
        self.guarded = dict(guarded)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        guarded = None
        if scope["type"] == "http":
            path = scope["path"].removeprefix(scope.get("root_path", ""))
            guarded = self.guarded.get((scope["method"], path))
        if guarded is None:
            await self.app(scope, receive, send)
            return
        verdict = await self.limiter.address(
            guarded.route, client_address(scope), guarded.limit(self.settings)
        )
        if verdict.allowed:
            await self.app(scope, receive, send)
            return
        RATE_LIMITED.labels(route=guarded.route, scope="address").inc()
        await guarded.refuse(verdict.retry_after)(scope, receive, send)


async def sender_verdict(request: Request, route: str, conversation_id: str) -> Verdict:
    """The per-person limit for a parsed, authenticated message; a refusal is counted."""
    limiter: Limiter = request.app.state.limiter
    verdict = await limiter.sender(conversation_id)
    if not verdict.allowed:
        RATE_LIMITED.labels(route=route, scope="sender").inc()
    return verdict
