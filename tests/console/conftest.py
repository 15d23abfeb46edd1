"""The console's fixtures: the real app (TestClient, or uvicorn for the browser), staff accounts, logins."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from httpx import Response
from starlette.testclient import TestClient

from bot.app import create_app
from bot.config import Settings
from bot.console.accounts import add_staff
from bot.db import make_engine, migrate
from bot.nlu.server import free_port
from tests.helpers.app import make_settings

PASSWORD = "correct horse battery staple"
NO_RASA = "http://127.0.0.1:9"
"""Security tests need no NLU: while it is down the bot answers with the numbered menu."""


def create_staff(settings: Settings, email: str, role: str, password: str = PASSWORD) -> None:
    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
        add_staff(engine, email, role, password)
    finally:
        engine.dispose()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def try_login(client: TestClient, email: str, password: str = PASSWORD) -> Response:
    token = csrf_of(client.get("/console/login").text)
    return client.post(
        "/console/login", data={"email": email, "password": password, "csrf": token}, follow_redirects=False
    )


def log_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Logs in; returns the CSRF token of the new session."""
    response = try_login(client, email, password)
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/console/login").text)


@contextmanager
def from_address(client: TestClient, host: str) -> Iterator[None]:
    """Requests from another client address (what uvicorn puts in the scope), on the same running app."""
    transport = client._transport
    before = transport.client
    transport.client = (host, 50000)
    try:
        yield
    finally:
        transport.client = before


@dataclass
class Console:
    client: TestClient
    settings: Settings

    def escalate(self, sender: str, *texts: str) -> None:
        """A person on the web chat asks for a person ("0"), then writes `texts`."""
        for text in ("hola", "0", *texts):
            response = self.client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
            assert response.status_code == 200, response.text


def console_for(tmp_path: Path, **env: str) -> Iterator[Console]:
    settings = make_settings(tmp_path, RASA_URL=NO_RASA, **env)
    for email, role in (
        ("agent@example.org", "agent"),
        ("editor@example.org", "editor"),
        ("admin@example.org", "admin"),
    ):
        create_staff(settings, email, role)
    with TestClient(create_app(settings)) as client:
        yield Console(client, settings)


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    yield from console_for(tmp_path)


@contextmanager
def served_in_thread(app: Any, seconds: float = 120) -> Iterator[str]:
    """The real app under uvicorn on a free loopback port, for a real browser; its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + seconds
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the app did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
