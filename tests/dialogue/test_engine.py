"""The dialogue rules, as tables of cases in es, en, fr and ht."""

from __future__ import annotations

import pytest

from bot.dialogue.engine import respond
from bot.dialogue.events import Answered, EscalationRequested, OptedIn, OptedOut, Suppressed
from bot.dialogue.state import ConversationState
from bot.nlu.types import FALLBACK_INTENT, NluResult
from bot.vocab.topics import HUMAN_PAYLOAD, MENU_PAYLOAD
from tests.helpers.factories import TODAY, inbound, library, parse

LIB = library()


def turn(state: ConversationState, text: str, nlu: NluResult | None = None, *, stopped: bool = False):  # type: ignore[no-untyped-def]
    nlu = nlu or parse(text, FALLBACK_INTENT, state.language or "es", 0.0)
    return respond(state, inbound(text), nlu, LIB, TODAY, stopped=stopped)


@pytest.mark.parametrize(
    ("text", "lang", "welcome_word"),
    [
        ("hola", "es", "Hola"),
        ("hello", "en", "Hello"),
        ("bonjour", "fr", "Bonjour"),
        ("bonjou", "ht", "Bonjou"),
    ],
)
def test_greeting_welcomes_in_the_language_with_the_numbered_menu(
    text: str, lang: str, welcome_word: str
) -> None:
    result = turn(ConversationState(), text, parse(text, "greet", lang))
    [message] = result.messages
    assert message.language == lang and welcome_word in message.text[:8]
    assert [b.payload for b in message.buttons][:3] == [
        "/ask_regularization",
        "/ask_asylum",
        "/ask_documents",
    ]
    assert message.buttons[-1].payload == HUMAN_PAYLOAD
    assert result.state.language == lang


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("perdí mi pasaporte en costa rica", "es"),
        ("i lost my passport in costa rica", "en"),
        ("j'ai perdu mon passeport au costa rica", "fr"),
        ("m pèdi paspò m nan kosta rika", "ht"),
    ],
)
def test_topic_with_country_in_the_text_answers_the_country_variant(text: str, lang: str) -> None:
    result = turn(ConversationState(), text, parse(text, "ask_documents", lang))
    [message] = result.messages
    assert message.content_id == "ask_documents.CR"
    assert message.text.startswith(f"[{lang}] ask_documents answer for CR")
    assert result.state.country == "CR"


@pytest.mark.parametrize("lang", ["es", "en", "fr", "ht"])
def test_topic_without_country_asks_for_it_then_answers_the_pending_question(lang: str) -> None:
    first = turn(ConversationState(language=lang), "papers?", parse("papers?", "ask_regularization", lang))
    [question] = first.messages
    assert question.content_id is None and first.state.awaiting == "country"
    payloads = [b.payload for b in question.buttons]
    assert (
        payloads[0] == "/set_country:BZ"
        and "/set_country:MX" in payloads
        and payloads[-1] == "/set_country:XX"
    )
    mx_number = str(payloads.index("/set_country:MX") + 1)
    second = turn(first.state, mx_number)
    assert second.messages[0].content_id == "ask_regularization.MX"
    assert second.messages[0].language == lang
    assert second.state.country == "MX" and second.state.pending_intent is None


def test_other_country_gets_the_general_answer() -> None:
    first = turn(ConversationState(language="es"), "papeles", parse("papeles", "ask_regularization", "es"))
    other = str(len(first.messages[0].buttons))
    second = turn(first.state, other)
    assert second.messages[0].content_id == "ask_regularization"
    assert second.state.country == "XX"


def test_country_dependent_answer_is_remembered_for_the_next_question() -> None:
    state = ConversationState(language="en", country="MX")
    result = turn(state, "passport", parse("passport", "ask_documents", "en"))
    assert result.messages[0].content_id == "ask_documents.MX"


