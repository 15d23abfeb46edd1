"""`infobot campaign send|worker` and `infobot subscribers import`: the wiring from settings.

With REDIS_URL the campaign goes on arq's queue (workers started with `infobot campaign worker`
share it, and `send` runs one itself); without it, the in-process default sends it. Either way
`send` waits until every recipient is final, drawing a progress bar, then prints a summary.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import redis.asyncio as aioredis
from arq import create_pool
from arq.connections import RedisSettings
from arq.worker import Worker
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns import claims
from bot.campaigns.audience import audience_counts, prepare
from bot.campaigns.delivery import Deliverer, store_window
from bot.campaigns.pacing import LocalPacer, Pacer, RedisPacer
from bot.campaigns.spec import CampaignSpec, SpecError, load_spec
from bot.campaigns.subscribers import ImportResult, import_csv
from bot.campaigns.topics import CHANNELS
from bot.campaigns.worker import JOB, CampaignWorker, send_campaign, sql
from bot.channels.telegram import TelegramChannel
from bot.channels.twilio import TwilioChannel
from bot.config import Settings
from bot.db import make_engine, migrate, session_factory
from bot.db.models import Campaign
from bot.state import make_store

QUEUE = "infobot:campaigns"
PARTS = 4
"""arq jobs enqueued per campaign: up to this many workers pick one up and share the campaign."""
JOB_TIMEOUT = 7 * 24 * 3600


def database(settings: Settings) -> sessionmaker[Session]:
    engine = make_engine(settings.database_url)
    migrate(engine)
    return session_factory(engine)


def import_subscribers(settings: Settings, path: Path, out: TextIO) -> ImportResult:
    result = import_csv(database(settings), settings.pseudonym_key, path)
    for line, problem in result.bad:
        print(f"{path}:{line}: skipped: {problem}", file=out)
    print(
        f"{result.subscribed} subscribed, {result.updated} updated, {len(result.bad)} bad row(s) skipped, "
        f"{result.refused_opted_out} not re-subscribed (opted out)",
        file=out,
    )
    return result


@dataclass
class Wiring:
    settings: Settings
    sessions: sessionmaker[Session]
    redis: aioredis.Redis | None

    @contextlib.asynccontextmanager
    async def worker(self, lease: float) -> AsyncIterator[CampaignWorker]:
        """A campaign worker with the adapters started, and closed after."""
        twilio = TwilioChannel.from_settings(self.settings)
        telegram = TelegramChannel.from_settings(self.settings)
        await telegram.start()
        store = make_store(self.settings)
        rates = {ch: self.settings.campaigns.rate(ch) for ch in CHANNELS}
        pacer: Pacer = RedisPacer(self.redis, rates) if self.redis is not None else LocalPacer(rates)

        async def deliverer_for(campaign_id: str) -> Deliverer:
            spec = await asyncio.to_thread(_spec, self.sessions, campaign_id)
            has_tg = self.settings.telegram_bot_token is not None
            return Deliverer(
                spec,
                self.settings.campaigns,
                self.sessions,
                twilio,
                telegram if has_tg else None,
                store_window(store),
            )

        try:
            yield CampaignWorker(self.sessions, deliverer_for, pacer, lease=lease)
        finally:
            await twilio.aclose()
            await telegram.aclose()


def _spec(sessions: sessionmaker[Session], campaign_id: str) -> CampaignSpec:
    with sessions() as session:
        row = session.get(Campaign, campaign_id)
        if row is None:
            raise SpecError(f"no campaign {campaign_id!r}")
        return CampaignSpec.from_json(row.spec)


def check_senders(settings: Settings, channels: set[str]) -> list[str]:
    """What is missing to reach the audience's channels (refused before anything is sent)."""
    missing = []
    for channel in sorted(channels):
        if channel == "telegram" and not settings.telegram_bot_token:
            missing.append("telegram: TELEGRAM_BOT_TOKEN is not set")
        elif channel != "telegram" and not (settings.twilio_account_sid and settings.twilio_auth_token):
            missing.append(f"{channel}: TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set")
        elif channel != "telegram" and settings.campaigns.sender(channel) is None:
            name = "TWILIO_WHATSAPP_FROM" if channel == "whatsapp" else "TWILIO_SMS_FROM"
            missing.append(f"{channel}: set {name} or TWILIO_MESSAGING_SERVICE_SID")
    return missing


