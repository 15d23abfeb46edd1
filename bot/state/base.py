"""One interface for conversation state, whatever holds it.

Redis key names (all under the `infobot:` prefix, conversation ids pseudonymised):
- `infobot:conv:<pseudonym>`   JSON of the conversation state, expires after the conversation TTL
- `infobot:lock:<pseudonym>`   the per-conversation lock (redis-py Lock, auto-expiring)
- `infobot:seen:<key>`         a delivery already processed (dedupe of provider retries)
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol


class StoreUnavailable(Exception):
    """The store cannot be reached (e.g. Redis is down)."""


class ConversationStore(Protocol):
    async def get(self, conversation_id: str) -> dict[str, Any] | None:
        """The stored state, or None for a new (or expired) conversation."""

    async def update(self, conversation_id: str, state: dict[str, Any]) -> None:
        """Replace the state and renew its time to live."""

    def lock(self, conversation_id: str) -> AbstractAsyncContextManager[None]:
        """Hold while reading, deciding and writing: messages of one person are processed in order."""

    async def drop(self, conversation_id: str) -> None:
        """Forget the conversation (e.g. on a deletion request)."""

    async def claim(self, key: str, ttl_seconds: int) -> bool:
        """True the first time `key` is claimed within the TTL, False afterwards (atomic)."""

    async def ping(self) -> bool:
        """Whether the store answers, for /healthz."""

    async def aclose(self) -> None:
        """Release connections."""
