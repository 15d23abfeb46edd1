"""Subscribing to alerts in conversation: country → topics → plain-words consent → recorded.

Menu choice 10 and ALERTAS / ALERTS / ALERTES / ALÈT start it; MIS ALERTAS / MY ALERTS /
MES ALERTES / ALÈT MWEN show and change what the person receives; STOP (handled by the engine) ends
everything. The consent says what they will receive, on which channel, and how to stop, and is
recorded with its text version by the service from the `alerts_subscribed` event (journaled like an
opt-out: never claimed before kept).
"""

from __future__ import annotations

import re

from bot import COUNTRIES
from bot.dialogue import replies
from bot.dialogue.events import AlertsEnded, AlertsSubscribed, DialogueEvent
from bot.dialogue.keywords import mentioned_country
from bot.dialogue.state import ConversationState
from bot.i18n import N_, translate
from bot.vocab.messages import Button, InboundMessage, OutboundMessage
from bot.vocab.text import plain_words
from bot.vocab.topics import ALERTS_PAYLOAD, COUNTRY_LABELS, LANGUAGE_LABELS, MENU_LABELS

CONSENT_VERSION = "alerts-v1"
"""Changes whenever the consent text below changes (kept with each subscription)."""
START_WORDS = frozenset({"alertas", "alerta", "alerts", "alert", "alertes", "alerte", "alet"})
SHOW_WORDS = frozenset({"mis alertas", "my alerts", "mes alertes", "alet mwen", "alet mwen yo"})
CHANNELS = ("whatsapp", "sms", "telegram")
TOPIC_LABELS = {
    "regularization": MENU_LABELS["ask_regularization"],
    "documents": MENU_LABELS["ask_documents"],
    "asylum": MENU_LABELS["ask_asylum"],
    "work": MENU_LABELS["ask_work"],
    "fraud": N_("Scam alerts"),
}
PAYLOAD = ALERTS_PAYLOAD


def respond(
    st: ConversationState, inbound: InboundMessage, events: list[DialogueEvent]
) -> list[OutboundMessage] | None:
    """The replies when the message belongs to the alerts dialogue; None lets the engine answer it."""
    text, lang, to = inbound.text.strip(), st.language or "es", inbound.sender
    words, chosen = plain_words(text), _chosen(st, text)
    if words in SHOW_WORDS or chosen == f"{PAYLOAD}_show":
        return [_show(st, to, lang)]
    if words in START_WORDS or chosen == PAYLOAD:
        return _start(st, to, lang, inbound.channel)
    if chosen == f"{PAYLOAD}_stop":
        return _stop(st, to, lang, events)
    step = st.awaiting if st.awaiting and st.awaiting.startswith("alerts_") else None
    if step is None:
        return None
    if step == "alerts_country":
        country = _value(chosen, "country") or mentioned_country(text)
        return _topics(st, to, lang, country) if country in COUNTRIES else _leave(st)
    if step == "alerts_topics":
        topics = _topic_choice(st, text, chosen)
        return _consent(st, to, lang, topics, inbound.channel) if topics else _leave(st)
    if step == "alerts_consent":
        answer = _value(chosen, "consent") or {"si": "yes", "yes": "yes", "oui": "yes", "wi": "yes"}.get(
            words
        )
        answer = answer or ("no" if words in ("no", "non", "pa") else None)
        return _decided(st, to, lang, answer == "yes", inbound.channel, events) if answer else _leave(st)
    return _leave(st)


def _leave(st: ConversationState) -> list[OutboundMessage] | None:
    """Something else was asked meanwhile: the engine answers it; the alerts question is dropped."""
    st.awaiting, st.alerts_draft = None, {}
    return None


def _chosen(st: ConversationState, text: str) -> str | None:
    """A button payload, or a single number among the buttons last shown."""
    if text.startswith(PAYLOAD):
        return text
    if text.isdigit() and 1 <= int(text) <= len(st.options):
        return st.options[int(text) - 1]
    return None


def _value(payload: str | None, kind: str) -> str | None:
    prefix = f"{PAYLOAD}_{kind}:"
    return payload[len(prefix) :] if payload and payload.startswith(prefix) else None


def _start(st: ConversationState, to: str, lang: str, channel: str) -> list[OutboundMessage]:
    if channel not in CHANNELS:
        text = translate(
            lang, "Alerts are sent on WhatsApp, SMS and Telegram. Write ALERTS there to subscribe."
        )
        return [replies.say(to, lang, text)]
    st.awaiting, st.alerts_draft = "alerts_country", {}
    text = translate(lang, "Alerts: for which country do you want to receive them? Reply with a number.")
    buttons = tuple(
        Button(translate(lang, label), f"{PAYLOAD}_country:{cc}") for cc, label in COUNTRY_LABELS.items()
    )
    return [replies.say(to, lang, text, buttons)]


