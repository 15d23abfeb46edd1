"""Admin views: the audit log, and the staff accounts (unlock after a lockout, change a role)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from bot.console.lockout import account_locks, unlock_account
from bot.console.security import ADMINS, ROLES, Staff, guard
from bot.console.sessions import end_all_sessions, open_sessions
from bot.console.web import audit, back, db, flash, render, runtime
from bot.db.models import AuditEntry, StaffUser


@dataclass(frozen=True)
class StaffRow:
    id: int
    email: str
    role: str
    failed_logins: int
    locked_until: dt.datetime | None
    sessions: int


def _entries(session: Session) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(500)))


@guard(*ADMINS)
async def audit_log(request: Request, staff: Staff) -> Response:
    entries = await db(request, _entries)
    await audit(request, staff, "view_audit_log")
    return render(request, "audit.html", entries=entries)


@guard(*ADMINS)
async def staff_list(request: Request, staff: Staff) -> Response:
    secret = runtime(request).settings.secret_key

    def rows(session: Session) -> list[StaffRow]:
        now = dt.datetime.now(dt.UTC)
        users = list(session.scalars(select(StaffUser).order_by(StaffUser.email)))
        locks = account_locks(session, secret, [u.email for u in users], now)
        counts = open_sessions(session, now)
        return [
            StaffRow(
                u.id,
                u.email,
                u.role,
                locks[u.email].failures if u.email in locks else 0,
                locks[u.email].locked_until if u.email in locks else None,
                counts.get(u.id, 0),
            )
            for u in users
        ]

    users = await db(request, rows)
    await audit(request, staff, "view_staff")
    return render(request, "staff.html", users=users, roles=ROLES)


@guard(*ADMINS)
async def unlock(request: Request, staff: Staff) -> Response:
    """Lift every lock on the account, from every address."""
    user_id = int(request.path_params["user_id"])
    secret = runtime(request).settings.secret_key

    def clear(session: Session) -> str | None:
        user = session.get(StaffUser, user_id)
        if user is None:
            return None
        unlock_account(session, secret, user.email)
        return user.email

    email = await db(request, clear)
    if email is not None:
        flash(request, f"{email} can log in again.")
        await audit(request, staff, "unlock_staff", email)
    return back("/console/admin/staff")


@guard(*ADMINS)
async def change_role(request: Request, staff: Staff) -> Response:
    """A new role ends the account's sessions at once: the next request logs in with the new role."""
    user_id = int(request.path_params["user_id"])
    role = str((await request.form()).get("role", ""))
    if role not in ROLES:
        flash(request, f"Unknown role: choose one of {', '.join(ROLES)}.", "error")
        return back("/console/admin/staff")

    def change(session: Session) -> tuple[str, int] | None:
        user = session.get(StaffUser, user_id)
        if user is None or user.role == role:
            return None
        user.role = role
        return user.email, end_all_sessions(session, user.id, "role_changed", dt.datetime.now(dt.UTC))

    changed = await db(request, change)
    if changed is not None:
        email, ended = changed
        flash(request, f"{email} is now {role}; {ended} open session(s) ended.")
        await audit(request, staff, "change_role", f"{email}:{role}")
    return back("/console/admin/staff")
