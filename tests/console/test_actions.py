"""Console actions through plain HTTP: claim once, refusals said clearly, dead letters, editor views."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.db import make_engine, session_factory
from bot.db.models import AuditEntry, DeadLetter, Escalation, UnansweredQuestion
from bot.dialogue.state import ConversationState
from bot.state.record import StoredConversation
from tests.channels.conftest import TELEGRAM_SECRET, TELEGRAM_TOKEN
from tests.console.conftest import Console, console_for, create_staff, log_in
from tests.helpers.fake_provider import serve, telegram_responder
from tests.identity.webchat import OUTBOX, open_web_chat


def escalation(conversation_id: str, channel: str) -> Escalation:
    return Escalation(
        conversation_id=conversation_id,
        person=f"p-{channel}",
        channel=channel,
        language="es",
        reason="asked",
        priority=2,
    )


def notices(html: str) -> list[str]:
    return re.findall(r'<div class="notice[^"]*" role="status">(.*?)</div>', html, flags=re.S)


def add_rows(console: Console, *rows: object) -> None:
    with session_factory(make_engine(console.settings.database_url)).begin() as session:
        session.add_all(rows)


def state_of(console: Console, conversation_id: str) -> ConversationState:
    store = console.client.app.state.runtime.store  # type: ignore[attr-defined]
    return StoredConversation.from_dict(console.client.portal.call(store.get, conversation_id)).dialogue  # type: ignore[union-attr]


def test_only_one_agent_can_claim_and_the_bot_goes_quiet(console: Console) -> None:
    console.escalate("+50600000010")
    create_staff(console.settings, "second@example.org", "agent")
    token = log_in(console.client, "second@example.org")
    console.client.post("/console/conversations/1/claim", data={"csrf": token})
    assert state_of(console, "rest:+50600000010").handed_over
    quiet = console.client.post("/webhooks/rest/webhook", json={"sender": "+50600000010", "message": "hola?"})
    assert quiet.json() == []
    console.client.cookies.clear()
    token = log_in(console.client, "agent@example.org")
    html = console.client.post("/console/conversations/1/claim", data={"csrf": token}).text
    assert "already claimed" in html
    html = console.client.post("/console/conversations/1/reply", data={"csrf": token, "text": "hi"}).text
    assert "Claim the conversation first" in html


def test_outside_the_whatsapp_window_the_console_says_so_and_sends_nothing(console: Console) -> None:
    add_rows(console, escalation("whatsapp:+50688880000", "whatsapp"))
    token = log_in(console.client, "agent@example.org")
    console.client.post("/console/conversations/1/claim", data={"csrf": token})
    html = console.client.post("/console/conversations/1/reply", data={"csrf": token, "text": "Hola"}).text
    [message] = [n for n in notices(html) if "24-hour" in n]
    assert "Not sent" in message and "63016" in message
    with session_factory(make_engine(console.settings.database_url))() as session:
        assert session.query(DeadLetter).count() == 0
        assert "reply_refused" in [a.action for a in session.query(AuditEntry)]


def test_a_person_who_opted_out_is_not_written_to(console: Console) -> None:
    console.escalate("+50600000011", "STOP")
    token = log_in(console.client, "agent@example.org")
    console.client.post("/console/conversations/1/claim", data={"csrf": token})
    html = console.client.post("/console/conversations/1/reply", data={"csrf": token, "text": "Hola"}).text
    assert any("opted out" in n for n in notices(html))


def test_a_reply_on_the_web_chat_waits_until_the_page_fetches_it_once(console: Console) -> None:
    person = open_web_chat(console.client)
    assert person.say("0").status_code == 200
    assert person.outbox().json() == []
    token = log_in(console.client, "agent@example.org")
    console.client.post("/console/conversations/1/claim", data={"csrf": token})
    for text in ("Hola, soy Ana del equipo.", "¿En qué ciudad está?"):
        html = console.client.post("/console/conversations/1/reply", data={"csrf": token, "text": text}).text
        assert "Sent." in notices(html)
    assert open_web_chat(console.client).outbox().json() == []  # someone else's page
    assert console.client.post(OUTBOX, json={"sender": person.sender}).status_code == 401  # no token
    first = person.outbox()
    assert first.status_code == 200
    assert [(m["recipient_id"], m["text"], m["metadata"]["language"]) for m in first.json()] == [
        (person.sender, "Hola, soy Ana del equipo.", "es"),
        (person.sender, "¿En qué ciudad está?", "es"),
    ]
    assert person.outbox().json() == []
    # While staff hold the conversation the bot stays quiet; the person's message is for staff.
    said = person.say("San José")
    assert said.status_code == 200 and said.json() == []


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b"{}", b'{"sender": ""}', b'{"sender": 5}', b'{"sender": "' + b"x" * 200 + b'"}'],
)
def test_a_malformed_outbox_request_gets_a_clear_400(tmp_path: Path, body: bytes) -> None:
    """Only a front-end holding REST_API_TOKEN names the sender whose outbox it reads."""
    for console in console_for(tmp_path, REST_API_TOKEN="front-end-token-0123456789"):
        headers = {"Content-Type": "application/json", "Authorization": "Bearer front-end-token-0123456789"}
        response = console.client.post(OUTBOX, content=body, headers=headers)
        assert response.status_code == 400 and response.json()["error"]


def test_an_undeliverable_reply_goes_to_the_dead_letters_and_can_be_retried(tmp_path: Path) -> None:
    with serve(telegram_responder) as api:
        env = {"TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET}
        for console in console_for(tmp_path, TELEGRAM_API_BASE=f"{api.url}/bot", **env):
            console.client.app.state.runtime.sender.base_delay = 0.01  # type: ignore[attr-defined]
            add_rows(console, escalation("telegram:7301", "telegram"))
            token = log_in(console.client, "agent@example.org")
            console.client.post("/console/conversations/1/claim", data={"csrf": token})
            api.failures.extend([500] * 4)
            html = console.client.post(
                "/console/conversations/1/reply", data={"csrf": token, "text": "Hola"}
            ).text
            assert any("Not delivered" in n and "dead letters" in n for n in notices(html))
            letters = console.client.get("/console/dead-letters").text
            assert "Hola" in letters and "Retry" in letters
            html = console.client.post("/console/dead-letters/1/retry", data={"csrf": token}).text
            assert any("Delivered." in n for n in notices(html)) and "Nothing waiting" in html
            assert [r.params["text"] for r in api.sent("sendMessage")][-1] == "Hola"


def test_close_records_the_outcome_and_hands_back(console: Console) -> None:
    console.escalate("+50600000013")
    token = log_in(console.client, "agent@example.org")
    console.client.post("/console/conversations/1/claim", data={"csrf": token})
    html = console.client.post(
        "/console/conversations/1/close", data={"csrf": token, "outcome": "referred"}
    ).text
    assert "Closed (referred)" in html and "Nobody is waiting." in html
    assert not state_of(console, "rest:+50600000013").handed_over
    answer = console.client.post("/webhooks/rest/webhook", json={"sender": "+50600000013", "message": "hola"})
    assert answer.json()


def test_the_editor_sees_each_channel_rendering_and_what_to_review(console: Console) -> None:
    add_rows(
        console,
        *[
            UnansweredQuestion(person="p", channel="sms", language="ht", text=t)
            for t in (
                "Ki kote m ka jwenn [PHONE]",
                "ki kote m ka jwenn [PHONE]",
                "ki kote m ka jwenn [PHONE]",
            )
        ],
    )
    log_in(console.client, "editor@example.org")
    html = console.client.get("/console/content?lang=ht&country=HT").text
    assert "ask_documents" in html and "<strong>*1*</strong>" not in html and "*1*" in html
    review = console.client.get("/console/content/review").text
    assert "<td>3</td><td>ht</td><td>Ki kote m ka jwenn [PHONE]</td>" in review
    assert console.client.get("/console/content?lang=xx&country=ZZ").status_code == 200


def test_canned_replies_exist_in_every_language() -> None:
    from bot.console.canned import CANNED, canned_replies

    replies = canned_replies()
    for lang in ("es", "fr", "ht"):
        assert all(text != english for (_, text), (_, english) in zip(replies[lang], CANNED, strict=True)), (
            lang
        )


def test_a_web_chat_that_fetches_nothing_stops_taking_messages_with_a_clear_reason(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.webchat

    monkeypatch.setattr(bot.webchat, "OUTBOX_LIMIT", 1)
    person = open_web_chat(console.client)
    assert person.say("0").status_code == 200
    token = log_in(console.client, "agent@example.org")
    console.client.post("/console/conversations/1/claim", data={"csrf": token})
    first = console.client.post("/console/conversations/1/reply", data={"csrf": token, "text": "Hola"}).text
    assert "Sent." in notices(first)
    reply = "/console/conversations/1/reply"
    second = console.client.post(reply, data={"csrf": token, "text": "¿Sigue?"}).text
    assert any(n.startswith("Not sent") and "has not fetched" in n for n in notices(second))
    waiting = person.outbox().json()
    assert [m["text"] for m in waiting] == ["Hola"]
