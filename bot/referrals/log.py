"""The referral log: a consented referral is never lost and never doubled.

Write-ahead: the referral is appended to its journal (bot/journal.py, a local file, fsynced) before
anything else, then inserted in SQL and marked done. If the database is down, the journal keeps it and
`replay()` (at start and every minute) inserts it when the database returns. The idempotency key makes
every insert exactly-once, so a replay after a crash or a retry never doubles.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import Referral, ReferralStatus
from bot.journal import Entry, Journal

log = logging.getLogger(__name__)
TRANSITIONS = {
    "new": {"sent", "contacted", "closed", "no_show"},
    "sent": {"contacted", "closed", "no_show"},
    "contacted": {"closed", "no_show"},
    "closed": set(),
    "no_show": set(),
}


@dataclass(frozen=True)
class ReferralRecord:
    code: str
    idempotency_key: str
    service: str
    hub_id: str
    country: str
    language: str
    channel: str
    person: str
    consent_version: str
    created_at: str

    @classmethod
    def now(cls, **fields: str) -> ReferralRecord:
        return cls(created_at=dt.datetime.now(dt.UTC).isoformat(), **fields)


def _entry(record: ReferralRecord) -> Entry:
    return Entry("referral", asdict(record), key=f"referral:{record.idempotency_key}", at=record.created_at)


def _legacy_line(raw: dict[str, Any]) -> Entry:
    """A spool line written before the journal: the bare record."""
    return _entry(ReferralRecord(**raw))


class ReferralLog:
    def __init__(self, sessions: sessionmaker[Session], spool_path: Path) -> None:
        self._sessions = sessions
        self.spool_path = spool_path
        self.journal = Journal(spool_path, legacy=_legacy_line)

    def spool(self, record: ReferralRecord) -> None:
        """Append one entry and fsync it: after this returns, a crash cannot lose the referral."""
        self.journal.append(_entry(record))

    def insert(self, record: ReferralRecord) -> bool:
        """Insert unless the idempotency key is already there; True when inserted now."""
        with self._sessions.begin() as session:
            exists = session.scalar(
                select(Referral.id).where(Referral.idempotency_key == record.idempotency_key)
            )
            if exists is not None:
                return False
            fields = asdict(record)
            fields["created_at"] = dt.datetime.fromisoformat(record.created_at)
            referral = Referral(**fields, status="new")
            referral.history.append(ReferralStatus(status="new", actor="bot"))
            session.add(referral)
        return True

    def store(self, record: ReferralRecord) -> None:
        """Insert a spooled referral (idempotent) and mark it done in the journal."""
        self.insert(record)
        self.journal.mark_done(_entry(record).key)

    def log(self, record: ReferralRecord) -> str:
        """'stored' when in SQL now, 'spooled' when the database is unreachable (replayed later)."""
        self.spool(record)
        try:
            self.store(record)
        except SQLAlchemyError as exc:
            log.error("referral %s spooled: database unavailable (%s)", record.code, exc.__class__.__name__)
            return "spooled"
        return "stored"

    def replay(self) -> int:
        """Insert every journaled referral missing from SQL; keep only those that still fail."""
        inserted = self.journal.replay(
            lambda entry: self.insert(ReferralRecord(**entry.data)), (OperationalError, InterfaceError)
        )
        if inserted:
            log.info("replayed %d spooled referral(s)", inserted)
        return inserted

    def set_status(self, code: str, status: str, actor: str) -> None:
        """Move a referral along new → sent → contacted → closed | no_show, with history."""
        with self._sessions.begin() as session:
            referral = session.scalars(select(Referral).where(Referral.code == code)).one()
            if status not in TRANSITIONS[referral.status]:
                raise ValueError(f"a referral cannot go from {referral.status} to {status}")
            referral.status = status
            referral.history.append(ReferralStatus(status=status, actor=actor))

    def disaggregate(self, code: str, sex: str | None = None, age_group: str | None = None) -> None:
        """Optional, consented, skippable: the programme's sex and age breakdown."""
        with self._sessions.begin() as session:
            referral = session.scalars(select(Referral).where(Referral.code == code)).first()
            if referral is None:
                return
            if sex:
                referral.sex = sex
            if age_group:
                referral.age_group = age_group
