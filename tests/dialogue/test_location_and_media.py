"""Pins and non-text messages in the dialogue, with the shipped hub directory, in four languages: the
nearest hubs with distances, the country from the pin, a referral to the hub, kind answers to media."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from bot.config import PROJECT_ROOT
from bot.content.library import ContentLibrary
from bot.content.loader import load_content
from bot.dialogue.engine import Turn, respond
from bot.dialogue.events import AttachmentForStaff, CountrySet
from bot.dialogue.location import SHARE_LOCATION_PAYLOAD
from bot.dialogue.state import ConversationState
from bot.nlu.types import FALLBACK_INTENT, NluResult
from bot.referrals import load_directory
from bot.referrals.geo import country_at
from bot.vocab.messages import Attachment, InboundMessage, Location
from tests.helpers.factories import TODAY, parse

CONTENT = ContentLibrary(load_content(PROJECT_ROOT / "content").entries)
DIRECTORY = load_directory()
LANGS = ("es", "en", "fr", "ht")
NEAR_TAPACHULA = Location(14.8860, -92.2420)
"""About 2.6 km south-east of Tapachula's centre (the hub's coordinates)."""
READS_TEXT = {
    "es": "solo puedo leer",
    "en": "I can only read",
    "fr": "lire seulement",
    "ht": "li tèks sèlman",
}
NEAREST = {
    "es": "más cercanos a la ubicación",
    "en": "nearest to the location",
    "fr": "plus proches de la position",
    "ht": "ki pi pre kote",
}


def sent(
    state: ConversationState,
    pin: Location | None = None,
    attachment: Attachment | None = None,
    channel: str = "whatsapp",
    text: str = "",
) -> Turn:
    message = InboundMessage(channel, "+5215555550000", text, location=pin, attachment=attachment)
    nlu = NluResult(text, FALLBACK_INTENT, 0.0, state.language or "es", 1.0)
    return respond(state, message, nlu, CONTENT, TODAY, DIRECTORY)


@pytest.mark.parametrize("lang", LANGS)
def test_a_pin_near_tapachula_names_the_tapachula_hub_first_and_sets_the_country(lang: str) -> None:
    result = sent(ConversationState(language=lang), NEAR_TAPACHULA)
    [listing] = result.messages
    tapachula = DIRECTORY.get("mx-tapachula")
    assert tapachula is not None
    assert listing.language == lang and NEAREST[lang] in listing.text
    first_hub = listing.text.split("\n\n")[1]
    assert first_hub.startswith(tapachula.name) and tapachula.phone in first_hub
    assert (" 2.6 km" if lang == "en" else " 2,6 km") in first_hub
    assert listing.text.count("Punto de Información") <= 3  # at most three hubs
    assert result.state.country == "MX" and result.state.options[0] == "/refer_hub:mx-tapachula"
    assert CountrySet("MX", source="location") in result.events


def test_the_pin_is_not_kept_anywhere_in_state_events_or_transcript() -> None:
    result = sent(ConversationState(language="en"), NEAR_TAPACHULA)
    kept = json.dumps([result.state.to_dict(), [(e.name, asdict(e)) for e in result.events]])
    assert "14.88" not in kept and "92.24" not in kept
    [listing] = result.messages
    assert listing.transcript is not None and " km" not in listing.transcript
    assert "Tapachula" in listing.transcript


def test_the_referral_button_asks_consent_for_that_hub_and_keeps_only_the_hub() -> None:
    shown = sent(ConversationState(language="es"), NEAR_TAPACHULA)
    message = InboundMessage("whatsapp", "+5215555550000", "1")
    nlu = NluResult("1", FALLBACK_INTENT, 0.0, "es", 1.0)
    result = respond(shown.state, message, nlu, CONTENT, TODAY, DIRECTORY)
    [consent] = result.messages
    assert "Tapachula" in consent.text and result.state.awaiting == "consent"
    assert result.state.ref_hub == "mx-tapachula" and result.state.ref_service == "any"


def test_a_pin_while_a_referral_asks_for_the_place_chooses_the_nearest_hub_offering_the_service() -> None:
    state = ConversationState(language="en", country="MX", awaiting="place", ref_service="asylum")
    result = sent(state, NEAR_TAPACHULA)
    assert result.state.ref_hub == "mx-tapachula" and result.state.awaiting == "consent"


def test_a_pin_at_sea_or_abroad_sets_no_country_but_still_lists_the_nearest_hubs() -> None:
    result = sent(ConversationState(language="fr"), Location(15.0, -94.0))
    assert result.state.country is None and "km" in result.messages[0].text


@pytest.mark.parametrize(
    ("lat", "lon", "country"),
    [
        (14.9039, -92.2575, "MX"),  # Tapachula
        (14.6349, -90.5069, "GT"),  # Guatemala City
        (18.5392, -72.3350, "HT"),  # Port-au-Prince
        (12.0561, -61.7488, "GD"),  # St. George's
        (21.1350, -86.7430, "MX"),  # a beach in Cancún: the sea beside it does not count against it
        (14.6800, -92.1450, None),  # Tecún Umán / Ciudad Hidalgo: on the border river, not clearly either
        (15.0000, -94.0000, None),  # the Pacific
        (12.1364, -86.2514, None),  # Managua: not one of our countries
    ],
)
def test_the_country_of_a_pin(lat: float, lon: float, country: str | None) -> None:
    assert country_at(lat, lon) == country


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", ["voice", "image", "document", "other"])
def test_media_get_a_kind_answer_with_the_menu_and_a_person(lang: str, kind: str) -> None:
    result = sent(ConversationState(language=lang), attachment=Attachment(kind, ref="ref"))
    [answer] = result.messages
    assert READS_TEXT[lang] in answer.text and " 0 " in answer.text and answer.language == lang
    assert answer.buttons[-1].payload == "/ask_human"


@pytest.mark.parametrize("kind", ["sticker", "contact"])
def test_stickers_and_contacts_are_answered_with_the_menu(kind: str) -> None:
    [answer] = sent(ConversationState(language="ht"), attachment=Attachment(kind)).messages
    assert answer.language == "ht" and answer.buttons[-1].payload == "/ask_human"


def test_a_reaction_gets_no_answer_and_keeps_the_choices_shown() -> None:
    state = ConversationState(language="es", options=["/ask_asylum", "/menu"])
    result = sent(state, attachment=Attachment("reaction"))
    assert result.messages == [] and result.state.options == ["/ask_asylum", "/menu"]


def test_a_caption_is_read_as_text() -> None:
    message = InboundMessage("telegram", "7001", "asilo", attachment=Attachment("image", ref="f"))
    result = respond(
        ConversationState(language="es"), message, parse("asilo", "ask_asylum", "es"), CONTENT, TODAY
    )
    assert result.messages[0].intent == "ask_asylum"


def test_a_voice_note_in_a_held_conversation_goes_to_staff_and_the_bot_stays_quiet() -> None:
    voice = Attachment("voice", "audio/ogg", "https://api.twilio.com/x/Media/ME1")
    result = sent(ConversationState(language="es", handed_over=True), attachment=voice)
    assert result.messages == []
    assert AttachmentForStaff("voice", "audio/ogg", str(voice.ref)) in result.events


@pytest.mark.parametrize(("channel", "button"), [("telegram", True), ("whatsapp", False), ("sms", False)])
def test_the_hub_option_asks_for_a_pin_where_the_channel_can_send_one(channel: str, button: bool) -> None:
    message = InboundMessage(channel, "7001", "/ask_info_hub")
    state = ConversationState(language="en", country="MX")
    result = respond(state, message, parse("/ask_info_hub", FALLBACK_INTENT, "en"), CONTENT, TODAY, DIRECTORY)
    payloads = [b.payload for m in result.messages for b in m.buttons]
    assert (SHARE_LOCATION_PAYLOAD in payloads) is button
    assert any("Location" in m.text for m in result.messages) is (channel == "whatsapp")
    assert result.state.options[0] == "/refer:any"  # the hub list stays last: "1" still refers
    if channel != "sms":
        typed = InboundMessage(channel, "7001", "Tapachula")
        again = respond(
            result.state, typed, parse("Tapachula", FALLBACK_INTENT, "en", 0.0), CONTENT, TODAY, DIRECTORY
        )
        [listing] = again.messages
        assert listing.text.split("\n\n")[1].startswith("Punto de Información OIM Tapachula")


def test_the_hub_option_without_a_country_asks_for_a_pin_then_the_country() -> None:
    message = InboundMessage("telegram", "7001", "/ask_info_hub")
    result = respond(
        ConversationState(language="es"), message, parse("x", FALLBACK_INTENT, "es"), CONTENT, TODAY
    )
    prompt, question = result.messages
    assert prompt.buttons[0].payload == SHARE_LOCATION_PAYLOAD and result.state.awaiting == "country"
    pinned = sent(result.state, NEAR_TAPACHULA, channel="telegram")
    assert pinned.state.country == "MX" and pinned.state.awaiting is None
