"""Referral to an Information Hub: offer → place → plain-words consent → code and hub details.

Consent is asked in plain words naming what is shared and with whom; declining is respected and never
asked again in the conversation. The referral itself is logged by the service (write-ahead, never lost)
before the person is told it is done.
"""

from __future__ import annotations

import hashlib

from bot.dialogue import replies
from bot.dialogue.events import DialogueEvent, ReferralConsented, ReferralDisaggregated
from bot.dialogue.hours import render_hours
from bot.dialogue.state import ConversationState
from bot.i18n import N_, translate
from bot.referrals import Directory, Hub, nearest_hub
from bot.vocab.messages import Button, OutboundMessage

CONSENT_VERSION = "2026-11-v1"
"""Changes whenever the consent text changes, so each referral records what the person agreed to."""
SERVICE_OF_INTENT = {
    "ask_regularization": "regularization",
    "ask_asylum": "asylum",
    "ask_documents": "documents",
    "ask_work": "labour",
    "ask_trafficking": "counter_trafficking",
    "ask_health": "health",
    "ask_return": "return",
    "ask_info_hub": "any",
}
SERVICE_LABELS = {
    "any": N_("information and guidance"),
    "regularization": N_("legal status"),
    "asylum": N_("asylum"),
    "documents": N_("documents"),
    "legal_aid": N_("legal aid"),
    "labour": N_("work"),
    "health": N_("health care"),
    "psychosocial": N_("psychosocial support"),
    "shelter": N_("shelter"),
    "return": N_("voluntary return"),
    "counter_trafficking": N_("protection from trafficking"),
}
SEX_CHOICES = {"female": N_("Woman"), "male": N_("Man"), "other": N_("Another answer")}
AGE_CHOICES = {"under18": N_("Under 18"), "18-29": "18-29", "30-59": "30-59", "60plus": N_("60 or more")}


def offer_button(lang: str, intent: str, state: ConversationState) -> Button | None:
    service = SERVICE_OF_INTENT.get(intent)
    if service is None or state.referral_declined:
        return None
    return Button(translate(lang, "Refer me to an Information Hub"), f"/refer:{service}")


def start(state: ConversationState, to: str, lang: str, service: str) -> list[OutboundMessage]:
    state.ref_service, state.awaiting = service, "place"
    text = translate(lang, "In which city or area are you now? Write its name.")
    return [replies.say(to, lang, text, (Button(translate(lang, "I do not know"), "/place:unknown"),))]


def choose_hub(
    state: ConversationState, to: str, lang: str, place: str | None, directory: Directory
) -> list[OutboundMessage]:
    service = None if state.ref_service in (None, "any") else state.ref_service
    hub = nearest_hub(directory, state.country or "", service, place) if state.country else None
    if hub is None:
        state.awaiting = None
        text = translate(
            lang, "Sorry, I did not find a Hub for this in your country. Reply 0 to talk to a person."
        )
        return [replies.menu(to, lang, text)]
    return propose(state, to, lang, hub)


def propose(state: ConversationState, to: str, lang: str, hub: Hub) -> list[OutboundMessage]:
    """Ask consent to refer to `hub` (the one found from the place named, or picked from a list)."""
    state.ref_hub, state.awaiting = hub.id, "consent"
    text = translate(
        lang,
        "I can refer you to {hub} ({city}). To do it, we share with this Hub only: the help you need "
        "({service}), your language and a referral code. We do not share your name or your phone number. "
        "Do you agree?",
        hub=hub.name,
        city=hub.city,
        service=translate(lang, SERVICE_LABELS[state.ref_service or "any"]),
    )
    buttons = (
        Button(translate(lang, "Yes, I agree"), "/consent:yes"),
        Button(translate(lang, "No"), "/consent:no"),
    )
    return [replies.say(to, lang, text, buttons)]


def referral_code(conversation_id: str, received_at: float, turns: int) -> tuple[str, str]:
    """(short code to show at the hub, idempotency key): derived from the message, so a retry repeats them."""
    digest = hashlib.sha256(f"{conversation_id}|{received_at}|{turns}".encode()).hexdigest()
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    code = "".join(alphabet[int(digest[i : i + 2], 16) % len(alphabet)] for i in range(0, 14, 2))
    return f"{code[:3]}-{code[3:]}", digest[:40]


def consent(
    state: ConversationState,
    to: str,
    lang: str,
    agreed: bool,
    directory: Directory,
    ids: tuple[str, str],
    events: list[DialogueEvent],
) -> list[OutboundMessage]:
    hub = directory.get(state.ref_hub or "")
    if not agreed or hub is None:
        state.referral_declined, state.awaiting = True, None
        text = translate(
            lang, "All right, I will not share anything. You can still visit any Hub on your own."
        )
        return [replies.menu(to, lang, text)]
    code, key = ids
    events.append(
        ReferralConsented(
            code=code,
            idempotency_key=key,
            hub_id=hub.id,
            service=state.ref_service or "any",
            country=hub.country,
            consent_version=CONSENT_VERSION,
        )
    )
    state.ref_code, state.awaiting = code, "sex"
    return [replies.say(to, lang, hub_details(lang, hub, code)), ask_sex(to, lang)]


def hub_details(lang: str, hub: Hub, code: str) -> str:
    hours = render_hours(lang, hub.hours)
    return (
        translate(lang, "Done. Your referral code is {code}. Show it at the Hub.", code=code)
        + "\n\n"
        + "\n".join([hub.name, hub.address, f"{hub.city}, {hub.department}", hub.phone, hours])
    )


def ask_sex(to: str, lang: str) -> OutboundMessage:
    buttons = tuple(Button(translate(lang, label), f"/sex:{key}") for key, label in SEX_CHOICES.items())
    text = translate(lang, "Optional, to improve our services (you can skip): which describes you?")
    return replies.say(to, lang, text, (*buttons, Button(translate(lang, "Skip"), "/sex:skip")))


def ask_age(to: str, lang: str) -> OutboundMessage:
    buttons = tuple(Button(translate(lang, label), f"/age:{key}") for key, label in AGE_CHOICES.items())
    text = translate(lang, "Optional (you can skip): how old are you?")
    return replies.say(to, lang, text, (*buttons, Button(translate(lang, "Skip"), "/age:skip")))


def disaggregation(
    state: ConversationState, to: str, lang: str, kind: str, value: str, events: list[DialogueEvent]
) -> list[OutboundMessage]:
    """Record an optional answer (never required), then go on or finish."""
    choices = SEX_CHOICES if kind == "sex" else AGE_CHOICES
    if value in choices and state.ref_code:
        answer = {"sex": value} if kind == "sex" else {"age": value}
        events.append(ReferralDisaggregated(state.ref_code, **answer))
    if kind == "sex":
        state.awaiting = "age"
        return [ask_age(to, lang)]
    state.awaiting = None
    return [replies.menu(to, lang, translate(lang, "Thank you. Is there anything else I can help with?"))]
