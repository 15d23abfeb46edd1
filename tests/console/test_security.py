"""Console security: login required everywhere, roles, CSRF, inert migrant text, cookie flags.

Sessions and lockout have their own files (test_sessions.py, test_lockout.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.console import COOKIE, routes
from bot.db import make_engine, session_factory
from bot.db.models import AuditEntry, Escalation
from tests.console.conftest import PASSWORD, Console, console_for, log_in

PUBLIC = {"/login"}


def concrete(path: str) -> str:
    return "/console" + re.sub(r"\{[^}]+\}", "1", path)


ROUTES = [(concrete(r.path), method) for r in routes() if r.path not in PUBLIC for method in r.methods or ()]
ROUTES = [(path, method) for path, method in ROUTES if method != "HEAD"]


@pytest.mark.parametrize(("path", "method"), ROUTES)
def test_every_console_route_refuses_anonymous_access(console: Console, path: str, method: str) -> None:
    response = console.client.request(method, path, follow_redirects=False)
    if method == "GET" and response.status_code == 303:
        assert response.headers["location"] == "/console/login"
    else:
        assert response.status_code == 401, (path, response.status_code)


@pytest.mark.parametrize(
    ("email", "path"),
    [
        ("agent@example.org", "/console/admin/audit"),
        ("agent@example.org", "/console/admin/staff"),
        ("agent@example.org", "/console/content"),
        ("editor@example.org", "/console/"),
        ("editor@example.org", "/console/admin/audit"),
    ],
)
def test_roles_are_checked(console: Console, email: str, path: str) -> None:
    log_in(console.client, email)
    assert console.client.get(path).status_code == 403


def test_an_agent_cannot_unlock_accounts_even_with_a_valid_token(console: Console) -> None:
    token = log_in(console.client, "agent@example.org")
    response = console.client.post("/console/admin/staff/1/unlock", data={"csrf": token})
    assert response.status_code == 403


def test_the_admin_sees_the_audit_log_of_views_and_actions(console: Console) -> None:
    log_in(console.client, "agent@example.org")
    console.client.get("/console/")
    console.client.cookies.clear()
    log_in(console.client, "admin@example.org")
    html = console.client.get("/console/admin/audit").text
    assert "view_queue" in html and "agent@example.org" in html and "login" in html


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_a_post_without_the_csrf_token_is_refused(console: Console, token: str | None) -> None:
    console.escalate("+50600000001")
    log_in(console.client, "agent@example.org")
    data = {"text": "hi"} if token is None else {"text": "hi", "csrf": token}
    for path in ("/console/conversations/1/claim", "/console/conversations/1/note", "/console/logout"):
        response = console.client.post(path, data=data, follow_redirects=False)
        assert response.status_code == 403, path
    with session_factory(make_engine(console.settings.database_url))() as session:
        assert session.get(Escalation, 1).status == "open"  # type: ignore[union-attr]


def test_the_login_form_needs_the_csrf_token_too(console: Console) -> None:
    response = console.client.post(
        "/console/login", data={"email": "agent@example.org", "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 403


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> "quoted" & more'


def test_a_migrant_message_with_markup_is_shown_as_inert_text(console: Console) -> None:
    console.escalate("+50600000002", HOSTILE)
    log_in(console.client, "agent@example.org")
    for path in ("/console/conversations/1", "/console/conversations/1/transcript"):
        html = console.client.get(path).text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html
        assert "<script>alert" not in html and "<img src=x" not in html
    assert "script-src 'self'" in console.client.get("/console/").headers["content-security-policy"]


def test_session_cookie_flags_behind_https(tmp_path: Path) -> None:
    for console in console_for(tmp_path, PUBLIC_BASE_URL="https://bot.example.org"):
        console.client.base_url = "https://testserver"  # type: ignore[assignment]
        response = console.client.get("/console/login")
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(COOKIE + "=")
        flags = {part.strip().lower() for part in cookie.split(";")}
        assert {"httponly", "secure", "samesite=lax", "path=/console"} <= flags


def test_session_cookie_is_httponly_and_lax_on_plain_http(console: Console) -> None:
    flags = {p.strip().lower() for p in console.client.get("/console/login").headers["set-cookie"].split(";")}
    assert {"httponly", "samesite=lax"} <= flags and "secure" not in flags


def transcript_audits(console: Console) -> list[tuple[str, str, str | None]]:
    with session_factory(make_engine(console.settings.database_url))() as session:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.action.in_(("view_transcript", "view_conversation")))
        )
        return [(a.actor, a.action, a.target) for a in rows]


def test_every_transcript_read_is_audited_once_per_session_and_escalation(console: Console) -> None:
    """The live fragment read on its own is audited; its refreshes (every 2 s) and the page's own are not
    audited again in the same session; the page is audited on every view."""
    console.escalate("+50600000003")
    console.escalate("+50600000004")
    log_in(console.client, "agent@example.org")
    for _ in range(3):
        assert console.client.get("/console/conversations/1/transcript").status_code == 200
    assert transcript_audits(console) == [("agent@example.org", "view_transcript", "escalation:1")]
    console.client.get("/console/conversations/2")
    console.client.get("/console/conversations/2/transcript")
    console.client.get("/console/conversations/2")
    assert transcript_audits(console)[1:] == [("agent@example.org", "view_conversation", "escalation:2")] * 2
    console.client.cookies.clear()
    log_in(console.client, "admin@example.org")
    console.client.get("/console/conversations/1/transcript")
    assert transcript_audits(console)[-1] == ("admin@example.org", "view_transcript", "escalation:1")
