"""An emergency the safety rules recognise (NLU down) is escalated even when the bot was waiting for an
answer to its own question: a country, a place for a referral, a yes/no to consent."""

from __future__ import annotations

import pytest

from bot.dialogue.engine import respond
from bot.dialogue.events import EscalationRequested
from bot.dialogue.state import ConversationState
from bot.nlu.client import _without_nlu
from tests.helpers.factories import TODAY, inbound, library

LIB = library()
MESSAGES = {
    "es": "me kieren matar en tapachula",
    "en": "they want to kill me here in mexico",
    "fr": "on veut me tuer au mexique",
    "ht": "yo vle touye m nan meksik",
}


@pytest.mark.parametrize("awaiting", ["country", "place", "consent"])
@pytest.mark.parametrize(("lang", "text"), sorted(MESSAGES.items()))
def test_an_emergency_wins_over_the_answer_the_bot_was_waiting_for(
    awaiting: str, lang: str, text: str
) -> None:
    state = ConversationState(language=lang, awaiting=awaiting, ref_service="any", pending_intent="ask_work")
    parse = _without_nlu(text, lang, 0.99)
    assert not parse.available and parse.intent == "emergency"
    turn = respond(state, inbound(text), parse, LIB, TODAY)
    escalations = [e for e in turn.events if isinstance(e, EscalationRequested)]
    assert escalations == [EscalationRequested("emergency", "urgent")]
    assert not any(e.name in ("country_set", "referral_consented") for e in turn.events)


def test_an_ordinary_answer_to_the_question_still_counts_with_the_nlu_down() -> None:
    state = ConversationState(language="es", awaiting="country", pending_intent="ask_work")
    turn = respond(state, inbound("mexico"), _without_nlu("mexico", "es", 0.99), LIB, TODAY)
    assert [e.name for e in turn.events][:1] == ["country_set"] and turn.state.country == "MX"