def dry_run(settings: Settings, spec: CampaignSpec, out: TextIO) -> Counter[tuple[str, str]]:
    counts = audience_counts(database(settings), spec)
    print(f"campaign {spec.id}: {sum(counts.values())} recipient(s)", file=out)
    for (channel, language), n in sorted(counts.items()):
        print(f"  {channel:9} {language}  {n}", file=out)
    return counts


async def send(settings: Settings, path: Path, out: TextIO, lease: float = 15.0) -> Counter[str]:
    """Store the campaign (once), queue it, drain it, wait for every recipient, print the summary."""
    spec = load_spec(path)
    sessions = database(settings)
    counts = await asyncio.to_thread(audience_counts, sessions, spec)
    if missing := check_senders(settings, {ch for ch, _ in counts}):
        raise SpecError("cannot reach the audience: " + "; ".join(missing))
    total = await asyncio.to_thread(prepare, sessions, spec)
    redis = aioredis.Redis.from_url(settings.redis_url) if settings.redis_url else None
    wiring = Wiring(settings, sessions, redis)
    try:
        async with wiring.worker(lease) as worker:
            drain = asyncio.create_task(_drain(settings, worker, spec.id))
            while not drain.done():
                with contextlib.suppress(SQLAlchemyError):  # only the bar misses a beat
                    _bar(await asyncio.to_thread(claims.progress, sessions, spec.id), total, out)
                await asyncio.wait({drain}, timeout=0.5)
            await drain
            await _wait_final(sessions, spec.id, total, out)
    finally:
        if redis is not None:
            await redis.aclose()
    return _summary(sessions, spec.id, out)


async def _drain(settings: Settings, worker: CampaignWorker, campaign_id: str) -> None:
    """In process without Redis; with Redis, enqueue the campaign's jobs and run a burst worker."""
    if not settings.redis_url:
        await worker.run(campaign_id)
        return
    await enqueue(settings, campaign_id)
    arq = arq_worker(settings, worker, burst=True)
    try:
        await arq.async_run()
    finally:
        await arq.close()
    await worker.run(campaign_id)  # what workers elsewhere still hold: wait for it, take it if they die


def arq_worker(settings: Settings, worker: CampaignWorker, *, burst: bool) -> Worker:
    async def startup(ctx: dict[str, Any]) -> None:
        ctx["campaign_worker"] = worker
        if not burst:
            print(f"campaign worker {worker.token[:8]} ready", flush=True)

    return Worker(
        functions=[send_campaign],
        queue_name=QUEUE,
        redis_settings=RedisSettings.from_dsn(settings.redis_url or ""),
        on_startup=startup,
        burst=burst,
        max_jobs=1,  # a job already runs every channel; the campaign's other jobs go to other workers
        job_timeout=JOB_TIMEOUT,
        keep_result=60,
        handle_signals=False,
    )


SCHEDULE_SECONDS = 15.0


def due(sessions: sessionmaker[Session]) -> list[tuple[CampaignSpec, str]]:
    """Campaigns approved in the console whose time has come: (spec, who approved it)."""
    now = dt.datetime.now(dt.UTC)
    with sessions() as session:
        rows = session.scalars(
            select(Campaign).where(Campaign.status == "approved", Campaign.scheduled_at <= now)
        ).all()
        return [(CampaignSpec.from_json(row.spec), row.approved_by or "console") for row in rows]


async def enqueue(settings: Settings, campaign_id: str) -> None:
    pool = await create_pool(RedisSettings.from_dsn(settings.redis_url or ""), default_queue_name=QUEUE)
    try:
        for part in range(PARTS):
            await pool.enqueue_job(JOB, campaign_id, _job_id=f"campaign:{campaign_id}:{part}")
    finally:
        await pool.aclose()