@pytest.mark.parametrize(
    ("number", "intent"), [("1", "ask_regularization"), ("5", "ask_fraud"), ("9", "ask_info_hub")]
)
def test_menu_numbers_work_without_nlu(number: str, intent: str) -> None:
    state = ConversationState(language="ht", country="HT")
    result = turn(state, number)
    assert result.messages[0].intent == intent
    assert result.messages[0].language == "ht"


def test_zero_always_means_a_person() -> None:
    result = turn(ConversationState(language="fr"), "0")
    assert [e.name for e in result.events] == ["escalation_requested"]
    assert result.messages[0].language == "fr"


def test_button_payload_works_like_its_number() -> None:
    result = turn(ConversationState(language="es", country="CR"), "/ask_documents")
    assert result.messages[0].content_id == "ask_documents.CR"


def test_out_of_range_number_shows_the_menu_again() -> None:
    for state in (ConversationState(language="en", options=["/menu"]), ConversationState(language="en")):
        result = turn(state, "42")
        assert result.messages[0].content_id is None
        assert [b.payload for b in result.messages[0].buttons][0] == "/ask_regularization"


@pytest.mark.parametrize("lang", ["es", "en", "fr", "ht"])
def test_first_fallback_clarifies_with_two_likely_topics_second_offers_a_person(lang: str) -> None:
    ranking = (("ask_work", 0.3), ("ask_regularization", 0.25), ("greet", 0.2))
    unclear = parse("mmm la cosa esa", FALLBACK_INTENT, lang, 0.3, ranking=ranking)
    first = turn(ConversationState(language=lang), "mmm la cosa esa", unclear)
    payloads = [b.payload for b in first.messages[0].buttons]
    assert payloads == ["/ask_work", "/ask_regularization", MENU_PAYLOAD]
    assert "escalation_requested" not in [e.name for e in first.events]
    second = turn(first.state, "asdf qwer", parse("asdf qwer", FALLBACK_INTENT, lang, 0.1))
    assert HUMAN_PAYLOAD in [b.payload for b in second.messages[0].buttons]
    assert EscalationRequested("repeated_fallback") in second.events
    assert second.messages[0].language == lang


def test_low_confidence_is_treated_as_not_understood() -> None:
    result = turn(
        ConversationState(language="en"), "hmm visa", parse("hmm visa", "ask_work", "en", confidence=0.2)
    )
    assert result.state.fallback_count == 1 and result.messages[0].intent == FALLBACK_INTENT


def test_an_understood_message_resets_the_fallback_count() -> None:
    state = ConversationState(language="es", fallback_count=1, country="CR")
    result = turn(state, "trabajo", parse("trabajo", "ask_work", "es"))
    assert result.state.fallback_count == 0


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("in English please", "en"),
        ("en español por favor", "es"),
        ("an kreyòl souple", "ht"),
        ("en français svp", "fr"),
    ],
)
def test_change_language_names_the_new_language(text: str, target: str) -> None:
    start = "es" if target != "es" else "en"
    result = turn(ConversationState(language=start), text, parse(text, "change_language", start))
    assert result.state.language == target
    assert result.messages[0].language == target


def test_change_language_without_a_name_asks_which() -> None:
    result = turn(
        ConversationState(language="es"), "otro idioma", parse("otro idioma", "change_language", "es")
    )
    assert [b.payload for b in result.messages[0].buttons] == [
        "/set_language:es",
        "/set_language:en",
        "/set_language:fr",
        "/set_language:ht",
    ]
    chosen = turn(result.state, "4")
    assert chosen.state.language == "ht" and chosen.messages[0].language == "ht"


@pytest.mark.parametrize("text", ["ok", "1", "si", "👍"])
def test_short_messages_keep_the_conversation_language(text: str) -> None:
    result = turn(
        ConversationState(language="ht", country="HT"), text, parse(text, "affirm", "en", lang_conf=0.6)
    )
    assert result.state.language == "ht"


