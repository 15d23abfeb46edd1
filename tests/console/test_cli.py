"""`infobot staff add`, `remove` and `reset`: the password on stdin; bad input is one line and a non-zero
exit; every change is audited. (That they end sessions at once: tests/console/test_sessions.py.)"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from bot.cli import main
from bot.db import make_engine, session_factory
from bot.db.models import AuditEntry, StaffUser


@pytest.fixture(autouse=True)
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("INFOBOT_SECRET_KEY", "test-secret-key-0123456789abcdefghij")


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str], stdin: str):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(args)
    return code, capsys.readouterr()


def test_staff_add_creates_an_account(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(
        monkeypatch, capsys, ["staff", "add", "Ana@Example.org", "--role", "admin"], "a long password\n"
    )
    assert code == 0 and "ana@example.org: admin account created" in out.out
    code, out = run(
        monkeypatch, capsys, ["staff", "add", "ana@example.org", "--role", "agent"], "a long password\n"
    )
    assert code == 2 and out.err.strip() == "infobot: error: ana@example.org already has an account"


@pytest.mark.parametrize(
    ("args", "password", "error"),
    [
        (["staff", "add", "x@example.org", "--role", "boss"], "a long password", "unknown role 'boss'"),
        (["staff", "add", "x@example.org", "--role", "agent"], "short", "at least 10 characters"),
        (["staff", "add", "not-an-email", "--role", "agent"], "a long password", "is not an email address"),
    ],
)
def test_bad_input_is_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    password: str,
    error: str,
) -> None:
    code, out = run(monkeypatch, capsys, args, password + "\n")
    assert code == 2 and error in out.err and len(out.err.strip().splitlines()) == 1


def audit_trail(tmp_path: Path) -> list[tuple[str, str, str | None]]:
    with session_factory(make_engine(f"sqlite:///{tmp_path}/cli.db"))() as session:
        return [
            (a.actor, a.action, a.target) for a in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


def test_staff_remove_and_reset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for email in ("ana@example.org", "ben@example.org"):
        assert (
            run(monkeypatch, capsys, ["staff", "add", email, "--role", "agent"], "a long password\n")[0] == 0
        )
    code, out = run(monkeypatch, capsys, ["staff", "reset", "Ana@Example.org"], "another long one\n")
    assert code == 0 and out.out.strip() == "ana@example.org: password reset; 0 session(s) ended"
    code, out = run(monkeypatch, capsys, ["staff", "remove", "ben@example.org"], "")
    assert code == 0 and out.out.strip().startswith("ben@example.org: account removed; 0 session(s) ended")
    with session_factory(make_engine(f"sqlite:///{tmp_path}/cli.db"))() as session:
        ana = session.scalars(select(StaffUser).where(StaffUser.email == "ana@example.org")).one()
        assert PasswordHasher().verify(ana.password_hash, "another long one")
        assert session.scalars(select(StaffUser.email)).all() == ["ana@example.org"]
    assert audit_trail(tmp_path)[-2:] == [
        ("cli", "staff_reset", "ana@example.org"),
        ("cli", "staff_remove", "ben@example.org"),
    ]


@pytest.mark.parametrize(
    ("args", "stdin", "error"),
    [
        (["staff", "remove", "ghost@example.org"], "", "no account for ghost@example.org"),
        (["staff", "reset", "ghost@example.org"], "a long password\n", "no account for ghost@example.org"),
        (["staff", "reset", "ana@example.org"], "short\n", "at least 10 characters"),
        (["staff", "remove", "not-an-email"], "", "is not an email address"),
    ],
)
def test_remove_and_reset_errors_are_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    stdin: str,
    error: str,
) -> None:
    run(monkeypatch, capsys, ["staff", "add", "ana@example.org", "--role", "agent"], "a long password\n")
    code, out = run(monkeypatch, capsys, args, stdin)
    assert code == 2 and error in out.err and len(out.err.strip().splitlines()) == 1 and not out.out
