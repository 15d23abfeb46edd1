"""The long fuzzing run: thousands of hostile requests per inbound route against the real app on uvicorn,
with the real Rasa NLU (SQLite) and with the NLU down (PostgreSQL), as in tests/edge/test_fuzz_routes.py
but random (not derandomized) and much longer. Nothing stops at the first failure: it counts.

Prints, per route and NLU path: requests, responses by status class, answers >= 500, connections dropped
without an answer, hung requests (no answer within 20 s), and the first few failing requests.

    .venv/bin/python bench/fuzz.py [--examples 2000] [--console-examples 300] [--nlu live|dead|both]
        [--routes "rest webhook,telegram"]
    (PostgreSQL from INFOBOT_TEST_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/test)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.db import make_engine  # noqa: E402
from bot.nlu.server import RasaServer  # noqa: E402
from bot.nlu.training import train  # noqa: E402
from tests.console.conftest import NO_RASA  # noqa: E402
from tests.edge.conftest import POSTGRES_URL, Server, running  # noqa: E402
from tests.edge.hostile import Tally, run_attempts  # noqa: E402
from tests.edge.test_fuzz_routes import ROUTES  # noqa: E402

SCHEMA = "edge_fuzz_bench"


def fresh_postgres() -> str:
    engine = make_engine(POSTGRES_URL)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}"))
    finally:
        engine.dispose()
    return f"{POSTGRES_URL}?options=-csearch_path%3D{SCHEMA}"


def report(label: str, tally: Tally, seconds: float) -> None:
    classes = ", ".join(f"{name} {count}" for name, count in sorted(tally.by_class.items()))
    failures = sum(1 for _, status in tally.errors if status >= 500)
    dropped = sum(1 for _, status in tally.errors if status == 0)
    print(
        f"{label:36} {tally.requests:6} requests ({tally.requests / seconds:5.1f}/s): {classes}; "
        f">=500: {failures}, dropped: {dropped}, hung: {len(tally.hung)}"
    )
    for attempt, status in tally.errors[:3]:
        print(f"    {status}: {attempt!r}"[:400])
    for attempt in tally.hung[:3]:
        print(f"    hung: {attempt!r}"[:400])


@contextmanager
def live_rasa() -> Iterator[str]:
    model, _ = train(ROOT, ROOT / "intents", ROOT / "models")
    rasa = RasaServer(ROOT, model)
    loop = asyncio.new_event_loop()  # running all along: it reads Rasa's stderr (a full pipe blocks Rasa)
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(rasa.start(), loop).result()
    try:
        os.environ["RASA_TOKEN"] = rasa.token
        yield rasa.url
    finally:
        asyncio.run_coroutine_threadsafe(rasa.stop(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()


def run(nlu: str, names: list[str], examples: dict[str, int]) -> Tally:
    total = Tally()
    with tempfile.TemporaryDirectory(prefix="infobot-fuzz-") as tmp:
        if nlu == "live":
            with live_rasa() as rasa_url, running(Path(tmp), rasa_url) as server:
                total = run_routes(server, nlu, names, examples)
        else:
            with running(Path(tmp), NO_RASA, DATABASE_URL=fresh_postgres()) as server:
                total = run_routes(server, nlu, names, examples)
    return total


def run_routes(server: Server, nlu: str, names: list[str], examples: dict[str, int]) -> Tally:
    total = Tally()
    for name in names:
        strategy, _, _ = ROUTES[name]
        started = time.perf_counter()
        tally = run_attempts(server.url, strategy(), examples[name], derandomize=False)
        report(f"{name} (NLU {nlu})", tally, time.perf_counter() - started)
        total.requests += tally.requests
        total.by_class.update(tally.by_class)
        total.errors += tally.errors
        total.hung += tally.hung
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=2000, help="requests per route and NLU path")
    parser.add_argument("--nlu", choices=["live", "dead", "both"], default="both")
    parser.add_argument("--routes", default=",".join(ROUTES), help="comma-separated: " + ", ".join(ROUTES))
    parser.add_argument(
        "--console-examples", type=int, default=300, help="console logins (argon2 is slow on purpose)"
    )
    args = parser.parse_args()
    names = [n.strip() for n in args.routes.split(",") if n.strip()]
    unknown = [n for n in names if n not in ROUTES]
    if unknown:
        raise SystemExit(f"unknown route(s): {', '.join(unknown)}")
    os.environ.setdefault("INFOBOT_TEST_POSTGRES_URL", POSTGRES_URL)
    examples = {name: args.console_examples if name == "console login" else args.examples for name in names}
    logging.disable(logging.WARNING)  # "NLU unavailable" on each message of the dead-NLU run; errors show
    grand = Tally()
    for nlu in ["live", "dead"] if args.nlu == "both" else [args.nlu]:
        tally = run(nlu, names, examples)
        grand.requests += tally.requests
        grand.by_class.update(tally.by_class)
        grand.errors += tally.errors
        grand.hung += tally.hung
    failures = sum(1 for _, status in grand.errors if status >= 500)
    dropped = len(grand.errors) - failures
    print(
        f"\nTOTAL {grand.requests} requests: "
        + ", ".join(f"{name} {count}" for name, count in sorted(grand.by_class.items()))
        + f"; >=500: {failures}, dropped: {dropped}, hung: {len(grand.hung)}"
    )
    sys.exit(1 if grand.errors or grand.hung else 0)


if __name__ == "__main__":
    main()
