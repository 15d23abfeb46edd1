"""The bottom floor's taxonomy is the one Rasa is trained on: the same intents, in the same order."""

from __future__ import annotations

import yaml

from bot.config import PROJECT_ROOT
from bot.vocab.topics import INTENTS, MENU_LABELS, TOPIC_INTENTS


def test_the_intents_are_the_domains_and_every_topic_and_menu_entry_is_one_of_them() -> None:
    domain = yaml.safe_load((PROJECT_ROOT / "intents" / "domain.yml").read_text(encoding="utf-8"))
    assert tuple(domain["intents"]) == INTENTS
    assert set(TOPIC_INTENTS) <= set(INTENTS)
    assert set(MENU_LABELS) - set(INTENTS) == {"alerts"}  # the one menu entry that is not a question
