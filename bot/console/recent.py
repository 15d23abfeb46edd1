"""Recent conversations: people who wrote in the last 24 hours and are not in the queue.

An agent can open an escalation for one of them ("staff", priority 2). Only escalations store the
person's channel address, so this works for people who had an escalation before (it is re-opened as a
new one from the newest closed escalation that still has the address); others are listed without it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from bot.console.security import AGENTS, Staff, guard
from bot.console.web import audit, back, db, flash, render
from bot.db.models import Escalation, TranscriptMessage
from bot.records import PRIORITY

WINDOW = dt.timedelta(hours=24)
LIMIT = 100
STAFF_REASON = "staff"


@dataclass(frozen=True)
class RecentPerson:
    person: str
    last_at: dt.datetime
    messages: int
    previous: Escalation | None
    """The newest closed escalation that still has the address: what a re-open copies."""


def _previous(session: Session, persons: list[str]) -> dict[str, Escalation]:
    query = (
        select(Escalation)
        .where(
            Escalation.person.in_(persons), Escalation.status == "closed", Escalation.conversation_id != ""
        )
        .order_by(Escalation.id.desc())
    )
    found: dict[str, Escalation] = {}
    for row in session.scalars(query):
        found.setdefault(row.person, row)
    return found


def recent(session: Session, now: dt.datetime | None = None) -> list[RecentPerson]:
    since = (now or dt.datetime.now(dt.UTC)) - WINDOW
    last = func.max(TranscriptMessage.at)
    queued = select(Escalation.person).where(Escalation.status != "closed")
    query = (
        select(TranscriptMessage.person, last, func.count(TranscriptMessage.id))
        .where(TranscriptMessage.at >= since, TranscriptMessage.person.not_in(queued))
        .group_by(TranscriptMessage.person)
        .order_by(last.desc())
        .limit(LIMIT)
    )
    rows = list(session.execute(query))
    previous = _previous(session, [r[0] for r in rows])
    return [RecentPerson(person, at, count, previous.get(person)) for person, at, count in rows]


@guard(*AGENTS)
async def recent_page(request: Request, staff: Staff) -> Response:
    people = await db(request, recent)
    await audit(request, staff, "view_recent")
    return render(request, "recent.html", people=people)


@guard(*AGENTS)
async def open_for_person(request: Request, staff: Staff) -> Response:
    """Open a "staff" escalation, unless one is already open (then go to it)."""
    person = str((await request.form()).get("person", ""))

    def open_one(session: Session) -> tuple[int | None, str]:
        already = session.scalars(
            select(Escalation).where(Escalation.person == person, Escalation.status != "closed")
        ).first()
        if already is not None:
            return already.id, "exists"
        previous = _previous(session, [person]).get(person)
        if previous is None:
            return None, "no_address"
        row = Escalation(
            conversation_id=previous.conversation_id,
            person=person,
            channel=previous.channel,
            language=previous.language,
            country=previous.country,
            topic=previous.topic,
            reason=STAFF_REASON,
            priority=PRIORITY[STAFF_REASON],
        )
        session.add(row)
        session.flush()
        return row.id, "opened"

    escalation_id, result = await db(request, open_one)
    if escalation_id is None:
        flash(request, "Not opened: the bot has no address for this person (no earlier escalation).", "error")
        await audit(request, staff, "open_escalation_refused", f"person:{person[:40]}")
        return back("/console/recent")
    if result == "exists":
        flash(request, "This person already has an open escalation: here it is.")
    else:
        flash(request, "Escalation opened: it is in the queue. Claim it to write to the person.")
    await audit(
        request,
        staff,
        "open_escalation" if result == "opened" else "open_escalation_exists",
        f"escalation:{escalation_id}",
    )
    return back(f"/console/conversations/{escalation_id}")
