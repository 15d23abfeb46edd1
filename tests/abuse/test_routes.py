"""Abuse limits on every inbound route of the real app: REST answers 429 with Retry-After, Twilio and
Telegram drop quietly with a 200 (the provider would only retry an error) and count the drop."""

from __future__ import annotations

import copy
import itertools
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.app import create_app
from bot.config import ConfigError
from tests.channels.conftest import (
    PUBLIC_BASE_URL,
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    TWILIO_SID,
    TWILIO_TOKEN,
    payload,
    sign,
)
from tests.helpers.app import make_settings
from tests.helpers.fake_provider import FakeProvider, serve, telegram_responder
from tests.identity.webchat import open_web_chat

NO_RASA = "http://127.0.0.1:9"
"""Limits need no NLU: while it is down the bot answers with the numbered menu."""
CLIENT_HEADER = "x-test-client-address"
_ids = itertools.count(1)


class ClientFrom:
    """Test-only: each request says which client address it comes from (as a trusted proxy would)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == CLIENT_HEADER.encode():
                    scope = {**scope, "client": (value.decode(), 40000)}
        await self.app(scope, receive, send)


def dropped(route: str, scope: str) -> float:
    return REGISTRY.get_sample_value("infobot_rate_limited_total", {"route": route, "scope": scope}) or 0.0


@dataclass
class Service:
    client: TestClient
    telegram_api: FakeProvider

    def rest(self, sender: str, text: str, address: str = "203.0.113.7") -> Any:
        return self.client.post(
            "/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            headers={CLIENT_HEADER: address},
        )

    def twilio(self, number: str, text: str, address: str = "198.51.100.1") -> Any:
        params = {
            **payload("twilio", "whatsapp_text"),
            "From": f"whatsapp:{number}",
            "Body": text,
            "MessageSid": f"SM{next(_ids):032d}",
        }
        headers = {"X-Twilio-Signature": sign(params), CLIENT_HEADER: address}
        return self.client.post("/webhooks/twilio", data=params, headers=headers)

    def twilio_status(self, address: str = "198.51.100.1") -> Any:
        path = "/webhooks/twilio/status"
        params = {"MessageSid": f"SM{next(_ids):032d}", "MessageStatus": "delivered", "To": "whatsapp:+1"}
        headers = {"X-Twilio-Signature": sign(params, url=PUBLIC_BASE_URL + path), CLIENT_HEADER: address}
        return self.client.post(path, data=params, headers=headers)

    def telegram(self, chat_id: int, text: str, address: str = "149.154.167.1") -> Any:
        update = copy.deepcopy(payload("telegram", "message"))
        n = next(_ids)
        update["update_id"], update["message"]["message_id"] = 920000000 + n, 9000 + n
        update["message"]["chat"]["id"] = update["message"]["from"]["id"] = chat_id
        update["message"]["text"] = text
        headers = {
            "content-type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET,
            CLIENT_HEADER: address,
        }
        return self.client.post("/webhooks/telegram", content=json.dumps(update), headers=headers)


def service_for(tmp_path: Path, **env: str) -> Iterator[Service]:
    with serve(telegram_responder) as telegram_api:
        settings = make_settings(
            tmp_path,
            RASA_URL=NO_RASA,
            PUBLIC_BASE_URL=PUBLIC_BASE_URL,
            TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
            TWILIO_ACCOUNT_SID=TWILIO_SID,
            TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN,
            TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET,
            TELEGRAM_API_BASE=f"{telegram_api.url}/bot",
            **env,
        )
        with TestClient(ClientFrom(create_app(settings))) as client:
            yield Service(client, telegram_api)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    yield from service_for(tmp_path)


@pytest.fixture(autouse=True)
def one_window() -> None:
    """The limiter's sliding window counts per clock minute and weighs the previous minute with a floor, so
    a burst that straddles a minute boundary may be allowed one extra request. These tests count exact
    budgets ("the 21st is dropped"): they start early in a minute, so each burst stays inside one window."""
    into = time.time() % 60
    if into > 40:
        time.sleep(60 - into + 0.05)


def retry_after(response: Any) -> int:
    """The Retry-After header as whole seconds (its absence or a non-number fails the test)."""
    return int(response.headers["retry-after"])


def test_300_emergencies_from_300_made_up_senders_on_one_client_are_mostly_refused(service: Service) -> None:
    before = dropped("rest", "address")
    answers = [service.rest(f"made-up-{n}", "me van a matar, ayuda") for n in range(300)]
    codes = [a.status_code for a in answers]
    assert set(codes) == {200, 429}
    assert codes.count(429) >= 240 and codes.index(429) == 60  # 60 a minute per address, then refused
    waits = [retry_after(a) for a in answers if a.status_code == 429]
    assert all(1 <= wait <= 60 for wait in waits)  # within the one-minute window, never "retry now"
    # a refused request does not count: the wait only shrinks as the window moves on, it is never extended
    assert all(later <= earlier for earlier, later in zip(waits, waits[1:], strict=False))
    assert "too many requests" in answers[-1].json()["error"]
    assert dropped("rest", "address") - before == codes.count(429)
    # another client, and the flooding client's own web chat person elsewhere, are not affected
    assert service.rest("someone", "hola", address="198.51.100.20").status_code == 200


def test_one_person_sending_very_fast_is_slowed_with_429_and_others_are_not(tmp_path: Path) -> None:
    for service in service_for(tmp_path, INFOBOT_RATE_LIMIT_REST="off"):
        before = dropped("rest", "sender")
        codes = [service.rest("+50600000001", f"mensaje {n}").status_code for n in range(21)]
        assert codes == [200] * 20 + [429]  # 20 a minute: more than anyone types, even in a hurry
        assert dropped("rest", "sender") - before == 1
        assert service.rest("+50600000002", "hola").status_code == 200
        person = open_web_chat(service.client)  # a web chat person is limited by the same rule
        said = [person.say(f"m {n}").status_code for n in range(20)]
        assert said == [200] * 19 + [429]


def bodies(twiml: str) -> list[str]:
    return re.findall(r"<Message>(.*?)</Message>", twiml, flags=re.S)


def test_twilio_drops_a_persons_21st_message_quietly_with_empty_twiml(service: Service) -> None:
    before = dropped("twilio", "sender")
    answers = [service.twilio("+50688880001", f"hola {n}") for n in range(21)]
    assert [a.status_code for a in answers] == [200] * 21  # Twilio would retry anything else
    assert all(bodies(a.text) for a in answers[:20])
    assert bodies(answers[20].text) == [] and answers[20].headers["content-type"].startswith(
        "application/xml"
    )
    assert dropped("twilio", "sender") - before == 1
    assert bodies(service.twilio("+50688880002", "hola").text)  # another person is answered


def test_a_flood_of_forged_twilio_requests_does_not_lock_out_genuine_ones(service: Service) -> None:
    """Twilio posts from addresses shared by all its customers: failures are never held against them."""
    params = {**payload("twilio", "sms"), "MessageSid": "SM" + "7" * 32}
    for _ in range(150):
        forged = service.client.post(
            "/webhooks/twilio",
            data=params,
            headers={
                "X-Twilio-Signature": sign(params, token="another-account"),
                CLIENT_HEADER: "198.51.100.1",
            },
        )
        assert forged.status_code == 403
    assert bodies(service.twilio("+50688880003", "hola").text)


def test_provider_routes_have_a_per_address_flood_ceiling_and_drop_quietly(tmp_path: Path) -> None:
    for service in service_for(tmp_path, INFOBOT_RATE_LIMIT_PROVIDER="5/minute"):
        before = {r: dropped(r, "address") for r in ("twilio", "twilio_status", "telegram")}
        answers = [service.twilio(f"+5068888{n:04d}", "hola") for n in range(6)]
        assert [bool(bodies(a.text)) for a in answers] == [True] * 5 + [False]
        assert answers[5].status_code == 200
        statuses = [service.twilio_status() for _ in range(6)]
        assert [s.json()["status"] for s in statuses] == ["delivered"] * 5 + ["ignored"]
        updates = [service.telegram(8100 + n, "hola") for n in range(6)]
        assert [u.json()["status"] for u in updates] == ["ok"] * 5 + ["ignored"]
        assert all(r.status_code == 200 for r in (*statuses, *updates))
        assert {r: dropped(r, "address") - before[r] for r in before} == {
            "twilio": 1,
            "twilio_status": 1,
            "telegram": 1,
        }
        # from another of the provider's addresses, traffic goes on
        assert bodies(service.twilio("+50688889999", "hola", address="198.51.100.2").text)


def test_telegram_drops_a_persons_21st_message_quietly(service: Service) -> None:
    def replies_to(chat_id: int) -> int:
        return sum(int(r.params["chat_id"]) == chat_id for r in service.telegram_api.sent("sendMessage"))

    before = dropped("telegram", "sender")
    assert [service.telegram(8201, f"hola {n}").json()["status"] for n in range(20)] == ["ok"] * 20
    replied = replies_to(8201)
    assert service.telegram(8201, "hola otra vez").json() == {"status": "ignored"}
    assert replies_to(8201) == replied  # nothing was handled, nothing sent
    assert dropped("telegram", "sender") - before == 1
    assert service.telegram(8202, "hola").json()["status"] == "ok"


def test_console_logins_are_limited_per_address_before_any_password_is_checked(service: Service) -> None:
    form = {"email": "agent@example.org", "password": "guess"}
    answers = [
        service.client.post("/console/login", data=form, headers={CLIENT_HEADER: "203.0.113.50"})
        for _ in range(21)
    ]
    assert 429 not in [a.status_code for a in answers[:20]] and answers[20].status_code == 429
    wait = retry_after(answers[20])
    assert 1 <= wait <= 60  # within the one-minute window, never "retry now"
    # the page tells the person the same wait the header gives
    assert answers[20].text == f"Too many login attempts from this address: try again in {wait} s."
    assert service.client.get("/console/login", headers={CLIENT_HEADER: "203.0.113.50"}).status_code == 200
    other = service.client.post("/console/login", data=form, headers={CLIENT_HEADER: "203.0.113.51"})
    assert other.status_code != 429


def test_the_outbox_is_limited_per_address(tmp_path: Path) -> None:
    for service in service_for(tmp_path, INFOBOT_RATE_LIMIT_OUTBOX="3/minute"):
        person = open_web_chat(service.client)
        codes = [person.outbox().status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]


def test_a_limit_that_is_not_a_limit_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="INFOBOT_RATE_LIMIT_SENDER"):
        make_settings(tmp_path, INFOBOT_RATE_LIMIT_SENDER="twenty a minute")