def test_a_clear_full_sentence_in_another_language_switches() -> None:
    text = "i need help with my work permit please"
    result = turn(ConversationState(language="es", country="CR"), text, parse(text, "ask_work", "en"))
    assert result.state.language == "en" and result.messages[0].language == "en"


@pytest.mark.parametrize(("word", "lang"), [("STOP", "en"), ("baja", "es"), ("ARRÊT", "fr"), ("Kanpe", "ht")])
def test_opt_out_confirms_once_then_stays_silent_until_start(word: str, lang: str) -> None:
    """STOP is the contact's fact (bot/state/record.py): the dialogue reads it and says when it changes."""
    first = turn(ConversationState(language=lang), word)
    assert len(first.messages) == 1 and first.events == [OptedOut()]
    assert "START" in first.messages[0].text
    again = turn(first.state, word, stopped=True)
    assert again.messages == [] and again.events == []
    silent = turn(again.state, "hola", parse("hola", "greet", "es"), stopped=True)
    assert silent.messages == [] and silent.events == [Suppressed()]
    back = turn(silent.state, "START", stopped=True)
    assert back.events == [OptedIn()] and back.messages[0].buttons


@pytest.mark.parametrize("lang", ["es", "en", "fr", "ht"])
def test_emergency_gives_safety_guidance_first_then_escalates(lang: str) -> None:
    result = turn(ConversationState(language=lang), "help", parse("help", "emergency", lang))
    assert result.messages[0].content_id == "emergency"
    assert len(result.messages) == 3 and result.messages[1].language == lang
    assert EscalationRequested("emergency", "urgent") in result.events
    asked = result.messages[2]  # no country known: which one, for its own emergency numbers
    assert asked.buttons[0].payload == "/set_country:BZ" and result.state.awaiting == "country"


def test_nlu_down_still_answers_with_the_menu() -> None:
    down = NluResult("necesito ayuda con papeles", FALLBACK_INTENT, 0.0, "es", 0.9, (), available=False)
    result = turn(ConversationState(), "necesito ayuda con papeles", down)
    assert result.messages[0].buttons[0].payload == "/ask_regularization"
    assert result.state.fallback_count == 0 and result.events[0].name == "nlu_unavailable"


def test_a_stale_answer_still_answers_but_warns() -> None:
    import datetime as dt

    from bot.content.library import ContentLibrary
    from tests.helpers.factories import entry

    lib = ContentLibrary([entry("ask_fraud", "en", review_by=dt.date(2026, 1, 1))])
    result = respond(
        ConversationState(language="en"), inbound("scam?"), parse("scam?", "ask_fraud", "en"), lib, TODAY
    )
    assert "may have changed" in result.messages[0].text
    assert result.events[0] == Answered("ask_fraud", result.messages[0].content_id or "", stale=True)


def test_missing_content_never_falls_back_to_another_language() -> None:
    from bot.content.library import ContentLibrary
    from tests.helpers.factories import entry

    lib = ContentLibrary([entry("ask_health", "es")])
    result = respond(
        ConversationState(language="ht"), inbound("lopital"), parse("lopital", "ask_health", "ht"), lib, TODAY
    )
    assert result.messages[0].content_id is None and result.messages[0].language == "ht"
    assert result.events[0].name == "content_missing"


def test_every_answer_carries_its_source_and_the_day_it_was_checked() -> None:
    result = turn(ConversationState(language="es", country="CR"), "/ask_work")
    text = result.messages[0].text
    assert "Fuente: Official agency" in text and "Revisado el 1 de noviembre de 2026" in text
    assert "2027" not in text  # the next review date is for the content team, not for people


def test_pasted_markup_never_switches_the_language() -> None:
    text = '<script>window.x = 1</script><img src=x onerror="alert(1)">'
    result = turn(ConversationState(language="es"), text, parse(text, "out_of_scope", "en"))
    assert result.state.language == "es" and result.messages[0].language == "es"
