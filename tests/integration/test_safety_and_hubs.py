"""With the real Rasa, through the REST channel: a person who said where they are and then asks for help in
danger gets that country's emergency numbers (and staff are alerted); a hub question lists the country's
hubs with opening hours in the person's language. Four languages."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from bot.db.models import Escalation
from bot.referrals import load_directory
from tests.helpers.app import say

DANGER = [
    ("es", "hola, estoy en Guatemala", "me quieren matar, ayuda", "GT", ("110", "120", "122", "123", "125")),
    ("en", "hi, I am in Haiti now", "they want to kill me, help", "HT", ("114", "122", "116")),
    ("fr", "bonjour, je suis au Panama", "ils veulent me tuer, au secours", "PA", ("104", "911")),
    ("ht", "bonjou, mwen Sirinam", "yo vle touye m, ede m souple", "SR", ("115",)),
]


def escalations(client: TestClient) -> list[Any]:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with runtime.database.connect() as conn:
        return list(conn.execute(select(Escalation)).all())


@pytest.mark.parametrize(("lang", "where", "danger", "country", "numbers"), DANGER)
def test_danger_after_saying_the_country_gets_that_countrys_numbers_and_alerts_staff(
    client: TestClient, lang: str, where: str, danger: str, country: str, numbers: tuple[str, ...]
) -> None:
    sender = f"danger-{lang}"
    say(client, sender, where)
    before = len(escalations(client))
    replies = say(client, sender, danger)
    first = replies[0]
    assert first["metadata"] == {
        "intent": "emergency",
        "language": lang,
        "content_id": f"emergency.{country}",
    }
    for number in numbers:
        assert number in first["text"], (number, first["text"])
    assert len(escalations(client)) == before + 1  # the escalation to staff keeps happening


@pytest.mark.parametrize(
    ("lang", "text", "country_title"),
    [
        ("es", "me quieren matar, ayuda", "Guatemala"),
        ("en", "they want to kill me, help", "Haiti"),
    ],
)
def test_danger_without_a_country_asks_for_it_then_gives_its_numbers_without_a_second_alert(
    client: TestClient, lang: str, text: str, country_title: str
) -> None:
    sender = f"danger-nocountry-{lang}"
    replies = say(client, sender, text)
    assert replies[0]["metadata"]["content_id"] == "emergency"
    answer = replies[0]["text"].split("\n\n")[:-1]  # the last paragraph is the source and its date
    assert not any(ch.isdigit() for ch in "".join(answer))  # no country's number for another
    alerts = len(escalations(client))
    choice = next(b["number"] for b in replies[-1]["buttons"] if b["title"] == country_title)
    [numbers] = say(client, sender, choice)
    assert numbers["metadata"]["content_id"].startswith("emergency.")
    assert len(escalations(client)) == alerts


HUBS = [
    ("es", "donde queda el centro de informacion de la OIM en costa rica", "lun–vie 08:00–16:00"),
    ("en", "where is the nearest information hub in costa rica", "Mon–Fri 08:00–16:00"),
    ("fr", "où se trouve le centre d'information au costa rica", "lun.–ven. 08:00–16:00"),
    ("ht", "ki kote biwo a ye nan kosta rika", "lendi–vandredi 08:00–16:00"),
]


@pytest.mark.parametrize(("lang", "question", "hours"), HUBS)
def test_a_hub_question_lists_the_countrys_hubs_with_hours_in_the_persons_language(
    client: TestClient, lang: str, question: str, hours: str
) -> None:
    replies = say(client, f"hubs-{lang}", question)
    assert replies[0]["metadata"]["content_id"] == "ask_info_hub.CR"
    assert replies[0]["metadata"]["language"] == lang
    listing = replies[1]
    assert listing["metadata"]["language"] == lang
    for hub in load_directory().hubs_for("CR"):
        assert hub.name in listing["text"] and hub.city in listing["text"] and hub.phone in listing["text"]
    assert hours in listing["text"] and "mon-fri" not in listing["text"]
    assert listing["buttons"][0]["payload"].startswith("/refer:")  # a referral is one button away
