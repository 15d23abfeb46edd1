"""Real `infobot serve` worker processes for the tests that need more than one (shared Redis or database)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from bot.config import PROJECT_ROOT
from bot.nlu.server import free_port

START_SECONDS = 120


@contextmanager
def serve_workers(
    env: Mapping[str, str], logs: Path, count: int = 2, ready: tuple[int, ...] = (200,)
) -> Iterator[list[str]]:
    """`count` workers on free ports, yielded once each /healthz answers one of `ready`; their stderr goes
    to `logs`/worker-PORT.log and its tail is shown if they do not start. Terminated after."""
    ports = [free_port() for _ in range(count)]
    procs = [
        subprocess.Popen(
            [str(PROJECT_ROOT / ".venv/bin/infobot"), "serve", "--port", str(port)],
            env=dict(env),
            stdout=subprocess.DEVNULL,
            stderr=(logs / f"worker-{port}.log").open("w"),
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + START_SECONDS
        for url in urls:
            while not _answers(url, ready):
                assert time.monotonic() < deadline, "workers did not start: " + "".join(
                    p.read_text()[-2000:] for p in logs.glob("worker-*.log")
                )
                time.sleep(0.3)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)


def _answers(url: str, ready: tuple[int, ...]) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code in ready
    except httpx.HTTPError:
        return False
