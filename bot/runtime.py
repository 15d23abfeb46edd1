"""Builds and tears down the running parts (store, NLU, content, database, channels) from the settings."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from bot.channels import registry
from bot.channels.base import Channel, Sender
from bot.config import Settings
from bot.content.library import ContentSource
from bot.content.live import LivePoller
from bot.db import make_engine, migrate, session_factory
from bot.durable import DurableRecords
from bot.journal import Journal, in_file_thread
from bot.logs import install_redaction, secrets_of
from bot.nlu.client import NluService
from bot.nlu.retrain import ModelSwap
from bot.nlu.server import RasaServer
from bot.nlu.session import start_nlu
from bot.outbound import OptedOutInSql, OutboundSender
from bot.privacy import pseudonymise
from bot.records import SqlRecorder, purge_expired
from bot.referrals import Directory, DirectoryError, load_directory
from bot.referrals.log import ReferralLog
from bot.scam import mask_personal_data
from bot.scam.training import default_model as scam_model
from bot.service import ConversationService
from bot.state import ConversationStore, make_store
from bot.state.sql_deliveries import SqlDeliveries

log = logging.getLogger(__name__)
JOURNAL_SECONDS = 60.0
"""Journals (escalations, erasures, opt-outs, referrals) are replayed into SQL at start and this often."""
JOURNAL_RETRY_SECONDS = 5.0
"""...and this often while entries wait for the database (or for Redis) to be back."""
RECOVERY_SECONDS = 10.0
"""Journaled deliveries whose worker died are answered this often (once their 30 s claim expired)."""
RETENTION_SECONDS = 6 * 3600.0
PERIODIC = ("maintenance", "journal-replay", "delivery-recovery", "content-poll", "nlu-model")
MODEL_POLL_SECONDS = 5.0
"""How often a worker asks SQL whether a retrained model was swapped in (then PUT /model to its Rasa)."""
CONTENT_POLL_SECONDS = 1.0
"""How often a worker asks SQL for the live content version: published on one, answered by all in seconds."""


@dataclass
class Runtime:
    settings: Settings
    store: ConversationStore
    nlu: NluService
    content: ContentSource
    database: Engine
    recorder: SqlRecorder
    conversations: ConversationService
    channels: dict[str, Channel]
    """Every registered adapter by name (bot/channels/registry.py), on or off."""
    sender: OutboundSender
    rasa_server: RasaServer | None = None
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    async def health(self) -> dict[str, str]:
        """'up' or 'down' for each part the service depends on."""
        nlu_up, store_up = await asyncio.gather(self.nlu.client.is_ready(), self.store.ping())
        return {
            "nlu": "up" if nlu_up else "down",
            "store": "up" if store_up else "down",
            "database": "up" if await asyncio.to_thread(self._database_up) else "down",
        }

    def _database_up(self) -> bool:
        try:
            with self.database.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def repeat(self, name: str, every_seconds: float, job: Callable[[], Awaitable[Any]]) -> None:
        """Run `job` now and then every `every_seconds` until shutdown; a failure is logged and retried."""

        async def loop() -> None:
            while True:
                try:
                    await job()
                except Exception as exc:  # noqa: BLE001 - the next round retries; the class says what
                    log.error("%s failed, will retry: %s", name, exc.__class__.__name__)
                await asyncio.sleep(every_seconds)

        task = asyncio.get_running_loop().create_task(loop(), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def purge(self) -> None:
        """Retention: what holds an address or a person's words expires (bot/records.py)."""
        sessions = session_factory(self.database)
        purged = await asyncio.to_thread(purge_expired, sessions, self.settings.retention_days)
        log.info("maintenance: %d expired rows purged", purged)

    async def replay_journals(self) -> bool:
        """What was written ahead while the database was down reaches SQL (and Redis, where it missed).
        True while something still waits for them."""
        waiting = False
        referrals = self.conversations.referrals
        if referrals is not None:
            await asyncio.to_thread(referrals.replay)
            waiting = bool(await in_file_thread(referrals.journal.pending))
        if self.conversations.durable is not None:
            await self.conversations.durable.replay()
            waiting = waiting or self.conversations.durable.pending.is_set()
        return waiting

    async def replay_journals_forever(self) -> None:
        """At start, then every minute; every few seconds while entries wait for the database or the
        store (so they land soon after it is back), and at once when a turn could not apply one."""
        durable = self.conversations.durable
        while True:
            try:
                waiting = await self.replay_journals()
            except Exception as exc:  # noqa: BLE001 - the next round retries; the class says what
                log.error("journal replay failed, will retry: %s", exc.__class__.__name__)
                waiting = True
            if waiting or durable is None:
                await asyncio.sleep(JOURNAL_RETRY_SECONDS if waiting else JOURNAL_SECONDS)
                continue
            try:
                await asyncio.wait_for(durable.pending.wait(), JOURNAL_SECONDS)
            except TimeoutError:
                continue
            await asyncio.sleep(JOURNAL_RETRY_SECONDS)  # a turn could not apply an entry: soon, not at once

    async def aclose(self) -> None:
        for task in list(self._tasks):
            if task.get_name() in PERIODIC:
                task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=15)
        await self.conversations.drain(timeout=15)
        if self.rasa_server is not None:
            await self.rasa_server.stop()
        await self.nlu.client.aclose()
        for adapter in self.channels.values():
            await adapter.aclose()
        await self.store.aclose()
        self.database.dispose()


