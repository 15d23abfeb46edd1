"""Delivery claims in SQL: what Redis forgets when it restarts empty, and the claims themselves while it
is down.

Every answered delivery is also written here (`complete`), kept two days. While Redis's memory is
younger than the dedupe horizon the service uses (a restart lost everything), the service reads what SQL
knows (`state`); while Redis is down it claims here (`claim`), with the same semantics as the store:
NEW (ours, held for a few seconds), IN_PROGRESS (another worker's live claim), DONE (answered). Workers
share the database, so two deliveries of one message on two workers are still answered once while Redis
is down.
Synchronous (SQLAlchemy): call in a thread.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import DeliveryClaim
from bot.state.base import Delivery


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes for timezone-aware columns; they were written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class SqlDeliveries:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def claim(self, key: str, token: str, hold_seconds: int) -> Delivery:
        """Atomic across workers: a row lock, or the primary key when two insert the same key at once."""
        for _ in range(2):
            try:
                with self._sessions.begin() as session:
                    return self._claim(session, key, token, hold_seconds)
            except IntegrityError:
                continue  # another worker inserted it between our read and our insert: read it now
        return Delivery.IN_PROGRESS

    def state(self, key: str, token: str = "", hold_seconds: int = 0) -> Delivery:
        """What SQL knows of the delivery, without claiming it (the store holds the claim): DONE,
        IN_PROGRESS (claimed here while the store was down, still live) or NEW. Same arguments as
        `claim`, so the two are interchangeable."""
        with self._sessions() as session:
            row = session.get(DeliveryClaim, key)
            if row is None:
                return Delivery.NEW
            if row.token is None:
                return Delivery.DONE
            live = row.until is not None and _aware(row.until) > _now()
            return Delivery.IN_PROGRESS if live else Delivery.NEW

    @staticmethod
    def _claim(session: Session, key: str, token: str, hold_seconds: int) -> Delivery:
        now = _now()
        row = session.get(DeliveryClaim, key, with_for_update=True)
        if row is None:
            session.add(DeliveryClaim(key=key, token=token, until=now + dt.timedelta(seconds=hold_seconds)))
            return Delivery.NEW
        if row.token is None:
            return Delivery.DONE
        if row.until is not None and _aware(row.until) > now:
            return Delivery.IN_PROGRESS
        row.token, row.until, row.updated_at = token, now + dt.timedelta(seconds=hold_seconds), now
        return Delivery.NEW

    def renew(self, key: str, token: str, hold_seconds: int) -> bool:
        with self._sessions.begin() as session:
            row = session.get(DeliveryClaim, key, with_for_update=True)
            if row is None or row.token != token:
                return False
            row.until, row.updated_at = _now() + dt.timedelta(seconds=hold_seconds), _now()
            return True

    def complete(self, *keys: str) -> None:
        """Mark answered, many at once (one upsert: the service batches completions)."""
        if not keys:
            return
        now = _now()
        rows = [{"key": key, "token": None, "until": None, "updated_at": now} for key in dict.fromkeys(keys)]
        with self._sessions.begin() as session:
            insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
            statement = insert(DeliveryClaim).values(rows)
            session.execute(
                statement.on_conflict_do_update(
                    index_elements=[DeliveryClaim.key], set_={"token": None, "until": None, "updated_at": now}
                )
            )

    def release(self, key: str, token: str) -> None:
        with self._sessions.begin() as session:
            session.execute(
                delete(DeliveryClaim).where(DeliveryClaim.key == key, DeliveryClaim.token == token)
            )
