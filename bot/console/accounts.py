"""Console accounts from the command line: `infobot staff add`, `remove` and `reset`.

Removing an account or resetting its password ends its sessions at once (bot/console/sessions.py); each
change is written to the audit log with the actor "cli".
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from bot.console.security import MIN_PASSWORD, ROLES, hash_password
from bot.console.sessions import end_all_sessions
from bot.db import session_factory
from bot.db.models import AuditEntry, Escalation, StaffUser


class AccountError(ValueError):
    """Why the account cannot be created or changed, in one line."""


def _email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or len(email) > 200 or " " in email:
        raise AccountError(f"'{email}' is not an email address")
    return email


def _password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
    return password


def _account(session: Session, email: str) -> StaffUser:
    user = session.scalars(select(StaffUser).where(StaffUser.email == email)).first()
    if user is None:
        raise AccountError(f"no account for {email}")
    return user


def add_staff(engine: Engine, email: str, role: str, password: str) -> None:
    email = _email(email)
    if role not in ROLES:
        raise AccountError(f"unknown role '{role}': use one of {', '.join(ROLES)}")
    _password(password)
    with session_factory(engine).begin() as session:
        if session.scalars(select(StaffUser).where(StaffUser.email == email)).first() is not None:
            raise AccountError(f"{email} already has an account")
        session.add(StaffUser(email=email, password_hash=hash_password(password), role=role))
        session.add(AuditEntry(actor="cli", action="staff_add", target=f"{email}:{role}"))


def remove_staff(engine: Engine, email: str) -> tuple[int, int]:
    """Delete the account; its sessions end and the conversations it held go back to the queue (the bot
    answers them again until someone claims them: their quiet flag follows at the console's next pass).
    Returns (sessions ended, conversations released)."""
    email = _email(email)
    with session_factory(engine).begin() as session:
        user = _account(session, email)
        ended = end_all_sessions(session, user.id, "account_removed", dt.datetime.now(dt.UTC))
        released = session.execute(
            update(Escalation)
            .where(Escalation.status == "claimed", Escalation.claimed_by == email)
            .values(status="open", claimed_by=None, claimed_at=None, handover_pending=True)
        )
        session.delete(user)
        session.add(AuditEntry(actor="cli", action="staff_remove", target=email))
        return ended, int(released.rowcount)  # type: ignore[attr-defined]


def reset_password(engine: Engine, email: str, password: str) -> int:
    """A new password; every session of the account ends. Returns how many were open."""
    email = _email(email)
    _password(password)
    with session_factory(engine).begin() as session:
        user = _account(session, email)
        user.password_hash = hash_password(password)
        ended = end_all_sessions(session, user.id, "password_reset", dt.datetime.now(dt.UTC))
        session.add(AuditEntry(actor="cli", action="staff_reset", target=email))
        return ended
