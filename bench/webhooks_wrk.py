"""Throughput and latency with wrk (a C load generator), so the generator does not take a core from the bot.

Same setup as bench/webhooks.py (one bot worker, its Rasa, this machine); pre-built requests with distinct
conversations and message ids (10 % duplicate deliveries) are replayed by a Lua script. Ratios are against
bare Rasa /model/parse measured in the same run. Needs Debian's `wrk` (`apt-get install wrk`).

    .venv/bin/python bench/webhooks_wrk.py [--seconds 15] [--connections 100] [--think 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from webhooks import TEXTS, start_bot, stop_bot, twilio_requests  # noqa: E402

from bot.nlu.server import RasaServer  # noqa: E402
from bot.nlu.training import train  # noqa: E402

LUA_FOOTER = """
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
function init(args)
  i = id
  math.randomseed(1000 + id)
end
function delay()
  -- paced mode: each connection is one person who waits an exponential think time between messages
  if think_ms > 0 then return math.floor(-math.log(1 - math.random()) * think_ms) end
  return 0
end
function request()
  i = i + 2
  if i > #reqs then i = id + 1 end
  return reqs[i]
end
"""


def lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal for this ASCII data


def write_script(path: Path, requests: list[tuple[str, dict[str, str], str]], think_ms: int = 0) -> None:
    lines = [f"think_ms = {think_ms}", "reqs = {}"]
    for n, (route, headers, body) in enumerate(requests, start=1):
        header_table = ", ".join(f"[{lua_string(k)}]={lua_string(v)}" for k, v in headers.items())
        lines.append(
            f'reqs[{n}] = wrk.format("POST", {lua_string(route)}, {{{header_table}}}, {lua_string(body)})'
        )
    path.write_text("\n".join(lines) + LUA_FOOTER)


def run_wrk(url: str, script: Path, seconds: int, connections: int) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) from wrk --latency."""
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "30s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def percentile(p: str) -> float:
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    socket_errors = re.search(r"Socket errors: .*", out)
    if socket_errors:
        print(f"  ({socket_errors.group(0)})")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        print(f"  ({errors.group(1)} non-2xx responses)")
    return rate, percentile("50"), percentile("99")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument(
        "--think", type=float, default=0.0, help="paced: mean seconds between one connection's messages"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    random.seed(11)
    model, _ = train(ROOT, ROOT / "intents", ROOT / "models")
    rasa = RasaServer(ROOT, model)
    await rasa.start()
    work = Path(tempfile.mkdtemp(prefix="infobot-wrk-"))
    bot, base = start_bot(rasa.url, False, work, rasa.token)
    n = 30000
    json_headers = {"Content-Type": "application/json"}
    try:
        nlu = [
            (f"/model/parse?token={rasa.token}", json_headers, json.dumps({"text": random.choice(TEXTS)}))
            for _ in range(n)
        ]
        rest = [
            (
                "/webhooks/rest/webhook",
                json_headers,
                json.dumps({"sender": f"w{i}", "message": random.choice(TEXTS)}),
            )
            for i in range(n)
        ]
        signed, _ = twilio_requests(base, n, 0.10, prefix="WK")
        twilio = [
            (
                "/webhooks/twilio",
                {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": str(kw["headers"]["X-Twilio-Signature"]),
                },  # type: ignore[index]
                urlencode(kw["data"]),
            )
            for _, kw in signed
        ]  # type: ignore[arg-type]
        results = {}
        for name, requests, url in (
            ("bare Rasa /model/parse", nlu, rasa.url),
            ("REST webhook", rest, base),
            ("Twilio webhook (signed)", twilio, base),
        ):
            script = work / f"{name.split()[0].lower()}.lua"
            write_script(script, requests, int(args.think * 1000))
            results[name] = run_wrk(url, script, args.seconds, args.connections)
    finally:
        stop_bot(bot)
        await rasa.stop()
    baseline = results["bare Rasa /model/parse"][0]
    mode = f"paced, one message per {args.think:g} s per connection" if args.think else "saturated"
    print(
        f"wrk, {args.connections} connections ({mode}), {args.seconds} s each, {os.cpu_count()} cores, "
        "one bot worker"
    )
    for name, (rate, p50, p99) in results.items():
        print(f"{name:<28}{rate:>9.1f}/s {rate / baseline:6.2f}x  p50 {p50:8.1f} ms  p99 {p99:8.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
