"""Builders of the dialogue's neutral messages, all in the conversation's language."""

from __future__ import annotations

import datetime as dt

from bot.content.model import ContentEntry
from bot.dialogue.hours import Hours, handover_text
from bot.i18n import format_day, translate
from bot.vocab.messages import Button, OutboundMessage
from bot.vocab.topics import (
    COUNTRY_LABELS,
    HUMAN_PAYLOAD,
    LANGUAGE_LABELS,
    MENU_LABELS,
    MENU_PAYLOAD,
    OTHER_COUNTRY,
    main_menu_payloads,
)


def topic_button(lang: str, intent: str) -> Button:
    return Button(title=translate(lang, MENU_LABELS[intent]), payload=f"/{intent}")


def menu_button(lang: str) -> Button:
    return Button(title=translate(lang, "Main menu"), payload=MENU_PAYLOAD)


def main_menu_buttons(lang: str) -> tuple[Button, ...]:
    return tuple(topic_button(lang, payload.lstrip("/")) for payload in main_menu_payloads())


def say(
    to: str, lang: str, text: str, buttons: tuple[Button, ...] = (), intent: str | None = None
) -> OutboundMessage:
    return OutboundMessage(recipient=to, text=text, buttons=buttons, intent=intent, language=lang)


def welcome(to: str, lang: str, intent: str = "greet") -> OutboundMessage:
    text = translate(
        lang,
        "Hello! I am infobot. I give free and reliable information to migrants. "
        "What would you like to know? Reply with a number.",
    )
    return say(to, lang, text, main_menu_buttons(lang), intent)


def menu(to: str, lang: str, lead: str, intent: str | None = None) -> OutboundMessage:
    return say(to, lang, lead, main_menu_buttons(lang), intent)


def ask_country(to: str, lang: str, intent: str) -> OutboundMessage:
    text = translate(
        lang, "The answer depends on the country. In which country are you now? Reply with a number."
    )
    return say(to, lang, text, _country_buttons(lang), intent)


def ask_country_for_numbers(to: str, lang: str, intent: str) -> OutboundMessage:
    """After safety guidance without a country: each country has its own emergency numbers."""
    text = translate(
        lang, "In which country are you now? Reply with a number and I will give you its emergency numbers."
    )
    return say(to, lang, text, _country_buttons(lang), intent)


def _country_buttons(lang: str) -> tuple[Button, ...]:
    buttons = tuple(
        Button(translate(lang, label), f"/set_country:{cc}") for cc, label in COUNTRY_LABELS.items()
    )
    return (*buttons, Button(translate(lang, "Another country"), f"/set_country:{OTHER_COUNTRY}"))


def ask_language(to: str, lang: str) -> OutboundMessage:
    buttons = tuple(Button(label, f"/set_language:{code}") for code, label in LANGUAGE_LABELS.items())
    return say(
        to,
        lang,
        translate(lang, "Which language do you prefer? Reply with a number."),
        buttons,
        "change_language",
    )


def answer(to: str, lang: str, entry: ContentEntry, today: dt.date) -> OutboundMessage:
    """The content text, its source and review date, and a warning when it is past review."""
    footer = translate(
        lang,
        "Source: {source}. Checked on {date}.",
        source=entry.source,
        date=format_day(lang, entry.reviewed),
    )
    parts = [entry.text, footer]
    if entry.is_stale(today):
        parts.append(
            translate(
                lang,
                "This information may have changed. Please confirm it with {source}.",
                source=entry.source,
            )
        )
    buttons = tuple(topic_button(lang, b) for b in entry.buttons if b in MENU_LABELS) + (menu_button(lang),)
    return OutboundMessage(
        recipient=to,
        text="\n\n".join(parts),
        buttons=buttons,
        intent=entry.intent,
        language=lang,
        content_id=entry.content_id,
        sms_text=entry.sms,
    )


def clarify(to: str, lang: str, candidates: list[str]) -> OutboundMessage:
    if not candidates:
        return menu(
            to, lang, translate(lang, "Sorry, I did not understand. Please choose a topic:"), "nlu_fallback"
        )
    buttons = tuple(topic_button(lang, c) for c in candidates) + (menu_button(lang),)
    return say(
        to,
        lang,
        translate(lang, "Sorry, I am not sure I understood. Did you mean one of these?"),
        buttons,
        "nlu_fallback",
    )


def offer_person(to: str, lang: str) -> OutboundMessage:
    buttons = (Button(translate(lang, "Yes, talk to a person"), HUMAN_PAYLOAD), menu_button(lang))
    text = translate(
        lang, "I still do not understand, sorry. Would you like a person from our team to help you?"
    )
    return say(to, lang, text, buttons, "nlu_fallback")


def handover(
    to: str, lang: str, intent: str, office: tuple[Hours, str] | None, now: dt.datetime
) -> OutboundMessage:
    """A person will answer, and roughly when (the office hours of the country's hub)."""
    text = handover_text(lang, office, now, danger=intent != "ask_human")
    return say(to, lang, text, (), intent)
