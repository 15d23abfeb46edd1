"""The dialogue: a function from (state, message, NLU parse, content) to (state, replies, events).

It does no I/O of its own, but it calls what comes in as objects — the content library, the hub
directory — and the scam check (pure, CPU only); none of them is written, so every rule is tested by
tables of cases in four languages. Transport facts (address, our number, the 24-hour window, STOP) live
on the contact (bot/state/record.py), not here: the dialogue only reads whether the person said STOP.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from bot.content.library import ContentLibrary
from bot.dialogue import alerts, location, media, referral, replies
from bot.dialogue.events import (
    Answered,
    ContentMissing,
    CountrySet,
    DialogueEvent,
    ErasureRequested,
    EscalationRequested,
    Fallback,
    ForStaff,
    NluUnavailable,
    OptedIn,
    OptedOut,
    ScamAssessed,
    ScamReported,
    Suppressed,
)
from bot.dialogue.hours import office_hours
from bot.dialogue.hub_list import hub_list
from bot.dialogue.keywords import is_erasure_request, is_opt_in, is_opt_out, mentioned_country, number_choice
from bot.dialogue.language import choose_language
from bot.dialogue.state import ConversationState
from bot.i18n import N_, translate
from bot.nlu.types import FALLBACK_INTENT, NluResult
from bot.referrals import Directory
from bot.scam import assess, mask_personal_data, render_assessment
from bot.vocab.messages import Button, InboundMessage, OutboundMessage
from bot.vocab.topics import (
    COUNTRY_DEPENDENT,
    HUMAN_PAYLOAD,
    MENU_PAYLOAD,
    TOPIC_INTENTS,
    main_menu_payloads,
)

REPORT_PAYLOAD = "/report_scam"
CONSENT_CONFIDENCE = 0.45
"""A yes/no read from free text counts as consent only this sure; otherwise the question is asked again.
Other intents are thresholded by the NLU's fallback classifier (intents/config.yml), not here."""
CONFIDENCE_FLOOR = 0.25
"""Below this nothing counts as understood, even from a model trained without that fallback classifier."""
SMALL_TALK = {
    "goodbye": N_("Take care. You can write to me at any time."),
    "thanks": N_("You are welcome. Is there anything else I can help with?"),
    "bot_challenge": N_("I am infobot, an automatic assistant. Reply 0 at any time to talk to a person."),
    "affirm": N_("Good. How can I help you? Choose a topic:"),
    "deny": N_("All right. If you need anything, choose a topic:"),
    "out_of_scope": N_("I can only help with information for migrants. This is what I can do:"),
}
ESCALATING = {"ask_human": "asked", "emergency": "emergency", "ask_trafficking": "trafficking"}
SAFETY_NUMBERS = "safety_numbers"
"""Payload name: the country's emergency numbers, asked for after an escalation without a country."""
EMPTY_DIRECTORY = Directory(hubs=())


@dataclass
class Turn:
    state: ConversationState
    messages: list[OutboundMessage] = field(default_factory=list)
    events: list[DialogueEvent] = field(default_factory=list)


@dataclass
class _Ctx:
    """Everything one decision reads; only `turn` is written."""

    turn: Turn
    inbound: InboundMessage
    content: ContentLibrary
    today: dt.date
    directory: Directory
    stopped: bool
    """The person said STOP (kept on the contact, not here): the bot stays silent until START."""

    @property
    def st(self) -> ConversationState:
        return self.turn.state

    @property
    def to(self) -> str:
        return self.inbound.sender

    @property
    def lang(self) -> str:
        return self.turn.state.language or "es"


