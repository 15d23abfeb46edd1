"""Floods in the console queue: many near-identical escalations become one alert row, a real emergency
stays on top, and genuine people who happen to open alike are never folded away. On SQLite and on
PostgreSQL (the opening is read with a window function), through the real console."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from bot.console.floods import FLOOD_GAP_SECONDS, FLOOD_MIN, Flood, normalise
from bot.console.queue import ordered
from bot.db import make_engine, migrate, session_factory
from bot.db.models import Escalation, TranscriptMessage
from tests.console.conftest import Console, console_for, log_in

POSTGRES_URL = os.environ.get("INFOBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
SCHEMA = "infobot_flood_queue"
FLOOD_TEXTS = [
    "me van a matar, ayuda",
    "Me van a matar, AYUDA!!",
    "me van a matar ayuda",
    "me van a MATAR… ayuda",
]
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
_people = itertools.count(1)


def person(
    session: Session, at: dt.datetime, *said: str, priority: int = 0, status: str = "open"
) -> Escalation:
    """One person who wrote `said` (seconds apart from `at`) and was escalated after the last message."""
    who = f"p{next(_people):05d}"
    for n, words in enumerate(said):
        session.add(
            TranscriptMessage(person=who, direction="in", text=words, at=at + dt.timedelta(seconds=n))
        )
        session.add(TranscriptMessage(person=who, direction="bot", text="…", at=at + dt.timedelta(seconds=n)))
    escalation = Escalation(
        conversation_id=f"whatsapp:{who}",
        person=who,
        channel="whatsapp",
        language="es",
        reason={0: "emergency", 1: "trafficking", 2: "asked"}[priority],
        priority=priority,
        status=status,
        claimed_by="agent@example.org" if status == "claimed" else None,
        created_at=at + dt.timedelta(seconds=len(said)),
    )
    session.add(escalation)
    return escalation


def flood(
    session: Session, n: int, at: dt.datetime = START, every: float = 0.8, priority: int = 0
) -> list[Escalation]:
    return [
        person(
            session,
            at + dt.timedelta(seconds=i * every),
            FLOOD_TEXTS[i % len(FLOOD_TEXTS)],
            priority=priority,
        )
        for i in range(n)
    ]


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path}/q.db")
    else:
        admin = make_engine(POSTGRES_URL)
        try:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}"))
        except Exception as exc:  # noqa: BLE001 - turned into a clear instruction
            pytest.fail(f"These tests need PostgreSQL at {POSTGRES_URL} ({exc.__class__.__name__})")
        finally:
            admin.dispose()
        engine = make_engine(f"{POSTGRES_URL}?options=-csearch_path%3D{SCHEMA}")
    migrate(engine)
    yield engine
    engine.dispose()


def rows_of(engine: Engine) -> list[Escalation | Flood]:
    with session_factory(engine)() as session:
        return ordered(session)


def test_a_flood_is_one_row_below_a_real_emergency_that_came_after_it(engine: Engine) -> None:
    with session_factory(engine).begin() as session:
        copies = flood(session, 300)  # 300 copies in 4 minutes
        genuine = person(session, START + dt.timedelta(minutes=5), "hola", "mi pareja me pega, tengo miedo")
        asked = person(session, START, "necesito hablar con alguien", priority=2)
    first, second, third = rows_of(engine)
    assert isinstance(first, Escalation) and first.id == genuine.id
    assert isinstance(second, Flood) and len(second.members) == 300 and second.priority == 0
    assert {m.id for m in second.members} == {c.id for c in copies}
    assert second.minutes == 4 and "me van a matar" in second.sample.lower()
    assert (
        isinstance(third, Escalation) and third.id == asked.id
    )  # a flood of emergencies still outranks "asked"


def test_genuine_people_who_open_alike_are_never_folded(engine: Engine) -> None:
    with session_factory(engine).begin() as session:
        few = flood(session, FLOOD_MIN - 1)
        prefilled = [  # a poster's click-to-chat text, then each person's own words
            person(
                session, START + dt.timedelta(seconds=i), "Hola, necesito información", f"vivo en zona {i}"
            )
            for i in range(12)
        ]
        slow = [
            person(session, START + dt.timedelta(seconds=i * (FLOOD_GAP_SECONDS + 60)), "socorro")
            for i in range(6)
        ]
        talkative = [
            person(session, START + dt.timedelta(seconds=i), "ayuda", "ayuda", "ayuda", "ayuda")
            for i in range(6)
        ]
    rows = rows_of(engine)
    assert not any(isinstance(r, Flood) for r in rows)
    assert len(rows) == len(few) + len(prefilled) + len(slow) + len(talkative)


def test_only_open_escalations_of_one_priority_are_folded_together(engine: Engine) -> None:
    with session_factory(engine).begin() as session:
        flood(session, 10)
        claimed = person(session, START, FLOOD_TEXTS[0], status="claimed")
        flood(session, 10, priority=2)
    rows = rows_of(engine)
    floods = [r for r in rows if isinstance(r, Flood)]
    assert sorted((f.priority, len(f.members)) for f in floods) == [(0, 10), (2, 10)]
    assert claimed.id in [r.id for r in rows if isinstance(r, Escalation)]


def test_two_bursts_apart_are_two_floods(engine: Engine) -> None:
    with session_factory(engine).begin() as session:
        flood(session, 8)
        flood(session, 8, at=START + dt.timedelta(hours=1))
    assert [len(r.members) for r in rows_of(engine) if isinstance(r, Flood)] == [8, 8]


@pytest.mark.parametrize(
    ("a", "b"),
    [("Me van a MATAR!!", "me van a matar"), ("AYÚDENME", "ayudenme"), ("  ayuda\n\tya ", "ayuda ya")],
)
def test_openings_are_compared_without_case_accents_or_punctuation(a: str, b: str) -> None:
    assert normalise(a) == normalise(b)


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    yield from console_for(tmp_path)


def test_the_console_shows_the_flood_as_one_alert_row_and_lists_it_on_request(console: Console) -> None:
    engine = make_engine(console.settings.database_url)
    now = dt.datetime.now(dt.UTC)
    with session_factory(engine).begin() as session:
        flood(session, 300, at=now - dt.timedelta(minutes=4))
        genuine = person(session, now - dt.timedelta(seconds=30), "hola", "mi pareja me pega, tengo miedo")
    log_in(console.client, "agent@example.org")
    page = console.client.get("/console/").text
    rows = re.findall(r'<tr class="(p\d[^"]*)" data-(escalation|flood)="(\w+)"', page)
    assert rows[0] == ("p0", "escalation", str(genuine.id))
    assert rows[1][:2] == ("p0 flood", "flood") and len(rows) == 2
    assert "flood: 300 similar messages in 4 minutes" in page
    assert 'data-emergencies="1"' in page and "300 near-identical emergency messages" in page

    key = rows[1][2]
    listed = console.client.get(f"/console/?flood={key}").text
    assert len(re.findall(r'class="p0 flood-member"', listed)) == 300
    assert f'data-poll="/console/queue/rows?flood={key}"' in listed  # stays open while the queue refreshes
    polled = console.client.get(f"/console/queue/rows?flood={key}").text
    assert len(re.findall(r'class="p0 flood-member"', polled)) == 300
    odd = console.client.get('/console/?flood="><script>').text
    assert not re.findall(r'class="p0 flood-member"', odd) and "<script>" not in odd.split("<main>", 1)[1]
