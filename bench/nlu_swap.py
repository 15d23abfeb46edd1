"""A retrained model swapped in under load: failed requests and latency, before vs during/after the swap.

One `infobot serve` worker (SQLite, its own Rasa child) answers REST messages from CONCURRENCY simulated
people without pause. After a baseline phase, a retrain outcome naming MODEL is written to SQL as swapped in
(what `infobot train --with-labelled` writes when the candidate is not worse); the worker's ModelSwap puts it
into its Rasa with PUT /model. Prints failed requests per phase and p50/p99 as ratios of the baseline phase.

    .venv/bin/python bench/nlu_swap.py [--model models/nlu-XXXX.tar.gz] [--seconds 30]
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

from bot.db import make_engine, migrate, session_factory  # noqa: E402
from bot.db.models import NluRetrain  # noqa: E402
from bot.nlu.server import free_port  # noqa: E402
from bot.nlu.training import model_path  # noqa: E402

CONCURRENCY = 8
TEXTS = [
    "perdi mi pasaporte",
    "quiero pedir refugio",
    "m bezwen travay",
    "is this visa offer real",
    "bonjour",
]


async def person(url: str, n: int, stop: float, out: list[tuple[float, float, bool]]) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        i = 0
        while time.monotonic() < stop:
            started = time.monotonic()
            ok = False
            try:
                body = {"sender": f"bench-{n}-{i % 50}", "message": TEXTS[i % len(TEXTS)]}
                response = await http.post(f"{url}/webhooks/rest/webhook", json=body)
                ok = response.status_code == 200 and bool(response.json())
            except (httpx.HTTPError, ValueError):
                ok = False
            out.append((started, time.monotonic() - started, ok))
            i += 1


def figures(rows: list[tuple[float, float, bool]]) -> tuple[int, int, float, float]:
    times = sorted(t for _, t, _ in rows)
    p99 = times[int(len(times) * 0.99) - 1] if times else 0.0
    return len(rows), sum(1 for *_, ok in rows if not ok), statistics.median(times) if times else 0.0, p99


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", help="the model to swap in (default: the newest other model in models/)")
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    current = model_path(ROOT / "models", ROOT / "intents")
    others = sorted((p for p in (ROOT / "models").glob("nlu-*.tar.gz") if p != current), key=os.path.getmtime)
    model = Path(args.model).resolve() if args.model else (others[-1] if others else None)
    if model is None or not model.exists():
        sys.exit("no other model to swap in: run `infobot train --with-labelled` first, or pass --model")
    tmp = Path(tempfile.mkdtemp(prefix="bench-swap-"))
    database = f"sqlite:///{tmp}/db.sqlite"
    migrate(make_engine(database))
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "INFOBOT_VAR_DIR": str(tmp / "var"),
        "INFOBOT_SECRET_KEY": "b" * 40,
    }
    env.pop("RASA_URL", None)
    env |= {"INFOBOT_RATE_LIMIT_REST": "off", "INFOBOT_RATE_LIMIT_SENDER": "off"}  # the swap is measured here
    log = (tmp / "worker.log").open("w")
    worker = subprocess.Popen(
        [str(ROOT / ".venv/bin/infobot"), "serve", "--port", str(port)], env=env, stderr=log, stdout=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                sys.exit("the worker did not start: " + (tmp / "worker.log").read_text()[-2000:])
            await asyncio.sleep(0.5)
        rows: list[tuple[float, float, bool]] = []
        start = time.monotonic()
        stop = start + 2 * args.seconds
        load = [asyncio.create_task(person(url, n, stop, rows)) for n in range(CONCURRENCY)]
        await asyncio.sleep(args.seconds)
        swap_at = time.monotonic()
        with session_factory(make_engine(database)).begin() as session:
            comparison = json.dumps({"bench": "nlu_swap"})
            session.add(
                NluRetrain(actor="bench", examples=0, comparison=comparison, swapped=True, model=str(model))
            )
        await asyncio.gather(*load)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        log.close()
    swapped = "nlu model replaced" in (tmp / "worker.log").read_text()
    before = figures([r for r in rows if r[0] < swap_at])
    after = figures([r for r in rows if r[0] >= swap_at])
    seen = "seen in the worker log" if swapped else "NOT seen in the worker log"
    print(f"model swapped in: {model.name} ({seen})")
    print(f"{'phase':<22}{'requests':>9}{'failed':>8}{'p50 ratio':>11}{'p99 ratio':>11}")
    for name, (n, failed, p50, p99) in (("baseline", before), ("swap and after", after)):
        print(f"{name:<22}{n:>9}{failed:>8}{p50 / before[2]:>11.2f}{p99 / before[3]:>11.2f}")


if __name__ == "__main__":
    asyncio.run(main())
