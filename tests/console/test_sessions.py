"""Console sessions are checked on the server: logout, removal, a role change or a password reset ends
them at once, and a copy of the cookie taken before stops working."""

from __future__ import annotations

import datetime as dt
import io
import time

import pytest
from sqlalchemy import select, update
from starlette.testclient import TestClient

from bot.cli import main
from bot.console import COOKIE, health
from bot.db import make_engine, session_factory
from bot.db.models import AuditEntry, ConsoleSession, Escalation, StaffUser
from tests.console.conftest import Console, create_staff, log_in, try_login
from tests.helpers.app import say


def cookie_of(client: TestClient) -> str:
    value = client.cookies.get(COOKIE)
    assert value, "no session cookie"
    return value


def works(console: Console, cookie: str, path: str = "/console/") -> bool:
    """Whether a request carrying this copy of the cookie is let in."""
    console.client.cookies.clear()
    response = console.client.get(path, headers={"Cookie": f"{COOKIE}={cookie}"}, follow_redirects=False)
    console.client.cookies.clear()
    assert response.status_code in (200, 303, 403), response.status_code
    return response.status_code != 303


def staff_id(console: Console, email: str) -> int:
    with session_factory(make_engine(console.settings.database_url))() as session:
        return session.scalars(select(StaffUser.id).where(StaffUser.email == email)).one()


def test_logout_ends_the_session_even_for_a_copied_cookie(console: Console) -> None:
    token = log_in(console.client, "agent@example.org")
    copied = cookie_of(console.client)
    assert works(console, copied)
    console.client.cookies.set(COOKIE, copied)
    assert (
        console.client.post("/console/logout", data={"csrf": token}, follow_redirects=False).status_code
        == 303
    )
    assert not works(console, copied)
    anonymous = console.client.get("/console/queue/rows", headers={"Cookie": f"{COOKIE}={copied}"})
    assert anonymous.status_code == 401


def test_logout_ends_only_that_session(console: Console) -> None:
    log_in(console.client, "agent@example.org")
    first = cookie_of(console.client)
    console.client.cookies.clear()
    token = log_in(console.client, "agent@example.org")
    second = cookie_of(console.client)
    console.client.post("/console/logout", data={"csrf": token})
    assert not works(console, second) and works(console, first)


def cli(console: Console, monkeypatch: pytest.MonkeyPatch, args: list[str], stdin: str = "") -> int:
    """`infobot ARGS` against the console's database."""
    monkeypatch.setenv("DATABASE_URL", console.settings.database_url)
    monkeypatch.setenv("INFOBOT_SECRET_KEY", console.settings.secret_key.decode())
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(args)


def test_removing_an_account_ends_its_sessions_at_once(
    console: Console, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    log_in(console.client, "agent@example.org")
    agent = cookie_of(console.client)
    console.client.cookies.clear()
    log_in(console.client, "editor@example.org")
    editor = cookie_of(console.client)
    assert cli(console, monkeypatch, ["staff", "remove", "agent@example.org"]) == 0
    assert "1 session(s) ended" in capsys.readouterr().out
    assert not works(console, agent)
    assert works(console, editor, "/console/content")
    assert try_login(console.client, "agent@example.org").status_code == 401


def test_a_password_reset_ends_every_session_of_the_account(
    console: Console, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cookies = []
    for _ in range(2):
        console.client.cookies.clear()
        log_in(console.client, "agent@example.org")
        cookies.append(cookie_of(console.client))
    assert cli(console, monkeypatch, ["staff", "reset", "agent@example.org"], "a new long one!\n") == 0
    assert "2 session(s) ended" in capsys.readouterr().out
    assert not any(works(console, cookie) for cookie in cookies)
    assert try_login(console.client, "agent@example.org").status_code == 401
    log_in(console.client, "agent@example.org", "a new long one!")
    assert console.client.get("/console/").status_code == 200


def test_a_role_change_ends_the_sessions_and_the_next_login_has_the_new_role(console: Console) -> None:
    create_staff(console.settings, "ana@example.org", "admin")
    log_in(console.client, "ana@example.org")
    demoted = cookie_of(console.client)
    assert works(console, demoted, "/console/admin/audit")
    console.client.cookies.clear()
    token = log_in(console.client, "admin@example.org")
    ana = staff_id(console, "ana@example.org")
    html = console.client.post(f"/console/admin/staff/{ana}/role", data={"csrf": token, "role": "agent"}).text
    assert "ana@example.org is now agent; 1 open session(s) ended." in html
    assert not works(console, demoted)
    console.client.cookies.clear()
    log_in(console.client, "ana@example.org")
    assert console.client.get("/console/admin/audit").status_code == 403
    assert console.client.get("/console/").status_code == 200
    with session_factory(make_engine(console.settings.database_url))() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "change_role")).one()
        assert (entry.actor, entry.target) == ("admin@example.org", "ana@example.org:agent")


def test_a_role_in_the_database_is_what_counts_not_the_one_at_login(console: Console) -> None:
    """Even a role changed behind the console's back (SQL) takes effect on the next request."""
    create_staff(console.settings, "ana@example.org", "admin")
    log_in(console.client, "ana@example.org")
    assert console.client.get("/console/admin/audit").status_code == 200
    with session_factory(make_engine(console.settings.database_url)).begin() as session:
        session.execute(update(StaffUser).where(StaffUser.email == "ana@example.org").values(role="editor"))
    assert console.client.get("/console/admin/audit").status_code == 403


def test_an_expired_session_is_refused(console: Console) -> None:
    log_in(console.client, "agent@example.org")
    with session_factory(make_engine(console.settings.database_url)).begin() as session:
        session.execute(
            update(ConsoleSession).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    response = console.client.get("/console/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/console/login"


def test_the_database_keeps_only_a_digest_of_the_cookies_token(console: Console) -> None:
    log_in(console.client, "agent@example.org")
    with session_factory(make_engine(console.settings.database_url))() as session:
        [row] = session.scalars(select(ConsoleSession)).all()
    assert len(row.id) == 64 and row.ended_at is None
    assert row.id not in cookie_of(console.client)


def test_the_admin_sees_open_sessions_per_account(console: Console) -> None:
    log_in(console.client, "agent@example.org")
    console.client.cookies.clear()
    log_in(console.client, "admin@example.org")
    html = console.client.get("/console/admin/staff").text
    row = html.split('data-staff="agent@example.org"', 1)[1].split("</tr>", 1)[0]
    assert "<td>agent</td><td>1</td>" in row


def test_removing_an_agent_puts_the_conversations_they_held_back_in_the_queue(
    console: Console, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(health, "CHECK_SECONDS", 0.0)
    console.escalate("+50600000021")
    token = log_in(console.client, "agent@example.org")
    console.client.post("/console/conversations/1/claim", data={"csrf": token})
    assert say(console.client, "+50600000021", "hola?") == []  # held: the bot is quiet
    assert cli(console, monkeypatch, ["staff", "remove", "agent@example.org"]) == 0
    assert "1 conversation(s) it held back in the queue" in capsys.readouterr().out
    console.client.cookies.clear()
    log_in(console.client, "admin@example.org")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (pending := escalation(console).handover_pending):
        console.client.get("/console/queue/rows")
        time.sleep(0.1)
    assert not pending and (escalation(console).status, escalation(console).claimed_by) == ("open", None)
    assert say(console.client, "+50600000021", "hola") != []  # open again: the bot answers until a claim


def escalation(console: Console) -> Escalation:
    with session_factory(make_engine(console.settings.database_url))() as session:
        row = session.get(Escalation, 1)
        assert row is not None
        return row
