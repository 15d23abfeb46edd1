"""Log in and out. Failures are audited and counted per (typed e-mail, client address) and per address
(bot/console/lockout.py): the answer is the same whether the e-mail has an account or not."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot.console.lockout import LOCKOUT, LoginKeys, forget_pair, is_locked, login_keys, record_failure
from bot.console.security import (
    DATABASE_DOWN,
    authenticate,
    csrf_ok,
    guard,
    log_in,
    refuse_equally,
    session_token,
)
from bot.console.sessions import Staff, end_session, start_session
from bot.console.web import audit, back, db, render, runtime
from bot.vocab.text import clean_text

LOCKED = "Too many failed attempts from your address: try again in 15 minutes, or ask an admin to unlock."
INVALID = "Wrong email or password."


async def login_page(request: Request) -> Response:
    return render(request, "login.html", error=None, email="")


def client_address(request: Request) -> str:
    """The client as uvicorn sees it (forwarded headers count only from the configured proxies)."""
    return request.client.host if request.client else "unknown"


def _attempt(session: Session, keys: LoginKeys, email: str, password: str) -> tuple[Staff, str] | str:
    """(staff, session token), or why not: 'locked' or 'invalid'. One transaction; argon2 either way."""
    now = dt.datetime.now(dt.UTC)
    if is_locked(session, keys, now):
        refuse_equally(password)
        return "locked"
    staff = authenticate(session, email, password)
    if staff is None:
        return "locked" if record_failure(session, keys, now) else "invalid"
    forget_pair(session, keys)
    return staff, start_session(session, staff.id, now)


async def _try(request: Request, keys: LoginKeys, email: str, password: str) -> tuple[Staff, str] | str:
    try:
        return await db(request, lambda s: _attempt(s, keys, email, password))
    except IntegrityError:  # two failures raced to create the same counter: count this one again
        return await db(request, lambda s: _attempt(s, keys, email, password))


async def login_submit(request: Request) -> Response:
    if not await csrf_ok(request):
        return PlainTextResponse("forbidden: missing or wrong CSRF token", status_code=403)
    form = await request.form()
    email = clean_text(str(form.get("email", "")), 320).strip().lower()  # no NUL into SQL
    password = str(form.get("password", ""))
    keys = login_keys(runtime(request).settings.secret_key, email, client_address(request))
    try:
        outcome = await _try(request, keys, email, password)
        if isinstance(outcome, tuple):
            staff, token = outcome
            log_in(request, token)
            await audit(request, staff, "login")
            return back("/console/content/entries" if staff.role == "editor" else "/console/")
        await audit(
            request, email[:200] or "(empty)", "login_locked" if outcome == "locked" else "login_failed"
        )
    except SQLAlchemyError:
        return PlainTextResponse(DATABASE_DOWN, status_code=503)
    if outcome == "locked":
        response = render(request, "login.html", status_code=429, error=LOCKED, email=email)
        response.headers["Retry-After"] = str(int(LOCKOUT.total_seconds()))
        return response
    return render(request, "login.html", status_code=401, error=INVALID, email=email)


@guard()
async def logout(request: Request, staff: Staff) -> Response:
    token = session_token(request)
    if token is not None:
        await db(request, lambda s: end_session(s, token, "logout", dt.datetime.now(dt.UTC)))
    await audit(request, staff, "logout")
    request.session.clear()
    return back("/console/login")
