"""A voice note sent into a conversation an agent holds: playable in the console through the real Twilio
and Telegram paths (fake providers on loopback), refused to anyone not logged in, forgotten by erasure
and retention."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from bot.db import make_engine, migrate
from bot.db.models import Escalation, MediaReference
from bot.records import erase_person, purge_expired
from tests.channels.conftest import (
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    TWILIO_SID,
    TWILIO_TOKEN,
    payload,
    sign,
)
from tests.console.conftest import Console, console_for, csrf_of, log_in
from tests.helpers.fake_provider import FakeProvider, Recorded, serve, telegram_responder, twilio_responder

VOICE = b"OggS\x00\x02" + b"\x00" * 64 + b"voice-note-bytes"
TELEGRAM_FILE = "voice/file_7.oga"


def twilio_api(record: Recorded) -> tuple[int, Any]:
    if record.method == "GET" and "/Media/" in record.path:
        expected = "Basic " + base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
        return (200, VOICE) if record.headers.get("authorization") == expected else (401, {"code": 20003})
    return twilio_responder(record)


def telegram_api(record: Recorded) -> tuple[int, Any]:
    if record.path.endswith("/getFile"):
        file_id = record.params["file_id"]
        result = {
            "file_id": file_id,
            "file_unique_id": "u1",
            "file_size": len(VOICE),
            "file_path": TELEGRAM_FILE,
        }
        return 200, {"ok": True, "result": result}
    if unquote(record.path) == f"/file/bot{TELEGRAM_TOKEN}/{TELEGRAM_FILE}":
        return 200, VOICE
    return telegram_responder(record)


@dataclass
class Wired:
    console: Console
    twilio: FakeProvider
    telegram: FakeProvider

    @property
    def client(self) -> TestClient:
        return self.console.client

    def whatsapp(self, params: dict[str, str]) -> None:
        # no PUBLIC_BASE_URL here (it would make the console cookie https-only): the URL as received
        headers = {"X-Twilio-Signature": sign(params, url="http://testserver/webhooks/twilio")}
        assert self.client.post("/webhooks/twilio", data=params, headers=headers).status_code == 200

    def telegram_update(self, update: dict[str, Any]) -> None:
        headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET, "content-type": "application/json"}
        response = self.client.post(
            "/webhooks/telegram", content=json.dumps(update).encode(), headers=headers
        )
        assert response.status_code == 200

    def sessions(self) -> sessionmaker[Session]:
        engine = make_engine(self.console.settings.database_url)
        return sessionmaker(engine)

    def escalation_of(self, channel: str) -> Escalation:
        with self.sessions()() as session:
            return session.scalars(select(Escalation).where(Escalation.channel == channel)).one()

    def claim(self, escalation_id: int) -> None:
        page = self.client.get(f"/console/conversations/{escalation_id}")
        response = self.client.post(
            f"/console/conversations/{escalation_id}/claim", data={"csrf": csrf_of(page.text)}
        )
        assert response.status_code in (200, 303)


@pytest.fixture
def wired(tmp_path: Path) -> Iterator[Wired]:
    with serve(twilio_api) as twilio, serve(telegram_api) as telegram:
        env = {
            "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "TWILIO_ACCOUNT_SID": TWILIO_SID,
            "TWILIO_API_BASE": twilio.url,
            "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
            "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
            "TELEGRAM_API_BASE": f"{telegram.url}/bot",
        }
        for console in console_for(tmp_path, **env):
            yield Wired(console, twilio, telegram)


def held_whatsapp_voice_note(wired: Wired) -> tuple[int, str]:
    """A WhatsApp person asks for a person, an agent claims, the person sends a voice note: the URL the
    console page gives for it."""
    voice = payload("twilio", "whatsapp_voice")
    for n, text in enumerate(("hola", "0")):
        wired.whatsapp(
            {**voice, "Body": text, "NumMedia": "0", "MessageSid": f"SM{n:032d}"} | {"MessageType": "text"}
        )
    escalation = wired.escalation_of("whatsapp")
    log_in(wired.client, "agent@example.org")
    wired.claim(escalation.id)
    wired.whatsapp(voice)
    page = wired.client.get(f"/console/conversations/{escalation.id}").text
    prefix = f'<audio controls preload="none" src="/console/conversations/{escalation.id}/media/'
    assert prefix in page, page
    return escalation.id, page.split(prefix)[1].split('"')[0]


def test_a_whatsapp_voice_note_in_a_held_conversation_plays_for_the_agent(wired: Wired) -> None:
    escalation_id, media_id = held_whatsapp_voice_note(wired)
    response = wired.client.get(f"/console/conversations/{escalation_id}/media/{media_id}")
    assert response.status_code == 200 and response.content == VOICE
    assert response.headers["content-type"].startswith("audio/ogg")
    assert "no-store" in response.headers["cache-control"]
    [fetch] = [r for r in wired.twilio.requests if r.method == "GET" and "/Media/" in r.path]
    assert fetch.path.startswith(f"/2010-04-01/Accounts/{TWILIO_SID}/Messages/")
    # the bot stayed quiet for the voice note: the agent holds the conversation
    assert not [r for r in wired.twilio.requests if r.method == "POST" and "Messages.json" in r.path]


def test_a_voice_note_sent_while_the_escalation_waits_is_kept_for_the_agent(wired: Wired) -> None:
    """Someone who asked for a person explains by voice before an agent claims: the bot answers kindly
    (it reads text only) and the agent who then opens the conversation can play it."""
    voice = payload("twilio", "whatsapp_voice")
    before = {**voice, "From": "whatsapp:+50255550001", "MessageSid": "SM" + "a" * 32}
    wired.whatsapp(before)  # no escalation yet: not kept
    for n, text in enumerate(("hola", "0")):
        text_message = {**voice, "Body": text, "NumMedia": "0", "MessageSid": f"SM{n:032d}"}
        wired.whatsapp(text_message | {"MessageType": "text"})
    wired.whatsapp(voice)  # queued, not yet claimed
    with wired.sessions()() as session:
        kept = session.scalars(select(MediaReference)).all()
    assert len(kept) == 1 and kept[0].kind == "voice"
    escalation = wired.escalation_of("whatsapp")
    log_in(wired.client, "agent@example.org")
    wired.claim(escalation.id)
    page = wired.client.get(f"/console/conversations/{escalation.id}").text
    prefix = f'<audio controls preload="none" src="/console/conversations/{escalation.id}/media/'
    assert prefix in page
    media_id = page.split(prefix)[1].split('"')[0]
    played = wired.client.get(f"/console/conversations/{escalation.id}/media/{media_id}")
    assert played.status_code == 200 and played.content == VOICE


def test_the_voice_note_is_refused_to_anyone_not_logged_in(wired: Wired, tmp_path: Path) -> None:
    escalation_id, media_id = held_whatsapp_voice_note(wired)
    url = f"/console/conversations/{escalation_id}/media/{media_id}"
    wired.client.cookies.clear()
    assert wired.client.get(url, follow_redirects=False).status_code == 401
    fetched = [r for r in wired.twilio.requests if r.method == "GET"]
    assert fetched == []  # nothing was fetched for them


def test_an_item_is_reached_only_through_its_own_conversation(wired: Wired) -> None:
    escalation_id, media_id = held_whatsapp_voice_note(wired)
    assert wired.client.get(f"/console/conversations/{escalation_id + 1}/media/{media_id}").status_code == 404
    assert (
        wired.client.get(f"/console/conversations/{escalation_id}/media/{int(media_id) + 1}").status_code
        == 404
    )


def test_an_expired_or_refused_item_is_a_clear_502_not_a_500(wired: Wired) -> None:
    escalation_id, media_id = held_whatsapp_voice_note(wired)
    wired.twilio.failures.append(404)
    response = wired.client.get(f"/console/conversations/{escalation_id}/media/{media_id}")
    assert response.status_code == 502 and "provider" in response.text


def test_a_telegram_voice_note_in_a_held_conversation_plays_through_getfile(wired: Wired) -> None:
    voice = payload("telegram", "voice")
    for n, text in enumerate(("hola", "0")):
        update = json.loads(json.dumps(voice))
        update["update_id"] -= 10 + n
        del update["message"]["voice"]
        update["message"]["text"] = text
        wired.telegram_update(update)
    escalation = wired.escalation_of("telegram")
    log_in(wired.client, "agent@example.org")
    wired.claim(escalation.id)
    wired.telegram_update(voice)
    page = wired.client.get(f"/console/conversations/{escalation.id}").text
    media_id = page.split(f"/console/conversations/{escalation.id}/media/")[1].split('"')[0]
    response = wired.client.get(f"/console/conversations/{escalation.id}/media/{media_id}")
    assert response.status_code == 200 and response.content == VOICE
    [get_file] = wired.telegram.sent("/getFile")
    assert get_file.params["file_id"] == voice["message"]["voice"]["file_id"]


def test_media_references_follow_erasure_and_retention(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/m.db")
    migrate(engine)
    sessions = sessionmaker(engine)
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)
    with sessions.begin() as session:
        for person, at in (("p-erased", None), ("p-old", old), ("p-kept", None)):
            session.add(
                MediaReference(person=person, channel="whatsapp", adapter="twilio", kind="voice", ref="r")
            )
            if at is not None:
                session.flush()
                session.query(MediaReference).filter_by(person=person).update({"at": at})
    with sessions.begin() as session:
        erase_person(session, "p-erased", "whatsapp:+1")
    purge_expired(sessions, days=30)
    with sessions() as session:
        assert [m.person for m in session.scalars(select(MediaReference))] == ["p-kept"]
    engine.dispose()
