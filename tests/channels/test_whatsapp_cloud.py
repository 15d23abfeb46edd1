"""WhatsApp Cloud API at the HTTP boundary: the real app, real Rasa, and a local fake Graph API."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from bot.app import create_app
from bot.db import make_engine, session_factory
from bot.db.models import DeliveryStatus
from tests.helpers.app import make_settings
from tests.helpers.fake_provider import FakeProvider, Recorded, serve

PAYLOADS = Path(__file__).parent / "payloads" / "whatsapp_cloud"
SECRET = "meta-app-secret-for-tests-000001"
VERIFY = "meta-verify-token-0001"
PHONE_ID = "106540352242922"


def graph_api(record: Recorded) -> tuple[int, Any]:
    to = record.json.get("to", "")
    return 200, {
        "messaging_product": "whatsapp",
        "contacts": [{"input": to, "wa_id": to}],
        "messages": [{"id": f"wamid.sent{len(record.body)}"}],
    }


@dataclass
class Cloud:
    client: TestClient
    api: FakeProvider
    database_url: str

    def post(self, body: bytes, signature: str | None = "valid") -> Any:
        headers = {"content-type": "application/json"}
        if signature == "valid":
            signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        if signature is not None:
            headers["X-Hub-Signature-256"] = signature
        return self.client.post("/webhooks/whatsapp", content=body, headers=headers)


@pytest.fixture
def cloud(rasa_url: str, tmp_path: Path) -> Iterator[Cloud]:
    with serve(graph_api) as api:
        settings = make_settings(
            tmp_path,
            RASA_URL=rasa_url,
            WHATSAPP_TOKEN="meta-access-token-0001",
            WHATSAPP_APP_SECRET=SECRET,
            WHATSAPP_VERIFY_TOKEN=VERIFY,
            WHATSAPP_PHONE_NUMBER_ID=PHONE_ID,
            WHATSAPP_API_BASE=api.url,
        )
        with TestClient(create_app(settings)) as client:
            yield Cloud(client, api, settings.database_url)


def recorded(name: str) -> bytes:
    return (PAYLOADS / f"{name}.json").read_bytes()


def sent_texts(api: FakeProvider) -> list[str]:
    texts = []
    for record in api.sent("/messages"):
        body = record.json
        texts.append(
            body.get("text", {}).get("body") or body.get("interactive", {}).get("body", {}).get("text")
        )
    return texts


def test_the_subscription_challenge_needs_the_verify_token(cloud: Cloud) -> None:
    ok = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}
    answer = cloud.client.get("/webhooks/whatsapp", params=ok)
    assert (answer.status_code, answer.text) == (200, "1158201444")
    wrong = cloud.client.get("/webhooks/whatsapp", params={**ok, "hub.verify_token": "guess"})
    assert wrong.status_code == 403 and "1158201444" not in wrong.text


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, "md5=abc", "garbage"])
def test_forged_or_unsigned_updates_are_refused(cloud: Cloud, signature: str | None) -> None:
    assert cloud.post(recorded("text"), signature).status_code == 403
    assert cloud.api.requests == []


def test_a_text_is_answered_through_the_graph_api_once_even_when_redelivered(cloud: Cloud) -> None:
    assert cloud.post(recorded("text")).status_code == 200
    first = list(cloud.api.requests)
    assert first and all(r.path == f"/{PHONE_ID}/messages" for r in first)
    assert {r.json["to"] for r in first} == {"50688887777"}
    assert all(sent_texts(cloud.api)), "every message sent has a text or an interactive body"
    assert cloud.post(recorded("text")).status_code == 200  # Meta redelivers the same wamid
    assert len(cloud.api.requests) == len(first)


def test_a_button_reply_is_read_as_its_payload(cloud: Cloud) -> None:
    assert cloud.post(recorded("button_reply")).status_code == 200
    assert cloud.api.requests, "the documents topic was answered"
    payloads = [r.json for r in cloud.api.requests]
    assert all(p["messaging_product"] == "whatsapp" for p in payloads)


def test_statuses_are_recorded_and_nothing_is_sent(cloud: Cloud) -> None:
    assert cloud.post(recorded("status_failed")).status_code == 200
    assert cloud.api.requests == []
    engine = make_engine(cloud.database_url)
    with session_factory(engine)() as session:
        row = session.scalars(select(DeliveryStatus)).one()
    engine.dispose()
    assert (row.channel, row.status, row.error_code) == ("whatsapp", "failed", "131047")


@pytest.mark.parametrize("body", [b"{", b"[]", b'{"object": "page"}', json.dumps({"entry": "x"}).encode()])
def test_malformed_signed_updates_are_bad_requests(cloud: Cloud, body: bytes) -> None:
    assert cloud.post(body).status_code == 400
