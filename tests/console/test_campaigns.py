"""Campaigns in the console: an editor composes, sees the preview per channel and the audience count; the
same editor cannot approve it, a second one (or an admin) approves and schedules it; agents see nothing."""

from __future__ import annotations

from sqlalchemy import select

from bot.campaigns.runner import database, due
from bot.campaigns.subscribers import subscribe
from bot.db.models import AuditEntry, Campaign
from tests.console.conftest import Console, csrf_of, log_in

SPEC = """id: docs-cr
audience: {countries: [CR], languages: [es, ht], topics: [documents]}
messages: {es: "La oficina abre el lunes <b>8</b>", ht: "Biwo a ouvri lendi"}
whatsapp_template: {es: {content_sid: HX0123456789abcdef0123456789abcdef, variables: {"1": "CR"}}}
"""


def test_compose_preview_count_and_a_second_editor_approves(console: Console) -> None:
    client = console.client
    sessions = database(console.settings)
    with sessions.begin() as session:
        for i, (channel, lang) in enumerate([("sms", "es"), ("whatsapp", "es"), ("telegram", "ht")]):
            address = f"+5068888000{i}" if channel != "telegram" else "4242"
            subscribe(
                session,
                console.settings.pseudonym_key,
                channel=channel,
                address=address,
                language=lang,
                country="CR",
                topics=["documents"],
                consent_version="v1",
            )
    csrf = log_in(client, "agent@example.org")
    assert client.get("/console/campaigns").status_code == 403
    client.post("/console/logout", data={"csrf": csrf})

    csrf = log_in(client, "editor@example.org")
    saved = client.post("/console/campaigns", data={"spec": SPEC, "csrf": csrf}, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/console/campaigns/docs-cr"
    page = client.get("/console/campaigns/docs-cr").text
    assert 'id="audience-total">3<' in page
    assert "La oficina abre el lunes &lt;b&gt;8&lt;/b&gt;" in page  # escaped, never markup
    assert "template HX0123456789abcdef0123456789abcdef" in page and "Waiting for a second editor" in page
    refused = client.post("/console/campaigns/docs-cr/approve", data={"csrf": csrf_of(page), "when": ""})
    assert refused.status_code == 200 and "a second editor" in refused.text
    for bad in ("id: [", "x" * 300_000, SPEC.replace("[CR]", "[ZZ]"), SPEC):  # the last: the id is taken
        response = client.post("/console/campaigns", data={"spec": bad, "csrf": csrf})
        assert (
            response.status_code in (200, 400, 413)
            and "Not saved" in response.text
            or response.status_code != 200
        )
    client.post("/console/logout", data={"csrf": csrf})

    csrf = log_in(client, "admin@example.org")
    approved = client.post(
        "/console/campaigns/docs-cr/approve", data={"csrf": csrf, "when": "2020-01-01T08:00"}
    )
    assert "Approved" in approved.text
    with sessions() as session:
        row = session.get(Campaign, "docs-cr")
        assert row is not None and (row.status, row.created_by, row.approved_by) == (
            "approved",
            "editor@example.org",
            "admin@example.org",
        )
        actions = set(session.scalars(select(AuditEntry.action)))
    assert {"campaign_compose", "campaign_approve"} <= actions
    assert [spec.id for spec, _ in due(sessions)] == ["docs-cr"]  # the workers pick it up now