def respond(
    state: ConversationState,
    inbound: InboundMessage,
    parse: NluResult,
    content: ContentLibrary,
    today: dt.date,
    directory: Directory = EMPTY_DIRECTORY,
    *,
    stopped: bool = False,
) -> Turn:
    """Decide the replies to one message; `stopped`: the person opted out (the contact's fact)."""
    copied = replace(state, options=list(state.options), last_signals=list(state.last_signals))
    ctx = _Ctx(Turn(copied), inbound, content, today, directory, stopped)
    ctx.st.turns += 1
    st, text = ctx.st, inbound.text
    if is_opt_out(text):
        return _opt_out(ctx, parse)
    if is_opt_in(text) and not text.strip().startswith("/"):
        ctx.stopped = False
        ctx.turn.events.append(OptedIn())
        st.language = st.language or parse.language
        return _finish(ctx, [replies.welcome(ctx.to, ctx.lang)])
    if is_erasure_request(text):
        lang = st.language or parse.language
        ctx.turn.events.append(ErasureRequested())
        return _finish(ctx, [erasure_reply(ctx.to, lang, done=False)])
    if ctx.stopped or st.handed_over:
        ctx.turn.events.append(Suppressed() if ctx.stopped else ForStaff())
        if st.handed_over and inbound.attachment and (shown := media.for_staff(inbound.attachment)):
            ctx.turn.events.append(shown)
        return ctx.turn
    if inbound.location is not None or (inbound.attachment is not None and not text.strip()):
        return _not_text(ctx, parse)
    if not text.strip():
        lang = st.language or parse.language
        lead = translate(lang, "I can only read text. Write your question, or 0 to talk to a person.")
        return _finish(ctx, [replies.say(ctx.to, lang, lead)])
    st.language = choose_language(st.language, parse)
    if (subscribing := alerts.respond(st, inbound, ctx.turn.events)) is not None:
        return _finish(ctx, subscribing)
    payload = _choice_payload(st, text)
    if payload is None and parse.intent != "emergency":  # "me quieren matar en Tapachula" is not a place
        payload = _awaited_answer(st, parse)
    if payload is not None:
        return _finish(ctx, _on_payload(ctx, payload))
    if st.awaiting == "place" and parse.intent != "emergency":
        return _finish(ctx, referral.choose_hub(st, ctx.to, ctx.lang, text, directory))
    if st.awaiting == "hub_place" and parse.intent != "emergency":  # a city typed after the pin prompt
        st.awaiting = None
        if listing := location.typed_place(st, ctx.to, ctx.lang, text, directory):
            return _finish(ctx, listing)
    st.awaiting = None if st.awaiting in ("sex", "age") else st.awaiting
    if cc := mentioned_country(text):
        st.country = cc
    if not parse.available:
        ctx.turn.events.append(NluUnavailable())
        if parse.intent not in ESCALATING:  # the safety rules (bot/nlu/safety.py) still see emergencies
            lead = translate(
                ctx.lang, "I cannot understand messages right now, sorry. Please choose a topic by number:"
            )
            return _finish(ctx, [replies.menu(ctx.to, ctx.lang, lead)])
    if parse.intent == FALLBACK_INTENT or parse.confidence < CONFIDENCE_FLOOR:
        return _finish(ctx, _on_fallback(ctx, parse))
    return _finish(ctx, _on_intent(ctx, parse.intent, text))


def _not_text(ctx: _Ctx, parse: NluResult) -> Turn:
    """A pin gets the nearest hubs; media, stickers and contacts a kind answer; a reaction nothing."""
    ctx.st.language = ctx.st.language or parse.language
    if ctx.inbound.location is not None:
        return _finish(
            ctx,
            location.nearest(ctx.st, ctx.to, ctx.lang, ctx.inbound.location, ctx.directory, ctx.turn.events),
        )
    assert ctx.inbound.attachment is not None
    answer = media.reply(ctx.to, ctx.lang, ctx.inbound.attachment, ctx.turn.events)
    if shown := media.for_staff(ctx.inbound.attachment):  # kept if an escalation waits (bot/records.py)
        ctx.turn.events.append(shown)
    return _finish(ctx, answer) if answer else ctx.turn


def erasure_reply(to: str, lang: str, *, done: bool) -> OutboundMessage:
    """Never "erased" before it is: the service says done only once SQL and the store have forgotten."""
    if done:
        text = translate(
            lang, "Your conversation data has been erased. Referral statistics keep no name or number."
        )
    else:
        text = translate(
            lang,
            "Your request to erase your data is recorded. It will be done as soon as possible; "
            "you do not need to ask again. Referral statistics keep no name or number.",
        )
    return replies.say(to, lang, text)


