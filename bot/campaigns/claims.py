"""The SQL claim that makes sending exactly-once: claim → sending → final, one row per recipient.

A worker claims a batch (status `claimed`, its token, a lease it renews while alive), marks a few
`sending` just before the provider call, and completes them after. A worker that dies loses its
lease: its `claimed` rows go back to `pending` (never sent, so another worker sends them); its
`sending` rows go back to `pending` *in doubt* (`in_doubt_since`): the provider may have taken them,
so the next worker asks the provider before sending again (delivery.py). Only where the provider
cannot say (Telegram) does a recipient in doubt end as `unknown`: never sent twice, counted.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import CampaignRecipient, ContactPreference, Subscription

R = CampaignRecipient
FINAL = ("sent", "failed", "skipped", "unknown")
OPEN = ("pending", "claimed", "sending")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Claimed:
    id: int
    person: str
    channel: str
    language: str
    address: str
    attempts: int
    reachable: bool
    """The subscription is still active and the person has not opted out since the audience was frozen."""
    in_doubt_since: dt.datetime | None = None
    """An earlier send may have reached the provider (crash mid-send, timeout): since when (UTC)."""


@dataclass(frozen=True)
class Outcome:
    id: int
    status: str
    reason: str | None = None
    provider_id: str | None = None
    template: bool = False
    retry_at: dt.datetime | None = None
    in_doubt_since: dt.datetime | None = None
    """A retry after an ambiguous failure (the provider may have taken it): check before sending."""


def claim(
    sessions: sessionmaker[Session], campaign_id: str, channel: str, token: str, size: int, lease: float
) -> list[Claimed]:
    """Up to `size` pending recipients of one channel, atomically (SKIP LOCKED on PostgreSQL; one
    statement under SQLite's single writer)."""
    now = _now()
    with sessions.begin() as session:
        pick = (
            select(R.id)
            .where(
                R.campaign_id == campaign_id,
                R.status == "pending",
                R.channel == channel,
                or_(R.not_before.is_(None), R.not_before <= now),
            )
            .order_by(R.id)
            .limit(size)
        )
        if session.get_bind().dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        picked = pick.cte("picked")  # a CTE: PostgreSQL runs it once (an IN subquery may ignore LIMIT)
        ids = session.scalars(
            update(R)
            .where(R.id == picked.c.id, R.status == "pending")
            .values(status="claimed", claim_token=token, claimed_until=now + dt.timedelta(seconds=lease))
            .returning(R.id)
        ).all()
        if not ids:
            return []
        rows = session.execute(
            select(R.id, R.person, R.channel, R.language, Subscription.address, R.attempts)
            .add_columns(Subscription.active, ContactPreference.opted_out, R.in_doubt_since)
            .join(Subscription, Subscription.id == R.subscription_id)
            .outerjoin(ContactPreference, ContactPreference.person == R.person)
            .where(R.id.in_(ids))
            .order_by(R.id)
        ).all()
    return [
        Claimed(rid, person, ch, lang, address, attempts, bool(active) and not opted_out, _utc(doubt))
        for rid, person, ch, lang, address, attempts, active, opted_out, doubt in rows
    ]


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    """SQLite gives back naive datetimes for timezone-aware columns: they were written in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


def mark_sending(sessions: sessionmaker[Session], token: str, ids: list[int]) -> set[int]:
    """Just before the provider calls: only rows this worker still holds (its lease not lost)."""
    with sessions.begin() as session:
        held = session.scalars(
            update(R)
            .where(R.id.in_(ids), R.claim_token == token, R.status == "claimed")
            .values(status="sending", updated_at=_now())
            .returning(R.id)
        ).all()
    return set(held)


def complete(sessions: sessionmaker[Session], token: str, outcomes: list[Outcome]) -> None:
    """Record what happened; a retry goes back to `pending` with its earliest time."""
    now = _now()
    with sessions.begin() as session:
        for o in outcomes:
            values: dict[str, object] = {"status": o.status, "reason": o.reason, "updated_at": now}
            if o.status == "pending":
                values.update(not_before=o.retry_at, attempts=R.attempts + 1, claim_token=None)
                if o.in_doubt_since is not None:
                    values["in_doubt_since"] = func.coalesce(R.in_doubt_since, o.in_doubt_since)
            else:
                values.update(provider_id=o.provider_id, template=o.template)  # the token says who sent it
                if o.status in ("sent", "failed"):
                    values["attempts"] = R.attempts + 1
                if o.status == "sent":
                    values["sent_at"] = now
            session.execute(
                update(R).where(R.id == o.id, R.claim_token == token).values(**values),
                execution_options={"synchronize_session": False},
            )


def renew(sessions: sessionmaker[Session], token: str, lease: float) -> None:
    """The worker is alive: push its leases forward."""
    with sessions.begin() as session:
        session.execute(
            update(R)
            .where(R.claim_token == token, R.status.in_(("claimed", "sending")))
            .values(claimed_until=_now() + dt.timedelta(seconds=lease)),
            execution_options={"synchronize_session": False},
        )


def release(sessions: sessionmaker[Session], campaign_id: str, channel: str, token: str) -> None:
    """Rows of this worker's channel that no lane holds, called when its lanes are idle: a claim or a
    `sending` mark whose answer a database blip lost (retried, so never given to a lane: never sent)."""
    with sessions.begin() as session:
        session.execute(
            update(R)
            .where(
                R.campaign_id == campaign_id,
                R.channel == channel,
                R.claim_token == token,
                R.status.in_(("claimed", "sending")),
            )
            .values(status="pending", claim_token=None, claimed_until=None),
            execution_options={"synchronize_session": False},
        )


def recover(sessions: sessionmaker[Session], campaign_id: str) -> tuple[int, int]:
    """Leases of dead workers: claimed → pending; sending → pending in doubt since it was marked (the
    provider is asked before it is sent again). Returns (requeued, in doubt)."""
    now = _now()
    expired = and_(R.campaign_id == campaign_id, R.claimed_until < now)
    with sessions.begin() as session:
        requeued = session.execute(
            update(R)
            .where(expired, R.status == "claimed")
            .values(status="pending", claim_token=None, claimed_until=None),
            execution_options={"synchronize_session": False},
        )
        doubted = session.execute(
            update(R)
            .where(expired, R.status == "sending")
            .values(
                status="pending",
                reason="interrupted_mid_send",
                claim_token=None,
                claimed_until=None,
                in_doubt_since=func.coalesce(R.in_doubt_since, R.updated_at),  # marked sending then
                updated_at=now,
            ),
            execution_options={"synchronize_session": False},
        )
    return int(getattr(requeued, "rowcount", 0) or 0), int(getattr(doubted, "rowcount", 0) or 0)


def progress(sessions: sessionmaker[Session], campaign_id: str) -> Counter[str]:
    """Recipients by status."""
    with sessions() as session:
        rows = session.execute(
            select(R.status, func.count()).where(R.campaign_id == campaign_id).group_by(R.status)
        ).all()
    return Counter({status: int(n) for status, n in rows})


def reasons(sessions: sessionmaker[Session], campaign_id: str) -> Counter[tuple[str, str]]:
    """(status, reason) counts of the failed, skipped and unknown recipients, and of those sent whose
    send was settled with the provider after a crash or a 5xx."""
    with sessions() as session:
        rows = session.execute(
            select(R.status, R.reason, func.count())
            .where(
                R.campaign_id == campaign_id,
                or_(R.status.in_(("failed", "skipped", "unknown")), R.reason == "settled"),
            )
            .group_by(R.status, R.reason)
        ).all()
    return Counter({(status, reason or ""): int(n) for status, reason, n in rows})
