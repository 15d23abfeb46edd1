"""Who a campaign reaches: active subscribers in its countries × languages with one of its topics.

The audience is frozen the first time a campaign is sent (one recipient row per person, keyed by
sha256(campaign, person)): re-running the campaign, a restart or a second worker finds the rows
already there and sends nothing new.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Iterator

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns.spec import CampaignSpec, SpecError
from bot.campaigns.topics import CHANNELS
from bot.db.models import Campaign, CampaignRecipient, Subscription

CHUNK = 1000


def idempotency_key(campaign_id: str, person: str) -> str:
    return hashlib.sha256(f"{campaign_id}\x00{person}".encode()).hexdigest()


def matching(session: Session, spec: CampaignSpec) -> Iterator[tuple[int, str, str, str, str]]:
    """(subscription id, person, channel, language, country) of everyone the campaign reaches."""
    wanted = set(spec.topics)
    query = (
        select(
            Subscription.id,
            Subscription.person,
            Subscription.channel,
            Subscription.language,
            Subscription.country,
            Subscription.topics,
        )
        .where(
            Subscription.active.is_(True),
            Subscription.channel.in_(CHANNELS),
            Subscription.country.in_(spec.countries),
            Subscription.language.in_(spec.languages),
        )
        .order_by(Subscription.id)
        .execution_options(yield_per=CHUNK)
    )
    for sub_id, person, channel, language, country, topics in session.execute(query):
        if wanted & set(topics.split(";")):
            yield sub_id, person, channel, language, country


def audience_counts(sessions: sessionmaker[Session], spec: CampaignSpec) -> Counter[tuple[str, str]]:
    """(channel, language) → people, for --dry-run and the console's audience count."""
    with sessions() as session:
        return Counter((channel, language) for _, _, channel, language, _ in matching(session, spec))


def prepare(sessions: sessionmaker[Session], spec: CampaignSpec, actor: str = "cli") -> int:
    """Store the campaign and its recipients once; returns how many recipients it has. A campaign id
    already used for other content is refused (ids name one broadcast, forever). Two `send`s started
    together: the second one's insert fails on the unique keys and it goes on with the first one's rows."""
    try:
        _prepare(sessions, spec, actor)
    except IntegrityError:
        _prepare(sessions, spec, actor)  # the other one committed: now it finds the campaign sending
    with sessions() as session:
        query = select(CampaignRecipient.id).where(CampaignRecipient.campaign_id == spec.id)
        return len(session.scalars(query).all())


def _prepare(sessions: sessionmaker[Session], spec: CampaignSpec, actor: str) -> None:
    with sessions.begin() as session:
        existing = session.get(Campaign, spec.id)
        if existing is not None and CampaignSpec.from_json(existing.spec) != spec:
            raise SpecError(f"campaign id {spec.id!r} was already used for different content: pick a new id")
        if existing is None:
            session.add(Campaign(id=spec.id, spec=spec.to_json(), status="approved", created_by=actor))
            session.flush()
            existing = session.get(Campaign, spec.id)
        assert existing is not None
        if existing.status in ("draft", "approved"):
            _materialise(session, spec)
            existing.status = "sending"


def _materialise(session: Session, spec: CampaignSpec) -> None:
    now = dt.datetime.now(dt.UTC)
    rows = [
        {
            "idempotency_key": idempotency_key(spec.id, person),
            "campaign_id": spec.id,
            "subscription_id": sub_id,
            "person": person,
            "channel": channel,
            "language": language,
            "country": country,
            "status": "pending",
            "template": False,
            "attempts": 0,
            "updated_at": now,
        }
        for sub_id, person, channel, language, country in list(matching(session, spec))
    ]
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(CampaignRecipient), rows[start : start + CHUNK])
