"""Web chat identity: the server names the conversation in a signed, HttpOnly cookie; nobody else can
read its staff messages or speak as it; plain REST clients keep Rasa's contract; REST_API_TOKEN."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from itsdangerous import URLSafeTimedSerializer
from starlette.testclient import TestClient

from bot.app import create_app
from bot.channels.webchat_token import COOKIE
from bot.state.record import StoredConversation
from bot.webchat import queue_for_web_chat
from tests.helpers.app import make_settings
from tests.identity.webchat import OUTBOX, PAGE, WEBHOOK, WebChatPerson, open_web_chat

NO_RASA = "http://127.0.0.1:9"
API_TOKEN = "custom-front-end-token-0123456789"


def client_for(tmp_path: Path, **env: str) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(tmp_path, RASA_URL=NO_RASA, **env))) as client:
        yield client


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    yield from client_for(tmp_path)


def staff_message(client: TestClient, person: WebChatPerson, text: str) -> None:
    """What the console does when an agent answers a web-chat person (bot/console/handover.py)."""
    store = client.app.state.runtime.store  # type: ignore[attr-defined]
    assert client.portal.call(queue_for_web_chat, store, f"rest:{person.sender}", text, "es")  # type: ignore[union-attr]


def state(client: TestClient, conversation_id: str) -> StoredConversation:
    store = client.app.state.runtime.store  # type: ignore[attr-defined]
    return StoredConversation.from_dict(client.portal.call(store.get, conversation_id))  # type: ignore[union-attr]


def test_the_pages_first_message_gets_a_signed_httponly_cookie_naming_its_conversation(
    client: TestClient,
) -> None:
    response = client.post(WEBHOOK, json={"message": "hola"}, headers=PAGE)
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for attribute in ("HttpOnly", "Path=/webhooks/rest", "SameSite=strict", "Max-Age=2592000"):
        assert attribute.lower() in cookie.lower()
    assert response.json()[0]["recipient_id"].startswith("webchat:")


def test_the_cookie_carries_the_conversation_and_the_body_cannot_change_it(client: TestClient) -> None:
    person = open_web_chat(client)
    assert person.say("/set_language:ht").status_code == 200
    reply = client.post(
        WEBHOOK,
        json={"sender": "someone-else", "message": "bonjou"},
        headers={**PAGE, "Cookie": person.cookie},
    ).json()
    assert {r["recipient_id"] for r in reply} == {person.sender}
    assert reply[0]["metadata"]["language"] == "ht"
    assert state(client, f"rest:{person.sender}").dialogue.language == "ht"
    assert state(client, "rest:someone-else").dialogue.language is None  # never touched


def test_no_rest_body_can_speak_as_a_web_chat_person(client: TestClient) -> None:
    person = open_web_chat(client)
    for sender in (person.sender, "webchat:anything"):
        stop = client.post(WEBHOOK, json={"sender": sender, "message": "STOP"})
        assert stop.status_code == 400 and "web chat" in stop.json()["error"]
    assert not state(client, f"rest:{person.sender}").contact.opted_out


def test_the_outbox_serves_only_the_holder_of_the_token(client: TestClient, tmp_path: Path) -> None:
    anna, bruno = open_web_chat(client), open_web_chat(client)
    staff_message(client, anna, "Hola Anna, soy Ana del equipo.")

    nobody = client.post(OUTBOX, json={"sender": anna.sender})
    assert nobody.status_code == 401 and nobody.headers["www-authenticate"].startswith("Bearer")
    assert client.post(OUTBOX, json={"sender": "rest-user"}).status_code == 401
    token = anna.cookie.split("=", 1)[1]
    altered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    other_key = URLSafeTimedSerializer(b"x" * 32, salt="infobot-webchat-conversation").dumps(anna.sender)
    for forged in (altered, other_key, anna.sender, "", "null"):
        answer = client.post(OUTBOX, json={}, headers={"Cookie": f"{COOKIE}={forged}"})
        assert answer.status_code in (401, 403), forged
    bruno_asks = client.post(OUTBOX, json={"sender": anna.sender}, headers={"Cookie": bruno.cookie})
    assert bruno_asks.json() == []  # Bruno's own (empty) outbox, whatever the body says

    [message] = anna.outbox().json()
    assert message["text"] == "Hola Anna, soy Ana del equipo." and message["recipient_id"] == anna.sender
    assert anna.outbox().json() == []  # given once


def test_an_expired_or_forged_token_is_refused_and_the_page_starts_afresh(tmp_path: Path) -> None:
    for client in client_for(tmp_path, INFOBOT_CONVERSATION_TTL="1"):
        person = open_web_chat(client)
        time.sleep(2.1)
        assert person.outbox().status_code == 403
        stale = client.post(WEBHOOK, json={"message": "hola"}, headers={"Cookie": person.cookie})
        assert stale.status_code == 403 and "reload" in stale.json()["error"]
        again = person.say("hola")  # the page (X-Infobot-Web-Chat: 1) gets a new conversation
        assert again.status_code == 200 and again.cookies[COOKIE] not in person.cookie
        assert again.json()[0]["recipient_id"] != person.sender


def test_an_active_conversations_token_is_refreshed(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.channels.webchat_token

    person = open_web_chat(client)
    monkeypatch.setattr(bot.channels.webchat_token, "REFRESH_AFTER_SECONDS", -1)
    refreshed = person.say("hola")
    assert refreshed.cookies[COOKIE] and refreshed.json()[0]["recipient_id"] == person.sender
    monkeypatch.setattr(bot.channels.webchat_token, "REFRESH_AFTER_SECONDS", 3600)
    assert COOKIE not in person.say("hola").cookies


def test_plain_rest_clients_keep_rasas_contract_and_get_no_cookie(client: TestClient) -> None:
    response = client.post(WEBHOOK, json={"sender": "u1", "message": "hola"})
    assert response.status_code == 200 and response.json()[0]["recipient_id"] == "u1"
    assert "set-cookie" not in response.headers


def test_rest_api_token_guards_custom_front_ends_but_not_the_web_chat_page(tmp_path: Path) -> None:
    for client in client_for(tmp_path, REST_API_TOKEN=API_TOKEN):
        body = {"sender": "u1", "message": "hola"}
        missing = client.post(WEBHOOK, json=body)
        assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
        for wrong in ("Bearer nope", f"Bearer {API_TOKEN}x", f"Basic {API_TOKEN}", API_TOKEN):
            assert client.post(WEBHOOK, json=body, headers={"Authorization": wrong}).status_code == 403
        bearer = {"Authorization": f"Bearer {API_TOKEN}"}
        ok = client.post(WEBHOOK, json=body, headers=bearer)
        assert ok.status_code == 200 and ok.json()[0]["recipient_id"] == "u1"

        person = open_web_chat(client)  # the public page needs no API token
        assert person.say("0").status_code == 200
        staff_message(client, person, "Hola, soy Ana.")
        assert [m["text"] for m in person.outbox().json()] == ["Hola, soy Ana."]

        # an authenticated front-end reads the outbox of the senders it names, never a web chat's
        assert client.post(OUTBOX, json={"sender": "u1"}, headers=bearer).json() == []
        assert client.post(OUTBOX, json={"sender": person.sender}, headers=bearer).status_code == 400
        assert client.post(OUTBOX, json={"sender": "u1"}).status_code == 401
