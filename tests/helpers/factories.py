"""Small factories for tests: messages, parses, content entries."""

from __future__ import annotations

import datetime as dt

from bot import LANGUAGES
from bot.content.library import ContentLibrary
from bot.content.model import ContentEntry
from bot.nlu.types import NluResult
from bot.vocab.messages import InboundMessage
from bot.vocab.topics import TOPIC_INTENTS

TODAY = dt.date(2026, 11, 23)


def inbound(text: str, sender: str = "+50688887777", channel: str = "rest") -> InboundMessage:
    return InboundMessage(channel=channel, sender=sender, text=text)


def parse(
    text: str,
    intent: str,
    lang: str,
    confidence: float = 0.95,
    lang_conf: float = 0.99,
    ranking: tuple[tuple[str, float], ...] = (),
) -> NluResult:
    return NluResult(text, intent, confidence, lang, lang_conf, ranking or ((intent, confidence),))


def entry(
    intent: str,
    lang: str,
    country: str | None = None,
    review_by: dt.date = dt.date(2027, 5, 1),
    buttons: tuple[str, ...] = ("ask_info_hub",),
) -> ContentEntry:
    where = country or "general"
    return ContentEntry(
        intent=intent,
        lang=lang,
        country=country,
        text=f"[{lang}] {intent} answer for {where}",
        sms=f"{intent} sms",
        source="Official agency — https://example.gob",
        reviewed=dt.date(2026, 11, 1),
        review_by=review_by,
        buttons=buttons,
        file=f"content/{lang}/{intent}.yml",
        line=1,
    )


def library(countries: tuple[str, ...] = ("CR", "MX")) -> ContentLibrary:
    """General answers for every topic and language, plus country variants for a few countries."""
    entries = [entry(i, lang) for i in (*TOPIC_INTENTS, "emergency") for lang in LANGUAGES]
    entries += [
        entry(i, lang, cc)
        for i in ("ask_documents", "ask_regularization")
        for lang in LANGUAGES
        for cc in countries
    ]
    return ContentLibrary(entries)
