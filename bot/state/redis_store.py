"""The Redis store: any number of bot workers share conversations, locks and dedupe keys."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from bot.privacy import pseudonymise
from bot.state.base import Delivery, StoreUnavailable

PREFIX = "infobot"
LOCK_TIMEOUT_SECONDS = 30
"""A lock whose holder died is released after this long, so a crash never blocks a person."""
CLAIM_DELIVERY = """
local since = redis.call('GET', KEYS[2])
if not since then
  since = ARGV[3]
  redis.call('SET', KEYS[2], since)
end
local held = redis.call('GET', KEYS[1])
if held == ARGV[1] then return {'', since} end
if held then return {held, since} end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return {'', since}
"""
"""Take the delivery unless someone else holds it: (the holder's value, '' when it is ours) and when this
Redis's memory began (the first claim after an empty start writes it). Finding one's own token counts as
taken, so a claim retried after a lost answer is still this worker's."""
IF_OURS_EXPIRE = (
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('EXPIRE', KEYS[1], ARGV[2]) end return 0"
)
IF_OURS_DELETE = (
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
)


class RedisStore:
    def __init__(self, url: str, ttl_seconds: int, secret_key: bytes) -> None:
        self.ttl = ttl_seconds
        self._redis = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self._secret = secret_key
        self.memory_since = time.time()
        self._local: dict[str, asyncio.Lock] = {}
        self._waiting: dict[str, int] = {}
        self._claim_delivery = self._redis.register_script(CLAIM_DELIVERY)
        self._if_ours_expire = self._redis.register_script(IF_OURS_EXPIRE)
        self._if_ours_delete = self._redis.register_script(IF_OURS_DELETE)

    def _key(self, kind: str, conversation_id: str) -> str:
        return f"{PREFIX}:{kind}:{pseudonymise(self._secret, conversation_id)}"

    async def get(self, conversation_id: str) -> dict[str, Any] | None:
        try:
            blob = await self._redis.get(self._key("conv", conversation_id))
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc
        if blob is None:
            return None
        data: dict[str, Any] = json.loads(blob)
        return data

    async def update(self, conversation_id: str, state: dict[str, Any]) -> None:
        try:
            await self._redis.set(self._key("conv", conversation_id), json.dumps(state), ex=self.ttl)
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    @asynccontextmanager
    async def lock(self, conversation_id: str) -> AsyncIterator[None]:
        """A local FIFO lock keeps this worker's order; the Redis lock excludes other workers."""
        local = self._local.setdefault(conversation_id, asyncio.Lock())
        self._waiting[conversation_id] = self._waiting.get(conversation_id, 0) + 1
        try:
            async with local:
                shared = self._redis.lock(
                    self._key("lock", conversation_id),
                    timeout=LOCK_TIMEOUT_SECONDS,
                    blocking_timeout=LOCK_TIMEOUT_SECONDS,
                    sleep=0.01,
                )
                try:
                    acquired = await shared.acquire()
                except RedisError as exc:
                    raise StoreUnavailable(str(exc)) from exc
                if not acquired:
                    raise StoreUnavailable("timed out waiting for the conversation lock")
                try:
                    yield
                finally:
                    with contextlib.suppress(RedisError):  # expired or Redis gone: it times out by itself
                        await shared.release()
        finally:
            self._waiting[conversation_id] -= 1
            if self._waiting[conversation_id] == 0:
                del self._waiting[conversation_id]
                self._local.pop(conversation_id, None)

    async def drop(self, conversation_id: str) -> None:
        try:
            await self._redis.delete(self._key("conv", conversation_id))
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def claim(self, key: str, ttl_seconds: int) -> bool:
        try:
            return bool(await self._redis.set(f"{PREFIX}:seen:{key}", b"1", nx=True, ex=ttl_seconds))
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def claim_delivery(self, key: str, token: str, hold_seconds: int) -> Delivery:
        """One round trip (a Lua script), so two workers can never both find the delivery NEW. A pooled
        connection that Redis closed (it restarted) fails its first command: that is tried once more on a
        fresh connection, which the script makes safe (its own token counts as taken)."""
        keys = [f"{PREFIX}:seen:{key}", f"{PREFIX}:since"]
        args: list[str | int | float] = [f"p:{token}", hold_seconds, time.time()]
        try:
            try:
                held, since = await self._claim_delivery(keys=keys, args=args)
            except RedisConnectionError:
                held, since = await self._claim_delivery(keys=keys, args=args)
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc
        self.memory_since = float(since)
        if not held:
            return Delivery.NEW
        return Delivery.IN_PROGRESS if bytes(held).startswith(b"p:") else Delivery.DONE  # old "1": done

    async def renew_delivery(self, key: str, token: str, hold_seconds: int) -> bool:
        try:
            return bool(
                await self._if_ours_expire(keys=[f"{PREFIX}:seen:{key}"], args=[f"p:{token}", hold_seconds])
            )
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def complete_delivery(self, key: str, done_seconds: int) -> None:
        try:
            await self._redis.set(f"{PREFIX}:seen:{key}", b"d", ex=done_seconds)
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def release_delivery(self, key: str, token: str) -> None:
        try:
            await self._if_ours_delete(keys=[f"{PREFIX}:seen:{key}"], args=[f"p:{token}"])
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except RedisError:
            return False

    async def aclose(self) -> None:
        await self._redis.aclose()
