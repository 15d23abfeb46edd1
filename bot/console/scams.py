"""Scam reports: what people reported as possible scams, counted by country, signal and ISO week."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from bot.console.security import ROLES, guard
from bot.console.sessions import Staff, aware
from bot.console.web import audit, db, render
from bot.db.models import ScamReport

NEWEST = 20


def iso_week(moment: dt.datetime) -> str:
    year, week, _ = (aware(moment) or moment).isocalendar()
    return f"{year}-W{week:02d}"


def summary(session: Session) -> dict[str, Any]:
    by_country: Counter[str] = Counter()
    by_signal: Counter[str] = Counter()
    by_week: Counter[str] = Counter()
    for country, signals, at in session.execute(
        select(ScamReport.country, ScamReport.signals, ScamReport.at)
    ):
        by_country[country or "unknown"] += 1
        for signal in filter(None, (s.strip() for s in signals.split(","))):
            by_signal[signal] += 1
        by_week[iso_week(at)] += 1
    newest = session.scalars(
        select(ScamReport).order_by(ScamReport.at.desc(), ScamReport.id.desc()).limit(NEWEST)
    )
    return {
        "total": sum(by_country.values()),
        "by_country": by_country.most_common(),
        "by_signal": by_signal.most_common(),
        "by_week": sorted(by_week.items(), reverse=True),
        "newest": list(newest),
    }


@guard(*ROLES)
async def scams_page(request: Request, staff: Staff) -> Response:
    data = await db(request, summary)
    await audit(request, staff, "view_scams")
    return render(request, "scams.html", **data)
