"""The limiter itself: counts in memory or in real Redis (shared by workers), and what happens when Redis
dies and comes back (a real redis-server of this test's own, stopped and restarted)."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bot.nlu.server import free_port
from bot.ratelimit import Limiter, client_address
from tests.helpers.app import make_settings
from tests.helpers.services import require_redis

LIMIT = "5/minute"


def limiter(tmp_path: Path, **env: str) -> Limiter:
    return Limiter(make_settings(tmp_path, **{"INFOBOT_RATE_LIMIT_SENDER": LIMIT, **env}))


async def hits(limiter: Limiter, n: int, address: str = "203.0.113.7") -> list[bool]:
    return [(await limiter.address("rest", address, LIMIT)).allowed for _ in range(n)]


async def test_in_memory_the_sixth_hit_is_refused_with_a_retry_after(tmp_path: Path) -> None:
    one = limiter(tmp_path)
    assert await hits(one, 6) == [True] * 5 + [False]
    refused = await one.address("rest", "203.0.113.7", LIMIT)
    assert not refused.allowed and 1 <= refused.retry_after <= 60
    assert await hits(one, 1, address="203.0.113.8") == [True]  # another address has its own count
    assert (await one.address("rest_outbox", "203.0.113.7", LIMIT)).allowed  # and another route
    assert [(await one.sender("rest:p1")).allowed for _ in range(6)] == [True] * 5 + [False]
    assert (await one.sender("rest:p2")).allowed


async def test_a_limit_turned_off_never_refuses(tmp_path: Path) -> None:
    one = limiter(tmp_path, INFOBOT_RATE_LIMIT_SENDER="off")
    assert all([(await one.sender("rest:p")).allowed for _ in range(100)])
    assert all([(await one.address("rest", "203.0.113.7", "")).allowed for _ in range(100)])


@pytest.mark.parametrize(
    ("client", "counted_as"),
    [
        (("203.0.113.7", 5000), "203.0.113.7"),
        (("2001:db8:1:2:aaaa::1", 5000), "2001:db8:1:2::/64"),
        (("2001:db8:1:2:bbbb::9", 5000), "2001:db8:1:2::/64"),  # the same subscriber's /64
        (("::ffff:198.51.100.4", 5000), "198.51.100.4"),
        (("testclient", 50000), "testclient"),
        (None, "unknown"),
    ],
)
def test_client_addresses_are_counted_per_host_and_ipv6_per_64(
    client: tuple[str, int] | None, counted_as: str
) -> None:
    assert client_address({"type": "http", "client": client}) == counted_as


async def test_workers_sharing_redis_share_one_count(tmp_path: Path) -> None:
    url = require_redis()
    first, second = limiter(tmp_path, REDIS_URL=url), limiter(tmp_path, REDIS_URL=url)
    try:
        assert await hits(first, 3) == [True] * 3
        assert await hits(second, 3) == [True, True, False]  # 5 in all, whichever worker counted them
        assert [(await w.sender("whatsapp:+50688887777")).allowed for w in (first, second) * 3] == [
            *[True] * 5,
            False,
        ]
        keys = [str(k) for k in redis.Redis.from_url(url, decode_responses=True).keys("infobot:limits*")]
        assert keys and not any("203.0.113.7" in k or "50688887777" in k for k in keys)  # pseudonyms only
    finally:
        await first.aclose()
        await second.aclose()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """A redis-server only this test uses, so it can be killed and restarted."""
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    command += ["--dir", str(tmp_path)]
    processes = [subprocess.Popen(command, stdout=subprocess.DEVNULL)]
    url = f"redis://127.0.0.1:{port}/0"
    _wait_for(url)
    try:
        yield url, processes
    finally:
        for process in processes:
            process.kill()
            process.wait()


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url, socket_connect_timeout=0.2).ping()
            return
        except redis.RedisError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)


async def test_with_redis_down_address_limits_hold_in_memory_and_nobody_is_refused_for_it(
    tmp_path: Path,
    own_redis: tuple[str, list[subprocess.Popen[bytes]]],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import bot.ratelimit

    url, processes = own_redis
    monkeypatch.setattr(bot.ratelimit, "RETRY_REDIS_AFTER_SECONDS", 1.0)
    one = limiter(tmp_path, REDIS_URL=url)
    try:
        assert await hits(one, 2) == [True, True]  # counted in Redis
        processes[0].kill()
        processes[0].wait()
        caplog.set_level(logging.INFO, logger="bot.ratelimit")
        started = time.monotonic()
        assert await hits(one, 6) == [True] * 5 + [False]  # a fresh count in this process's memory
        assert all([(await one.sender("sms:+50688887777")).allowed for _ in range(20)])  # fails open
        assert time.monotonic() - started < 3, "a dead Redis must not make each request wait"
        down = [r.message for r in caplog.records if "Redis unavailable" in r.message]
        assert len(down) == 1, "one line per outage, not one per request"

        processes.append(subprocess.Popen(processes[0].args, stdout=subprocess.DEVNULL))
        _wait_for(url)
        await asyncio.sleep(1.1)  # Redis is tried again a while after it failed, not on every request
        assert [(await one.sender("sms:+50688887777")).allowed for _ in range(6)] == [True] * 5 + [False]
        assert any("Redis is back" in r.message for r in caplog.records)
    finally:
        await one.aclose()
