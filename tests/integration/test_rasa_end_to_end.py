"""End to end with the real Rasa: the REST channel answers in the person's language from the content."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from bot.app import create_app
from tests.helpers.app import make_settings, say


@pytest.mark.parametrize(
    ("text", "lang"), [("hola", "es"), ("hello", "en"), ("bonjour", "fr"), ("bonjou", "ht")]
)
def test_greeting_is_answered_in_its_language(client: TestClient, text: str, lang: str) -> None:
    [reply] = say(client, f"greet-{lang}", text)
    assert reply["metadata"] == {"intent": "greet", "language": lang, "content_id": None}
    assert len(reply["buttons"]) == 11  # 9 topics, alerts (10) and a person (0)


@pytest.mark.parametrize(
    ("text", "lang", "content_id"),
    [
        ("hola, perdí mi pasaporte en costa rica que hago", "es", "ask_documents.CR"),
        ("can i go to the hospital if i dont have papers", "en", "ask_health"),
        ("je veux demander l'asile au Mexique, comment faire", "fr", "ask_asylum.MX"),
        ("mwen vle retounen lakay mwen ann Ayiti, kijan pou m fè", "ht", "ask_return"),
    ],
)
def test_a_topic_question_gets_that_topics_content_in_its_language(
    client: TestClient, text: str, lang: str, content_id: str
) -> None:
    replies = say(client, f"topic-{lang}", text)
    assert replies[0]["metadata"]["language"] == lang
    assert replies[0]["metadata"]["content_id"] == content_id
    assert replies[0]["text"]


def test_the_country_question_then_the_answer(client: TestClient) -> None:
    [question] = say(client, "country-ht", "kijan pou m jwenn paspò mwen")
    assert question["metadata"]["intent"] == "ask_documents" and question["metadata"]["content_id"] is None
    dominican = next(b["number"] for b in question["buttons"] if b["payload"] == "/set_country:DO")
    [answer] = say(client, "country-ht", dominican)
    assert answer["metadata"] == {
        "intent": "ask_documents",
        "language": "ht",
        "content_id": "ask_documents.DO",
    }


def test_healthz_is_ok_with_everything_up(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "nlu": "up", "store": "up", "database": "up"}


def wait_for(predicate: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_killing_rasa_degrades_then_the_supervisor_restarts_it(rasa_url: str, tmp_path: Path) -> None:
    """The app's own Rasa child: killed mid-conversation, /healthz says down, chat answers, it comes back."""
    del rasa_url  # the model is trained by the session fixture; this app starts its own Rasa from it
    settings = make_settings(tmp_path)
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        assert say(client, "k", "hello")[0]["metadata"]["intent"] == "greet"
        server = client.app.state.runtime.rasa_server  # type: ignore[attr-defined]
        os.killpg(server.process.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        assert wait_for(lambda: client.get("/healthz").status_code == 503, 10)
        down = client.get("/healthz").json()
        assert down["status"] == "degraded" and down["nlu"] == "down"
        print(f"nlu reported down {time.monotonic() - killed_at:.1f} s after the kill")
        [degraded] = say(client, "k", "i need help with my papers please")
        assert [b["payload"] for b in degraded["buttons"]][0] == "/ask_regularization"
        assert degraded["metadata"]["language"] == "en"
        assert wait_for(lambda: client.get("/healthz").status_code == 200, 180)
        assert server.restarts == 1
        assert say(client, "k", "thank you so much")[0]["metadata"]["intent"] == "thanks"
