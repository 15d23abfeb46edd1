"""Rasa's HTTP API (which can also replace the model) answers only requests carrying the token generated
for this start, listens on loopback only, and never shows the token on its command line."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bot.config import PROJECT_ROOT
from bot.nlu.client import NluUnavailable, RasaClient
from bot.nlu.server import RasaServer
from bot.nlu.session import start_nlu
from tests.helpers.app import make_settings

pytestmark = pytest.mark.rasa


async def test_rasa_refuses_every_api_request_without_the_right_token(rasa_server: RasaServer) -> None:
    wrong_tokens: list[dict[str, str]] = [
        {},
        {"token": ""},
        {"token": "guess"},
        {"token": rasa_server.token[:-1]},
    ]
    async with httpx.AsyncClient(base_url=rasa_server.url, timeout=10.0) as http:
        for params in wrong_tokens:
            assert (await http.post("/model/parse", params=params, json={"text": "hola"})).status_code == 401
            assert (await http.get("/status", params=params)).status_code == 401
            assert (await http.put("/model", params=params, json={"model_file": "/tmp/x"})).status_code == 401
            assert (await http.delete("/model", params=params)).status_code == 401
        answered = await http.post("/model/parse", params={"token": rasa_server.token}, json={"text": "hola"})
    assert answered.status_code == 200 and answered.json()["intent"]["name"] == "greet"


async def test_the_bots_client_sends_the_token(rasa_server: RasaServer) -> None:
    with_token = RasaClient(rasa_server.url, timeout=10.0, token=rasa_server.token)
    without = RasaClient(rasa_server.url, timeout=10.0)
    try:
        assert await with_token.is_ready() and not await without.is_ready()
        intent, confidence, _ = await with_token.parse_intent("me van a matar, ayuda")
        assert intent == "emergency" and confidence > 0
        with pytest.raises(NluUnavailable):
            await without.parse_intent("me van a matar, ayuda")
    finally:
        await with_token.aclose()
        await without.aclose()


@pytest.mark.parametrize(("token_given", "ready"), [(True, True), (False, False)])
async def test_rasa_token_setting_reaches_the_client(
    rasa_server: RasaServer, tmp_path: Path, token_given: bool, ready: bool
) -> None:
    """RASA_URL names a Rasa of one's own (started with --auth-token): RASA_TOKEN is what the bot sends."""
    token = rasa_server.token if token_given else ""
    settings = make_settings(tmp_path, RASA_URL=rasa_server.url, RASA_TOKEN=token)
    nlu, server = await start_nlu(settings)
    try:
        assert server is None and await nlu.client.is_ready() is ready
    finally:
        await nlu.client.aclose()


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the TCP sockets listening on this port, from /proc/net/tcp and tcp6."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            address, port_hex = local.split(":")
            if state == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def test_rasa_listens_on_loopback_only_and_its_token_is_not_on_its_command_line(
    rasa_server: RasaServer,
) -> None:
    assert rasa_server.process is not None
    assert listening_addresses(rasa_server.port) == {"0100007F"}  # 127.0.0.1, little-endian hex
    command_line = Path(f"/proc/{rasa_server.process.pid}/cmdline").read_bytes()
    assert b"--enable-api" in command_line and rasa_server.token.encode() not in command_line


def test_every_start_has_its_own_long_token() -> None:
    model = PROJECT_ROOT / "models" / "unused.tar.gz"
    tokens = {RasaServer(PROJECT_ROOT, model).token for _ in range(5)}
    assert len(tokens) == 5 and all(len(token) >= 40 for token in tokens)
