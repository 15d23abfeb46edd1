"""Deletion requests in four languages and retention: conversation data goes, anonymous statistics stay."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from bot.db import session_factory
from bot.db.models import MessageEvent, TranscriptMessage, UnansweredQuestion
from bot.privacy import pseudonymise
from bot.records import purge_expired


def rows(client: TestClient, model: type, person: str) -> int:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with runtime.database.connect() as conn:
        return int(
            conn.execute(select(func.count()).select_from(model).where(model.person == person)).scalar_one()
        )


@pytest.mark.parametrize(
    ("lang", "request_text"),
    [
        ("es", "quiero que borren mis datos por favor"),
        ("en", "please delete my data"),
        ("fr", "je veux supprimer mes données"),
        ("ht", "mwen vle nou efase done m yo"),
    ],
)
def test_a_deletion_request_erases_the_conversation(client: TestClient, lang: str, request_text: str) -> None:
    sender = f"erase-{lang}"
    person = pseudonymise(client.app.state.runtime.settings.pseudonym_key, f"rest:{sender}")  # type: ignore[attr-defined]
    first = {"es": "hola", "en": "hello", "fr": "bonjour", "ht": "bonjou"}[lang]
    client.post("/webhooks/rest/webhook", json={"sender": sender, "message": first})
    assert rows(client, TranscriptMessage, person) >= 2
    [confirmation] = client.post(
        "/webhooks/rest/webhook", json={"sender": sender, "message": request_text}
    ).json()
    assert confirmation["metadata"]["language"] == lang
    assert rows(client, TranscriptMessage, person) == 0 and rows(client, MessageEvent, person) == 0
    assert rows(client, MessageEvent, "erased") >= 1  # the statistics remain, without the pseudonym
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    assert client.portal.call(runtime.store.get, f"rest:{sender}") is None  # type: ignore[attr-defined]


def test_retention_purges_old_transcripts_only(client: TestClient) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    sessions = session_factory(runtime.database)
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=100)
    with sessions.begin() as session:
        session.add(TranscriptMessage(person="old-person", direction="in", text="viejo", at=old))
        session.add(
            UnansweredQuestion(person="old-person", channel="rest", language="es", text="viejo", at=old)
        )
        session.add(TranscriptMessage(person="new-person", direction="in", text="nuevo"))
    assert purge_expired(sessions, 90) == 2
    assert (
        rows(client, TranscriptMessage, "old-person") == 0
        and rows(client, TranscriptMessage, "new-person") == 1
    )
