"""No Rasa server outlives the `infobot chat` or `infobot serve` that started it: not after SIGHUP (the
terminal closed), SIGTERM, nor SIGKILL (nothing of the bot runs then: the kernel's parent-death signal
stops Rasa). Real processes, real Rasa; the timeouts are liveness bounds, not performance targets."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.config import PROJECT_ROOT
from bot.nlu.server import RasaServer, free_port
from bot.nlu.training import train

pytestmark = pytest.mark.rasa

INFOBOT = str(PROJECT_ROOT / ".venv" / "bin" / "infobot")
START_SECONDS = 300.0
STOP_SECONDS = 60.0


@pytest.fixture(scope="module")
def trained() -> Path:
    """The model the started services load (trained once, normally already up to date)."""
    model, _ = train(PROJECT_ROOT, PROJECT_ROOT / "intents", PROJECT_ROOT / "models")
    return model


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped holds no port and runs nothing)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def accepts(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Service:
    """`infobot <command>` in its own process, its output read line by line in the background."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [INFOBOT, *command],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def wait_for(self, text: str) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            try:
                self.seen.append(self.lines.get(timeout=1.0))
            except queue.Empty:
                assert self.process.poll() is None, f"exited {self.process.returncode}: {''.join(self.seen)}"
                continue
            if text in self.seen[-1]:
                return
        raise AssertionError(f"no {text!r} within {START_SECONDS:.0f} s: {''.join(self.seen)}")

    def rasa_pid(self) -> int:
        [rasa] = [pid for pid in children(self.process.pid) if b"rasa_launcher" in _command_line(pid)]
        return rasa


def _command_line(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


@pytest.fixture
def environment(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {
        key: value for key, value in os.environ.items() if key not in ("RASA_URL", "RASA_TOKEN", "REDIS_URL")
    }
    env.update(
        {
            "INFOBOT_SECRET_KEY": "lifetime-test-secret-0123456789abcdef",
            "INFOBOT_VAR_DIR": str(tmp_path / "var"),
            "DATABASE_URL": f"sqlite:///{tmp_path}/lifetime.db",
        }
    )
    yield env


CASES = [
    ("chat", signal.SIGHUP),
    ("chat", signal.SIGTERM),
    ("chat", signal.SIGKILL),
    ("serve", signal.SIGHUP),
    ("serve", signal.SIGTERM),
]


@pytest.mark.parametrize(("command", "signum"), CASES, ids=[f"{c}-{s.name}" for c, s in CASES])
def test_no_rasa_server_outlives_infobot(
    trained: Path, environment: dict[str, str], command: str, signum: signal.Signals
) -> None:
    port = free_port()
    arguments = ["chat", "--lang", "es"] if command == "chat" else ["serve", "--port", str(port)]
    service = Service(arguments, environment)
    rasa: int | None = None
    try:
        service.wait_for("Write a message" if command == "chat" else "infobot ready")
        rasa = service.rasa_pid()
        if command == "serve":  # the bot reaches its Rasa (with the generated token) before the signal
            health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10.0).json()
            assert health["nlu"] == "up", health
        rasa_arguments = _command_line(rasa).split(b"\0")
        rasa_port = int(rasa_arguments[rasa_arguments.index(b"-p") + 1])
        assert alive(rasa) and accepts(rasa_port)

        service.process.send_signal(signum)

        deadline = time.monotonic() + STOP_SECONDS
        while alive(rasa) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not alive(rasa), f"rasa {rasa} still running {STOP_SECONDS:.0f} s after {signum.name}"
        assert not accepts(rasa_port)
        status = service.process.wait(timeout=STOP_SECONDS)
        if command == "chat" and signum != signal.SIGKILL:
            assert status == 128 + signum  # the chat's own handler: a clean exit, not death by signal
        if command == "serve" and signum == signal.SIGHUP:
            assert status == 0  # shut down like SIGTERM (uvicorn's), not killed by the hangup
        if signum == signal.SIGKILL:
            assert status == -signal.SIGKILL
    finally:
        for pid in (service.process.pid, rasa):
            if pid is not None and alive(pid):
                os.kill(pid, signal.SIGKILL)
        service.process.wait(timeout=STOP_SECONDS)


async def test_a_rasa_that_cannot_start_says_why_and_leaves_nothing_behind(trained: Path) -> None:
    """Its port is taken: Rasa exits, and the error carries Rasa's own last line for the operator."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = RasaServer(PROJECT_ROOT, trained, port=taken.getsockname()[1], start_timeout=START_SECONDS)
        with pytest.raises(RuntimeError, match="rasa exited with code") as failed:
            await server.start()
    assert "no output" not in str(failed.value), str(failed.value)
    assert server.process is not None and not alive(server.process.pid)
