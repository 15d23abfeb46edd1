"""The dialogue: a pure function from (state, message, NLU parse, content) to (state, replies, events).

No I/O happens here, so every rule is tested by tables of cases in four languages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from bot.channels.base import Button, InboundMessage, OutboundMessage
from bot.content.library import ContentLibrary
from bot.dialogue import replies
from bot.dialogue.keywords import is_opt_in, is_opt_out, mentioned_country, number_choice
from bot.dialogue.language import choose_language
from bot.dialogue.state import ConversationState, Event
from bot.dialogue.topics import (
    COUNTRY_DEPENDENT,
    HUMAN_PAYLOAD,
    MENU_PAYLOAD,
    TOPIC_INTENTS,
    main_menu_payloads,
)
from bot.i18n import N_, translate
from bot.nlu.types import FALLBACK_INTENT, NluResult
from bot.scam import assess, mask_personal_data, render_assessment

REPORT_PAYLOAD = "/report_scam"
CONFIDENCE_THRESHOLD = 0.45
"""Below this the intent is treated as not understood (the Rasa FallbackClassifier applies its own too)."""
SMALL_TALK = {
    "goodbye": N_("Take care. You can write to me at any time."),
    "thanks": N_("You are welcome. Is there anything else I can help with?"),
    "bot_challenge": N_("I am infobot, an automatic assistant. Reply 0 at any time to talk to a person."),
    "affirm": N_("Good. How can I help you? Choose a topic:"),
    "deny": N_("All right. If you need anything, choose a topic:"),
    "out_of_scope": N_("I can only help with information for migrants. This is what I can do:"),
}


@dataclass
class Turn:
    state: ConversationState
    messages: list[OutboundMessage] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


def respond(
    state: ConversationState,
    inbound: InboundMessage,
    parse: NluResult,
    content: ContentLibrary,
    today: dt.date,
) -> Turn:
    """Decide the replies to one message."""
    turn = Turn(
        replace(
            state, options=list(state.options), last_signals=list(state.last_signals), turns=state.turns + 1
        )
    )
    st, to = turn.state, inbound.sender
    if is_opt_out(inbound.text):
        if not st.opted_out:
            st.opted_out = True
            lang = st.language or parse.language
            turn.messages.append(
                replies.say(
                    to,
                    lang,
                    translate(lang, "You will not receive more messages from us. Write START to talk again."),
                )
            )
            turn.events.append(Event("opted_out"))
        return turn
    if is_opt_in(inbound.text) and not inbound.text.strip().startswith("/"):
        st.opted_out = False
        turn.events.append(Event("opted_in"))
        st.language = st.language or parse.language
        return _finish(turn, [replies.welcome(to, st.language)])
    if st.opted_out:
        turn.events.append(Event("suppressed", {"reason": "opted_out"}))
        return turn
    if st.handed_over:
        turn.events.append(Event("for_staff", {"text": inbound.text}))
        return turn
    if not inbound.text.strip():
        lang = st.language or parse.language
        lead = translate(lang, "I can only read text. Write your question, or 0 to talk to a person.")
        return _finish(turn, [replies.say(to, lang, lead)])
    st.language = choose_language(st.language, parse)
    payload = _choice_payload(st, inbound.text)
    if payload is not None:
        return _finish(turn, _on_payload(turn, to, payload, content, today))
    if st.awaiting == "country" and (cc := mentioned_country(inbound.text)):
        return _finish(turn, _on_payload(turn, to, f"/set_country:{cc}", content, today))
    if cc := mentioned_country(inbound.text):
        st.country = cc
    if not parse.available:
        turn.events.append(Event("nlu_unavailable"))
        lead = translate(
            st.language, "I cannot understand messages right now, sorry. Please choose a topic by number:"
        )
        return _finish(turn, [replies.menu(to, st.language, lead)])
    intent = parse.intent if parse.confidence >= CONFIDENCE_THRESHOLD else FALLBACK_INTENT
    if intent == FALLBACK_INTENT:
        return _finish(turn, _on_fallback(turn, to, parse))
    return _finish(turn, _on_intent(turn, to, intent, content, today, inbound.text))


def _finish(turn: Turn, messages: list[OutboundMessage]) -> Turn:
    """Remember the numbered choices of the last message so '1', '2' refer to them."""
    turn.messages.extend(messages)
    last = messages[-1] if messages else None
    turn.state.options = [b.payload for b in last.buttons] if last else []
    return turn


def _choice_payload(st: ConversationState, text: str) -> str | None:
    """A button payload, or a number mapped to the choices last shown (0 is always a person)."""
    stripped = text.strip()
    if stripped.startswith("/"):
        return stripped
    number = number_choice(stripped)
    if number is None:
        return None
    if number == 0:
        return HUMAN_PAYLOAD
    shown = [p for p in st.options if p != HUMAN_PAYLOAD] or main_menu_payloads()[:-1]
    if number <= len(shown):
        return shown[number - 1]
    return MENU_PAYLOAD


def _on_payload(
    turn: Turn, to: str, payload: str, content: ContentLibrary, today: dt.date
) -> list[OutboundMessage]:
    st = turn.state
    lang = st.language or "es"
    name, _, value = payload.lstrip("/").partition(":")
    if name == "set_country" and value:
        st.country, st.awaiting = value.upper(), None
        pending, st.pending_intent = st.pending_intent, None
        turn.events.append(Event("country_set", {"country": st.country}))
        if pending:
            return _on_intent(turn, to, pending, content, today)
        return [replies.menu(to, lang, translate(lang, "Thank you. What would you like to know?"))]
    if name == REPORT_PAYLOAD.lstrip("/") and st.last_offer:
        report = {"text": st.last_offer, "verdict": st.last_verdict, "signals": st.last_signals}
        turn.events.append(Event("scam_reported", report))
        st.last_offer = None
        thanks = translate(
            lang, "Thank you. Your report helps protect other people. Personal data was removed."
        )
        return [replies.menu(to, lang, thanks)]
    if name == "start":  # Telegram's /start: offer the four languages first
        st.awaiting = "language"
        return [replies.ask_language(to, lang)]
    if name == "set_language" and value in replies.LANGUAGE_LABELS:
        st.language, st.awaiting = value, None
        return [replies.menu(to, value, translate(value, "Fine, I will write in English. Choose a topic:"))]
    if (
        name in TOPIC_INTENTS
        or name in SMALL_TALK
        or name in {"ask_human", "emergency", "greet", "change_language"}
    ):
        return _on_intent(turn, to, name, content, today)
    return [replies.menu(to, lang, translate(lang, "Please choose a topic by number:"))]


def _on_fallback(turn: Turn, to: str, parse: NluResult) -> list[OutboundMessage]:
    st = turn.state
    st.fallback_count += 1
    turn.events.append(Event("fallback", {"language": st.language, "count": st.fallback_count}))
    if st.fallback_count >= 2:
        st.fallback_count = 0
        turn.events.append(Event("escalation_requested", {"reason": "repeated_fallback"}))
        return [replies.offer_person(to, st.language or "es")]
    candidates = parse.top_intents(2, set(TOPIC_INTENTS))
    return [replies.clarify(to, st.language or "es", candidates)]


def _scam_check(turn: Turn, to: str, text: str, lang: str) -> list[OutboundMessage]:
    """An offer described in the message is assessed; a bare question gets the general fraud advice."""
    assessment = assess(text, lang, turn.state.country) if text else None
    if assessment is None or not assessment.signals:
        return []
    turn.state.last_offer = mask_personal_data(text)
    turn.state.last_verdict, turn.state.last_signals = assessment.verdict, list(assessment.signals)
    turn.events.append(Event("scam_assessed", {"verdict": assessment.verdict, "signals": assessment.signals}))
    buttons = (
        Button(translate(lang, "Report this offer"), REPORT_PAYLOAD),
        replies.topic_button(lang, "ask_human"),
        replies.menu_button(lang),
    )
    return [replies.say(to, lang, render_assessment(assessment, lang), buttons, "ask_fraud")]


def _on_intent(
    turn: Turn, to: str, intent: str, content: ContentLibrary, today: dt.date, text: str = ""
) -> list[OutboundMessage]:
    st = turn.state
    lang = st.language or "es"
    st.fallback_count = 0
    if intent == "greet":
        return [replies.welcome(to, lang)]
    if intent == "change_language":
        st.awaiting = "language"
        return [replies.ask_language(to, lang)]
    if intent in SMALL_TALK:
        return [replies.menu(to, lang, translate(lang, SMALL_TALK[intent]), intent)]
    if intent == "ask_human":
        turn.events.append(Event("escalation_requested", {"reason": "asked"}))
        return [replies.handover(to, lang)]
    if intent == "emergency":
        turn.events.append(Event("escalation_requested", {"reason": "emergency", "priority": "urgent"}))
        return _content_answer(turn, to, intent, content, today) + [replies.handover(to, lang, intent)]
    if intent == "ask_fraud" and (checked := _scam_check(turn, to, text, lang)):
        return checked
    if intent in COUNTRY_DEPENDENT and st.country is None:
        st.pending_intent, st.awaiting = intent, "country"
        return [replies.ask_country(to, lang, intent)]
    return _content_answer(turn, to, intent, content, today)


def _content_answer(
    turn: Turn, to: str, intent: str, content: ContentLibrary, today: dt.date
) -> list[OutboundMessage]:
    st = turn.state
    lang = st.language or "es"
    entry = content.lookup(intent, lang, st.country)
    if entry is None:
        turn.events.append(Event("content_missing", {"intent": intent, "language": lang}))
        lead = translate(
            lang, "Sorry, I do not have this information yet. Reply 0 to talk to a person, or choose a topic:"
        )
        return [replies.menu(to, lang, lead, intent)]
    turn.events.append(
        Event("answered", {"intent": intent, "content_id": entry.content_id, "stale": entry.is_stale(today)})
    )
    return [replies.answer(to, lang, entry, today)]
