"""The SQL claim on SQLite and PostgreSQL: a batch is never larger than asked, two claimers never share a
row, and a dead worker's leases go back: claimed as pending, sending as pending *in doubt* (checked with the
provider before any second send)."""

from __future__ import annotations

import time
from pathlib import Path

from bot.campaigns import claims
from bot.campaigns.audience import prepare
from bot.campaigns.runner import database
from bot.campaigns.spec import CampaignSpec
from bot.campaigns.subscribers import subscribe
from tests.helpers.app import make_settings

SPEC = CampaignSpec.from_data(
    {
        "id": "c1",
        "audience": {"countries": ["HT"], "languages": ["fr"], "topics": ["work"]},
        "messages": {"fr": "x"},
    }
)


def test_claims_are_bounded_disjoint_and_recovered(tmp_path: Path, db_url: str) -> None:
    settings = make_settings(tmp_path, DATABASE_URL=db_url)
    sessions = database(settings)
    with sessions.begin() as session:
        for i in range(60):
            subscribe(
                session,
                settings.pseudonym_key,
                channel="sms",
                address=f"+5093700{i:04d}",
                language="fr",
                country="HT",
                topics=["work"],
                consent_version="v1",
            )
    assert prepare(sessions, SPEC) == 60
    assert prepare(sessions, SPEC) == 60  # the audience is frozen: no second row per person
    first = claims.claim(sessions, "c1", "sms", "a", 32, lease=0.5)
    second = claims.claim(sessions, "c1", "sms", "b", 32, lease=30)
    assert (len(first), len(second)) == (32, 28)
    assert not {r.id for r in first} & {r.id for r in second}
    assert claims.claim(sessions, "c1", "telegram", "b", 32, lease=30) == []
    assert claims.mark_sending(sessions, "a", [r.id for r in first[:5]]) == {r.id for r in first[:5]}
    assert claims.mark_sending(sessions, "b", [r.id for r in first[5:10]]) == set()  # not b's rows
    time.sleep(0.6)  # worker a died: its leases expire
    assert claims.recover(sessions, "c1") == (27, 5)
    status = claims.progress(sessions, "c1")
    assert (status["pending"], status["unknown"], status["claimed"]) == (32, 0, 28)
    doubted = {r.id for r in claims.claim(sessions, "c1", "sms", "c", 32, lease=0.1) if r.in_doubt_since}
    assert doubted == {r.id for r in first[:5]}  # exactly the ones marked sending, with their time
    time.sleep(0.2)
    assert claims.recover(sessions, "c1") == (32, 0)  # c died before marking anything: plain requeue
    # b's lanes are idle: whatever b still holds was lost to a database blip, never sent: released
    claims.mark_sending(sessions, "b", [r.id for r in second[:3]])
    claims.release(sessions, "c1", "telegram", "b")  # another channel's lanes: untouched
    assert claims.progress(sessions, "c1")["claimed"] == 25
    claims.release(sessions, "c1", "sms", "b")
    assert claims.progress(sessions, "c1")["pending"] == 32 + 28
