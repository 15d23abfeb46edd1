"""Subscriptions with consent: recorded in conversation or imported from an office's opt-in list.

An opt-out (STOP in any language, Twilio 21610, a Telegram block) ends every subscription of the
person at once, and an address whose person opted out is never subscribed again by an import: only
the person, writing START and subscribing again in conversation, can undo their STOP.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot import COUNTRIES, LANGUAGES
from bot.campaigns.topics import CHANNELS, parse_topics
from bot.db.models import ContactPreference, Subscription
from bot.privacy import pseudonymise

COLUMNS = ("channel", "address", "language", "country", "topics", "consent_version", "consented_at")
PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")
"""E.164, as Twilio writes `From`."""
MAX_IMPORT_BYTES = 50 * 1024 * 1024
MAX_FIELD_CHARS = 200


def person_key(secret: bytes, channel: str, address: str) -> str:
    """The same pseudonym the service gives the conversation `<channel>:<address>` (bot/service.py)."""
    return pseudonymise(secret, f"{channel}:{address}")


def normalise_address(channel: str, raw: str) -> str:
    """The address as the channel's conversation id writes it; ValueError says what is wrong."""
    raw = raw.strip()
    if channel == "telegram":
        if not raw.isdigit() or len(raw) > 20 or int(raw) <= 0:
            raise ValueError(f"telegram address {raw!r} is not a private chat id (a positive number)")
        return raw
    if channel == "whatsapp":
        raw = raw.removeprefix("whatsapp:")
    if not PHONE.match(raw):
        raise ValueError(f"{channel} address is not a phone number in E.164 form (+ and 7-15 digits)")
    return raw


def opted_out(session: Session, person: str) -> bool:
    return bool(session.scalar(select(ContactPreference.opted_out).where(ContactPreference.person == person)))


def subscribe(
    session: Session,
    secret: bytes | None,
    *,
    person: str | None = None,
    channel: str,
    address: str,
    language: str,
    country: str,
    topics: Iterable[str],
    consent_version: str,
    consented_at: dt.datetime | None = None,
    source: str = "conversation",
) -> str:
    """Record (or change) one subscription: `subscribed`, `updated`, or `opted_out` (an import never
    overrides a STOP; the conversation path only calls this after the person's own START)."""
    if person is None:
        assert secret is not None, "a secret key or the person's pseudonym"
        person = person_key(secret, channel, address)
    if source == "import" and opted_out(session, person):
        return "opted_out"
    row = session.scalar(select(Subscription).where(Subscription.person == person))
    values = {
        "channel": channel,
        "address": address,
        "language": language,
        "country": country,
        "topics": ";".join(sorted(set(topics))),
        "consent_version": consent_version,
        "consented_at": consented_at or dt.datetime.now(dt.UTC),
        "source": source,
        "active": True,
        "ended_at": None,
        "end_reason": None,
    }
    if row is None:
        session.add(Subscription(person=person, **values))
        return "subscribed"
    for name, value in values.items():
        setattr(row, name, value)
    return "updated"


def end_subscriptions(session: Session, person: str, reason: str, at: dt.datetime | None = None) -> int:
    """End every active subscription of the person (STOP, carrier STOP, blocked); returns how many."""
    result = session.execute(
        update(Subscription)
        .where(Subscription.person == person, Subscription.active.is_(True))
        .values(active=False, ended_at=at or dt.datetime.now(dt.UTC), end_reason=reason)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def forget_subscriptions(session: Session, person: str, at: dt.datetime) -> None:
    """Erasure: the address goes; the pseudonymous row stays so campaign counts still add up."""
    session.execute(
        update(Subscription)
        .where(Subscription.person == person)
        .values(address="", active=False, ended_at=at, end_reason="erased")
    )


@dataclass
class ImportResult:
    subscribed: int = 0
    updated: int = 0
    refused_opted_out: int = 0
    bad: list[tuple[int, str]] = field(default_factory=list)
    """(line number, what is wrong): reported and skipped."""


def _row(values: dict[str, str]) -> dict[str, object]:
    """One CSV row checked; ValueError names the first problem."""
    if any(len(v) > MAX_FIELD_CHARS for v in values.values()):
        raise ValueError(f"a field is longer than {MAX_FIELD_CHARS} characters")
    channel = values["channel"].strip().lower()
    if channel not in CHANNELS:
        raise ValueError(f"channel {channel!r} is not one of {', '.join(CHANNELS)}")
    language = values["language"].strip().lower()
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    country = values["country"].strip().upper()
    if country not in COUNTRIES:
        raise ValueError(f"country {country!r} is not one of the programme's: {', '.join(COUNTRIES)}")
    version = values["consent_version"].strip()
    if not version or len(version) > 20:
        raise ValueError("consent_version is empty or longer than 20 characters")
    try:
        at = dt.datetime.fromisoformat(values["consented_at"].strip())
    except ValueError:
        raise ValueError("consented_at is not an ISO date-time (e.g. 2026-11-02T10:00:00Z)") from None
    at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    if at > dt.datetime.now(dt.UTC) + dt.timedelta(days=1):
        raise ValueError("consented_at is in the future")
    return {
        "channel": channel,
        "address": normalise_address(channel, values["address"]),
        "language": language,
        "country": country,
        "topics": parse_topics(values["topics"]),
        "consent_version": version,
        "consented_at": at,
    }


def import_csv(sessions: sessionmaker[Session], secret: bytes, path: Path) -> ImportResult:
    """Good rows kept (in one transaction per 500 rows), bad rows reported by line and skipped."""
    if path.stat().st_size > MAX_IMPORT_BYTES:
        raise ValueError(f"{path} is larger than {MAX_IMPORT_BYTES // 2**20} MB: split it")
    result = ImportResult()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; expected {','.join(COLUMNS)}")
        session = sessions()
        try:
            for n, raw in enumerate(reader, 1):
                try:
                    if None in raw or any(raw[c] is None for c in COLUMNS):
                        raise ValueError(f"expected {len(COLUMNS)} fields")
                    row = _row({c: raw[c] for c in COLUMNS})
                except ValueError as exc:
                    result.bad.append((reader.line_num, str(exc)))
                    continue
                outcome = subscribe(session, secret, source="import", **row)  # type: ignore[arg-type]
                if outcome == "opted_out":
                    result.refused_opted_out += 1
                else:
                    setattr(result, outcome, getattr(result, outcome) + 1)
                if n % 500 == 0:
                    session.commit()
            session.commit()
        finally:
            session.close()
    return result
