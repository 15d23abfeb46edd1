"""The dialogue with the shipped content and hub directory: a country's own emergency numbers, the hub list
the hub answer promises (with hours in the person's language), and localized hours after a referral."""

from __future__ import annotations

import pytest

from bot.config import PROJECT_ROOT
from bot.content.library import ContentLibrary
from bot.content.loader import load_content
from bot.dialogue.engine import respond
from bot.dialogue.events import EscalationRequested
from bot.dialogue.hours import render_hours
from bot.dialogue.state import ConversationState
from bot.nlu.types import FALLBACK_INTENT
from bot.referrals import load_directory
from tests.helpers.factories import TODAY, inbound, parse

CONTENT = ContentLibrary(load_content(PROJECT_ROOT / "content").entries)
DIRECTORY = load_directory()
LANGS = ("es", "en", "fr", "ht")
WEEKDAYS = {"es": "lun–vie", "en": "Mon–Fri", "fr": "lun.–ven.", "ht": "lendi–vandredi"}


def turn(state: ConversationState, text: str, intent: str | None = None):  # type: ignore[no-untyped-def]
    lang = state.language or "es"
    nlu = parse(text, intent, lang) if intent else parse(text, FALLBACK_INTENT, lang, 0.0)
    return respond(state, inbound(text), nlu, CONTENT, TODAY, DIRECTORY)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("country", "number"), [("GT", "110"), ("HT", "114"), ("SR", "115"), ("MX", "911")])
def test_an_emergency_in_a_known_country_gets_that_countrys_numbers_and_alerts_staff(
    lang: str, country: str, number: str
) -> None:
    result = turn(ConversationState(language=lang, country=country), "help!", "emergency")
    answer, handover = result.messages
    assert answer.content_id == f"emergency.{country}" and number in answer.text.split("\n\n")[0]
    assert handover.language == lang and result.state.awaiting is None
    [alert] = [e for e in result.events if isinstance(e, EscalationRequested)]
    assert alert == EscalationRequested("emergency", "urgent")


@pytest.mark.parametrize("lang", LANGS)
def test_without_a_country_the_numbers_come_after_the_person_picks_one_without_a_second_alert(
    lang: str,
) -> None:
    first = turn(ConversationState(language=lang), "help!", "emergency")
    general, _, question = first.messages
    assert general.content_id == "emergency" and "911" not in general.text
    guatemala = str([b.payload for b in question.buttons].index("/set_country:GT") + 1)
    second = turn(first.state, guatemala)
    [numbers] = second.messages
    assert numbers.content_id == "emergency.GT" and "110" in numbers.text and numbers.language == lang
    assert not [e for e in second.events if e.name == "escalation_requested"]
    assert second.state.country == "GT" and second.state.awaiting is None


def test_trafficking_without_a_country_also_asks_for_it() -> None:
    first = turn(ConversationState(language="fr"), "mon patron a mon passeport", "ask_trafficking")
    mexico = str([b.payload for b in first.messages[-1].buttons].index("/set_country:MX") + 1)
    [answer] = turn(first.state, mexico).messages
    assert answer.content_id == "ask_trafficking.MX" and "800 5533 000" in answer.text


@pytest.mark.parametrize("lang", LANGS)
def test_a_hub_question_gets_the_answer_then_the_countrys_hubs_with_localized_hours(lang: str) -> None:
    result = turn(ConversationState(language=lang, country="CR"), "hub?", "ask_info_hub")
    answer, listing = result.messages
    assert answer.content_id == "ask_info_hub.CR" and answer.buttons == ()
    hubs = DIRECTORY.hubs_for("CR")
    for hub in hubs:
        assert hub.name in listing.text and hub.address in listing.text and hub.phone in listing.text
    assert listing.text.index(hubs[0].name) < listing.text.index(hubs[1].name)  # the default hub first
    assert f"{WEEKDAYS[lang]} 08:00–16:00" in listing.text and "mon-fri" not in listing.text
    assert [b.payload for b in listing.buttons][0] == "/refer:any"  # a referral is one button away
    assert result.state.options[0] == "/refer:any"  # "1" refers


def test_naming_a_place_lists_the_hubs_nearest_to_it() -> None:
    result = turn(
        ConversationState(language="es", country="CR"), "un centro cerca de Paso Canoas", "ask_info_hub"
    )
    listing = result.messages[1]
    assert listing.text.startswith("Los Centros de Información más cercanos a Paso Canoas:")
    names = [h.name for h in DIRECTORY.hubs_for("CR")]
    shown = [n for n in names if n in listing.text]
    assert len(shown) == 3 and listing.text.index("Paso Canoas (sample)") < min(
        listing.text.index(n) for n in shown if "Paso Canoas" not in n
    )


def test_a_country_without_hubs_gets_the_answer_alone() -> None:
    result = turn(ConversationState(language="en", country="XX"), "hub?", "ask_info_hub")
    [answer] = result.messages
    assert answer.content_id == "ask_info_hub" and answer.buttons


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("es", "lun–vie 08:00–12:00, 13:00–16:00; sáb, dom cerrado"),
        ("en", "Mon–Fri 08:00–12:00, 13:00–16:00; Sat, Sun closed"),
        ("fr", "lun.–ven. 08:00–12:00, 13:00–16:00; sam., dim. fermé"),
        ("ht", "lendi–vandredi 08:00–12:00, 13:00–16:00; samdi, dimanch fèmen"),
    ],
)
def test_hours_are_written_in_the_persons_language(lang: str, expected: str) -> None:
    hours = (("mon-fri", "08:00-12:00, 13:00-16:00"), ("sat,sun", "closed"))
    assert render_hours(lang, hours) == expected


def test_the_referral_confirmation_shows_localized_hours() -> None:
    state = ConversationState(
        language="fr", country="PA", awaiting="consent", ref_hub="pa-david", ref_service="any"
    )
    result = turn(state, "/consent:yes")
    assert "lun.–ven. 08:00–16:00" in result.messages[0].text and "mon-fri" not in result.messages[0].text
