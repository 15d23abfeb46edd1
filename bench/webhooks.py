"""Sustained load on loopback against /webhooks/twilio (signed) and /webhooks/rest/webhook.

Many distinct conversations, 10% duplicate deliveries; throughput, p50/p99 latency, replies lost or
duplicated — each shown as a ratio against bare Rasa /model/parse measured in the same run.

    .venv/bin/python bench/webhooks.py [--messages 2000] [--concurrency 100] [--redis]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.nlu.server import RasaServer, free_port  # noqa: E402
from bot.nlu.training import train  # noqa: E402

TOKEN = "bench-twilio-token-000000000000"
PUBLIC = "https://bot.example.org"
TEXTS = [
    "hola",
    "perdí mi pasaporte en costa rica",
    "i want to apply for asylum in mexico",
    "bonjou",
    "kijan pou m jwenn papye nan dominikani",
    "je cherche du travail au panama",
    "me piden 300 dolares por la cita",
    "where is the nearest office",
    "mèsi anpil",
    "quiero regresar a mi pais",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run_load(
    requests: list[tuple[str, dict[str, object]]], concurrency: int, think: float = 0.0
) -> tuple[float, list[float], list[str]]:
    """`concurrency` conversations send the requests in turn; `think` is the mean pause between messages
    of one conversation (0: saturate, as fast as answers come)."""
    latencies: list[float] = []
    bodies: list[str] = [""] * len(requests)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(requests)):
        queue.put_nowait(i)
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=concurrency)) as http:

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                url, kwargs = requests[i]
                started = time.perf_counter()
                for attempt in range(
                    3
                ):  # an idle keep-alive connection closed by the server: retry, as providers do
                    try:
                        response = await http.post(url, **kwargs)  # type: ignore[arg-type]
                        break
                    except httpx.TransportError:
                        if attempt == 2:
                            raise
                latencies.append(time.perf_counter() - started)
                bodies[i] = response.text if response.status_code == 200 else f"HTTP {response.status_code}"
                if think:
                    await asyncio.sleep(random.expovariate(1 / think))

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies, bodies


def twilio_requests(
    base: str, n: int, duplicate_share: float, prefix: str = "SM"
) -> tuple[list[tuple[str, dict[str, object]]], list[str]]:
    validator = RequestValidator(TOKEN)
    requests, sids = [], []
    for i in range(n):
        sid = f"{prefix}{i:032d}"
        if i and random.random() < duplicate_share:
            sid = random.choice(sids)
        sids.append(sid)
        params = {
            "From": f"whatsapp:+5068{i % 5000:07d}",
            "To": "whatsapp:+14155238886",
            "Body": random.choice(TEXTS),
            "MessageSid": sid,
            "AccountSid": "AC" + "0" * 32,
            "NumMedia": "0",
        }
        signature = validator.compute_signature(PUBLIC + "/webhooks/twilio", params)
        requests.append(
            (f"{base}/webhooks/twilio", {"data": params, "headers": {"X-Twilio-Signature": signature}})
        )
    return requests, sids


def summarise(name: str, seconds: float, latencies: list[float], count: int, baseline: float | None) -> str:
    rate = count / seconds
    ratio = f"{rate / baseline:6.2f}x" if baseline else "  1.00x"
    return (
        f"{name:<28}{rate:>10.1f}/s {ratio}  p50 {statistics.median(latencies) * 1000:7.1f} ms"
        f"  p99 {percentile(latencies, 0.99) * 1000:7.1f} ms"
    )


def start_bot(
    rasa_url: str, use_redis: bool, var: Path, rasa_token: str = ""
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "RASA_URL": rasa_url,
        "RASA_TOKEN": rasa_token,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "PUBLIC_BASE_URL": PUBLIC,
        "INFOBOT_SECRET_KEY": "bench-secret-0123456789abcdefghijk",
        "DATABASE_URL": f"sqlite:///{var}/bench.db",
        # one client on loopback sends what thousands of people would: the abuse limits would refuse it
        "INFOBOT_RATE_LIMIT_REST": "off",
        "INFOBOT_RATE_LIMIT_PROVIDER": "off",
        "INFOBOT_RATE_LIMIT_SENDER": "off",
    }
    if use_redis:
        env["REDIS_URL"] = "redis://127.0.0.1:6379/14"
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/infobot"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("the bot did not start")


def stop_bot(proc: subprocess.Popen[bytes]) -> None:
    """Ask the worker to stop (it drains its background work), kill it if it takes too long."""
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--redis", action="store_true", help="share state through Redis (db 14)")
    parser.add_argument(
        "--think",
        type=float,
        default=3.0,
        help="mean seconds between two messages of one conversation in the paced run",
    )
    args = parser.parse_args()
    random.seed(7)
    model, _ = train(ROOT, ROOT / "intents", ROOT / "models")
    rasa = RasaServer(ROOT, model)
    await rasa.start()
    var = Path(os.environ.get("TMPDIR", "/tmp")) / f"infobot-bench-{os.getpid()}"
    var.mkdir(parents=True, exist_ok=True)
    bot, base = start_bot(rasa.url, args.redis, var, rasa.token)
    try:
        parse_requests = [
            (f"{rasa.url}/model/parse?token={rasa.token}", {"json": {"text": random.choice(TEXTS)}})
            for _ in range(args.messages)
        ]
        await run_load(parse_requests[:200], 20)  # warm-up
        nlu_s, nlu_lat, _ = await run_load(parse_requests, args.concurrency)
        baseline = args.messages / nlu_s
        rest_requests = [
            (f"{base}/webhooks/rest/webhook", {"json": {"sender": f"u{i}", "message": random.choice(TEXTS)}})
            for i in range(args.messages)
        ]
        rest_s, rest_lat, rest_bodies = await run_load(rest_requests, args.concurrency)
        twilio_reqs, sids = twilio_requests(base, args.messages, 0.10)
        tw_s, tw_lat, tw_bodies = await run_load(twilio_reqs, args.concurrency)
        paced_nlu = await run_load(parse_requests[: args.messages // 2], args.concurrency, args.think)
        paced_reqs, _ = twilio_requests(base, args.messages // 2, 0.10, prefix="PA")
        paced = await run_load(paced_reqs, args.concurrency, args.think)
    finally:
        stop_bot(bot)
        await rasa.stop()
    replied: dict[str, int] = {}
    for sid, body in zip(sids, tw_bodies, strict=True):
        replied[sid] = replied.get(sid, 0) + (1 if re.search(r"<Message>", body) else 0)
    lost = sum(1 for n in replied.values() if n == 0)
    doubled = sum(1 for n in replied.values() if n > 1)
    rest_failed = sum(1 for b in rest_bodies if not b.startswith("["))
    print(
        f"saturated: {args.messages} messages, {args.concurrency} concurrent conversations, "
        f"state: {'redis' if args.redis else 'in-process'}, {os.cpu_count()} cores"
    )
    print(summarise("bare Rasa /model/parse", nlu_s, nlu_lat, args.messages, None))
    print(summarise("REST webhook", rest_s, rest_lat, args.messages, baseline))
    print(summarise("Twilio webhook (signed)", tw_s, tw_lat, args.messages, baseline))
    paced_errors = sum(1 for b in paced[2] if b.startswith("HTTP"))
    print(f"paced: {args.concurrency} conversations, one message every {args.think:.0f} s on average")
    print(summarise("  bare Rasa /model/parse", paced_nlu[0], paced_nlu[1], len(paced_nlu[1]), None))
    print(
        summarise(
            "  Twilio webhook (signed)", paced[0], paced[1], len(paced[1]), len(paced_nlu[1]) / paced_nlu[0]
        )
    )
    print(
        f"twilio deliveries: {len(sids)} ({len(sids) - len(replied)} duplicates), distinct {len(replied)}, "
        f"replies lost {lost}, duplicated {doubled}; REST errors {rest_failed}; paced errors {paced_errors}"
    )


if __name__ == "__main__":
    asyncio.run(main())
