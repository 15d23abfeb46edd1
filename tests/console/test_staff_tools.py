"""Staff tools: a referral logged from a conversation, an escalation opened by staff, the scam reports."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import time

from sqlalchemy import select

from bot.db import make_engine, session_factory
from bot.db.models import AuditEntry, Escalation, Referral, ScamReport, TranscriptMessage
from bot.dialogue.referral import CONSENT_VERSION
from bot.referrals import Directory
from tests.console.conftest import Console, log_in
from tests.console.test_actions import add_rows, notices
from tests.helpers.fake_provider import serve


def rows(console: Console, model: type) -> list:  # type: ignore[type-arg]
    with session_factory(make_engine(console.settings.database_url))() as session:
        return list(session.scalars(select(model).order_by(model.id)))  # type: ignore[attr-defined]


def actions(console: Console) -> list[str]:
    return [a.action for a in rows(console, AuditEntry)]


def person_escalation(country: str | None) -> Escalation:
    return Escalation(
        conversation_id="rest:+50600000020",
        person="p-referral",
        channel="rest",
        language="es",
        country=country,
        reason="asked",
        priority=2,
    )


def test_a_referral_from_a_conversation_needs_consent_and_shows_its_code(console: Console) -> None:
    add_rows(console, person_escalation("CR"))
    token = log_in(console.client, "agent@example.org")
    page = console.client.get("/console/conversations/1").text
    assert 'value="cr-san-jose"' in page and 'value="gt-tecun-uman"' not in page
    assert 'value="counter_trafficking"' in page and "The person consented by phone/chat" in page
    url = "/console/conversations/1/referral"
    form = {"csrf": token, "service": "legal_aid", "hub": "cr-san-jose"}
    refused = console.client.post(url, data=form)
    assert refused.status_code == 400
    assert any("Not logged: tick" in n for n in notices(refused.text))
    wrong_hub = console.client.post(url, data={**form, "consent": "yes", "hub": "gt-tecun-uman"})
    assert wrong_hub.status_code == 400 and "choose a hub" in wrong_hub.text
    assert rows(console, Referral) == []
    assert (
        console.client.post(url, data={**form, "consent": "yes"}, follow_redirects=False).status_code == 303
    )
    [referral] = rows(console, Referral)
    assert (referral.service, referral.hub_id, referral.country) == ("legal_aid", "cr-san-jose", "CR")
    assert (referral.person, referral.channel, referral.language) == ("p-referral", "rest", "es")
    assert referral.consent_version == "staff-" + CONSENT_VERSION and referral.status == "new"
    page = console.client.get("/console/conversations/1").text
    assert any(f"Referral code: {referral.code}" in n for n in notices(page))
    [note] = [m for m in rows(console, TranscriptMessage) if m.direction == "note"]
    assert referral.code in note.text and note.author == "agent@example.org"
    assert referral.code in page
    assert {"referral", "referral_refused"} <= set(actions(console))
    without_token = {"service": "health", "hub": "cr-san-jose", "consent": "yes"}
    assert console.client.post(url, data=without_token).status_code == 403
    assert len(rows(console, Referral)) == 1


def test_a_staff_referral_reaches_the_hubs_webhook_like_the_bots(console: Console) -> None:
    add_rows(console, person_escalation("CR"))
    service = console.client.app.state.runtime.conversations  # type: ignore[attr-defined]
    with serve(lambda _request: (200, {"status": "received"})) as hub_api:
        service.directory = Directory(
            tuple(
                dataclasses.replace(h, webhook_url=f"{hub_api.url}/referrals") if h.id == "cr-san-jose" else h
                for h in service.directory.hubs
            )
        )
        token = log_in(console.client, "agent@example.org")
        form = {"csrf": token, "service": "legal_aid", "hub": "cr-san-jose", "consent": "yes"}
        response = console.client.post("/console/conversations/1/referral", data=form, follow_redirects=False)
        assert response.status_code == 303
        deadline = time.monotonic() + 10
        while not hub_api.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        [delivery] = hub_api.requests
    [referral] = rows(console, Referral)
    assert delivery.json["code"] == referral.code and delivery.json["hub_id"] == "cr-san-jose"
    assert "50600000020" not in delivery.body.decode() and referral.person not in delivery.body.decode()
    deadline = time.monotonic() + 10
    while rows(console, Referral)[0].status != "sent" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert rows(console, Referral)[0].status == "sent"


def test_a_person_of_unknown_country_can_be_referred_to_any_hub(console: Console) -> None:
    add_rows(console, person_escalation(None))
    log_in(console.client, "agent@example.org")
    page = console.client.get("/console/conversations/1").text
    assert (
        'value="cr-san-jose"' in page and 'value="gt-tecun-uman"' in page and 'value="ht-cap-haitien"' in page
    )


def test_staff_can_open_an_escalation_again_for_someone_who_wrote_recently(console: Console) -> None:
    console.escalate("+50600000021")
    token = log_in(console.client, "agent@example.org")
    console.client.post("/console/conversations/1/claim", data={"csrf": token})
    console.client.post("/console/conversations/1/close", data={"csrf": token, "outcome": "answered"})
    console.client.post("/webhooks/rest/webhook", json={"sender": "+50600000022", "message": "hola"})
    [first] = rows(console, Escalation)
    page = console.client.get("/console/recent").text
    assert page.count("Open for a person") == 1 and f'value="{first.person}"' in page
    assert "No address stored" in page
    opened = console.client.post("/console/recent/open", data={"csrf": token, "person": first.person})
    assert "Escalation opened" in opened.text and "Conversation #2" in opened.text
    second = rows(console, Escalation)[1]
    assert (second.reason, second.priority, second.status) == ("staff", 2, "open")
    assert (second.conversation_id, second.person, second.channel) == (
        "rest:+50600000021",
        first.person,
        "rest",
    )
    assert 'href="/console/conversations/2"' in console.client.get("/console/").text
    assert "Open for a person" not in console.client.get("/console/recent").text
    again = console.client.post("/console/recent/open", data={"csrf": token, "person": first.person})
    assert "already has an open escalation" in again.text and len(rows(console, Escalation)) == 2
    [stranger] = {m.person for m in rows(console, TranscriptMessage)} - {first.person}
    refused = console.client.post("/console/recent/open", data={"csrf": token, "person": stranger})
    assert any("Not opened" in n for n in notices(refused.text))
    assert {"view_recent", "open_escalation", "open_escalation_refused"} <= set(actions(console))
    console.client.cookies.clear()
    token = log_in(console.client, "editor@example.org")
    assert console.client.get("/console/recent").status_code == 403
    assert (
        console.client.post("/console/recent/open", data={"csrf": token, "person": stranger}).status_code
        == 403
    )


def test_scam_reports_are_counted_and_shown_escaped(console: Console) -> None:
    monday = dt.datetime(2026, 11, 16, 10, tzinfo=dt.UTC)
    report = {"person": "p", "channel": "sms", "language": "es", "verdict": "likely_scam"}
    add_rows(
        console,
        ScamReport(
            **report, at=monday, country="CR", signals="upfront_fee,too_good", text="pay [PHONE] first"
        ),
        ScamReport(**report, at=monday + dt.timedelta(days=7), country="CR", signals="upfront_fee", text="x"),
        ScamReport(**report, at=monday + dt.timedelta(days=8), country=None, signals="", text="<b>job</b>"),
    )
    log_in(console.client, "editor@example.org")
    page = console.client.get("/console/scams").text
    assert '<a href="/console/scams">Scam reports</a>' in page
    assert "<tr><td>CR</td><td>2</td></tr>" in page and "<tr><td>unknown</td><td>1</td></tr>" in page
    assert (
        "<tr><td>upfront_fee</td><td>2</td></tr>" in page and "<tr><td>too_good</td><td>1</td></tr>" in page
    )
    assert "<tr><td>2026-W48</td><td>2</td></tr>" in page and "<tr><td>2026-W47</td><td>1</td></tr>" in page
    assert "&lt;b&gt;job&lt;/b&gt;" in page and "<b>job</b>" not in page
    newest = page.split('id="scams-newest"')[1]
    assert re.findall(r"<td>(2026-11-\d\d) ", newest) == ["2026-11-24", "2026-11-23", "2026-11-16"]
    console.client.cookies.clear()
    log_in(console.client, "agent@example.org")
    assert console.client.get("/console/scams").status_code == 200
    assert actions(console).count("view_scams") == 2