def escalation_not_passed(to: str, lang: str) -> OutboundMessage:
    """Instead of "a person will answer" when the request could not be written anywhere."""
    text = translate(
        lang,
        "Sorry, I could not pass your message to our team right now. Please write again in a few minutes.",
    )
    return replies.say(to, lang, text)


def _opt_out(ctx: _Ctx, parse: NluResult) -> Turn:
    if not ctx.stopped:
        ctx.stopped, ctx.st.alerts = True, {}  # STOP ends every subscription (bot/durable.py)
        lang = ctx.st.language or parse.language
        text = translate(lang, "You will not receive more messages from us. Write START to talk again.")
        ctx.turn.messages.append(replies.say(ctx.to, lang, text))
        ctx.turn.events.append(OptedOut())
    return ctx.turn


def _finish(ctx: _Ctx, messages: list[OutboundMessage]) -> Turn:
    """Remember the numbered choices of the last message so '1', '2' refer to them."""
    ctx.turn.messages.extend(messages)
    last = messages[-1] if messages else None
    ctx.st.options = [b.payload for b in last.buttons] if last else []
    return ctx.turn


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


def _awaited_answer(st: ConversationState, parse: NluResult) -> str | None:
    """Free text answering the question the bot asked: a country name, or yes/no to consent."""
    if st.awaiting == "country" and (cc := mentioned_country(parse.text)):
        return f"/set_country:{cc}"
    if (
        st.awaiting == "consent"
        and parse.intent in ("affirm", "deny")
        and parse.confidence >= CONSENT_CONFIDENCE
    ):
        return "/consent:yes" if parse.intent == "affirm" else "/consent:no"
    return None


def _on_payload(ctx: _Ctx, payload: str) -> list[OutboundMessage]:
    st, to, lang = ctx.st, ctx.to, ctx.lang
    name, _, value = payload.lstrip("/").partition(":")
    if name == "set_country" and value:
        st.country, st.awaiting = value.upper(), None
        pending, st.pending_intent = st.pending_intent, None
        ctx.turn.events.append(CountrySet(st.country))
        if pending and pending.startswith("/"):
            return _on_payload(ctx, pending)
        if pending:
            return _on_intent(ctx, pending)
        return [replies.menu(to, lang, translate(lang, "Thank you. What would you like to know?"))]
    if name == "refer" and value:
        if st.country is None:
            st.pending_intent, st.awaiting = payload, "country"
            return [replies.ask_country(to, lang, "ask_info_hub")]
        return referral.start(st, to, lang, value)
    if name == "place":
        return referral.choose_hub(st, to, lang, None, ctx.directory)
    if name == location.REFER_HUB and value:
        return location.refer_to(st, to, lang, value, ctx.directory)
    if name == "consent" and st.awaiting == "consent":
        ids = referral.referral_code(ctx.inbound.conversation_id, ctx.inbound.received_at, st.turns)
        return referral.consent(st, to, lang, value == "yes", ctx.directory, ids, ctx.turn.events)
    if name in ("sex", "age") and st.awaiting == name:
        return referral.disaggregation(st, to, lang, name, value, ctx.turn.events)
    if name == SAFETY_NUMBERS and value in ("emergency", "ask_trafficking"):
        return _content_answer(ctx, value)
    if name == REPORT_PAYLOAD.lstrip("/") and st.last_offer:
        report = ScamReported(st.last_offer, st.last_verdict, tuple(st.last_signals))
        ctx.turn.events.append(report)
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
        return _on_intent(ctx, name)
    return [replies.menu(to, lang, translate(lang, "Please choose a topic by number:"))]


def _on_fallback(ctx: _Ctx, parse: NluResult) -> list[OutboundMessage]:
    st = ctx.st
    st.fallback_count += 1
    ctx.turn.events.append(Fallback(st.language, st.fallback_count))
    if st.fallback_count >= 2:
        st.fallback_count = 0
        ctx.turn.events.append(EscalationRequested("repeated_fallback"))
        return [replies.offer_person(ctx.to, ctx.lang)]
    candidates = parse.top_intents(2, set(TOPIC_INTENTS))
    return [replies.clarify(ctx.to, ctx.lang, candidates)]


