"""Failed logins lock per (typed e-mail, client address) and per address, with the same answer whether
the e-mail has an account or not; an attacker elsewhere cannot lock the real agent out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.console.lockout import ADDRESS_LIMIT, PAIR_LIMIT
from bot.console.login import INVALID, LOCKED
from bot.db import make_engine, session_factory
from bot.db.models import AuditEntry, LoginFailure, StaffUser
from tests.console.conftest import PASSWORD, Console, console_for, from_address, log_in, try_login

ATTACKER = "203.0.113.66"
OFFICE = "198.51.100.10"


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    """The console with the per-address request rate limit out of the way: these tests count failures."""
    yield from console_for(tmp_path, INFOBOT_RATE_LIMIT_LOGIN="10000/minute")


def answers(
    console: Console, email: str, times: int, password: str = "wrong password"
) -> list[tuple[int, str]]:
    found = []
    for _ in range(times):
        response = try_login(console.client, email, password)
        message = (
            LOCKED if LOCKED in response.text else INVALID if INVALID in response.text else response.text
        )
        found.append((response.status_code, message))
    return found


def test_a_pair_locks_after_five_failures_the_same_way_for_real_and_unknown_accounts(
    console: Console,
) -> None:
    with from_address(console.client, ATTACKER):
        real = answers(console, "agent@example.org", PAIR_LIMIT + 2)
        unknown = answers(console, "nobody@example.org", PAIR_LIMIT + 2)
    assert real == unknown
    assert real == [(401, INVALID)] * (PAIR_LIMIT - 1) + [(429, LOCKED)] * 3
    with from_address(console.client, ATTACKER):
        locked = try_login(console.client, "agent@example.org", PASSWORD)
    assert (locked.status_code, LOCKED in locked.text) == (429, True)  # the right password does not help
    assert locked.headers["Retry-After"] == "900"


def test_the_real_agent_from_another_address_is_not_locked_out(console: Console) -> None:
    with from_address(console.client, ATTACKER):
        answers(console, "agent@example.org", PAIR_LIMIT + 3)
    with from_address(console.client, OFFICE):
        log_in(console.client, "agent@example.org")
        assert console.client.get("/console/").status_code == 200


def test_one_address_trying_many_accounts_is_locked_whatever_the_account(console: Console) -> None:
    with from_address(console.client, ATTACKER):
        for i in range(ADDRESS_LIMIT):
            assert try_login(console.client, f"guess{i}@example.org").status_code in (401, 429)
        after = try_login(console.client, "admin@example.org", PASSWORD)
    assert after.status_code == 429 and LOCKED in after.text
    with from_address(console.client, OFFICE):
        log_in(console.client, "admin@example.org")


def test_a_success_forgets_the_pairs_failures(console: Console) -> None:
    with from_address(console.client, OFFICE):
        answers(console, "agent@example.org", PAIR_LIMIT - 1)
        log_in(console.client, "agent@example.org")
        console.client.cookies.clear()
        assert answers(console, "agent@example.org", PAIR_LIMIT - 1) == [(401, INVALID)] * (PAIR_LIMIT - 1)


def test_a_lock_ends_after_fifteen_minutes(console: Console) -> None:
    with from_address(console.client, ATTACKER):
        answers(console, "agent@example.org", PAIR_LIMIT)
    with session_factory(make_engine(console.settings.database_url)).begin() as session:
        session.execute(
            update(LoginFailure).values(locked_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    with from_address(console.client, ATTACKER):
        log_in(console.client, "agent@example.org")


def test_the_admin_unlocks_an_account_from_every_address(console: Console) -> None:
    for address in (ATTACKER, OFFICE):
        with from_address(console.client, address):
            answers(console, "agent@example.org", PAIR_LIMIT)
    with from_address(console.client, "192.0.2.1"):
        token = log_in(console.client, "admin@example.org")
        html = console.client.get("/console/admin/staff").text
        row = html.split('data-staff="agent@example.org"', 1)[1].split("</tr>", 1)[0]
        assert "UTC" in row  # locked until ...
        with session_factory(make_engine(console.settings.database_url))() as session:
            agent = session.scalars(select(StaffUser.id).where(StaffUser.email == "agent@example.org")).one()
        page = console.client.post(f"/console/admin/staff/{agent}/unlock", data={"csrf": token}).text
        assert "agent@example.org can log in again." in page
    console.client.cookies.clear()
    with from_address(console.client, OFFICE):
        log_in(console.client, "agent@example.org")


def test_failures_are_audited_and_no_typed_email_or_address_is_stored_in_clear(console: Console) -> None:
    with from_address(console.client, ATTACKER):
        answers(console, "nobody@example.org", PAIR_LIMIT + 1)
    with session_factory(make_engine(console.settings.database_url))() as session:
        actions = session.scalars(select(AuditEntry.action)).all()
        rows = session.scalars(select(LoginFailure)).all()
    assert actions.count("login_failed") == PAIR_LIMIT - 1 and actions.count("login_locked") == 2
    stored = " ".join(f"{r.account} {r.address}" for r in rows)
    assert len(rows) == 2 and "nobody" not in stored and ATTACKER not in stored
