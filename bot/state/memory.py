"""The in-process store: the default for one worker, no Redis needed."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any


class MemoryStore:
    def __init__(self, ttl_seconds: int) -> None:
        self.ttl = ttl_seconds
        self._data: dict[str, tuple[float, str]] = {}
        self._seen: dict[str, float] = {}
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

    async def claim(self, key: str, ttl_seconds: int) -> bool:
        now = time.time()
        if len(self._seen) > 100_000:
            self._seen = {k: v for k, v in self._seen.items() if v > now}
        if self._seen.get(key, 0) > now:
            return False
        self._seen[key] = now + ttl_seconds
        return True

    async def ping(self) -> bool:
        return True

    async def aclose(self) -> None:
        return None
