"""What every console view shares: templates (autoescaped), the runtime, SQL in a worker thread,
the audit log and one-shot notices ("flash")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import jinja2
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from bot.console.security import csrf_token, current_staff
from bot.console.sessions import Staff, aware
from bot.db import session_factory
from bot.db.models import AuditEntry
from bot.runtime import Runtime

TEMPLATES = Path(__file__).resolve().parent / "templates"
T = TypeVar("T")
_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
)


def waited(since: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """'45 s', '12 min', '3 h 5 min', '2 d 4 h'."""
    start = aware(since)
    if start is None:
        return ""
    seconds = int(((now or dt.datetime.now(dt.UTC)) - start).total_seconds())
    if seconds < 60:
        return f"{max(seconds, 0)} s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours == 0:
        return f"{minutes} min"
    if days == 0:
        return f"{hours} h {minutes % 60} min"
    return f"{days} d {hours % 24} h"


def clock(moment: dt.datetime | None) -> str:
    moment = aware(moment)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else ""


_env.filters["waited"] = waited
_env.filters["clock"] = clock
templates = Jinja2Templates(env=_env)


def runtime(request: Request) -> Runtime:
    value: Runtime = request.app.state.runtime
    return value


async def db(request: Request, work: Callable[[Session], T]) -> T:
    """Run `work` in one transaction, in a worker thread (SQLAlchemy is synchronous here)."""
    sessions = session_factory(runtime(request).database)

    def run() -> T:
        with sessions.begin() as session:
            return work(session)

    return await run_in_threadpool(run)


async def audit(request: Request, actor: Staff | str, action: str, target: str | None = None) -> None:
    name = actor.email if isinstance(actor, Staff) else actor
    await db(request, lambda s: s.add(AuditEntry(actor=name, action=action, target=target)))


def flash(request: Request, text: str, kind: str = "info") -> None:
    """Assigned, not appended in place: the session only saves what it sees set (a second notice before the
    first was shown used to be lost)."""
    request.session["flash"] = [*request.session.get("flash", []), {"text": text, "kind": kind}]


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    notices = request.session.pop("flash", []) if "session" in request.scope else []
    health = getattr(request.state, "health", [])
    context = {
        "staff": current_staff(request),
        "csrf": csrf_token(request),
        "notices": notices,
        "health": health,
        **context,
    }
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)
