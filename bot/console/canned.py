"""Canned replies for hotline staff, in the four languages (translated in bot/locale like all UI strings)."""

from __future__ import annotations

from bot import LANGUAGES
from bot.i18n import N_, translate

CANNED: tuple[tuple[str, str], ...] = (
    ("greeting", N_("Hello, this is a person from the hotline team. How can I help you?")),
    ("waiting", N_("Thank you for waiting. I am reading your messages now.")),
    ("where", N_("In which country and city are you now?")),
    ("safe", N_("Are you safe right now? If you are in danger, call the local emergency number.")),
    ("looking", N_("I am looking for the right organisation for you and will write back soon.")),
)


def canned_replies() -> dict[str, list[tuple[str, str]]]:
    """{language: [(key, text), ...]} for the reply form's picker."""
    return {lang: [(key, translate(lang, text)) for key, text in CANNED] for lang in LANGUAGES}
