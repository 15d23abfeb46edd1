"""`infobot staff add`: the password on stdin; bad input is one line and a non-zero exit."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.cli import main


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
