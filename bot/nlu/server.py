"""Runs `rasa run --enable-api` as a supervised child process on a free loopback port."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
from pathlib import Path

import httpx

from bot.nlu.training import rasa_env, rasa_executable

log = logging.getLogger(__name__)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RasaServer:
    """Starts Rasa, waits until it answers, restarts it when it dies, stops it on exit."""

    def __init__(
        self, root: Path, model: Path, port: int | None = None, start_timeout: float = 180.0
    ) -> None:
        self.root, self.model = root, model
        self.port = port or free_port()
        self.start_timeout = start_timeout
        self.process: asyncio.subprocess.Process | None = None
        self.restarts = 0
        self._watch: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        await self._spawn()
        self._watch = asyncio.create_task(self._watchdog())

    async def _spawn(self) -> None:
        command = [
            str(rasa_executable(self.root)),
            "run",
            "--enable-api",
            "-m",
            str(self.model),
            "-i",
            "127.0.0.1",
            "-p",
            str(self.port),
        ]
        log.info("starting rasa on %s", self.url)
        self.process = await asyncio.create_subprocess_exec(
            *command,
            cwd=self.root / "intents",
            env=rasa_env(),
            start_new_session=True,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await self.wait_ready()

    async def wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        async with httpx.AsyncClient(timeout=2.0) as http:
            while time.monotonic() < deadline:
                if self.process is not None and self.process.returncode is not None:
                    raise RuntimeError(f"rasa exited with code {self.process.returncode} while starting")
                with contextlib.suppress(httpx.HTTPError, ValueError):
                    response = await http.get(f"{self.url}/status")
                    if response.status_code == 200 and response.json().get("model_file"):
                        return
                await asyncio.sleep(0.5)
        raise RuntimeError(f"rasa did not answer on {self.url} within {self.start_timeout:.0f} s")

    async def _watchdog(self) -> None:
        """Restart Rasa whenever it dies; back off if it keeps dying."""
        delay = 1.0
        while not self._stopping:
            assert self.process is not None
            await self.process.wait()
            if self._stopping:
                return
            log.error("rasa exited with code %s; restarting in %.0f s", self.process.returncode, delay)
            await asyncio.sleep(delay)
            self.restarts += 1
            try:
                await self._spawn()
                delay = 1.0
            except (RuntimeError, OSError) as exc:
                log.error("rasa restart failed: %s", exc)
                delay = min(delay * 2, 30.0)

    async def stop(self) -> None:
        self._stopping = True
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        proc = self.process
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), timeout=10)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
