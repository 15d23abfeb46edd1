"""What exactly-once costs per provider delivery: claim (Redis), journal (fsync), completion (Redis and
SQL) around the same turn, against the bare turn measured in the same run.

Both arms run the real ConversationService with the real store and database (NLU unreachable, so every
turn is the same cheap menu answer and the difference is the delivery machinery). Batches of the two arms
alternate, so drift in the machine's load falls on both.

    .venv/bin/python bench/deliveries.py [--messages 2000] [--concurrency 20] [--redis URL] [--postgres URL]
        [--young-redis]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.channels.base import InboundMessage  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.runtime import start_runtime  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


async def timed(run: Callable[[InboundMessage], Awaitable[object]], inbound: InboundMessage) -> float:
    started = time.perf_counter()
    await run(inbound)
    return time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000, help="deliveries per arm")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--redis", default="", help="REDIS_URL (default: the in-process store)")
    parser.add_argument("--postgres", default="", help="DATABASE_URL (default: SQLite in a temporary dir)")
    parser.add_argument(
        "--young-redis",
        action="store_true",
        help="Redis as just restarted empty: every claim is also taken in SQL (the first 15 minutes)",
    )
    args = parser.parse_args()
    var = Path(tempfile.mkdtemp(prefix="infobot-bench-"))
    env = {
        "INFOBOT_SECRET_KEY": "bench-secret-key-0123456789-abcdefghijkl",
        "INFOBOT_VAR_DIR": str(var),
        "RASA_URL": "http://127.0.0.1:9",
        "INFOBOT_NLU_TIMEOUT": "1",
        "REDIS_URL": args.redis,
        "DATABASE_URL": args.postgres or f"sqlite:///{var}/bench.db",
    }
    if args.redis:
        import redis

        since = time.time() if args.young_redis else 0.0  # 0: a Redis that has remembered for long
        redis.Redis.from_url(args.redis).set("infobot:since", str(since))
    runtime = await start_runtime(Settings.from_env(env, root=ROOT), manage_rasa=False)
    service = runtime.conversations
    run_id = uuid.uuid4().hex[:8]

    def message(arm: int, n: int) -> InboundMessage:
        """A new conversation each time, in both arms (the same work apart from the delivery machinery)."""
        return InboundMessage("whatsapp", f"+50{arm}{n:08d}", "hola", f"SM{run_id}{arm}{n:010d}")

    arms: dict[str, Callable[[InboundMessage], Awaitable[object]]] = {
        "bare turn": service.handle,
        "exactly once": lambda inbound: service.receive(inbound, reply_within=8.0, render=lambda r: ""),
    }
    latencies: dict[str, list[float]] = {name: [] for name in arms}
    elapsed: dict[str, float] = dict.fromkeys(arms, 0.0)
    batch = args.concurrency * 5
    try:
        for start in range(0, args.messages, batch):
            for arm, (name, run) in enumerate(arms.items()):
                count = min(batch, args.messages - start)
                inbounds = [message(arm + 6, start + i) for i in range(count)]
                gate = asyncio.Semaphore(args.concurrency)

                async def one(
                    inbound: InboundMessage,
                    run: Callable[..., Awaitable[object]] = run,
                    gate: asyncio.Semaphore = gate,
                ) -> float:
                    async with gate:
                        return await timed(run, inbound)

                began = time.perf_counter()
                latencies[name] += await asyncio.gather(*(one(i) for i in inbounds))
                elapsed[name] += time.perf_counter() - began
    finally:
        await runtime.aclose()
    store = ("young redis" if args.young_redis else "redis") if args.redis else "memory"
    database = "postgresql" if args.postgres else "sqlite"
    print(f"{args.messages} deliveries per arm, concurrency {args.concurrency}, store {store}, {database}")
    base = latencies["bare turn"]
    for name, values in latencies.items():
        rate = len(values) / elapsed[name]
        print(
            f"  {name:13s} {rate:7.0f}/s  p50 {statistics.median(values) * 1000:6.1f} ms"
            f"  p99 {percentile(values, 0.99) * 1000:6.1f} ms"
            f"  (p50 x{statistics.median(values) / statistics.median(base):.2f},"
            f" p99 x{percentile(values, 0.99) / percentile(base, 0.99):.2f},"
            f" throughput x{rate / (len(base) / elapsed['bare turn']):.2f})"
        )


if __name__ == "__main__":
    asyncio.run(main())