def _scam_check(ctx: _Ctx, text: str) -> list[OutboundMessage]:
    """An offer described in the message is assessed; a bare question gets the general fraud advice."""
    assessment = assess(text, ctx.lang, ctx.st.country) if text else None
    if assessment is None or not assessment.signals:
        return []
    ctx.st.last_offer = mask_personal_data(text)
    ctx.st.last_verdict, ctx.st.last_signals = assessment.verdict, list(assessment.signals)
    ctx.turn.events.append(ScamAssessed(assessment.verdict, tuple(assessment.signals)))
    buttons = (
        Button(translate(ctx.lang, "Report this offer"), REPORT_PAYLOAD),
        replies.topic_button(ctx.lang, "ask_human"),
        replies.menu_button(ctx.lang),
    )
    return [replies.say(ctx.to, ctx.lang, render_assessment(assessment, ctx.lang), buttons, "ask_fraud")]


def _on_intent(ctx: _Ctx, intent: str, text: str = "") -> list[OutboundMessage]:
    st, to, lang = ctx.st, ctx.to, ctx.lang
    st.fallback_count = 0
    if intent == "greet":
        return [replies.welcome(to, lang)]
    if intent == "change_language":
        st.awaiting = "language"
        return [replies.ask_language(to, lang)]
    if intent in SMALL_TALK:
        return [replies.menu(to, lang, translate(lang, SMALL_TALK[intent]), intent)]
    if intent in ESCALATING:
        return _escalate(ctx, intent)
    if intent == "ask_fraud" and (checked := _scam_check(ctx, text)):
        return checked
    if intent in COUNTRY_DEPENDENT and st.country is None:
        st.pending_intent, st.awaiting = intent, "country"
        pin = location.prompt(to, lang, ctx.inbound.channel) if intent == "ask_info_hub" else None
        return [*([pin] if pin else []), replies.ask_country(to, lang, intent)]
    return _content_answer(ctx, intent, text)


def _escalate(ctx: _Ctx, intent: str) -> list[OutboundMessage]:
    """A person is needed: safety guidance first where there is some, then the handover message."""
    reason = ESCALATING[intent]
    priority = "urgent" if reason == "emergency" else "normal"
    ctx.turn.events.append(EscalationRequested(reason, priority))
    guidance = _content_answer(ctx, intent) if intent != "ask_human" else []
    office = office_hours(ctx.directory, ctx.st.country)
    now = dt.datetime.fromtimestamp(ctx.inbound.received_at, dt.UTC)
    handover = [replies.handover(ctx.to, ctx.lang, intent, office, now)]
    if guidance and ctx.st.country is None:  # one country's number is never given for another's
        ctx.st.pending_intent, ctx.st.awaiting = f"/{SAFETY_NUMBERS}:{intent}", "country"
        return guidance + handover + [replies.ask_country_for_numbers(ctx.to, ctx.lang, intent)]
    return guidance + handover


def _content_answer(ctx: _Ctx, intent: str, text: str = "") -> list[OutboundMessage]:
    st, lang = ctx.st, ctx.lang
    entry = ctx.content.lookup(intent, lang, st.country)
    if entry is None:
        ctx.turn.events.append(ContentMissing(intent, lang))
        lead = translate(
            lang, "Sorry, I do not have this information yet. Reply 0 to talk to a person, or choose a topic:"
        )
        return [replies.menu(ctx.to, lang, lead, intent)]
    stale = entry.is_stale(ctx.today)
    ctx.turn.events.append(Answered(intent, entry.content_id, stale))
    message = replies.answer(ctx.to, lang, entry, ctx.today)
    offer = referral.offer_button(lang, intent, st) if ctx.directory.hubs else None
    if offer is not None:
        message = replace(message, buttons=(offer, *message.buttons))
    if intent == "ask_info_hub" and st.country:  # the list the answer promises, then the choices
        listing = hub_list(ctx.to, lang, st.country, text, ctx.directory, message.buttons)
        if listing is not None:
            pin = location.prompt(ctx.to, lang, ctx.inbound.channel)
            st.awaiting = "hub_place" if pin else st.awaiting
            return [replace(message, buttons=()), *([pin] if pin else []), listing]
    return [message]
