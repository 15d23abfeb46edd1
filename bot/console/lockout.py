"""Failed console logins, counted per (typed account, client address) and per client address.

Counting per account alone let anyone lock an agent out by failing five times from anywhere, and an unknown
e-mail never locked, which told an attacker which e-mails have accounts. Here a typed e-mail counts the
same whether an account exists or not, and a lock holds for the address the failures came from: the real
agent logging in from their own address is not locked out by an attacker elsewhere. Both keys are keyed
hashes (a mistyped password in the e-mail field is never stored).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.console.sessions import aware
from bot.db.models import LoginFailure
from bot.privacy import derive_key

PAIR_LIMIT = 5
"""Failures of one typed account from one address that lock that pair."""
ADDRESS_LIMIT = 20
"""Failures from one address, whatever the accounts, that lock the address (password spraying)."""
WINDOW = dt.timedelta(minutes=15)
LOCKOUT = dt.timedelta(minutes=15)
ANY_ACCOUNT = ""


@dataclass(frozen=True)
class LoginKeys:
    account: str
    address: str


def _keyed(secret: bytes, kind: str, value: str) -> str:
    key = derive_key(secret, "session")
    return hmac.new(key, f"console-login:{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:40]


def account_key(secret: bytes, email: str) -> str:
    return _keyed(secret, "account", email.strip().lower())


def login_keys(secret: bytes, email: str, address: str) -> LoginKeys:
    return LoginKeys(account_key(secret, email), _keyed(secret, "address", address))


def _rows(session: Session, keys: LoginKeys, *, for_update: bool = False) -> dict[str, LoginFailure]:
    query = select(LoginFailure).where(
        LoginFailure.address == keys.address, LoginFailure.account.in_((keys.account, ANY_ACCOUNT))
    )
    return {row.account: row for row in session.scalars(query.with_for_update() if for_update else query)}


def _locked(row: LoginFailure, now: dt.datetime) -> bool:
    until = aware(row.locked_until)
    return until is not None and until > now


def is_locked(session: Session, keys: LoginKeys, now: dt.datetime) -> bool:
    """Whether this account from this address, or this address at all, is locked now."""
    return any(_locked(row, now) for row in _rows(session, keys).values())


def record_failure(session: Session, keys: LoginKeys, now: dt.datetime) -> bool:
    """Count one failure for the pair and for the address; True when either is locked by it."""
    rows = _rows(session, keys, for_update=True)
    locked = False
    for account, limit in ((keys.account, PAIR_LIMIT), (ANY_ACCOUNT, ADDRESS_LIMIT)):
        row = rows.get(account)
        if row is None:
            row = LoginFailure(account=account, address=keys.address, failures=0, window_started_at=now)
            session.add(row)
        elif (aware(row.window_started_at) or now) <= now - WINDOW and not _locked(row, now):
            row.failures, row.window_started_at, row.locked_until = 0, now, None
        row.failures += 1
        if row.failures >= limit:
            row.failures, row.window_started_at, row.locked_until = 0, now, now + LOCKOUT
            locked = True
    return locked


def forget_pair(session: Session, keys: LoginKeys) -> None:
    """A successful login: this account's failures from this address no longer count."""
    session.execute(
        delete(LoginFailure).where(LoginFailure.account == keys.account, LoginFailure.address == keys.address)
    )


def unlock_account(session: Session, secret: bytes, email: str) -> int:
    """An admin lifts every lock on an account, from every address; returns how many were lifted."""
    result = session.execute(delete(LoginFailure).where(LoginFailure.account == account_key(secret, email)))
    return int(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class AccountLocks:
    failures: int
    """Failures counted now, over every address."""
    locked_until: dt.datetime | None
    """The latest lock on this account from some address, if one holds now."""


def account_locks(
    session: Session, secret: bytes, emails: list[str], now: dt.datetime
) -> dict[str, AccountLocks]:
    keys = {account_key(secret, email): email for email in emails}
    found: dict[str, AccountLocks] = {}
    for row in session.scalars(select(LoginFailure).where(LoginFailure.account.in_(list(keys)))):
        email = keys[row.account]
        before = found.get(email, AccountLocks(0, None))
        until = aware(row.locked_until) if _locked(row, now) else None
        latest = max((u for u in (before.locked_until, until) if u is not None), default=None)
        found[email] = AccountLocks(before.failures + row.failures, latest)
    return found
