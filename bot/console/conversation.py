"""One escalated conversation: transcript, claim, reply, internal note, close with an outcome.

Every read of a transcript is audited: the page on each view, the live fragment the first time a session
reads that escalation's transcript without the page (its 2-second refreshes after that are the same view).
With the conversation store down, claims and closes are still recorded in SQL and the page says what that
means; nothing answers 500.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot.console.canned import canned_replies
from bot.console.handover import deliver, follow_handover, hand_back_text
from bot.console.media import media_of
from bot.console.security import AGENTS, Staff, guard
from bot.console.web import audit, back, db, flash, render, runtime
from bot.db.models import Escalation, TranscriptMessage
from bot.referrals import SERVICES, Hub

OUTCOMES = ("answered", "referred", "no_response", "not_needed", "duplicate")
TRANSCRIPT_LIMIT = 300
READ_MEMORY = 50
"""Escalations whose transcript this session already read (and the audit log has): kept in the cookie."""
CLAIMED = "You hold this conversation now: the bot stays quiet until you close it."
CLAIMED_STORE_DOWN = (
    "You hold this conversation now. The conversation store is unavailable: until it is back the bot reads "
    "your claim from the database and stays quiet; its own flag is set as soon as the store returns."
)
CLOSED_STORE_DOWN = (
    "The conversation store is unavailable: until it is back the bot reads the close from the database "
    "and answers this person again; its own flag is cleared as soon as the store returns."
)


def _load(session: Session, escalation_id: int) -> tuple[Escalation, list[TranscriptMessage]] | None:
    escalation = session.get(Escalation, escalation_id)
    if escalation is None:
        return None
    query = (
        select(TranscriptMessage)
        .where(TranscriptMessage.person == escalation.person)
        .order_by(TranscriptMessage.at.desc(), TranscriptMessage.id.desc())
        .limit(TRANSCRIPT_LIMIT)
    )
    return escalation, list(reversed(list(session.scalars(query))))


def _id(request: Request) -> int:
    return int(request.path_params["escalation_id"])


def _url(escalation_id: int) -> str:
    return f"/console/conversations/{escalation_id}"


def hub_choices(request: Request, escalation: Escalation) -> list[Hub]:
    """The hubs of the person's country; every hub when the country is unknown (or has none)."""
    directory = runtime(request).conversations.directory
    hubs = directory.hubs_for(escalation.country) if escalation.country else []
    return hubs or list(directory.hubs)


async def show(request: Request, staff: Staff, status_code: int = 200) -> Response:
    """The conversation page (also re-shown with 400 when a form on it was refused)."""
    found = await db(request, lambda s: _load(s, _id(request)))
    if found is None:
        return PlainTextResponse("no such conversation", status_code=404)
    escalation, transcript = found
    media = await db(request, lambda s: media_of(s, escalation.person)) if escalation.person else []
    return render(
        request,
        "conversation.html",
        status_code=status_code,
        esc=escalation,
        transcript=transcript,
        canned=canned_replies(),
        outcomes=OUTCOMES,
        mine=escalation.status == "claimed" and escalation.claimed_by == staff.email,
        services=SERVICES,
        hubs=hub_choices(request, escalation),
        media=media,
    )


def _first_read(request: Request, escalation_id: int) -> bool:
    """Whether this session reads this escalation's transcript for the first time (then remembered)."""
    read = [i for i in request.session.get("read", []) if isinstance(i, int)]
    if escalation_id in read:
        return False
    request.session["read"] = [*read, escalation_id][-READ_MEMORY:]
    return True


@guard(*AGENTS)
async def conversation_page(request: Request, staff: Staff) -> Response:
    response = await show(request, staff)
    if response.status_code == 200:
        _first_read(request, _id(request))
        await audit(request, staff, "view_conversation", f"escalation:{_id(request)}")
    return response


@guard(*AGENTS, page=False)
async def transcript_part(request: Request, staff: Staff) -> Response:
    """The transcript alone, polled so new messages appear without a reload."""
    found = await db(request, lambda s: _load(s, _id(request)))
    if found is None:
        return PlainTextResponse("no such conversation", status_code=404)
    if _first_read(request, _id(request)):
        await audit(request, staff, "view_transcript", f"escalation:{_id(request)}")
    return render(request, "_transcript.html", transcript=found[1])


