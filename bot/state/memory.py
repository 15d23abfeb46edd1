"""The in-process store: the default for one worker, no Redis needed."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bot.state.base import Delivery


class MemoryStore:
    def __init__(self, ttl_seconds: int) -> None:
        self.ttl = ttl_seconds
        self._data: dict[str, tuple[float, str]] = {}
        self.memory_since = time.time()
        self._seen: dict[str, tuple[str, float]] = {}
        """Claims: key → (value, expiry); value is `p:<token>` while processing, `d` once done."""
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiting: dict[str, int] = {}

    async def get(self, conversation_id: str) -> dict[str, Any] | None:
        item = self._data.get(conversation_id)
        if item is None:
            return None
        expires, blob = item
        if expires < time.time():
            del self._data[conversation_id]
            return None
        data: dict[str, Any] = json.loads(blob)
        return data

    async def update(self, conversation_id: str, state: dict[str, Any]) -> None:
        self._data[conversation_id] = (time.time() + self.ttl, json.dumps(state))

    @asynccontextmanager
    async def lock(self, conversation_id: str) -> AsyncIterator[None]:
        """asyncio.Lock is FIFO, so messages are handled in arrival order; unused locks are freed."""
        lock = self._locks.setdefault(conversation_id, asyncio.Lock())
        self._waiting[conversation_id] = self._waiting.get(conversation_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._waiting[conversation_id] -= 1
            if self._waiting[conversation_id] == 0:
                del self._waiting[conversation_id]
                self._locks.pop(conversation_id, None)

    async def drop(self, conversation_id: str) -> None:
        self._data.pop(conversation_id, None)

    def _live(self, key: str) -> str | None:
        now = time.time()
        if len(self._seen) > 100_000:
            self._seen = {k: v for k, v in self._seen.items() if v[1] > now}
        value, expires = self._seen.get(key, ("", 0.0))
        return value if expires > now else None

    async def claim(self, key: str, ttl_seconds: int) -> bool:
        if self._live(key) is not None:
            return False
        self._seen[key] = ("d", time.time() + ttl_seconds)
        return True

    async def claim_delivery(self, key: str, token: str, hold_seconds: int) -> Delivery:
        value = self._live(key)
        if value is None or value == f"p:{token}":  # one's own claim, asked again, is still one's own
            self._seen[key] = (f"p:{token}", time.time() + hold_seconds)
            return Delivery.NEW
        return Delivery.IN_PROGRESS if value.startswith("p:") else Delivery.DONE

    async def renew_delivery(self, key: str, token: str, hold_seconds: int) -> bool:
        if self._live(key) != f"p:{token}":
            return False
        self._seen[key] = (f"p:{token}", time.time() + hold_seconds)
        return True

    async def complete_delivery(self, key: str, done_seconds: int) -> None:
        self._seen[key] = ("d", time.time() + done_seconds)

    async def release_delivery(self, key: str, token: str) -> None:
        if self._live(key) == f"p:{token}":
            del self._seen[key]

    async def ping(self) -> bool:
        return True

    async def aclose(self) -> None:
        return None
