"""What the abuse limits cost a request: the web chat outbox (token check, one store read) through the real
app with limits counted against the same app with limits off (the baseline, same run), with the in-process
store and limiter, then with Redis for both; and one limiter check alone.

    .venv/bin/python bench/ratelimit.py [--requests 3000] [--redis redis://127.0.0.1:6379/13]

Prints mean and p99 per request and the ratio to its baseline. Numbers, not a pass/fail. Its Redis keys
expire within minutes."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from starlette.testclient import TestClient  # noqa: E402

from bot.app import create_app  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.ratelimit import Limiter  # noqa: E402

OFF = {f"INFOBOT_RATE_LIMIT_{name}": "off" for name in ("SENDER", "REST", "OUTBOX", "PROVIDER", "LOGIN")}
HIGH = {"INFOBOT_RATE_LIMIT_OUTBOX": "1000000/minute", "INFOBOT_RATE_LIMIT_SENDER": "1000000/minute"}
"""Counted like the defaults, never reached: the cost of counting, not of refusing."""


def settings(var: Path, **env: str) -> Settings:
    return Settings.from_env(
        {
            "INFOBOT_SECRET_KEY": "bench-secret-0123456789abcdefghijklmnop",
            "INFOBOT_VAR_DIR": str(var),
            "DATABASE_URL": f"sqlite:///{var}/bench.db",
            "RASA_URL": "http://127.0.0.1:9",
            "INFOBOT_CONVERSATION_TTL": "300",
            **env,
        },
        root=ROOT,
    )


class Page:
    """One app and its web chat page; requests are timed in rounds, interleaved with the other apps'."""

    def __init__(self, stack: ExitStack, config: Settings) -> None:
        self.client = stack.enter_context(TestClient(create_app(config)))
        page = {"X-Infobot-Web-Chat": "1"}
        first = self.client.post("/webhooks/rest/webhook", json={"message": "hola"}, headers=page)
        self.headers = {"Cookie": f"infobot_webchat={first.cookies['infobot_webchat']}", **page}
        self.client.cookies.clear()
        self.timings: list[float] = []

    def poll(self, requests: int) -> None:
        for _ in range(requests):
            started = time.perf_counter()
            response = self.client.post("/webhooks/rest/outbox", json={}, headers=self.headers)
            self.timings.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text


async def check_timings(config: Settings, checks: int) -> list[float]:
    limiter = Limiter(config)
    timings = []
    try:
        for n in range(checks):
            started = time.perf_counter()
            await limiter.address("rest", f"203.0.113.{n % 200}", "1000000/minute")
            timings.append(time.perf_counter() - started)
    finally:
        await limiter.aclose()
    return timings


def describe(name: str, timings: list[float], baseline: list[float] | None) -> str:
    mean = statistics.fmean(timings) * 1e6
    p99 = sorted(timings)[int(len(timings) * 0.99)] * 1e6
    ratio = f"{mean / (statistics.fmean(baseline) * 1e6):5.2f}x" if baseline else "  1.00x"
    return f"  {name:<26} mean {mean:8.0f} µs   p99 {p99:8.0f} µs   {ratio}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp)
        redis = {"REDIS_URL": args.redis}
        runs = [
            ("in process: limits off", settings(var / "a", **OFF), True),
            ("in process: limits on", settings(var / "b", **HIGH), False),
            ("Redis: limits off", settings(var / "c", **redis, **OFF), True),
            ("Redis: limits on", settings(var / "d", **redis, **HIGH), False),
        ]
        print(f"web chat outbox, {args.requests} requests each (rounds of 100, interleaved), in process:")
        with ExitStack() as stack:
            pages = [Page(stack, config) for _, config, _ in runs]
            for _ in range(max(1, args.requests // 100)):
                for page in pages:
                    page.poll(100)
        baseline: list[float] | None = None
        for (name, _, is_baseline), page in zip(runs, pages, strict=True):
            print(describe(name, page.timings, None if is_baseline else baseline))
            baseline = page.timings if is_baseline else baseline
        print(f"one limiter check, {args.requests} checks:")
        memory = asyncio.run(check_timings(runs[1][1], args.requests))
        shared = asyncio.run(check_timings(runs[3][1], args.requests))
        print(describe("in process", memory, None))
        print(describe("Redis (loopback)", shared, memory))


if __name__ == "__main__":
    main()
