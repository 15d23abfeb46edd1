"""The topics the bot answers, the numbered main menu, and which answers depend on the country."""

from __future__ import annotations

from bot import COUNTRIES
from bot.i18n import N_

INTENTS: tuple[str, ...] = (
    "greet",
    "goodbye",
    "thanks",
    "affirm",
    "deny",
    "change_language",
    "ask_regularization",
    "ask_asylum",
    "ask_documents",
    "ask_work",
    "ask_fraud",
    "ask_trafficking",
    "ask_info_hub",
    "ask_human",
    "emergency",
    "ask_health",
    "ask_return",
    "bot_challenge",
    "out_of_scope",
)
"""Every intent of /work/shared/TAXONOMY.md, in intents/domain.yml's order (a test keeps the two equal)."""

TOPIC_INTENTS: tuple[str, ...] = (
    "ask_regularization",
    "ask_asylum",
    "ask_documents",
    "ask_work",
    "ask_fraud",
    "ask_trafficking",
    "ask_health",
    "ask_return",
    "ask_info_hub",
)
"""Answered from content/<lang>/<intent>.yml; menu numbers 1-9 in this order."""

COUNTRY_DEPENDENT: frozenset[str] = frozenset(
    {"ask_regularization", "ask_asylum", "ask_documents", "ask_work", "ask_info_hub"}
)

MENU_LABELS: dict[str, str] = {
    "ask_regularization": N_("Legal status and permits"),
    "ask_asylum": N_("Asylum and refugee status"),
    "ask_documents": N_("Identity and travel documents"),
    "ask_work": N_("Working legally"),
    "ask_fraud": N_("Is this offer a scam?"),
    "ask_trafficking": N_("Exploitation or trafficking"),
    "ask_health": N_("Health care"),
    "ask_return": N_("Returning home"),
    "ask_info_hub": N_("Information Hub near me"),
    "alerts": N_("Receive alerts"),
    "ask_human": N_("Talk to a person"),
}
"""English msgids of the menu labels; translations live in bot/locale."""

COUNTRY_LABELS: dict[str, str] = {
    "BZ": N_("Belize"),
    "CR": N_("Costa Rica"),
    "DO": N_("Dominican Republic"),
    "GD": N_("Grenada"),
    "GT": N_("Guatemala"),
    "HN": N_("Honduras"),
    "HT": N_("Haiti"),
    "MX": N_("Mexico"),
    "PA": N_("Panama"),
    "SR": N_("Suriname"),
    "SV": N_("El Salvador"),
}
assert tuple(sorted(COUNTRY_LABELS)) == COUNTRIES

OTHER_COUNTRY = "XX"
"""The country code used when the person is elsewhere: general guidance."""

LANGUAGE_LABELS: dict[str, str] = {"es": "Español", "en": "English", "fr": "Français", "ht": "Kreyòl"}

MENU_PAYLOAD = "/menu"
HUMAN_PAYLOAD = "/ask_human"
ALERTS_PAYLOAD = "/alerts"
"""Subscribing to campaigns' alerts (bot/dialogue/alerts.py): menu choice 10."""


def main_menu_payloads() -> list[str]:
    """Menu choices 1..9 (topics), 10 (alerts), then 0 (a person)."""
    return [f"/{intent}" for intent in TOPIC_INTENTS] + [ALERTS_PAYLOAD, HUMAN_PAYLOAD]
