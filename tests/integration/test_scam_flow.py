"""The scam check through the REST channel in four languages; reported offers are stored masked."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from bot.db.models import ScamReport

OFFERS = [
    (
        "es",
        "un señor me pide 300 dolares para sacarme la cita de migracion rapido, "
        "me llamo Carla y mi numero es "
        "+506 8888 7777, es verdad?",
    ),
    (
        "en",
        "a guy says he can get me the asylum appointment for 250 dollars, pay today by western union, "
        "call him at 809-555-1234, is it a scam?",
    ),
    (
        "fr",
        "on me demande 200 dollars pour un rendez-vous à l'immigration, paiement urgent par WhatsApp "
        "+509 3777 8888, c'est une arnaque?",
    ),
    (
        "ht",
        "yon nèg mande m 150 dola pou l ban m randevou migrasyon an vit vit, li di m voye lajan an jodi a "
        "sou +509 4111 2222, èske se vre?",
    ),
]


@pytest.mark.parametrize(("lang", "offer"), OFFERS)
def test_an_offer_is_assessed_in_its_language_and_can_be_reported(
    client: TestClient, lang: str, offer: str
) -> None:
    sender = f"scam-{lang}"
    [reply] = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": offer}).json()
    assert reply["metadata"]["intent"] == "ask_fraud" and reply["metadata"]["language"] == lang
    assert "safe" not in reply["text"].lower()
    report = next(b for b in reply["buttons"] if b["payload"] == "/report_scam")
    [thanks] = client.post(
        "/webhooks/rest/webhook", json={"sender": sender, "message": report["number"]}
    ).json()
    assert thanks["metadata"]["language"] == lang
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with runtime.database.connect() as conn:
        stored = conn.execute(select(ScamReport).where(ScamReport.language == lang)).one()
    assert stored.verdict in ("likely_fraud", "warning_signs") and stored.signals
    for personal in ("8888 7777", "809-555-1234", "3777 8888", "4111 2222", "Carla"):
        assert personal not in stored.text
    assert "[phone]" in stored.text
