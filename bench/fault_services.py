"""The parts the fault benchmark starts, breaks and stops: Redis, PostgreSQL, a cuttable TCP proxy in
front of PostgreSQL, a recording fake of Twilio's REST API and `infobot serve` workers.

Everything listens on free loopback ports and keeps its files in temporary directories; `stop()` of each
part is safe to call twice and after a failed start, so bench/faults.py can tear everything down on any
error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bot.nlu.server import free_port

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_BIN = Path("/usr/lib/postgresql")


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up within {timeout:.0f} s")


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def kill_now(process: subprocess.Popen[Any] | None) -> None:
    """SIGKILL: no draining, no shutdown hooks, as a crash or an OOM kill."""
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGKILL)
        process.wait()


def stop_gently(process: subprocess.Popen[Any] | None, seconds: float) -> None:
    """SIGTERM, then SIGKILL if it has not ended within `seconds`."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            kill_now(process)


class RedisProcess:
    """A throwaway redis-server without persistence: a SIGKILL and restart starts from an empty Redis,
    so whatever the service keeps only in Redis (dedupe claims, flags, state) is lost with it."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.log = log_dir / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=out, start_new_session=True)
        wait_until(lambda: port_open(self.port), 20, "redis-server")

    def kill(self) -> None:
        """SIGKILL, as a crashed or OOM-killed Redis."""
        kill_now(self.process)

    def stop(self) -> None:
        stop_gently(self.process, 10)


class PostgresCluster:
    """A PostgreSQL cluster of its own (initdb in a temporary directory); PostgreSQL refuses to run as
    root, so as root every command runs as the `postgres` user."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="infobot-faults-pg-"))
        self.data = self.dir / "data"
        self.started = False
        versions = sorted(POSTGRES_BIN.glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
        if not versions:
            raise RuntimeError(f"no PostgreSQL server under {POSTGRES_BIN} (apt-get install postgresql)")
        self.bin = versions[-1].parent

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        done = subprocess.run([*prefix, *command], capture_output=True, text=True, cwd=self.dir)
        if done.returncode:
            raise RuntimeError(
                f"{Path(command[0]).name} failed: {done.stderr.strip() or done.stdout.strip()}"
            )

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync"
        )
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200"
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.dir / "log"),
            "-w",
            "start",
        )
        self.started = True
        self._run(
            str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "infobot"
        )

    def url(self, port: int | None = None) -> str:
        return f"postgresql://postgres@127.0.0.1:{port or self.port}/infobot"

    def stop(self) -> None:
        if self.started:
            with contextlib.suppress(RuntimeError):
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
            self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)


class CutProxy:
    """A TCP proxy (its own event loop in a thread) that can drop every connection and refuse new ones,
    as when the database host or the network to it goes away, then accept again."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="cut-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    def start(self) -> None:
        self._thread.start()
        self._call(self._listen())

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, reuse_address=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._open.update((writer, up_writer))
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))
        self._open.difference_update((writer, up_writer))

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()

    def cut(self) -> None:
        """Close every proxied connection (both ends) and stop listening: new connections are refused."""
        self._call(self._cut())

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    def restore(self) -> None:
        self._call(self._listen())

    def stop(self) -> None:
        if self._thread.is_alive():
            self._call(self._cut())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)


@dataclass
class Sent:
    """One message the service sent through the (fake) Twilio REST API."""

    at: float
    to: str
    body: str


@dataclass
class TwilioRecorder:
    """Timestamps what reaches the fake Twilio REST API (tests/helpers/fake_provider.py)."""

    sent: list[Sent] = field(default_factory=list)

    def responder(self, record: Any) -> tuple[int, Any]:
        from tests.helpers.fake_provider import twilio_responder

        form = record.form
        if record.path.endswith("/Messages.json"):
            self.sent.append(Sent(time.monotonic(), form.get("To", ""), form.get("Body", "")))
        return twilio_responder(record)


@contextlib.contextmanager
def fake_twilio() -> Iterator[tuple[str, TwilioRecorder]]:
    from tests.helpers.fake_provider import serve

    recorder = TwilioRecorder()
    with serve(recorder.responder) as provider:
        yield provider.url, recorder


RASA_HOST = """
import asyncio, json, sys
from pathlib import Path
from bot.nlu.server import RasaServer

