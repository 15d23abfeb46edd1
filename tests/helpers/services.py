"""Real services the tests talk to; a missing one fails with what to install, never a silent skip."""

from __future__ import annotations

import os

import redis

REDIS_TEST_URL = os.environ.get("INFOBOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def require_redis() -> str:
    try:
        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        raise RuntimeError(
            f"These tests need a real Redis at {REDIS_TEST_URL} ({exc}). Install and start it: "
            "`apt-get install -y redis-server && redis-server --daemonize yes --bind 127.0.0.1 --port 6379`, "
            "or point INFOBOT_TEST_REDIS_URL at one."
        ) from exc
    redis.Redis.from_url(REDIS_TEST_URL).flushdb()
    return REDIS_TEST_URL
