"""The channel contract holds: a new channel is one module and one registry line, nothing else.

`Pigeon` below is a whole adapter; the test adds it to the registry (the one line) and the real app then
serves its route, refuses its forgeries, caps its bodies, limits its floods, and answers each of its
messages once through the service — with no other file knowing it exists.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.testclient import TestClient

from bot.app import create_app
from bot.channels import registry
from bot.channels.base import KIB, BadRequest, Forbidden, Parsed, SendResult, ignored
from bot.config import Settings
from bot.vocab.messages import InboundMessage, OutboundMessage
from tests.helpers.app import make_settings

KEY = "pigeon-shared-key"


class Pigeon:
    name: ClassVar[str] = "pigeon"
    path: ClassVar[str] = "/webhooks/pigeon"
    serves: ClassVar[tuple[str, ...]] = ("pigeon",)
    reply_within: ClassVar[float | None] = 10.0
    max_body_bytes: ClassVar[int] = 2 * KIB
    address_budget: ClassVar[str] = "provider_address"
    enabled: ClassVar[bool] = True
    sent: ClassVar[list[OutboundMessage]] = []

    @staticmethod
    def refuse_flood(retry_after: int) -> Response:
        return ignored(retry_after)

    @classmethod
    def from_settings(cls, settings: Settings) -> Pigeon:
        return cls()

    @staticmethod
    def missing_settings(settings: Settings) -> list[str]:
        return []

    async def start(self) -> None:
        return None

    async def aclose(self) -> None:
        return None

    async def verify(self, request: Request) -> None:
        if not hmac.compare_digest(request.headers.get("x-pigeon-key", ""), KEY):
            raise Forbidden("not a pigeon")

    async def parse(self, request: Request) -> Parsed:
        try:
            body = json.loads(await request.body())
            inbound = InboundMessage("pigeon", str(body["from"]), str(body["text"]), str(body["id"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise BadRequest("a pigeon carries id, from and text") from exc
        return Parsed(messages=(inbound,))

    def render_answer(self, inbound: InboundMessage, replies: list[OutboundMessage]) -> str:
        return json.dumps([r.text for r in replies])

    def respond(self, request: Request, status: str, answer: str) -> Response:
        return JSONResponse({"status": status, "replies": json.loads(answer) if answer else []})

    async def acknowledge(self, inbound: InboundMessage) -> None:
        return None

    async def notify_group(self, chat_id: int) -> None:
        return None

    async def send(self, message: OutboundMessage) -> SendResult:
        Pigeon.sent.append(message)
        return SendResult(ok=True, provider_id=f"pigeon-{len(Pigeon.sent)}")

    def secrets(self) -> tuple[str, ...]:
        return (KEY,)


@pytest.fixture
def client(rasa_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setattr(registry, "ADAPTERS", (*registry.ADAPTERS, Pigeon))  # the one registry line
    settings = make_settings(tmp_path, RASA_URL=rasa_url, INFOBOT_RATE_LIMIT_PROVIDER="6/minute")
    with TestClient(create_app(settings)) as client:
        yield client


def post(client: TestClient, body: dict[str, str] | bytes, key: str = KEY) -> tuple[int, dict[str, object]]:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = client.post("/webhooks/pigeon", content=content, headers={"x-pigeon-key": key})
    return response.status_code, response.json()


def test_a_registered_channel_is_served_refuses_forgeries_and_answers_each_message_once(
    client: TestClient,
) -> None:
    assert post(client, {"id": "p1", "from": "bird-1", "text": "1"}, key="forged")[0] == 403
    status, first = post(client, {"id": "p1", "from": "bird-1", "text": "1"})
    assert status == 200 and first["status"] == "answered" and first["replies"]
    status, again = post(client, {"id": "p1", "from": "bird-1", "text": "1"})  # the provider's retry
    assert (status, again["status"], again["replies"]) == (200, "duplicate", [])
    assert post(client, b"not json")[0] == 400


def test_its_declared_body_cap_and_flood_refusal_apply_before_it_parses(client: TestClient) -> None:
    too_big = {"id": "p2", "from": "bird-2", "text": "x" * (3 * KIB)}
    assert post(client, too_big)[0] == 413
    answers = [post(client, {"id": f"f{i}", "from": "bird-3", "text": "1"}) for i in range(8)]
    assert [code for code, _ in answers] == [200] * 8
    assert [a["status"] for _, a in answers][-2:] == ["ignored", "ignored"]  # quiet, as it declared
