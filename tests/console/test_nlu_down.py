"""With the NLU server down, emergencies and requests for a person still reach the hotline's queue.

The real app with RASA_URL on a dead port: each message goes through the REST route (the same dialogue as
every channel), the safety rules recognise it, and the escalation is in SQL and on the console's queue.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.db import make_engine, session_factory
from bot.db.models import Escalation
from bot.nlu.safety import safety_rules
from tests.console.conftest import Console, log_in
from tests.helpers.app import say
from tests.nlu.test_safety_rules import ASKS_FOR_A_PERSON, EMERGENCIES, ORDINARY

LANGUAGES = ("es", "en", "fr", "ht")


def escalations(console: Console) -> dict[str, Escalation]:
    with session_factory(make_engine(console.settings.database_url))() as session:
        return {e.conversation_id: e for e in session.scalars(select(Escalation))}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_emergencies_and_requests_for_a_person_are_escalated_without_the_nlu(
    console: Console, lang: str
) -> None:
    assert console.client.get("/healthz").json()["nlu"] == "down"
    sent: dict[str, str] = {}
    for i, text in enumerate(EMERGENCIES[lang][:6] + ASKS_FOR_A_PERSON[lang][:3]):
        sender = f"+5060{LANGUAGES.index(lang)}00{i:04d}"
        expected = safety_rules().match(text)
        assert expected is not None
        replies = say(console.client, sender, text)
        assert replies[-1]["metadata"]["intent"] == expected.intent, text  # the handover, not the menu
        sent[f"rest:{sender}"] = text
    stored = escalations(console)
    for conversation_id, text in sent.items():
        expected = safety_rules().match(text)
        assert expected is not None
        row = stored.get(conversation_id)
        assert row is not None, f"not escalated: {text!r}"
        if expected.intent == "emergency":
            assert (row.reason, row.priority) == ("emergency", 0), text
        else:
            assert row.reason == "asked" and row.priority > 0, text
    log_in(console.client, "agent@example.org")
    queue = console.client.get("/console/").text
    shown = set(re.findall(r'href="/console/conversations/(\d+)"', queue))
    assert {str(row.id) for row in stored.values()} <= shown
    alert = re.search(r'data-emergencies="(\d+)"', queue)
    assert alert is not None and int(alert.group(1)) >= 1


@pytest.mark.parametrize("lang", LANGUAGES)
def test_ordinary_questions_still_get_the_numbered_menu(console: Console, lang: str) -> None:
    for i, text in enumerate(ORDINARY[lang]):
        replies = say(console.client, f"+5069{LANGUAGES.index(lang)}00{i:04d}", text)
        assert replies[-1].get("buttons"), text  # the numbered menu
        assert replies[-1]["metadata"]["content_id"] is None
    assert escalations(console) == {}


def test_the_person_in_danger_gets_the_safety_guidance_and_the_handover(console: Console) -> None:
    replies = say(console.client, "+50677770000", "me kieren matar, ayuda")
    intents = [r["metadata"]["intent"] for r in replies]
    assert intents[0] == "emergency" and replies[0]["metadata"]["content_id"].startswith("emergency")
    assert len(replies) >= 2  # the emergency guidance, then the handover message
