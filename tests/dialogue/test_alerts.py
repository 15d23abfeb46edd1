"""Subscribing to alerts in conversation, in es, en, fr and ht: keyword → country → topics → consent
(with its text version) → recorded; MY ALERTS shows and stops them; STOP ends them with everything else."""

from __future__ import annotations

import pytest

from bot.dialogue.alerts import CONSENT_VERSION
from bot.dialogue.engine import respond
from bot.dialogue.events import AlertsSubscribed
from bot.dialogue.state import ConversationState
from bot.nlu.types import FALLBACK_INTENT
from bot.vocab.messages import InboundMessage
from tests.helpers.factories import TODAY, library, parse

LIB = library()
CASES = [  # (language, keyword, "my alerts", words the consent text must contain)
    ("es", "ALERTAS", "mis alertas", ("Escriba STOP", "Costa Rica", "Alertas de estafas")),
    ("en", "ALERTS", "MY ALERTS", ("Write STOP", "Costa Rica", "Scam alerts")),
    ("fr", "ALERTES", "mes alertes", ("Écrivez STOP", "Costa Rica", "Alertes aux arnaques")),
    ("ht", "ALÈT", "alèt mwen", ("Ekri STOP", "Kosta", "Alèt sou eskwokri")),
]


def say(state: ConversationState, text: str, lang: str, channel: str = "whatsapp"):  # type: ignore[no-untyped-def]
    message = InboundMessage(channel=channel, sender="+50688887777", text=text, message_id="m")
    return respond(state, message, parse(text, FALLBACK_INTENT, lang, 0.0), LIB, TODAY)


@pytest.mark.parametrize(("lang", "keyword", "mine", "words"), CASES)
def test_subscribing_asks_country_and_topics_states_how_to_stop_and_records_consent(
    lang: str, keyword: str, mine: str, words: tuple[str, ...]
) -> None:
    state = ConversationState(language=lang)
    asked = say(state, keyword, lang)
    assert asked.state.awaiting == "alerts_country" and asked.messages[0].language == lang
    assert asked.messages[0].buttons[1].payload == "/alerts_country:CR"
    topics = say(asked.state, "2", lang)  # Costa Rica, by number
    assert topics.state.awaiting == "alerts_topics" and len(topics.messages[0].buttons) == 6
    consent = say(topics.state, "1 5", lang)  # regularization and fraud
    [question] = consent.messages
    assert all(word in question.text for word in words), question.text
    assert "WhatsApp" in question.text and not consent.events
    done = say(consent.state, "1", lang)  # "Yes, I agree"
    assert done.events == [AlertsSubscribed("CR", ("regularization", "fraud"), lang, CONSENT_VERSION)]
    shown = say(done.state, mine, lang)
    assert words[2] in shown.messages[0].text and not shown.events
    stopped = say(shown.state, "2", lang)  # "Stop my alerts"
    assert [e.name for e in stopped.events] == ["alerts_ended"] and stopped.state.alerts == {}
    assert say(stopped.state, mine, lang).messages[0].text != shown.messages[0].text


@pytest.mark.parametrize(("lang", "keyword", "mine", "words"), CASES)
def test_declining_records_nothing_and_stop_ends_alerts_with_everything(
    lang: str, keyword: str, mine: str, words: tuple[str, ...]
) -> None:
    state = ConversationState(language=lang)
    consent = say(say(say(state, keyword, lang).state, "/alerts_country:CR", lang).state, "6", lang)
    assert consent.state.alerts_draft["topics"] == ["regularization", "documents", "asylum", "work", "fraud"]
    declined = say(consent.state, "/alerts_consent:no", lang)
    assert not declined.events and declined.state.alerts == {} and declined.state.awaiting is None
    subscribed = say(say(say(say(state, keyword, lang).state, "2", lang).state, "5", lang).state, "1", lang)
    assert subscribed.state.alerts == {"country": "CR", "topics": ["fraud"]}
    stop = say(subscribed.state, "STOP", lang)
    assert [e.name for e in stop.events] == ["opted_out"] and stop.state.alerts == {}


def test_alerts_need_a_channel_that_can_be_written_to_later_and_other_questions_still_work() -> None:
    web = say(ConversationState(language="en"), "alerts", "en", channel="rest")
    assert "WhatsApp, SMS and Telegram" in web.messages[0].text and web.state.awaiting is None
    asked = say(ConversationState(language="es"), "alertas", "es")
    elsewhere = say(asked.state, "hola, una pregunta", "es")  # not a country: the engine answers it
    assert elsewhere.state.awaiting is None and not any(e.name.startswith("alerts") for e in elsewhere.events)
    bad_topics = say(say(asked.state, "2", "es").state, "9 12", "es")
    assert bad_topics.state.awaiting != "alerts_consent"


@pytest.mark.parametrize(
    ("lang", "label"),
    [
        ("es", "Recibir alertas"),
        ("en", "Receive alerts"),
        ("fr", "Recevoir des alertes"),
        ("ht", "Resevwa alèt"),
    ],
)
def test_the_main_menu_offers_alerts_as_choice_10(lang: str, label: str) -> None:
    menu = say(ConversationState(language=lang), "menu", lang)
    [shown] = menu.messages
    assert shown.buttons[9].title == label and shown.buttons[10].payload == "/ask_human"  # 10, then 0
    asked = say(menu.state, "10", lang)
    assert asked.state.awaiting == "alerts_country" and asked.messages[0].language == lang
    tapped = say(menu.state, "/alerts", lang)  # a tapped button or list row sends the payload
    assert tapped.state.awaiting == "alerts_country"
