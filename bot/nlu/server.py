"""Runs `rasa run --enable-api` as a supervised child process on a free loopback port.

Rasa's HTTP API can also replace the model or read trackers, so it listens on 127.0.0.1 only and every
request must carry a token generated for this start (`--auth-token`; Rasa reads it from the `token` query
parameter). Rasa never outlives the bot: it is stopped on exit, and the kernel sends it SIGTERM when the
process that started it dies, even by SIGKILL (see rasa_launcher.py).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import secrets
import signal
import socket
import time
from pathlib import Path

import httpx

from bot.nlu import rasa_launcher
from bot.nlu.training import rasa_env, rasa_executable

log = logging.getLogger(__name__)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RasaServer:
    """Starts Rasa, waits until it answers, restarts it when it dies, stops it on exit.

    Start it from the thread that stays alive as long as Rasa should (the event loop's): Linux sends the
    parent-death signal when the thread that started the child ends.
    """

    def __init__(
        self, root: Path, model: Path, port: int | None = None, start_timeout: float = 180.0
    ) -> None:
        self.root, self.model = root, model
        self.port = port or free_port()
        self.start_timeout = start_timeout
        self.token = secrets.token_urlsafe(32)
        """The `--auth-token` of this server (the same across its restarts); clients send it as `token`."""
        self.process: asyncio.subprocess.Process | None = None
        self.restarts = 0
        self._watch: asyncio.Task[None] | None = None
        self._drain: asyncio.Task[None] | None = None
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=20)
        self._stopping = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        await self._spawn()
        self._watch = asyncio.create_task(self._watchdog())

    async def _spawn(self) -> None:
        command = [
            str(rasa_executable(self.root).with_name("python")),
            rasa_launcher.__file__,
            "run",
            "--enable-api",
            "-m",
            str(self.model),
            "-i",
            "127.0.0.1",
            "-p",
            str(self.port),
        ]
        env = {
            **rasa_env(),
            rasa_launcher.PARENT_VARIABLE: str(os.getpid()),
            rasa_launcher.TOKEN_VARIABLE: self.token,
        }
        log.info("starting rasa on %s", self.url)
        self.process = await asyncio.create_subprocess_exec(
            *command,
            cwd=self.root / "intents",
            env=env,
            start_new_session=True,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self._stderr_tail.clear()
        self._drain = asyncio.create_task(self._keep_stderr_tail(self.process))
        try:
            await self.wait_ready()
        except BaseException:  # failed, timed out or cancelled (a signal during start): leave no Rasa behind
            await self._terminate()
            raise

    async def wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        async with httpx.AsyncClient(timeout=2.0, params={"token": self.token}) as http:
            while time.monotonic() < deadline:
                if self.process is not None and self.process.returncode is not None:
                    if self._drain is not None:
                        await self._drain  # Rasa's last words, up to its end
                    last = self._stderr_tail[-1] if self._stderr_tail else "no output"
                    raise RuntimeError(
                        f"rasa exited with code {self.process.returncode} while starting: {last}"
                    )
                with contextlib.suppress(httpx.HTTPError, ValueError):
                    response = await http.get(f"{self.url}/status")
                    if response.status_code == 200 and response.json().get("model_file"):
                        return
                await asyncio.sleep(0.5)
        raise RuntimeError(f"rasa did not answer on {self.url} within {self.start_timeout:.0f} s")

    async def _keep_stderr_tail(self, process: asyncio.subprocess.Process) -> None:
        """Read Rasa's stderr to its end (a full pipe would block it), keeping the last lines for errors."""
        assert process.stderr is not None
        async for raw in process.stderr:
            line = raw.decode(errors="replace").strip()
            if line:
                self._stderr_tail.append(line[:500])

    async def _watchdog(self) -> None:
        """Restart Rasa whenever it dies; back off if it keeps dying."""
        delay = 1.0
        while not self._stopping:
            assert self.process is not None
            await self.process.wait()
            if self._stopping:
                return
            last = self._stderr_tail[-1] if self._stderr_tail else "no output"
            log.error(
                "rasa exited with code %s (%s); restarting in %.0f s", self.process.returncode, last, delay
            )
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
        await self._terminate()

    async def _terminate(self) -> None:
        """SIGTERM to Rasa's process group, SIGKILL if it is still there 10 s later."""
        proc = self.process
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), timeout=10)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()
        if self._drain is not None:  # its stderr is at its end now; a task left pending warns at exit
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drain, timeout=5)