def _topics(st: ConversationState, to: str, lang: str, country: str | None) -> list[OutboundMessage]:
    st.awaiting, st.alerts_draft = "alerts_topics", {"country": country}
    text = translate(
        lang, "About which topics? Reply with one number, or several separated by spaces (for example: 1 5)."
    )
    buttons = tuple(
        Button(translate(lang, label), f"{PAYLOAD}_topic:{t}") for t, label in TOPIC_LABELS.items()
    )
    return [
        replies.say(to, lang, text, (*buttons, Button(translate(lang, "All topics"), f"{PAYLOAD}_topic:all")))
    ]


def _topic_choice(st: ConversationState, text: str, chosen: str | None) -> list[str]:
    names = list(TOPIC_LABELS)
    picked = [chosen] if chosen else []
    if not chosen and re.fullmatch(r"[\d\s,;y&+and]+", text) and re.search(r"\d", text):
        numbers = [int(n) for n in re.findall(r"\d+", text)]
        if all(1 <= n <= len(st.options) for n in numbers):
            picked = [st.options[n - 1] for n in numbers]
    values = [_value(p, "topic") for p in picked]
    if "all" in values:
        return names
    return sorted({v for v in values if v in names}, key=names.index)


def _consent(
    st: ConversationState, to: str, lang: str, topics: list[str], channel: str
) -> list[OutboundMessage]:
    st.awaiting = "alerts_consent"
    st.alerts_draft = {**st.alerts_draft, "topics": topics}
    text = translate(
        lang,
        "You will receive alerts about: {topics}, for {country}, in {language}, by {channel}. We keep your "
        "number only to send them and share it with no one. Write STOP at any time to stop all messages, "
        "or MY ALERTS to see or change them. Do you agree?",
        topics=_topic_list(lang, topics),
        country=translate(lang, COUNTRY_LABELS[str(st.alerts_draft["country"])]),
        language=LANGUAGE_LABELS[lang],
        channel={"whatsapp": "WhatsApp", "sms": "SMS", "telegram": "Telegram"}[channel],
    )
    buttons = (
        Button(translate(lang, "Yes, I agree"), f"{PAYLOAD}_consent:yes"),
        Button(translate(lang, "No"), f"{PAYLOAD}_consent:no"),
    )
    return [replies.say(to, lang, text, buttons)]


def _decided(
    st: ConversationState, to: str, lang: str, agreed: bool, channel: str, events: list[DialogueEvent]
) -> list[OutboundMessage]:
    draft, st.awaiting, st.alerts_draft = st.alerts_draft, None, {}
    if not agreed or "topics" not in draft:
        return [replies.menu(to, lang, translate(lang, "All right, you will not receive alerts."))]
    st.alerts = {"country": draft["country"], "topics": list(draft["topics"])}
    events.append(AlertsSubscribed(draft["country"], tuple(draft["topics"]), lang, CONSENT_VERSION))
    text = translate(
        lang,
        "Done: you will receive alerts about {topics} for {country}. Write MY ALERTS to change them, "
        "STOP to stop all messages.",
        topics=_topic_list(lang, st.alerts["topics"]),
        country=translate(lang, COUNTRY_LABELS[st.alerts["country"]]),
    )
    return [replies.say(to, lang, text)]


def _show(st: ConversationState, to: str, lang: str) -> OutboundMessage:
    if not st.alerts:
        return replies.say(to, lang, translate(lang, "You do not receive alerts. Write ALERTS to subscribe."))
    text = translate(
        lang,
        "You receive alerts about {topics} for {country}.",
        topics=_topic_list(lang, st.alerts["topics"]),
        country=translate(lang, COUNTRY_LABELS[st.alerts["country"]]),
    )
    buttons = (
        Button(translate(lang, "Change my alerts"), PAYLOAD),
        Button(translate(lang, "Stop my alerts"), f"{PAYLOAD}_stop"),
    )
    return replies.say(to, lang, text, buttons)


def _stop(st: ConversationState, to: str, lang: str, events: list[DialogueEvent]) -> list[OutboundMessage]:
    if st.alerts:
        events.append(AlertsEnded("changed"))
    st.alerts, st.awaiting = {}, None
    return [
        replies.say(to, lang, translate(lang, "Your alerts are stopped. You will not receive more alerts."))
    ]


def _topic_list(lang: str, topics: list[str]) -> str:
    return ", ".join(translate(lang, TOPIC_LABELS[t]) for t in topics)
