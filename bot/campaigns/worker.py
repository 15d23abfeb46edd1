"""The workers: drain a campaign through the SQL claim, on arq (Redis) or in process.

Why arq: it is asyncio-native like the rest of the service (the channel adapters, the twilio and
python-telegram-bot clients are async), needs only Redis, which the service already uses, and keeps
a worker to one event loop. The queue only says "work on campaign X"; which recipient is sent, and
that it is sent once, is decided by the SQL claim (claims.py), so any number of workers, a re-run or
a crash cannot send twice, and an arq job run twice is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns import claims
from bot.campaigns.claims import Claimed
from bot.campaigns.delivery import Deliverer
from bot.campaigns.pacing import Pacer
from bot.campaigns.topics import CHANNELS

log = logging.getLogger(__name__)
IN_FLIGHT = 16
"""Provider calls a worker has open per channel: also the most recipients a crash leaves in doubt."""
GROUP = 4
"""Recipients marked `sending` together (one transaction before, one after, per group)."""
IDLE_SECONDS = 0.25
RETRIES = 6
"""A database blip (connection dropped, failover) is retried with backoff, ~30 s in all, then raised."""
T = TypeVar("T")


async def sql(work: Callable[..., T], *args: Any) -> T:
    """Run a claims.* step in a thread; transient database errors are retried (every step is safe to
    repeat: a repeated claim's rows are released when idle, `sending` and `complete` check the token)."""
    for attempt in range(RETRIES):
        try:
            return await asyncio.to_thread(work, *args)
        except (OperationalError, InterfaceError) as exc:
            if attempt == RETRIES - 1:
                raise
            log.error("campaign database step failed (%s), retrying", exc.__class__.__name__)
            await asyncio.sleep(0.5 * 2**attempt)
    raise AssertionError("unreachable")


@dataclass
class CampaignWorker:
    sessions: sessionmaker[Session]
    deliverer_for: Callable[[str], Awaitable[Deliverer]]
    """(campaign id) → its deliverer (spec, adapters)."""
    pacer: Pacer
    lease: float = 15.0
    in_flight: int = IN_FLIGHT
    token: str = field(default_factory=lambda: uuid.uuid4().hex)

    async def run(self, campaign_id: str) -> None:
        """Send until every recipient of the campaign is final (others' claims included)."""
        deliverer = await self.deliverer_for(campaign_id)
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            await asyncio.gather(*(self._drain(deliverer, campaign_id, ch) for ch in CHANNELS))
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _heartbeat(self) -> None:
        """Renew the leases; a database blip is survived (the next beat comes well within one lease)."""
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                await asyncio.to_thread(claims.renew, self.sessions, self.token, self.lease)
            except SQLAlchemyError as exc:
                log.error("campaign leases not renewed (%s)", exc.__class__.__name__)

    async def _drain(self, deliverer: Deliverer, campaign_id: str, channel: str) -> None:
        """A claimer keeps a short queue of claimed groups filled while the lanes send: the rate limit's
        slots are never left unused waiting for a claim."""
        lanes = max(1, self.in_flight // GROUP)
        groups: asyncio.Queue[list[Claimed] | None] = asyncio.Queue(maxsize=lanes * 2)
        claimer = asyncio.create_task(self._claimer(campaign_id, channel, groups, lanes))
        try:
            await asyncio.gather(*(self._lane(deliverer, groups) for _ in range(lanes)))
        finally:
            claimer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await claimer

    async def _claimer(
        self, campaign_id: str, channel: str, groups: asyncio.Queue[list[Claimed] | None], lanes: int
    ) -> None:
        while True:
            batch = await sql(
                claims.claim, self.sessions, campaign_id, channel, self.token, GROUP * lanes, self.lease
            )
            for start in range(0, len(batch), GROUP):
                await groups.put(batch[start : start + GROUP])
            if batch:
                continue
            await groups.join()  # what was claimed is final before deciding the channel is done
            await sql(claims.release, self.sessions, campaign_id, channel, self.token)
            await sql(claims.recover, self.sessions, campaign_id)
            if not await sql(_open_on, self.sessions, campaign_id, channel):
                for _ in range(lanes):
                    await groups.put(None)
                return
            await asyncio.sleep(IDLE_SECONDS)

    async def _lane(self, deliverer: Deliverer, groups: asyncio.Queue[list[Claimed] | None]) -> None:
        """mark sending → send → complete, GROUP recipients at a time; a crash leaves at most
        `in_flight` recipients in doubt (settled with the provider by the next worker)."""
        while (group := await groups.get()) is not None:
            try:
                held = await sql(claims.mark_sending, self.sessions, self.token, [r.id for r in group])
                outcomes = await asyncio.gather(
                    *(deliverer.deliver(r, self.pacer) for r in group if r.id in held)
                )
                await sql(claims.complete, self.sessions, self.token, list(outcomes))
            finally:
                groups.task_done()
        groups.task_done()


def _open_on(sessions: sessionmaker[Session], campaign_id: str, channel: str) -> bool:
    """Whether recipients of this channel are still pending or held by a live worker."""
    from sqlalchemy import select

    from bot.db.models import CampaignRecipient as R

    with sessions() as session:
        return (
            session.scalar(
                select(R.id)
                .where(R.campaign_id == campaign_id, R.channel == channel, R.status.in_(claims.OPEN))
                .limit(1)
            )
            is not None
        )


# arq: `infobot campaign worker` runs these; `infobot campaign send` enqueues and runs one in burst mode.
JOB = "send_campaign"


async def send_campaign(ctx: dict[str, Any], campaign_id: str) -> str:
    worker: CampaignWorker = ctx["campaign_worker"]
    await worker.run(campaign_id)
    return "done"
