"""The REST channel: Rasa's format in and out, and a clear 400 for every kind of bad input."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from bot.app import create_app
from bot.nlu.server import free_port
from tests.helpers.app import make_settings


@pytest.fixture
def client_without_nlu(tmp_path: Path) -> Iterator[TestClient]:
    """The real app with its NLU pointed at a closed port: the degraded mode, no fakes."""
    settings = make_settings(tmp_path, RASA_URL=f"http://127.0.0.1:{free_port()}")
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"message": "hola"}', "'sender' is required"),
        (b'{"sender": "", "message": "hola"}', "'sender' is required"),
        (b'{"sender": 42, "message": "hola"}', "'sender' is required"),
        (b'{"sender": "a"}', "'message' is required"),
        (b'{"sender": "a", "message": ""}', "'message' is required"),
        (b'{"sender": "a", "message": "   "}', "'message' is required"),
        (b'{"sender": "a", "message": ["hola"]}', "'message' is required"),
        (b"\xff\xfe\x00", "not valid JSON"),
        (b"", "not valid JSON"),
    ],
)
def test_bad_input_gets_400_with_a_clear_error(
    client_without_nlu: TestClient, body: bytes, reason: str
) -> None:
    response = client_without_nlu.post(
        "/webhooks/rest/webhook", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert reason in response.json()["error"]


def test_a_10000_character_message_is_refused_clearly(client_without_nlu: TestClient) -> None:
    response = client_without_nlu.post(
        "/webhooks/rest/webhook", json={"sender": "a", "message": "x" * 10_000}
    )
    assert response.status_code == 400 and "longer than 4096" in response.json()["error"]


def test_with_the_nlu_down_the_bot_still_answers_with_the_menu(client_without_nlu: TestClient) -> None:
    response = client_without_nlu.post(
        "/webhooks/rest/webhook", json={"sender": "u1", "message": "hola necesito ayuda"}
    )
    assert response.status_code == 200
    [reply] = response.json()
    assert reply["recipient_id"] == "u1"
    assert reply["metadata"] == {"intent": None, "language": "es", "content_id": None}
    assert [b["number"] for b in reply["buttons"]] == [*(str(n) for n in range(1, 11)), "0"]
    assert reply["buttons"][0]["payload"] == "/ask_regularization"
    follow = client_without_nlu.post("/webhooks/rest/webhook", json={"sender": "u1", "message": "3"}).json()
    assert follow[0]["metadata"]["intent"] == "ask_documents"  # asks the country: documents depend on it


def test_healthz_reports_the_nlu_down_with_503(client_without_nlu: TestClient) -> None:
    response = client_without_nlu.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "nlu": "down", "store": "up", "database": "up"}


def test_web_chat_page_and_metrics_are_served(client_without_nlu: TestClient) -> None:
    page = client_without_nlu.get("/")
    assert page.status_code == 200 and '<script src="/chat.js"' in page.text
    assert "script-src 'self';" in page.headers["content-security-policy"]  # no inline script runs
    script = client_without_nlu.get("/chat.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "/webhooks/rest/webhook" in script.text
    client_without_nlu.post("/webhooks/rest/webhook", json={"sender": "m", "message": "hola"})
    metrics = client_without_nlu.get("/metrics")
    assert 'infobot_messages_in_total{channel="rest"}' in metrics.text


def test_a_crash_in_one_conversation_does_not_affect_another(
    client_without_nlu: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.service

    real_respond = bot.service.respond

    def fragile(state, inbound, *args, **kwargs):  # type: ignore[no-untyped-def]
        if inbound.sender == "crashes":
            raise ZeroDivisionError("a bug reached by one person's message")
        return real_respond(state, inbound, *args, **kwargs)

    monkeypatch.setattr(bot.service, "respond", fragile)
    broken = client_without_nlu.post("/webhooks/rest/webhook", json={"sender": "crashes", "message": "hola"})
    assert broken.status_code == 200 and "Lo siento" in broken.json()[0]["text"]
    fine = client_without_nlu.post("/webhooks/rest/webhook", json={"sender": "fine", "message": "hola"})
    assert fine.status_code == 200 and fine.json()[0]["buttons"][0]["payload"] == "/ask_regularization"


def test_the_apology_after_a_crash_is_in_the_conversations_language(
    client_without_nlu: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.service

    chose = client_without_nlu.post(
        "/webhooks/rest/webhook", json={"sender": "kreyol", "message": "/set_language:ht"}
    )
    assert chose.status_code == 200

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ZeroDivisionError("a bug reached by one person's message")

    monkeypatch.setattr(bot.service, "respond", broken)
    reply = client_without_nlu.post("/webhooks/rest/webhook", json={"sender": "kreyol", "message": "mèsi"})
    assert reply.status_code == 200 and reply.json()[0]["text"].startswith("Eskize m, gen yon pwoblèm")
