"""The queue: open and claimed escalations, most urgent first, then longest waiting; polled live."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from bot.console.security import AGENTS, Staff, guard
from bot.console.web import audit, db, render
from bot.db.models import Escalation

REASONS = {0: "emergency", 1: "trafficking", 2: "asked", 3: "not understood"}


def waiting(session: Session) -> list[Escalation]:
    query = (
        select(Escalation)
        .where(Escalation.status != "closed")
        .order_by(Escalation.priority, Escalation.created_at, Escalation.id)
    )
    return list(session.scalars(query))


def _context(rows: list[Escalation]) -> dict[str, Any]:
    emergencies = [r for r in rows if r.priority == 0 and r.status == "open"]
    return {"rows": rows, "emergencies": emergencies, "reasons": REASONS}


@guard(*AGENTS)
async def queue_page(request: Request, staff: Staff) -> Response:
    rows = await db(request, waiting)
    await audit(request, staff, "view_queue")
    return render(request, "queue.html", **_context(rows))


@guard(*AGENTS, page=False)
async def queue_rows(request: Request, staff: Staff) -> Response:
    """The queue table alone, polled every few seconds (not audited: it is the same view, refreshed)."""
    rows = await db(request, waiting)
    return render(request, "_queue.html", **_context(rows))
