"""Voice notes and files sent into a conversation staff hold: played or opened in the console.

The browser never gets a provider URL: this route fetches the item with the provider's credentials
(Twilio's basic auth, Telegram's getFile, the Cloud API's token) and passes the bytes to a logged-in
agent, uncached. Anyone not logged in gets 401; every play is audited.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot.channels.base import MediaSource, MediaUnavailable
from bot.console.security import AGENTS, Staff, guard
from bot.console.web import audit, db, runtime
from bot.db.models import Escalation, MediaReference

log = logging.getLogger(__name__)
SHOWN_INLINE = ("audio/", "image/jpeg", "image/png", "image/webp", "video/mp4", "application/pdf")
"""Types a browser plays or shows itself; anything else is offered as a download, never rendered."""
LISTED = 50


def media_of(session: Session, person: str) -> list[MediaReference]:
    """The person's voice notes and files, newest last, for the conversation page."""
    query = select(MediaReference).where(MediaReference.person == person).order_by(MediaReference.id.desc())
    return list(reversed(list(session.scalars(query.limit(LISTED)))))


def _pair(session: Session, escalation_id: int, media_id: int) -> MediaReference | None:
    """The item only through the escalation of the same person: ids cannot be walked across people."""
    escalation, item = session.get(Escalation, escalation_id), session.get(MediaReference, media_id)
    if escalation is None or item is None or item.person != escalation.person:
        return None
    session.expunge(item)
    return item


def _content_type(stored: str | None, given: str | None) -> tuple[str, str]:
    """(content type, disposition): the type the webhook reported, else the provider's; inline only
    for types a browser plays safely."""
    kind = (stored or given or "").split(";")[0].strip().lower()
    if kind.startswith(SHOWN_INLINE):
        return kind, "inline"
    return "application/octet-stream", "attachment"


@guard(*AGENTS, page=False)
async def media_item(request: Request, staff: Staff) -> Response:
    escalation_id, media_id = int(request.path_params["escalation_id"]), int(request.path_params["media_id"])
    item = await db(request, lambda s: _pair(s, escalation_id, media_id))
    if item is None:
        return PlainTextResponse("no such item", status_code=404)
    adapter = runtime(request).channels.get(item.adapter)
    if adapter is None or not hasattr(adapter, "fetch_media"):
        return PlainTextResponse("this channel cannot fetch media", status_code=502)
    source: MediaSource = adapter  # type: ignore[assignment]
    try:
        body, given = await source.fetch_media(item.ref)
    except MediaUnavailable as exc:
        log.warning("media %d not fetched: %s", item.id, exc)
        return PlainTextResponse(f"not available from the provider: {exc}", status_code=502)
    await audit(request, staff, "play_media", f"escalation:{escalation_id}:media:{item.id}")
    kind, disposition = _content_type(item.content_type, given)
    headers = {
        "cache-control": "no-store, private",
        "content-disposition": f"{disposition}; filename=media-{item.id}",
    }
    return Response(body, media_type=kind, headers=headers)
