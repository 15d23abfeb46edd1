"""Per-channel throughput shared by every worker: each send reserves the next free slot.

A slot is `1/rate` seconds after the previous one (GCRA without burst): the reservation is one
atomic step — a Lua script on Redis when workers share it, a variable in process otherwise — and the
caller sleeps until its slot. The measured rate stays at the configured one however many workers
run, and an idle channel does not save up a burst.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

import redis.asyncio as aioredis

KEY = "infobot:campaign:pace:{channel}"
RESERVE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local slot = math.max(t, tonumber(redis.call('GET', KEYS[1]) or '0'))
redis.call('SET', KEYS[1], tostring(slot + tonumber(ARGV[1])), 'EX', 3600)
return tostring(slot - t)
"""


class Pacer(Protocol):
    async def wait(self, channel: str) -> None:
        """Return when this channel may send one more message."""


class LocalPacer:
    """One process: the in-process default."""

    def __init__(self, rates: dict[str, float]) -> None:
        self._interval = {ch: 1.0 / rate for ch, rate in rates.items()}
        self._next: dict[str, float] = {}

    async def wait(self, channel: str) -> None:
        now = time.monotonic()
        slot = max(now, self._next.get(channel, 0.0))
        self._next[channel] = slot + self._interval[channel]
        if slot > now:
            await asyncio.sleep(slot - now)


class RedisPacer:
    """Every worker on one Redis: the slots are reserved there (Redis's clock, so hosts may differ)."""

    def __init__(self, client: aioredis.Redis, rates: dict[str, float]) -> None:
        self._client = client
        self._interval = {ch: 1.0 / rate for ch, rate in rates.items()}
        self._script = client.register_script(RESERVE)

    async def wait(self, channel: str) -> None:
        delay = float(await self._script(keys=[KEY.format(channel=channel)], args=[self._interval[channel]]))
        if delay > 0:
            await asyncio.sleep(delay)