def load_hub_directory(settings: Settings) -> Directory:
    """The hub directory; a broken one is logged and referrals are not offered until it is fixed."""
    try:
        return load_directory(settings.root / "referrals" / "hubs")
    except DirectoryError as exc:
        for problem in exc.problems:
            log.error("hub directory problem: %s", problem)
        return Directory(hubs=())


def describe_channels(settings: Settings) -> list[str]:
    """One line per channel saying whether it is on and, if not, which setting is missing."""
    lines = []
    for cls in registry.ADAPTERS:
        missing = cls.missing_settings(settings)
        lines.append(f"{cls.name}: " + ("on" if not missing else f"off — set {', '.join(missing)}"))
    return lines


def reaching(channels: dict[str, Channel]) -> dict[str, Sender]:
    """Conversation channel -> the enabled adapter that reaches it (a later registry line wins)."""
    return {served: adapter for adapter in channels.values() if adapter.enabled for served in adapter.serves}


async def start_runtime(settings: Settings, *, manage_rasa: bool = True) -> Runtime:
    """Everything the service needs; starts a Rasa child process unless RASA_URL names one."""
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    database = make_engine(settings.database_url)
    await asyncio.to_thread(migrate, database)
    await asyncio.to_thread(scam_model)  # load (or train once) before the first message, off the event loop
    nlu, rasa_server = await start_nlu(settings, manage_rasa=manage_rasa)
    store = make_store(settings)
    content = ContentSource(settings.content_dir)
    sessions = session_factory(database)
    recorder = SqlRecorder(sessions, settings.pseudonym_key, mask_personal_data)
    spool = settings.var_dir / "spool"
    referrals = ReferralLog(sessions, spool / "referrals.jsonl")
    durable = DurableRecords(sessions, Journal(spool / "records.jsonl"), store, settings.retention_days)
    channels: dict[str, Channel] = {cls.name: cls.from_settings(settings) for cls in registry.ADAPTERS}
    install_redaction([*(secret for a in channels.values() for secret in a.secrets()), *secrets_of(settings)])
    for adapter in channels.values():
        await adapter.start()
    sender = OutboundSender(
        reaching(channels),
        store,
        recorder.dead_letter,
        opted_out_in_sql=sql_opt_outs(durable, settings.pseudonym_key),
    )
    conversations = ConversationService(
        store,
        nlu,
        content,
        settings.pseudonym_key,
        recorder,
        directory=load_hub_directory(settings),
        referrals=referrals,
        durable=durable,
        journal=Journal(spool / "deliveries.jsonl"),
        sender=sender,
        claims=SqlDeliveries(sessions),
    )
    for line in describe_channels(settings):
        log.info("channel %s", line)
    parts = (store, nlu, content, database, recorder, conversations, channels, sender)
    runtime = Runtime(settings, *parts, rasa_server=rasa_server)
    replay = asyncio.get_running_loop().create_task(runtime.replay_journals_forever(), name="journal-replay")
    runtime._tasks.add(replay)
    runtime.repeat("delivery-recovery", RECOVERY_SECONDS, conversations.recover_deliveries)
    runtime.repeat("maintenance", RETENTION_SECONDS, runtime.purge)
    poller = LivePoller(content, sessions)
    try:
        await asyncio.to_thread(poller.poll)  # the live version before the first message, not a second later
    except SQLAlchemyError as exc:
        log.error("live content version not loaded yet, will retry: %s", exc.__class__.__name__)
    runtime.repeat("content-poll", CONTENT_POLL_SECONDS, lambda: asyncio.to_thread(poller.poll))
    swap = ModelSwap(sessions, settings, nlu.client, rasa_server)
    runtime.repeat("nlu-model", MODEL_POLL_SECONDS, swap.follow)
    return runtime


def sql_opt_outs(durable: DurableRecords, pseudonym_key: bytes) -> OptedOutInSql:
    """The outbound check's second opinion: SQL's contact preferences, by pseudonym."""

    async def opted_out(conversation_id: str) -> bool | None:
        flags = await durable.contact_flags(pseudonymise(pseudonym_key, conversation_id))
        return True if flags.opted_out else (False if flags.certain else None)

    return opted_out
