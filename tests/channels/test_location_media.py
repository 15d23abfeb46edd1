"""Pins, venues, voice notes, photos, documents, stickers, contacts and reactions: recorded Twilio and
Telegram payloads through the real app, the real client libraries and the local fake providers; none of
them is text, so the NLU (a recording fake here) is never asked."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from bot.app import create_app
from tests.channels.conftest import (
    Wired,
    payload,
    sign,
    wired_settings,
)
from tests.helpers.fake_provider import Recorded, serve, telegram_responder, twilio_responder

TAPACHULA_HUB = "Punto de Información OIM Tapachula"
PIN_COORDINATES = ("14.886", "-92.242", "14.88", "92.24")


@pytest.fixture
def wired(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Iterator[Wired]:
    """The real app, real twilio and python-telegram-bot clients, fake providers on loopback, and a fake
    Rasa that records every request: none of these payloads is text, so it must never be asked."""
    caplog.set_level("DEBUG")

    def rasa(record: Recorded) -> tuple[int, Any]:
        return 200, {"text": "", "intent": {"name": "nlu_fallback", "confidence": 0.0}, "intent_ranking": []}

    with (
        serve(rasa) as fake_rasa,
        serve(twilio_responder) as twilio_api,
        serve(telegram_responder) as telegram_api,
    ):
        settings = wired_settings(tmp_path, fake_rasa.url, twilio_api.url, telegram_api.url)
        with TestClient(create_app(settings)) as client:
            yield Wired(client, twilio_api, telegram_api, lambda: caplog.text)
        assert not [r for r in fake_rasa.requests if "parse" in r.path], "a non-text message reached the NLU"


def bodies(twiml: str) -> list[str]:
    return re.findall(r"<Message>(.*?)</Message>", twiml, flags=re.S)


def twilio_turn(wired: Wired, params: dict[str, str]) -> list[str]:
    response = wired.twilio(params, sign(params))
    assert response.status_code == 200
    return bodies(response.text)


def in_french(wired: Wired, params: dict[str, str]) -> None:
    """The same person chose French before sending `params` (a payload: no NLU involved)."""
    chosen = {**params, "Body": "/set_language:fr", "NumMedia": "0", "MessageSid": "SM" + "f" * 32}
    chosen = {k: v for k, v in chosen.items() if not k.startswith(("Latitude", "Longitude", "Media"))}
    twilio_turn(wired, chosen)


def telegram_sent(wired: Wired) -> list[dict[str, Any]]:
    return [r.params for r in wired.telegram_api.sent("/sendMessage")]


def telegram_in_french(wired: Wired) -> None:
    choose = payload("telegram", "location")
    choose["update_id"] -= 50
    del choose["message"]["location"]
    choose["message"]["text"] = "/set_language:fr"
    wired.telegram(choose)
    wired.telegram_api.requests.clear()


def test_a_whatsapp_pin_near_tapachula_names_the_tapachula_hub_first_in_the_persons_language(
    wired: Wired,
) -> None:
    params = payload("twilio", "whatsapp_location")
    in_french(wired, params)
    [body] = twilio_turn(wired, params)
    assert "les plus proches de la position" in body
    first_hub = body.split("\n\n")[1]
    assert first_hub.startswith(TAPACHULA_HUB) and "km" in first_hub
    assert "Orienter" in body or "Centre" in body  # the referral button, numbered, in French
    assert not any(c in wired.log_text() for c in PIN_COORDINATES)  # never logged


@pytest.mark.parametrize("name", ["location", "venue"])
def test_a_telegram_location_or_venue_gets_the_nearest_hubs_with_a_referral_button(
    wired: Wired, name: str
) -> None:
    telegram_in_french(wired)
    response = wired.telegram(payload("telegram", name))
    assert response.status_code == 200
    [sent] = telegram_sent(wired)
    text = str(sent["text"])
    assert "les plus proches" in text and text.split("\n\n")[1].startswith(TAPACHULA_HUB)
    keyboard = json.loads(str(sent["reply_markup"]))["inline_keyboard"]
    assert keyboard[0][0]["callback_data"] == "/refer_hub:mx-tapachula"
    assert not any(c in wired.log_text() for c in PIN_COORDINATES)


def test_telegram_asks_for_the_location_with_a_request_location_button(wired: Wired) -> None:
    update = payload("telegram", "location")
    del update["message"]["location"]
    update["message"]["text"] = "/ask_info_hub"
    wired.telegram(update)
    markups = [json.loads(str(s["reply_markup"])) for s in telegram_sent(wired) if s.get("reply_markup")]
    [request] = [m["keyboard"][0][0] for m in markups if "keyboard" in m]
    assert request["request_location"] is True and request["text"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("whatsapp_voice", "ne peux pas écouter"),
        ("whatsapp_media", "ne peux pas écouter"),  # a photo
        ("whatsapp_document", "ne peux pas écouter"),
        ("whatsapp_sticker", "Merci"),
        ("whatsapp_contact", "contacts partagés"),
    ],
)
def test_twilio_media_stickers_and_contacts_get_a_kind_answer_in_the_conversations_language(
    wired: Wired, name: str, expected: str
) -> None:
    params = payload("twilio", name)
    in_french(wired, params)
    body = "\n".join(twilio_turn(wired, params))
    assert expected in body and "0" in body


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("voice", "ne peux pas écouter"),
        ("photo", "ne peux pas écouter"),
        ("document", "ne peux pas écouter"),
        ("sticker", "Merci"),
        ("contact", "contacts partagés"),
    ],
)
def test_telegram_media_stickers_and_contacts_get_a_kind_answer_with_the_menu(
    wired: Wired, name: str, expected: str
) -> None:
    telegram_in_french(wired)
    wired.telegram(payload("telegram", name))
    [sent] = telegram_sent(wired)
    assert expected in str(sent["text"])
    titles = [b["text"] for row in json.loads(str(sent["reply_markup"]))["inline_keyboard"] for b in row]
    assert titles[-1].startswith("0. ")
    assert "+50255550000" not in wired.log_text()  # a shared contact's number is never logged


def test_a_telegram_reaction_is_ignored(wired: Wired) -> None:
    response = wired.telegram(payload("telegram", "reaction"))
    assert response.status_code == 200 and response.json() == {"status": "ignored"}
    assert telegram_sent(wired) == []


@pytest.mark.parametrize(
    "coordinates", [("91", "10"), ("nan", "1"), ("1e999", "2"), ("abc", "-92"), ("", "-92.2")]
)
def test_a_malformed_pin_is_not_a_location_and_never_fails(
    wired: Wired, coordinates: tuple[str, str]
) -> None:
    params = {
        **payload("twilio", "whatsapp_location"),
        "Latitude": coordinates[0],
        "Longitude": coordinates[1],
    }
    body = "\n".join(twilio_turn(wired, params))
    assert "Punto de Información" not in body and body  # answered as an empty message


@pytest.mark.parametrize("name", ["location", "venue", "voice", "photo", "document", "sticker", "contact"])
def test_nothing_but_text_ever_reaches_the_nlu(wired: Wired, name: str) -> None:
    assert wired.telegram(payload("telegram", name)).status_code == 200
    assert telegram_sent(wired)  # answered, without the NLU (the fixture checks it was never asked)
