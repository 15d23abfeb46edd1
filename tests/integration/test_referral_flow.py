"""The whole referral conversation through the REST channel, in four languages, with the real Rasa."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from bot.db.models import Referral
from tests.helpers.app import say


def number_of(reply: dict[str, Any], payload_start: str) -> str:
    return next(b["number"] for b in reply["buttons"] if b["payload"].startswith(payload_start))


def referrals(client: TestClient) -> list[Any]:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with runtime.database.connect() as conn:
        return list(conn.execute(select(Referral)).all())


# In the Dominican Republic case, Dajabón's hub offers no regularization: the nearest hub that does is chosen.
CASES = [
    ("es", "quiero pedir refugio en mexico, que hago", "Tapachul", "si claro", "mx-tapachula", "asylum"),
    ("en", "how can i get a work permit in costa rica", "san jose", "yes", "cr-san-jose", "labour"),
    ("fr", "j'ai perdu mon passeport au panama, comment faire", "david", "oui", "pa-david", "documents"),
    (
        "ht",
        "kijan pou m jwenn papye pou m rete legal nan Dominikani",
        "dajabon",
        "wi",
        "do-santiago",
        "regularization",
    ),
]


@pytest.mark.parametrize(("lang", "question", "place", "yes", "hub", "service"), CASES)
def test_a_consented_referral_is_logged_and_its_code_given(
    client: TestClient, lang: str, question: str, place: str, yes: str, hub: str, service: str
) -> None:
    sender = f"ref-{lang}"
    [answer] = say(client, sender, question)
    assert answer["metadata"]["language"] == lang and answer["metadata"]["content_id"]
    [where] = say(client, sender, number_of(answer, "/refer:"))
    [consent] = say(client, sender, place)
    assert "?" in consent["text"] and consent["metadata"]["language"] == lang
    assert [b["payload"] for b in consent["buttons"]] == ["/consent:yes", "/consent:no"]
    done, optional = say(client, sender, yes)
    match = re.search(r"\b[A-Z2-9]{3}-[A-Z2-9]{4}\b", done["text"])
    assert match, done["text"]
    code = match.group(0)
    stored = {r.code: r for r in referrals(client)}
    assert code in stored
    row = stored[code]
    assert (row.hub_id, row.service, row.language, row.channel, row.status) == (
        hub,
        service,
        lang,
        "rest",
        "new",
    )
    assert sender not in row.person  # pseudonymous
    [age_question] = say(client, sender, number_of(optional, "/sex:skip"))
    say(client, sender, number_of(age_question, "/age:18-29"))
    row = {r.code: r for r in referrals(client)}[code]
    assert (row.sex, row.age_group) == (None, "18-29")
    del where


def test_declining_is_respected_and_never_asked_again(client: TestClient) -> None:
    sender = "ref-decline"
    [answer] = say(client, sender, "quiero pedir asilo en mexico")
    say(client, sender, number_of(answer, "/refer:"))
    consent = say(client, sender, "tapachula")[0]
    before = len(referrals(client))
    [declined] = say(client, sender, number_of(consent, "/consent:no"))
    assert len(referrals(client)) == before
    [again] = say(client, sender, "/ask_asylum")
    assert not any(b["payload"].startswith("/refer:") for b in again["buttons"])
    assert declined["metadata"]["language"] == "es"