@guard(*AGENTS)
async def claim(request: Request, staff: Staff) -> Response:
    """One agent at a time: only an open escalation can be claimed (atomic in SQL)."""
    escalation_id = _id(request)

    def take(session: Session) -> Escalation | None:
        changed = session.execute(
            update(Escalation)
            .where(Escalation.id == escalation_id, Escalation.status == "open")
            .values(status="claimed", claimed_by=staff.email, claimed_at=dt.datetime.now(dt.UTC))
        )
        return session.get(Escalation, escalation_id) if changed.rowcount else None  # type: ignore[attr-defined]

    escalation = await db(request, take)
    if escalation is None:
        flash(request, "Someone else has already claimed this conversation, or it is closed.", "error")
        return back(_url(escalation_id))
    quiet = await follow_handover(runtime(request), escalation_id, escalation.conversation_id)
    await audit(request, staff, "claim" if quiet else "claim_store_down", f"escalation:{escalation_id}")
    flash(request, CLAIMED if quiet else CLAIMED_STORE_DOWN, "info" if quiet else "error")
    return back(_url(escalation_id))


async def _held(request: Request, staff: Staff) -> Escalation | None:
    escalation = await db(request, lambda s: s.get(Escalation, _id(request)))
    if escalation is None or escalation.status != "claimed" or escalation.claimed_by != staff.email:
        flash(request, "Claim the conversation first: only the person holding it can do this.", "error")
        return None
    return escalation


async def _note(request: Request, person: str, direction: str, author: str | None, text: str) -> None:
    row = TranscriptMessage(person=person, direction=direction, author=author, text=text)
    await db(request, lambda s: s.add(row))


@guard(*AGENTS)
async def reply(request: Request, staff: Staff) -> Response:
    text = str((await request.form()).get("text", "")).strip()
    escalation = await _held(request, staff)
    if escalation is None or not text:
        return back(_url(_id(request)))
    result = await deliver(
        runtime(request), escalation.conversation_id, escalation.channel, text, escalation.language
    )
    if result.ok:
        await _note(request, escalation.person, "staff", staff.email, text)
        flash(request, "Sent.")
    else:
        flash(request, result.problem, "error")
    await audit(request, staff, "reply" if result.ok else "reply_refused", f"escalation:{escalation.id}")
    return back(_url(escalation.id))


@guard(*AGENTS)
async def note(request: Request, staff: Staff) -> Response:
    text = str((await request.form()).get("text", "")).strip()
    escalation = await db(request, lambda s: s.get(Escalation, _id(request)))
    if escalation is None:
        return PlainTextResponse("no such conversation", status_code=404)
    if text:
        await _note(request, escalation.person, "note", staff.email, text)
        await audit(request, staff, "note", f"escalation:{escalation.id}")
    return back(_url(escalation.id))


@guard(*AGENTS)
async def close(request: Request, staff: Staff) -> Response:
    outcome = str((await request.form()).get("outcome", ""))
    escalation = await _held(request, staff)
    if escalation is None:
        return back(_url(_id(request)))
    if outcome not in OUTCOMES:
        flash(request, f"Choose an outcome: {', '.join(OUTCOMES)}.", "error")
        return back(_url(escalation.id))

    def finish(session: Session) -> None:
        row = session.get(Escalation, escalation.id)
        if row is not None:
            row.status, row.outcome, row.closed_at = "closed", outcome, dt.datetime.now(dt.UTC)

    await db(request, finish)
    rt = runtime(request)
    if not await follow_handover(rt, escalation.id, escalation.conversation_id):
        flash(request, CLOSED_STORE_DOWN, "error")
    text = hand_back_text(escalation.language)
    result = await deliver(rt, escalation.conversation_id, escalation.channel, text, escalation.language)
    if result.ok:
        await _note(request, escalation.person, "bot", None, text)
        flash(request, f"Closed ({outcome}). The bot answers this person again.")
    else:
        flash(request, f"Closed ({outcome}). The hand-back message was not sent: {result.problem}", "error")
    await audit(request, staff, "close", f"escalation:{escalation.id}:{outcome}")
    return back("/console/")
