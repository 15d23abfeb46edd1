"""The hostile inputs of issue 12, each through the real app on uvicorn: answered or refused with 4xx, never
a 500 and never a hang (every request has a 20 s timeout: a hang fails the test, it is not a speed check)."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

import bot.service
from bot.nlu.language import LanguageIdentifier
from bot.scam.domains import domain_findings
from bot.scam.lexicon import default_lexicon
from tests.edge.conftest import PUBLIC_BASE_URL, REST_API_TOKEN, TELEGRAM_SECRET, Server, sign

HANG = 20.0
REST = "/webhooks/rest/webhook"
LIGATURE = "\ufdfa"
_ids = itertools.count(1)


def rest(server: Server, body: bytes | dict[str, Any], path: str = REST) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"content-type": "application/json", "authorization": f"Bearer {REST_API_TOKEN}"}
    return httpx.post(server.url + path, content=content, headers=headers, timeout=HANG)


def telegram(server: Server, body: bytes) -> httpx.Response:
    headers = {"content-type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    return httpx.post(server.url + "/webhooks/telegram", content=body, headers=headers, timeout=HANG)


def twilio(server: Server, params: dict[str, str]) -> httpx.Response:
    signature = sign(params, PUBLIC_BASE_URL + "/webhooks/twilio")
    return httpx.post(
        server.url + "/webhooks/twilio", data=params, headers={"X-Twilio-Signature": signature}, timeout=HANG
    )


def whatsapp(body: str) -> dict[str, str]:
    n = next(_ids)
    return {
        "From": f"whatsapp:+5068800{n:04d}",
        "To": "whatsapp:+14155238886",
        "Body": body,
        "MessageSid": f"SM{n:032d}",
        "NumMedia": "0",
    }


@pytest.fixture(params=["live_server", "dead_nlu_server"])
def server(request: pytest.FixtureRequest) -> Server:
    """Both paths: real Rasa with SQLite, and a dead NLU with PostgreSQL (which refuses NUL)."""
    found: Server = request.getfixturevalue(request.param)
    return found


@pytest.mark.parametrize(
    "body",
    [
        b'{"sender": "surrogate-1", "message": "hola \\ud800"}',
        b'{"sender": "surrogate-2", "message": "hola \xed\xa0\x80 ayuda"}',  # a surrogate in UTF-8
        b'{"sender": "surrogate-\\udc00-3", "message": "hola\\u0000 \\u0007"}',
    ],
)
def test_a_lone_surrogate_or_nul_is_stripped_and_answered(server: Server, body: bytes) -> None:
    response = rest(server, body)
    assert response.status_code == 200, response.text
    replies = response.json()
    assert replies and all(r["text"] for r in replies)
    assert replies[0]["recipient_id"].startswith("surrogate-")
    replies[0]["recipient_id"].encode("utf-8")  # the sender was cleaned too: this would raise


def test_a_message_of_nothing_but_invalid_characters_is_a_400(server: Server) -> None:
    response = rest(server, b'{"sender": "s", "message": "\\ud800\\u0000"}')
    assert response.status_code == 400 and "non-empty" in response.json()["error"]


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"[" * 5000, "nested"),
        (b'{"sender": "a", "message": "hola", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nested"),
        (b'{"sender": "a", "message": "hola", "n": ' + b"7" * 5000 + b"}", "number"),
        (b'{"sender": "a", "message": "hola", "n": NaN}', "NaN"),
        (b'{"sender": "a", "message": "hola", "n": 1e400}', "out of range"),
    ],
)
@pytest.mark.parametrize("path", ["/webhooks/rest/webhook", "/webhooks/rest/outbox"])
def test_deep_nesting_and_huge_numbers_are_a_400_with_the_reason(
    dead_nlu_server: Server, body: bytes, why: str, path: str
) -> None:
    response = rest(dead_nlu_server, body, path)
    assert response.status_code == 400 and why in response.json()["error"]


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"[" * 5000, "nested"),
        (b'{"update_id": ' + b"1" * 5000 + b"}", "number"),
        (b'{"update_id": 1, "message": ' + b'{"a": ' * 3000 + b"1" + b"}" * 3001, "nested"),
        (b'{"update_id": 5, "message": {"text": "bonjou \\ud800"}}', "surrogate"),
    ],
)
def test_telegram_refuses_the_same_with_a_400(dead_nlu_server: Server, body: bytes, why: str) -> None:
    response = telegram(dead_nlu_server, body)
    assert response.status_code == 400 and why in response.json()["error"]


def test_a_telegram_text_with_control_characters_is_answered_clean(dead_nlu_server: Server) -> None:
    update = {
        "update_id": 920000001,
        "message": {
            "message_id": 1,
            "date": 1795000000,
            "chat": {"id": 7301, "type": "private"},
            "text": "bonjou\x07\x1b m bezwen \x7fèd",
        },
    }
    response = telegram(dead_nlu_server, json.dumps(update).encode())
    assert response.status_code == 200, response.text
    assert dead_nlu_server.telegram_api.sent("sendMessage")


NOTE = {
    "es": ("necesito ayuda con mis papeles de trabajo en Costa Rica. ", "Su mensaje era muy largo"),
    "en": ("I need help with my work permit papers in Costa Rica please. ", "Your message was very long"),
    "fr": ("j'ai besoin d'aide pour mes papiers de travail au Costa Rica. ", "Votre message était très long"),
    "ht": ("mwen bezwen èd pou papye travay mwen nan Costa Rica tanpri. ", "Mesaj ou a te twò long"),
}


@pytest.mark.parametrize("lang", sorted(NOTE))
def test_a_twilio_body_over_the_limit_is_cut_and_answered_with_a_note(server: Server, lang: str) -> None:
    sentence, note = NOTE[lang]
    response = twilio(server, whatsapp(sentence * (5000 // len(sentence) + 1)))
    assert response.status_code == 200, response.text
    assert "<Message>" in response.text and note in response.text


def test_a_twilio_body_with_nul_reaches_sql_clean(dead_nlu_server: Server) -> None:
    """PostgreSQL refuses NUL in text: the turn is recorded because the channel removed it."""
    response = twilio(dead_nlu_server, whatsapp("hola\x00 necesito\x01 ayuda"))
    assert response.status_code == 200 and "<Message>" in response.text


def test_a_twilio_address_too_long_is_a_400(dead_nlu_server: Server) -> None:
    params = whatsapp("hola")
    params["From"] = "whatsapp:+" + "5" * 500
    response = twilio(dead_nlu_server, params)
    assert response.status_code == 400 and "From" in response.json()["error"]


def test_a_message_of_four_thousand_ligatures_is_answered(server: Server) -> None:
    response = rest(server, {"sender": "ligatures", "message": LIGATURE * 4000})
    assert response.status_code == 200 and response.json()


def test_the_scam_checks_link_pattern_still_finds_links_after_long_runs() -> None:
    policy = default_lexicon().domains
    for run in ("1" * 4000, "a." * 2000, "a-" * 2000, "x" * 4000):
        kinds = [f.kind for f in domain_findings(run + " visite citas-cbpone.online hoy", policy)]
        assert kinds == ["lookalike"], run[:4]
    assert domain_findings("1" * 4000 + " " + "a." * 2000, policy) == []
    links = domain_findings("escriba a 5-migracion.com o http://www.tramites.gob.mx/cita", policy)
    assert [f.kind for f in links] == ["lookalike"]  # the official site is not a finding


@dataclass
class Hold:
    entered: threading.Event
    release: threading.Event


@pytest.fixture
def hold(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Any, str, str], Hold]]:
    """Makes a step (owner.attribute) wait, whenever its arguments hold a marker, until released."""
    holds: list[Hold] = []

    def install(owner: Any, attribute: str, marker: str) -> Hold:
        original, found = getattr(owner, attribute), Hold(threading.Event(), threading.Event())
        holds.append(found)

        def holding(*args: Any, **kwargs: Any) -> Any:
            if marker in repr(args):
                found.entered.set()
                found.release.wait(HANG)
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, attribute, holding)
        return found

    yield install
    for found in holds:
        found.release.set()


@pytest.mark.parametrize(
    ("owner", "attribute"),
    [(LanguageIdentifier, "identify"), (bot.service, "respond")],
    ids=["language identification", "dialogue and scam check"],
)
def test_a_long_message_does_not_hold_up_other_conversations(
    dead_nlu_server: Server, hold: Callable[[Any, str, str], Hold], owner: Any, attribute: str
) -> None:
    """The heavy message is held inside the step; a short message from someone else is answered meanwhile.
    Were the step on the event loop, the short one could not be answered until the long one was released."""
    held = hold(owner, attribute, LIGATURE)
    outcome: dict[str, httpx.Response] = {}
    long_message = {"sender": "long", "message": LIGATURE * 4000}
    heavy = threading.Thread(target=lambda: outcome.setdefault("heavy", rest(dead_nlu_server, long_message)))
    heavy.start()
    assert held.entered.wait(HANG), "the long message never reached the step"
    normal = rest(dead_nlu_server, {"sender": "someone-else", "message": "hola"})
    assert normal.status_code == 200 and normal.json()
    assert "heavy" not in outcome  # still held: the short message went past it
    held.release.set()
    heavy.join(HANG)
    assert outcome["heavy"].status_code == 200