async def schedule_forever(settings: Settings, sessions: sessionmaker[Session]) -> None:
    """Every worker looks for due campaigns; freezing the audience and the job ids make it once."""
    while True:
        try:
            for spec, approver in await asyncio.to_thread(due, sessions):
                await asyncio.to_thread(prepare, sessions, spec, approver)
                await enqueue(settings, spec.id)
                logging.getLogger(__name__).info("campaign %s: scheduled time reached, queued", spec.id)
        except (SQLAlchemyError, RedisError) as exc:
            logging.getLogger(__name__).error("scheduled campaigns not checked (%s)", exc.__class__.__name__)
        await asyncio.sleep(SCHEDULE_SECONDS)


async def run_worker(settings: Settings, lease: float = 15.0) -> None:
    """`infobot campaign worker`: a long-running arq worker with REDIS_URL; without it, one process that
    sends the campaigns approved in the console itself, when their time comes."""
    logging.getLogger("arq.worker").setLevel(logging.INFO)
    logging.getLogger("bot.campaigns").setLevel(logging.INFO)  # one line per job started and finished
    sessions = database(settings)
    if not settings.redis_url:
        await _run_in_process(settings, sessions, lease)
        return
    redis = aioredis.Redis.from_url(settings.redis_url)
    try:
        async with Wiring(settings, sessions, redis).worker(lease) as worker:
            arq = arq_worker(settings, worker, burst=False)
            scheduler = asyncio.create_task(schedule_forever(settings, sessions))
            try:
                await arq.async_run()
            finally:
                scheduler.cancel()
                await arq.close()
    finally:
        await redis.aclose()


async def _run_in_process(settings: Settings, sessions: sessionmaker[Session], lease: float) -> None:
    """The in-process default: due campaigns are frozen (once: `prepare` moves them to sending) and sent
    here, one after another; a restarted worker resumes a campaign left in `sending` (claims in SQL)."""
    log = logging.getLogger(__name__)
    async with Wiring(settings, sessions, None).worker(lease) as worker:
        print(f"campaign worker {worker.token[:8]} ready (in process: REDIS_URL is not set)", flush=True)
        while True:
            try:
                for spec, approver in await asyncio.to_thread(due, sessions):
                    await asyncio.to_thread(prepare, sessions, spec, approver)
                    log.info("campaign %s: scheduled time reached, sending in process", spec.id)
                for campaign_id in await asyncio.to_thread(sending, sessions):
                    await worker.run(campaign_id)
                    await sql(claims.recover, sessions, campaign_id)
                    await asyncio.to_thread(_mark_done, sessions, campaign_id)
                    log.info("campaign %s: every recipient final", campaign_id)
            except SQLAlchemyError as exc:
                log.error("scheduled campaigns not checked (%s)", exc.__class__.__name__)
            await asyncio.sleep(SCHEDULE_SECONDS)


def sending(sessions: sessionmaker[Session]) -> list[str]:
    """Campaigns whose audience is frozen and not yet final (a restart resumes them)."""
    with sessions() as session:
        return list(session.scalars(select(Campaign.id).where(Campaign.status == "sending")))


async def _wait_final(sessions: sessionmaker[Session], campaign_id: str, total: int, out: TextIO) -> None:
    while True:
        await sql(claims.recover, sessions, campaign_id)
        status = await sql(claims.progress, sessions, campaign_id)
        _bar(status, total, out)
        if not any(status[s] for s in claims.OPEN):
            print(file=out)
            return
        await asyncio.sleep(0.5)


def _bar(status: Counter[str], total: int, out: TextIO) -> None:
    done = sum(status[s] for s in claims.FINAL)
    width = 30
    filled = width * done // total if total else width
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="", file=out, flush=True)


def _mark_done(sessions: sessionmaker[Session], campaign_id: str) -> None:
    with sessions.begin() as session:
        row = session.get(Campaign, campaign_id)
        if row is not None:
            row.status = "done"


def _summary(sessions: sessionmaker[Session], campaign_id: str, out: TextIO) -> Counter[str]:
    status = claims.progress(sessions, campaign_id)
    print(
        f"campaign {campaign_id}: {sum(status.values())} targeted, {status['sent']} sent, "
        f"{status['failed']} failed, {status['skipped']} skipped, {status['unknown']} unknown",
        file=out,
    )
    for (kind, reason), n in sorted(claims.reasons(sessions, campaign_id).items()):
        print(f"  {kind} {reason}: {n}", file=out)
    _mark_done(sessions, campaign_id)
    return status
