"""Hostile messages against one `infobot serve` worker and real Rasa on loopback: the time to answer each,
and the time a normal message from someone else takes while a hostile one is being processed, both as
ratios to a normal message measured in the same run.

A ratio near 1 for the second column means other conversations are not held up (the work is bounded and
runs off the event loop); the first column shows each hostile message's own cost.

    .venv/bin/python bench/edge.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.nlu.server import RasaServer, free_port  # noqa: E402
from bot.nlu.training import train  # noqa: E402

HANG = 20.0
"""Seconds without an answer after which a request counts as hung."""
NORMAL = "hola, necesito ayuda con mis papeles para trabajar en Costa Rica"


def body(message: str) -> bytes:
    return json.dumps({"sender": "SENDER", "message": message}).encode()


CASES: dict[str, bytes] = {
    "U+FDFA x 4000 (18x under NFKD)": body("\ufdfa" * 4000),
    "digits x 4000": body("1" * 4000),
    "'a.' x 2000": body("a." * 2000),
    "a URL of 4000 characters": body("mira http://" + "a" * 3980 + ".com"),
    "digits x 3900 then a link": body("1" * 3900 + " migracion-gob.com"),
    "a scam question with 1300 amounts": body("es estafa? me piden " + "$1 " * 1300),
    "emoji ZWJ sequences x 400": body("👩\u200d👩\u200d👧\u200d👦" * 400),
    "'hola \\ud800' (lone surrogate)": b'{"sender": "SENDER", "message": "hola \\ud800"}',
    "'[' x 5000 (400)": b"[" * 5000,
    "a 5000-digit number (400)": b'{"sender": "SENDER", "message": ' + b"7" * 5000 + b"}",
}


def start_bot(rasa_url: str, rasa_token: str, var: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RASA_URL": rasa_url,
        "RASA_TOKEN": rasa_token,
        "INFOBOT_SECRET_KEY": "bench-secret-0123456789abcdefghijklmnop",
        "DATABASE_URL": f"sqlite:///{var}/bench.db",
        "INFOBOT_VAR_DIR": str(var),
        "INFOBOT_RATE_LIMIT_REST": "off",  # one client sends everything here
        "INFOBOT_RATE_LIMIT_SENDER": "off",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise SystemExit("the bot did not start")


class Sender:
    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self.http, self.url, self.n = http, url, 0

    async def post(self, payload: bytes) -> tuple[float, str]:
        """(seconds, status) for one message from a sender of its own; the status is "hung" after HANG
        seconds without an answer, "dropped" when the connection closed without one."""
        self.n += 1
        content = payload.replace(b"SENDER", f"bench-{self.n}".encode())
        started = time.perf_counter()
        try:
            response = await self.http.post(
                f"{self.url}/webhooks/rest/webhook",
                content=content,
                headers={"content-type": "application/json"},
                timeout=HANG,
            )
            status = str(response.status_code)
        except httpx.TimeoutException:
            status = "hung"
        except httpx.TransportError:
            status = "dropped"
        return time.perf_counter() - started, status


async def alongside(sender: Sender, hostile: bytes) -> tuple[float, float]:
    """A normal message sent 20 ms after a hostile one: (normal's seconds, hostile's seconds)."""
    heavy = asyncio.create_task(sender.post(hostile))
    await asyncio.sleep(0.02)
    normal_seconds, _ = await sender.post(body(NORMAL))
    heavy_seconds, _ = await heavy
    return normal_seconds, heavy_seconds


async def measure(url: str, repeat: int) -> None:
    async with httpx.AsyncClient(timeout=120) as http:
        sender = Sender(http, url)
        for _ in range(10):  # warm-up: models loaded, connections open
            await sender.post(body(NORMAL))
        normal = statistics.median([(await sender.post(body(NORMAL)))[0] for _ in range(repeat * 4)])
        print(f"normal message: {normal * 1000:.1f} ms (median of {repeat * 4}); every figure below / this\n")
        print(f"{'message':40} {'status':>8} {'own time':>9} {'ratio':>7} {'a normal one alongside':>23}")
        for name, payload in CASES.items():
            own: list[float] = []
            statuses: set[str] = set()
            for _ in range(repeat):
                seconds, status = await sender.post(payload)
                own.append(seconds)
                statuses.add(status)
            beside = [(await alongside(sender, payload))[0] for _ in range(repeat)]
            mine, theirs = statistics.median(own), statistics.median(beside)
            shown = "/".join(sorted(statuses))
            print(
                f"{name:40} {shown:>8} {mine * 1000:7.1f}ms {mine / normal:6.1f}x "
                f"{theirs * 1000:12.1f}ms {theirs / normal:6.1f}x"
            )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5, help="messages of each kind (median shown)")
    args = parser.parse_args()
    model, _ = train(ROOT, ROOT / "intents", ROOT / "models")
    rasa = RasaServer(ROOT, model)
    await rasa.start()
    with tempfile.TemporaryDirectory(prefix="infobot-edge-") as var:
        bot, url = start_bot(rasa.url, getattr(rasa, "token", ""), Path(var))
        try:
            await measure(url, args.repeat)
        finally:
            bot.terminate()
            try:
                bot.wait(timeout=30)
            except subprocess.TimeoutExpired:
                bot.kill()
            await rasa.stop()


if __name__ == "__main__":
    asyncio.run(main())
