"""Admin views: the audit log, and the staff accounts (unlock after a lockout)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from bot.console.security import ADMINS, Staff, guard
from bot.console.web import audit, back, db, flash, render
from bot.db.models import AuditEntry, StaffUser


def _entries(session: Session) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(500)))


@guard(*ADMINS)
async def audit_log(request: Request, staff: Staff) -> Response:
    entries = await db(request, _entries)
    await audit(request, staff, "view_audit_log")
    return render(request, "audit.html", entries=entries)


@guard(*ADMINS)
async def staff_list(request: Request, staff: Staff) -> Response:
    users = await db(request, lambda s: list(s.scalars(select(StaffUser).order_by(StaffUser.email))))
    await audit(request, staff, "view_staff")
    return render(request, "staff.html", users=users)


@guard(*ADMINS)
async def unlock(request: Request, staff: Staff) -> Response:
    user_id = int(request.path_params["user_id"])

    def clear(session: Session) -> str | None:
        user = session.get(StaffUser, user_id)
        if user is None:
            return None
        user.failed_logins, user.locked_until = 0, None
        return user.email

    email = await db(request, clear)
    if email is not None:
        flash(request, f"{email} can log in again.")
        await audit(request, staff, "unlock_staff", email)
    return back("/console/admin/staff")
