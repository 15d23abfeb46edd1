"""Outbound messages that could not be delivered after retries, with a retry button."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot.console.handover import deliver
from bot.console.security import AGENTS, Staff, guard
from bot.console.web import audit, back, db, flash, render, runtime
from bot.db.models import DeadLetter


def _open_letters(session: Session) -> list[DeadLetter]:
    query = select(DeadLetter).where(DeadLetter.resolved_at.is_(None)).order_by(DeadLetter.created_at.desc())
    return list(session.scalars(query.limit(200)))


@guard(*AGENTS)
async def dead_letters(request: Request, staff: Staff) -> Response:
    letters = await db(request, _open_letters)
    await audit(request, staff, "view_dead_letters")
    return render(request, "dead_letters.html", letters=letters)


@guard(*AGENTS)
async def retry(request: Request, staff: Staff) -> Response:
    """Send again; the old entry is resolved either way (a new failure makes a new dead letter)."""
    letter_id = int(request.path_params["letter_id"])
    letter = await db(request, lambda s: s.get(DeadLetter, letter_id))
    if letter is None or letter.resolved_at is not None:
        return PlainTextResponse("no such dead letter", status_code=404)
    result = await deliver(runtime(request), letter.conversation_id, letter.channel, letter.body, None)

    def resolve(session: Session) -> None:
        row = session.get(DeadLetter, letter_id)
        if row is not None and (result.ok or "dead letters" in result.problem):
            row.resolved_at = dt.datetime.now(dt.UTC)

    await db(request, resolve)
    flash(request, "Delivered." if result.ok else result.problem, "info" if result.ok else "error")
    await audit(
        request, staff, "retry_dead_letter" if result.ok else "retry_failed", f"dead_letter:{letter_id}"
    )
    return back("/console/dead-letters")
