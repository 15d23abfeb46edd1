"""Which language to answer in, from the identified language and the conversation so far."""

from __future__ import annotations

import re

from bot import LANGUAGES
from bot.dialogue.keywords import mentioned_language
from bot.nlu.types import NluResult
from bot.vocab.text import plain_words

_MARKUP = re.compile(r"<[^>]+>")
SWITCH_CONFIDENCE = 0.8
"""A full sentence switches the conversation language only when identified this confidently."""
MIN_WORDS_TO_SWITCH = 3
"""'ok', '1', 'si', an emoji: too short to say anything about the language."""


def choose_language(current: str | None, parse: NluResult) -> str:
    """An explicit request wins; short messages keep the current language; a clear full sentence switches."""
    if parse.intent == "change_language":
        named = mentioned_language(parse.text)
        if named is not None:
            return named
    detected = parse.language if parse.language in LANGUAGES else None
    if current is None:
        return detected or "es"
    if _MARKUP.search(parse.text):  # pasted HTML or code says nothing about the person's language
        return current
    words = plain_words(parse.text).split()
    if (
        detected
        and detected != current
        and len(words) >= MIN_WORDS_TO_SWITCH
        and parse.language_confidence >= SWITCH_CONFIDENCE
    ):
        return detected
    return current
