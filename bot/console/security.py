"""Staff authentication: argon2 hashes, lockout, roles, the session user and CSRF tokens.

Every console endpoint goes through `guard`: anonymous requests are sent to the login page (pages) or
refused (fragments and actions), wrong roles get 403, and every POST must carry the session's CSRF token.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from bot.db.models import StaffUser

ROLES = ("agent", "editor", "admin")
AGENTS = ("agent", "admin")
EDITORS = ("editor", "admin")
ADMINS = ("admin",)
MAX_FAILURES = 5
LOCKOUT = dt.timedelta(minutes=15)
MIN_PASSWORD = 10
_hasher = PasswordHasher()


@dataclass(frozen=True)
class Staff:
    id: int
    email: str
    role: str


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def aware(moment: dt.datetime | None) -> dt.datetime | None:
    """SQLite gives naive datetimes back: they were written in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


def authenticate(session: Session, email: str, password: str, now: dt.datetime) -> Staff | str:
    """The staff member, or why not ('invalid' or 'locked'); 5 failures lock the account for 15 minutes."""
    user = session.scalars(select(StaffUser).where(StaffUser.email == email.strip().lower())).first()
    if user is None:
        _hasher.hash(password)  # same work as a real check: no timing hint that the email is unknown
        return "invalid"
    locked_until = aware(user.locked_until)
    if locked_until is not None and locked_until > now:
        return "locked"
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.failed_logins, user.locked_until = 0, now + LOCKOUT
            return "locked"
        return "invalid"
    user.failed_logins, user.locked_until = 0, None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return Staff(user.id, user.email, user.role)


def current_staff(request: Request) -> Staff | None:
    data = request.session.get("staff")
    if not isinstance(data, dict):
        return None
    return Staff(int(data["id"]), str(data["email"]), str(data["role"]))


def log_in(request: Request, staff: Staff) -> None:
    """A fresh session (no fixation) holding the staff member and a new CSRF token."""
    request.session.clear()
    request.session["staff"] = {"id": staff.id, "email": staff.email, "role": staff.role}
    request.session["csrf"] = secrets.token_urlsafe(32)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def csrf_ok(request: Request) -> bool:
    expected = request.session.get("csrf")
    form = await request.form()
    given = form.get("csrf")
    return isinstance(expected, str) and isinstance(given, str) and hmac.compare_digest(expected, given)


Endpoint = Callable[[Request, Staff], Awaitable[Response]]


def guard(*roles: str, page: bool = True) -> Callable[[Endpoint], Callable[[Request], Awaitable[Response]]]:
    """Login required (pages redirect to the login form), role checked, CSRF checked on POST."""

    def decorate(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        @wraps(endpoint)
        async def guarded(request: Request) -> Response:
            staff = current_staff(request)
            if staff is None:
                if page and request.method == "GET":
                    return RedirectResponse("/console/login", status_code=303)
                return PlainTextResponse("login required", status_code=401)
            if roles and staff.role not in roles:
                return PlainTextResponse(f"forbidden: this needs the role {' or '.join(roles)}", 403)
            if request.method == "POST" and not await csrf_ok(request):
                return PlainTextResponse("forbidden: missing or wrong CSRF token", status_code=403)
            return await endpoint(request, staff)

        return guarded

    return decorate
