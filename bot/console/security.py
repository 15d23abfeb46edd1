"""Staff authentication: argon2 hashes, roles, the session's staff member and CSRF tokens.

Every console endpoint goes through `guard`: the session is looked up in SQL on every request (so an ended
session stops working at once), anonymous requests are sent to the login page (pages) or refused
(fragments and actions), wrong roles get 403, and every POST must carry the session's CSRF token. A part
that is down gets a page saying what is unavailable, never a 500.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Awaitable, Callable
from functools import wraps

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from bot.console import health
from bot.console.sessions import Staff, session_staff
from bot.db import session_factory
from bot.db.models import StaffUser
from bot.state.base import StoreUnavailable

ROLES = ("agent", "editor", "admin")
AGENTS = ("agent", "admin")
EDITORS = ("editor", "admin")
ADMINS = ("admin",)
MIN_PASSWORD = 10
DATABASE_DOWN = "The console's database is unavailable: nothing can be shown or changed until it is back."
STORE_DOWN = "The conversation store is unavailable: this was not done. Try again when it is back."
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def authenticate(session: Session, email: str, password: str) -> Staff | None:
    """The staff member whose password this is, or None (same work whether the e-mail exists or not)."""
    user = session.scalars(select(StaffUser).where(StaffUser.email == email.strip().lower())).first()
    if user is None:
        _hasher.hash(password)  # no timing hint that the e-mail is unknown
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return Staff(user.id, user.email, user.role)


def refuse_equally(password: str) -> None:
    """A locked attempt costs what a password check costs: no timing hint either."""
    _hasher.hash(password)


def current_staff(request: Request) -> Staff | None:
    """The staff member `guard` found for this request (None on pages outside it, e.g. the login form)."""
    staff = getattr(request.state, "staff", None)
    return staff if isinstance(staff, Staff) else None


def log_in(request: Request, token: str) -> None:
    """A fresh cookie (no fixation) holding the new session's token and a new CSRF token."""
    request.session.clear()
    request.session["sid"] = token
    request.session["csrf"] = secrets.token_urlsafe(32)


def session_token(request: Request) -> str | None:
    token = request.session.get("sid")
    return token if isinstance(token, str) else None


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


async def _staff_of(request: Request) -> Staff | None:
    token = session_token(request)
    if token is None:
        return None
    sessions = session_factory(request.app.state.runtime.database)

    def look_up() -> Staff | None:
        with sessions() as session:
            return session_staff(session, token, dt.datetime.now(dt.UTC))

    return await run_in_threadpool(look_up)


Endpoint = Callable[[Request, Staff], Awaitable[Response]]


def guard(*roles: str, page: bool = True) -> Callable[[Endpoint], Callable[[Request], Awaitable[Response]]]:
    """Login required (pages redirect to the login form), role checked, CSRF checked on POST."""

    def decorate(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        @wraps(endpoint)
        async def guarded(request: Request) -> Response:
            try:
                staff = await _staff_of(request)
                if staff is None:
                    request.session.pop("sid", None)
                    if page and request.method == "GET":
                        return RedirectResponse("/console/login", status_code=303)
                    return PlainTextResponse("login required", status_code=401)
                if roles and staff.role not in roles:
                    return PlainTextResponse(f"forbidden: this needs the role {' or '.join(roles)}", 403)
                if request.method == "POST" and not await csrf_ok(request):
                    return PlainTextResponse("forbidden: missing or wrong CSRF token", status_code=403)
                request.state.staff = staff
                health.heal_in_background(request)
                if page and request.method == "GET":
                    request.state.health = await health.problems(request)
                return await endpoint(request, staff)
            except SQLAlchemyError:
                return PlainTextResponse(DATABASE_DOWN, status_code=503)
            except StoreUnavailable:
                return PlainTextResponse(STORE_DOWN, status_code=503)

        return guarded

    return decorate
