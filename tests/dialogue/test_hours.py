"""'A person will answer, and roughly when': office hours of the country's hub, in four languages."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.dialogue.hours import handover_text, next_opening, office_hours
from bot.referrals import load_directory

HOURS = (("mon-fri", "08:00-16:00"), ("sat", "09:00-12:00"))
CR = "America/Costa_Rica"  # UTC-6


def utc(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, 0, tzinfo=dt.UTC)  # 2026-11-23 is a Monday


@pytest.mark.parametrize(
    ("now", "opens"),
    [
        (utc(23, 15), None),  # Monday 09:00 in Costa Rica: open
        (utc(23, 23), "2026-11-24 08:00"),  # Monday 17:00: tomorrow morning
        (utc(24, 3), "2026-11-24 08:00"),  # Monday 21:00 local
        (utc(28, 19), "2026-11-30 08:00"),  # Saturday 13:00: Monday
    ],
)
def test_next_opening(now: dt.datetime, opens: str | None) -> None:
    found = next_opening(HOURS, CR, now)
    assert (found.strftime("%Y-%m-%d %H:%M") if found else None) == opens


@pytest.mark.parametrize(
    ("lang", "working", "closed", "danger"),
    [
        ("es", "trabajando ahora", "a las 08:00", "peligro"),
        ("en", "working now", "at 08:00", "danger"),
        ("fr", "", "08:00", ""),
        ("ht", "", "08:00", ""),
    ],
)
def test_the_promise_is_localized(lang: str, working: str, closed: str, danger: str) -> None:
    open_text = handover_text(lang, (HOURS, CR), utc(23, 15))
    closed_text = handover_text(lang, (HOURS, CR), utc(23, 23), danger=True)
    assert working in open_text and closed in closed_text and danger in closed_text
    if lang != "en":
        english = handover_text("en", (HOURS, CR), utc(23, 23), danger=True)
        assert not set(closed_text.split("\n\n")) & set(english.split("\n\n")), "untranslated"
    assert len(closed_text.split("\n\n")) == 2 and len(open_text.split("\n\n")) == 2


def test_no_hours_line_without_a_known_country() -> None:
    assert office_hours(load_directory(), None) is None and office_hours(load_directory(), "XX") is None
    assert "\n\n" not in handover_text("es", None, utc(23, 23))


def test_every_programme_country_has_office_hours() -> None:
    from bot import COUNTRIES

    assert all(office_hours(load_directory(), cc) for cc in COUNTRIES)
