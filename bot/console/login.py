"""Log in and out. Failures are audited; five in a row lock the account for fifteen minutes."""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot.console.security import Staff, authenticate, csrf_ok, guard, log_in
from bot.console.web import audit, back, db, render
from bot.vocab.text import clean_text

LOCKED = "Too many failed attempts: this account is locked for 15 minutes."
INVALID = "Wrong email or password."


async def login_page(request: Request) -> Response:
    return render(request, "login.html", error=None, email="")


async def login_submit(request: Request) -> Response:
    if not await csrf_ok(request):
        return PlainTextResponse("forbidden: missing or wrong CSRF token", status_code=403)
    form = await request.form()
    email = clean_text(str(form.get("email", "")), 320).strip().lower()  # no NUL into SQL
    password = str(form.get("password", ""))
    now = dt.datetime.now(dt.UTC)
    # argon2 is slow on purpose: `db` verifies in a worker thread, inside one transaction
    outcome = await db(request, lambda s: authenticate(s, email, password, now))
    if isinstance(outcome, Staff):
        log_in(request, outcome)
        await audit(request, outcome, "login")
        return back("/console/")
    await audit(request, email[:200] or "(empty)", "login_locked" if outcome == "locked" else "login_failed")
    message = LOCKED if outcome == "locked" else INVALID
    return render(request, "login.html", status_code=401, error=message, email=email)


@guard()
async def logout(request: Request, staff: Staff) -> Response:
    await audit(request, staff, "logout")
    request.session.clear()
    return back("/console/login")
