"""Editor views: content as each channel renders it, entries to review, questions the bot missed."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from bot import COUNTRIES, LANGUAGES
from bot.channels.render import as_plain_text, sms_body, whatsapp_bodies
from bot.console.security import EDITORS, Staff, guard
from bot.console.web import audit, db, render, runtime
from bot.db.models import UnansweredQuestion
from bot.dialogue import replies
from bot.nlu import labelled
from bot.vocab.topics import TOPIC_INTENTS

TOPICS = (*TOPIC_INTENTS, "emergency")


def _choice(request: Request, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = request.query_params.get(name, default)
    return value if value in allowed else default


@guard(*EDITORS)
async def preview(request: Request, staff: Staff) -> Response:
    """Every topic's answer for one language and country, as WhatsApp, SMS and Telegram/web show it."""
    lang = _choice(request, "lang", LANGUAGES, "es")
    country = _choice(request, "country", ("", *COUNTRIES), "")
    library, today = runtime(request).content.current(), dt.date.today()
    rows: list[dict[str, Any]] = []
    for intent in TOPICS:
        entry = library.lookup(intent, lang, country or None)
        if entry is None:
            rows.append({"intent": intent, "entry": None})
            continue
        message = replace(replies.answer("preview", lang, entry, today), channel="whatsapp")
        rows.append(
            {
                "intent": intent,
                "entry": entry,
                "whatsapp": whatsapp_bodies(message),
                "sms": sms_body(message),
                "plain": as_plain_text(message),
            }
        )
    await audit(request, staff, "view_content_preview", f"{lang}:{country or 'general'}")
    return render(
        request,
        "preview.html",
        rows=rows,
        lang=lang,
        country=country,
        languages=LANGUAGES,
        countries=COUNTRIES,
    )


def _top_unanswered(session: Session) -> list[tuple[str, str, int]]:
    """(language, question as first written, times), grouping questions that differ only in case."""
    query = (
        select(UnansweredQuestion.language, func.min(UnansweredQuestion.text), func.count())
        .group_by(UnansweredQuestion.language, func.lower(UnansweredQuestion.text))
        .order_by(func.count().desc())
        .limit(50)
    )
    return [(str(lang), str(t), int(n)) for lang, t, n in session.execute(query)]


@guard(*EDITORS)
async def review(request: Request, staff: Staff) -> Response:
    today = dt.date.today()
    entries = sorted(runtime(request).content.current().entries(), key=lambda e: (e.file, e.line))
    stale = [e for e in entries if e.is_stale(today)]
    verify = [e for e in entries if e.verify]
    unanswered = await db(request, _top_unanswered)
    await audit(request, staff, "view_content_review")
    return render(
        request,
        "review.html",
        stale=stale,
        verify=verify,
        unanswered=unanswered,
        today=today,
        labels=labelled.LABELS,
    )
