"""One interface for conversation state, whatever holds it.

Redis key names (all under the `infobot:` prefix, conversation ids pseudonymised):
- `infobot:conv:<pseudonym>`   JSON of the conversation state, expires after the conversation TTL
- `infobot:lock:<pseudonym>`   the per-conversation lock (redis-py Lock, auto-expiring)
- `infobot:seen:<key>`         a delivery: `p:<token>` while a worker processes it (expires in seconds
                               unless renewed), `d` once it is answered (kept two days); one-shot
                               claims (`claim`) live here too
- `infobot:since`              when this Redis's memory begins (epoch seconds), set by the first claim
                               after it started empty: a younger memory cannot vouch for older deliveries
"""

from __future__ import annotations

import enum
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol


class StoreUnavailable(Exception):
    """The store cannot be reached (e.g. Redis is down)."""


class Delivery(enum.Enum):
    """What a worker finds when it claims a provider's delivery (claim → process → complete)."""

    NEW = "new"
    """Claimed now: this worker processes it, then completes or releases the claim."""
    IN_PROGRESS = "in_progress"
    """Another worker holds a live claim: it will answer (its claim expires if it died)."""
    DONE = "done"
    """Already answered: a provider's retry, never answered twice."""


class ConversationStore(Protocol):
    memory_since: float
    """When the store's memory of deliveries begins (epoch seconds; updated by `claim_delivery`): a store
    restarted empty remembers no delivery answered before, so the service asks SQL as well."""

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

    async def claim_delivery(self, key: str, token: str, hold_seconds: int) -> Delivery:
        """Atomically take `key` for processing (NEW, held for `hold_seconds` under `token`), or say
        who has it: IN_PROGRESS (a live claim) or DONE (completed)."""

    async def renew_delivery(self, key: str, token: str, hold_seconds: int) -> bool:
        """Extend our claim while a slow turn runs; False when it is no longer ours."""

    async def complete_delivery(self, key: str, done_seconds: int) -> None:
        """Mark the delivery answered: every later claim within `done_seconds` finds DONE."""

    async def release_delivery(self, key: str, token: str) -> None:
        """Give up our claim (processing failed): the provider's retry is processed."""

    async def ping(self) -> bool:
        """Whether the store answers, for /healthz."""

    async def aclose(self) -> None:
        """Release connections."""
