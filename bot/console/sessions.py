"""Console sessions kept in SQL, so that they can be ended from the server.

The signed cookie only carries a random token; every request looks its session up (not ended, not
expired) and reads the staff member's current email and role. Logging out ends that one session; removing
an account, changing its role or resetting its password ends all of them, at once, on every worker.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.db.models import ConsoleSession, StaffUser

SESSION_SECONDS = 8 * 3600
LIFETIME = dt.timedelta(seconds=SESSION_SECONDS)
KEEP_ENDED = dt.timedelta(days=1)
"""Ended and expired rows are deleted a day later (at the next login)."""


@dataclass(frozen=True)
class Staff:
    id: int
    email: str
    role: str


def aware(moment: dt.datetime | None) -> dt.datetime | None:
    """SQLite gives naive datetimes back: they were written in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(session: Session, staff_id: int, now: dt.datetime) -> str:
    """A new session for the staff member; returns the token for the cookie."""
    session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < now - KEEP_ENDED))
    token = secrets.token_urlsafe(32)
    session.add(
        ConsoleSession(id=_digest(token), staff_id=staff_id, created_at=now, expires_at=now + LIFETIME)
    )
    return token


def session_staff(session: Session, token: str, now: dt.datetime) -> Staff | None:
    """Whose session this is, as the account is now; None when it ended, expired or the account is gone."""
    row = session.get(ConsoleSession, _digest(token))
    if row is None or row.ended_at is not None:
        return None
    expires = aware(row.expires_at)
    if expires is None or expires <= now:
        return None
    user = session.get(StaffUser, row.staff_id)
    return None if user is None else Staff(user.id, user.email, user.role)


def end_session(session: Session, token: str, reason: str, now: dt.datetime) -> None:
    session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.id == _digest(token), ConsoleSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )


def end_all_sessions(session: Session, staff_id: int, reason: str, now: dt.datetime) -> int:
    """End every open session of one account; returns how many were open."""
    result = session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.staff_id == staff_id, ConsoleSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def open_sessions(session: Session, now: dt.datetime) -> dict[int, int]:
    """Open sessions per staff id, for the admin's staff list."""
    rows = session.execute(
        select(ConsoleSession.staff_id).where(
            ConsoleSession.ended_at.is_(None), ConsoleSession.expires_at > now
        )
    )
    counts: dict[int, int] = {}
    for (staff_id,) in rows:
        counts[staff_id] = counts.get(staff_id, 0) + 1
    return counts
