"""The referral log: a consented referral is never lost and never doubled.

Write-ahead: the referral is appended to a local spool file (fsynced) before anything else, then inserted
in SQL. If the database is down, the spool keeps it and `replay()` inserts it when the database returns.
The idempotency key makes every insert exactly-once, so a replay after a crash or a retry never doubles.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import Referral, ReferralStatus

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


class ReferralLog:
    def __init__(self, sessions: sessionmaker[Session], spool_path: Path) -> None:
        self._sessions = sessions
        self.spool_path = spool_path
        spool_path.parent.mkdir(parents=True, exist_ok=True)

    def spool(self, record: ReferralRecord) -> None:
        """Append one line and fsync it: after this returns, a crash cannot lose the referral."""
        line = json.dumps(asdict(record), ensure_ascii=False) + "\n"
        with self.spool_path.open("a", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())

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

    def log(self, record: ReferralRecord) -> str:
        """'stored' when in SQL now, 'spooled' when the database is unreachable (replayed later)."""
        self.spool(record)
        try:
            self.insert(record)
        except SQLAlchemyError as exc:
            log.error("referral %s spooled: database unavailable (%s)", record.code, exc.__class__.__name__)
            return "spooled"
        return "stored"

    def replay(self) -> int:
        """Insert every spooled referral missing from SQL; keep in the spool only those that still fail."""
        if not self.spool_path.exists():
            return 0
        inserted = 0
        with self.spool_path.open("r+", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            pending: list[str] = []
            for line in fh.read().splitlines():
                if not line.strip():
                    continue
                try:
                    inserted += self.insert(ReferralRecord(**json.loads(line)))
                except SQLAlchemyError:
                    pending.append(line)
                except (ValueError, TypeError) as exc:
                    log.error("unreadable spool line kept for an operator: %s", exc)
                    pending.append(line)
            fh.seek(0)
            fh.truncate()
            fh.write("".join(f"{line}\n" for line in pending))
            fh.flush()
            os.fsync(fh.fileno())
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
