"""Floods in the queue: many open escalations from different people that opened with the same words,
arriving close together, are shown as one alert row, so that one real emergency is not buried under
three hundred copies of a scripted message.

What makes a flood, and why:
- the same opening after normalisation (case, accents, punctuation, spacing): the person's inbound
  messages, all of them, up to HISTORY. A prefilled "click to chat" text makes identical *first*
  messages normal among genuine people; a person who writes anything of their own after it is no longer
  the same as the others and is never grouped. Scripted senders say the same thing and stop.
- the same priority: an emergency is only ever grouped with other emergencies;
- at least FLOOD_MIN of them, each within FLOOD_GAP_SECONDS of the previous one;
- still open: an escalation someone claimed is shown on its own.
Every member stays one click away (the flood's list), and each is answered like any other escalation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import Escalation, TranscriptMessage
from bot.scam import mask_personal_data
from bot.vocab.text import plain_words

FLOOD_MIN = 5
"""Fewer similar escalations than this are shown one by one: a handful of people may well write alike."""
FLOOD_GAP_SECONDS = 120
HISTORY = 3
"""A person who sent more messages than this has said something of their own: never part of a flood."""
COMPARED_CHARS = 200
_NOT_A_WORD = re.compile(r"[^\w]+")

Opening = tuple[str, ...]


def normalise(text: str) -> str:
    """The shared plain words, at most COMPARED_CHARS: 'Me van a MATAR!!' == 'me van a matar'."""
    return plain_words(text, COMPARED_CHARS)


@dataclass(frozen=True)
class Said:
    """What one person wrote: their messages normalised (at most HISTORY), and the first as written."""

    opening: Opening
    first: str


def openings(session: Session, persons: Iterable[str]) -> dict[str, Said]:
    """For each person who sent at most HISTORY messages: what they said (one query, whatever the count)."""
    wanted = sorted(set(persons))
    if not wanted:
        return {}
    order = func.row_number().over(
        partition_by=TranscriptMessage.person, order_by=(TranscriptMessage.at, TranscriptMessage.id)
    )
    ranked = (
        select(TranscriptMessage.person, TranscriptMessage.text, order.label("n"))
        .where(TranscriptMessage.person.in_(wanted), TranscriptMessage.direction == "in")
        .subquery()
    )
    rows = session.execute(
        select(ranked.c.person, ranked.c.text)
        .where(ranked.c.n <= HISTORY + 1)
        .order_by(ranked.c.person, ranked.c.n)
    )
    texts: dict[str, list[str]] = defaultdict(list)
    for person, text in rows:
        texts[person].append(text)
    return {
        person: Said(tuple(normalise(t) for t in written), written[0])
        for person, written in texts.items()
        if len(written) <= HISTORY and any(normalise(t) for t in written)
    }


@dataclass(frozen=True)
class Flood:
    key: str
    """Names the flood in the queue's link (a hash of its priority and opening, nothing personal)."""
    priority: int
    reason: str
    members: tuple[Escalation, ...]
    sample: str
    """The opening as the first member wrote it, personal data masked, cut short."""

    @property
    def first_at(self) -> dt.datetime:
        return _aware(self.members[0].created_at)

    @property
    def minutes(self) -> int:
        span = (_aware(self.members[-1].created_at) - self.first_at).total_seconds()
        return max(1, math.ceil(span / 60))


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def flood_key(priority: int, opening: Opening) -> str:
    text = "\x1e".join((str(priority), *opening))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def group(escalations: Sequence[Escalation], said: dict[str, Said]) -> list[Escalation | Flood]:
    """The queue's rows: floods folded into one row each; within a priority, single escalations first
    (a real emergency stays on top of a flood of copies), then floods, then by waiting time."""
    candidates: dict[tuple[int, Opening], list[Escalation]] = defaultdict(list)
    for escalation in escalations:
        person = said.get(escalation.person)
        if escalation.status == "open" and person is not None:
            candidates[(escalation.priority, person.opening)].append(escalation)
    floods: list[Flood] = []
    grouped: set[int] = set()
    for (priority, opening), members in candidates.items():
        for cluster in _clusters(sorted(members, key=lambda e: (_aware(e.created_at), e.id))):
            if len(cluster) < FLOOD_MIN:
                continue
            sample = mask_personal_data(said[cluster[0].person].first[:COMPARED_CHARS])[:120]
            floods.append(
                Flood(flood_key(priority, opening), priority, cluster[0].reason, tuple(cluster), sample)
            )
            grouped.update(e.id for e in cluster)
    singles = [e for e in escalations if e.id not in grouped]
    rows: list[Escalation | Flood] = [*singles, *floods]
    return sorted(rows, key=_order)


def _clusters(members: list[Escalation]) -> list[list[Escalation]]:
    clusters: list[list[Escalation]] = []
    for escalation in members:
        if (
            clusters
            and (_aware(escalation.created_at) - _aware(clusters[-1][-1].created_at)).total_seconds()
            <= FLOOD_GAP_SECONDS
        ):
            clusters[-1].append(escalation)
        else:
            clusters.append([escalation])
    return clusters


def _order(row: Escalation | Flood) -> tuple[int, int, dt.datetime, int]:
    if isinstance(row, Flood):
        return (row.priority, 1, row.first_at, row.members[0].id)
    return (row.priority, 0, _aware(row.created_at), row.id)