async def main():
    server = RasaServer(Path(sys.argv[1]), Path(sys.argv[2]))
    await server.start()
    print(json.dumps({"url": server.url, "token": getattr(server, "token", None)}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await server.stop()

asyncio.run(main())
"""


class RasaHost:
    """One Rasa NLU server shared by the workers, run by the workers' own code (bot.nlu.server.RasaServer
    of the code under test, with its auth token if it has one) in a child process that stops Rasa when
    its stdin closes, i.e. when the bench ends or dies."""

    def __init__(self, code: Path, model: Path, log_dir: Path) -> None:
        self.code, self.model, self.log = code, model, log_dir / "rasa-host.log"
        self.process: subprocess.Popen[str] | None = None
        self.url, self.token = "", None

    def start(self) -> None:
        with self.log.open("a") as err:
            self.process = subprocess.Popen(
                [str(ROOT / ".venv/bin/python"), "-c", RASA_HOST, str(ROOT), str(self.model)],
                cwd=self.code,
                env={**os.environ, "PYTHONPATH": str(self.code)},
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the Rasa server did not start: see {self.log}")
        ready = json.loads(line)
        self.url, self.token = ready["url"], ready["token"]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


PSEUDONYMS = """
import sys
from bot.config import Settings
from bot.privacy import pseudonymise
settings = Settings.from_env({"INFOBOT_SECRET_KEY": sys.argv[1], "INFOBOT_VAR_DIR": sys.argv[2]})
key = getattr(settings, "pseudonym_key", settings.secret_key)
for line in sys.stdin:
    print(pseudonymise(key, line.rstrip("\\n")))
"""


def pseudonyms(code: Path, secret: str, identifiers: list[str]) -> list[str]:
    """The pseudonyms the code under test gives these conversation ids (it stores people by them)."""
    with tempfile.TemporaryDirectory() as var:
        done = subprocess.run(
            [str(ROOT / ".venv/bin/python"), "-c", PSEUDONYMS, secret, var],
            input="".join(f"{i}\n" for i in identifiers),
            capture_output=True,
            text=True,
            check=True,
            cwd=code,
            env={**os.environ, "PYTHONPATH": str(code)},
        )
    return done.stdout.splitlines()


SETTINGS_PREFIXES = (
    "INFOBOT_",
    "RASA_",
    "REDIS_",
    "DATABASE_",
    "TWILIO_",
    "TELEGRAM_",
    "WHATSAPP_",
    "PUBLIC_",
)


def export_commit(revision: str, work: Path) -> Path:
    """A clean copy of one commit (git archive) with its message catalogs compiled, so the workers run
    exactly that code while the shared working tree keeps changing."""
    dest = work / "code"
    dest.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    subprocess.run(
        [str(ROOT / ".venv/bin/pybabel"), "compile", "-d", str(dest / "bot/locale"), "-D", "messages"],
        check=True,
        capture_output=True,
    )
    return dest


class Worker:
    """One `infobot serve` process, as on its own machine: its own var directory (spool, journal)."""

    def __init__(self, name: str, work: Path, env: Mapping[str, str], code: Path = ROOT) -> None:
        self.name = name
        self.port = free_port()
        self.var = work / name
        self.var.mkdir(parents=True, exist_ok=True)
        self.log = work / f"{name}.log"
        clean = {k: v for k, v in os.environ.items() if not k.startswith(SETTINGS_PREFIXES)}
        self.env = {**clean, **env, "INFOBOT_VAR_DIR": str(self.var), "PYTHONPATH": str(code)}
        self.code = code
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120) -> float:
        """Start and wait until /healthz answers 200; returns the seconds it took."""
        started = time.monotonic()
        command = [
            str(ROOT / ".venv/bin/python"),
            "-c",
            "import sys; from bot.cli import main; sys.exit(main())",
        ]
        command += ["serve", "--host", "127.0.0.1", "--port", str(self.port)]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command, env=self.env, cwd=self.code, stdout=out, stderr=out, start_new_session=True
            )
        self.starts += 1

        last = "no answer"

        def healthy() -> bool:
            nonlocal last
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}: see {self.log}")
            try:
                response = httpx.get(f"{self.url}/healthz", timeout=2)
            except httpx.HTTPError as exc:
                last = exc.__class__.__name__
                return False
            last = f"HTTP {response.status_code} {response.text[:200]}"
            return response.status_code == 200

        try:
            wait_until(healthy, timeout, self.name)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}; /healthz: {last}") from exc
        return time.monotonic() - started

    def kill(self) -> None:
        """SIGKILL: no draining, no shutdown hooks, as a crashed machine or an OOM kill."""
        kill_now(self.process)

    def stop(self) -> None:
        stop_gently(self.process, 30)
