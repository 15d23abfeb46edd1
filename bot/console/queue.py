"""The queue: open and claimed escalations, most urgent first, then longest waiting; polled live.

A flood of similar escalations is one row (bot/console/floods.py), listed in full on request
(`?flood=<key>`), so a single real emergency stays on top."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from bot.console.floods import Flood, group, openings
from bot.console.security import AGENTS, Staff, guard
from bot.console.web import audit, db, render
from bot.db.models import Escalation

REASONS = {0: "emergency", 1: "trafficking", 2: "asked", 3: "not understood"}
_FLOOD_KEY = re.compile(r"[0-9a-f]{12}")


def waiting(session: Session) -> list[Escalation]:
    query = (
        select(Escalation)
        .where(Escalation.status != "closed")
        .order_by(Escalation.priority, Escalation.created_at, Escalation.id)
    )
    return list(session.scalars(query))


def ordered(session: Session) -> list[Escalation | Flood]:
    """The waiting escalations with floods folded, in the order staff should open them."""
    rows = waiting(session)
    return group(rows, openings(session, [r.person for r in rows if r.status == "open"]))


def _context(request: Request, rows: list[Escalation | Flood]) -> dict[str, Any]:
    floods = [r for r in rows if isinstance(r, Flood)]
    emergencies = [r for r in rows if isinstance(r, Escalation) and r.priority == 0 and r.status == "open"]
    flooded = sum(len(f.members) for f in floods if f.priority == 0)
    wanted = request.query_params.get("flood", "")
    return {
        "rows": [("flood" if isinstance(r, Flood) else "one", r) for r in rows],
        "emergencies": emergencies,
        "flooded_emergencies": flooded,
        "reasons": REASONS,
        "expanded": wanted if _FLOOD_KEY.fullmatch(wanted) else "",
    }


@guard(*AGENTS)
async def queue_page(request: Request, staff: Staff) -> Response:
    rows = await db(request, ordered)
    await audit(request, staff, "view_queue")
    return render(request, "queue.html", **_context(request, rows))


@guard(*AGENTS, page=False)
async def queue_rows(request: Request, staff: Staff) -> Response:
    """The queue table alone, polled every few seconds (not audited: it is the same view, refreshed)."""
    rows = await db(request, ordered)
    return render(request, "_queue.html", **_context(request, rows))
