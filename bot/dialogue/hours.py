"""When a person from the hotline will answer: the office hours of the country's default Information Hub.

Pure: the hub directory (loaded once at start-up by the runtime) and the time of the message are passed in.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from babel.dates import get_day_names

from bot.i18n import format_day, translate
from bot.referrals import Directory
from bot.referrals.directory import DAYS

Hours = tuple[tuple[str, str], ...]


def office_hours(directory: Directory, country: str | None) -> tuple[Hours, str] | None:
    """(hours, timezone) of the country's default hub; None for an unknown country or no hub."""
    hub = directory.default_hub(country) if country else None
    return (hub.hours, hub.timezone) if hub is not None and hub.hours else None


def _days(spec: str) -> list[int]:
    """Weekday numbers (Monday 0) of a checked day spec: "mon-fri", "sat", "sat,sun"."""
    days: list[int] = []
    for part in spec.replace(" ", "").split(","):
        first, _, last = part.partition("-")
        days += range(DAYS.index(first), DAYS.index(last or first) + 1)
    return days


def _spans(times: str) -> list[tuple[str, str]]:
    """("08:00", "12:00") pairs of "08:00-12:00, 13:00-16:00"; [] for "closed"."""
    if times.strip().lower() == "closed":
        return []
    return [(start.strip(), end.strip()) for start, end in (part.split("-") for part in times.split(","))]


def _opening(hours: Hours, day: int) -> tuple[dt.time, dt.time] | None:
    """The first opening and the last closing of a day (a lunch break is not a reason to wait)."""
    for spec, times in hours:
        spans = _spans(times)
        if day in _days(spec) and spans:
            start, end = spans[0][0], spans[-1][1]
            close = dt.time(23, 59) if end == "24:00" else dt.time.fromisoformat(end)
            return dt.time.fromisoformat(start), close
    return None


KREYOL_DAYS = ("lendi", "madi", "mèkredi", "jedi", "vandredi", "samdi", "dimanch")
"""Babel's `ht` locale falls back to French day names; Kreyòl speakers write these, in full."""


def _day_name(lang: str, day: int) -> str:
    if lang == "ht":
        return KREYOL_DAYS[day]
    return str(get_day_names("abbreviated", locale=lang)[day])


def render_hours(lang: str, hours: Hours) -> str:
    """Opening hours as people of `lang` read them: "lun–vie 08:00–16:00", never "mon-fri 08:00-16:00"."""
    parts = []
    for spec, times in hours:
        days = []
        for part in spec.replace(" ", "").split(","):
            first, _, last = part.partition("-")
            names = [_day_name(lang, DAYS.index(d)) for d in (first, last) if d]
            days.append("–".join(names))
        spans = _spans(times)
        shown = ", ".join(f"{start}–{end}" for start, end in spans) or translate(lang, "closed")
        parts.append(f"{', '.join(days)} {shown}")
    return "; ".join(parts)


def next_opening(hours: Hours, timezone: str, now: dt.datetime) -> dt.datetime | None:
    """None while the office is open; otherwise when it opens next (local time), within a week."""
    local = now.astimezone(ZoneInfo(timezone))
    for offset in range(8):
        day = local.date() + dt.timedelta(days=offset)
        span = _opening(hours, day.weekday())
        if span is None:
            continue
        opens, closes = (dt.datetime.combine(day, t, local.tzinfo) for t in span)
        if offset == 0 and opens <= local < closes:
            return None
        if local < opens:
            return opens
    return None


def handover_text(lang: str, office: tuple[Hours, str] | None, now: dt.datetime, danger: bool = False) -> str:
    """The localized promise that a person will answer, and roughly when."""
    text = translate(
        lang,
        "I have asked a person from our team to answer you. They will write to you here. "
        "It may take some time; you can keep writing.",
    )
    if office is None:
        return text
    hours, timezone = office
    opens = next_opening(hours, timezone, now)
    if opens is None:
        when = translate(lang, "Our team is working now: a person usually answers within an hour.")
    else:
        when = translate(
            lang,
            "Our team is not working now. A person will answer you from {day} at {time}.",
            day=format_day(lang, opens.date()),
            time=opens.strftime("%H:%M"),
        )
        if danger:
            when += " " + translate(
                lang, "If you are in danger now, call the local emergency number or go to the police."
            )
    return f"{text}\n\n{when}"
