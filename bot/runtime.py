"""Builds and tears down the running parts (store, NLU, content, database, channels) from the settings."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from bot.channels.base import Channel
from bot.channels.rest import RestChannel
from bot.channels.telegram import TelegramChannel
from bot.channels.twilio import TwilioChannel
from bot.config import Settings
from bot.content.library import ContentSource
from bot.db import make_engine, migrate, session_factory
from bot.logs import install_redaction, secrets_of
from bot.nlu.client import NluService
from bot.nlu.server import RasaServer
from bot.nlu.session import start_nlu
from bot.outbound import OutboundSender
from bot.records import SqlRecorder, purge_expired
from bot.referrals import Directory, DirectoryError, load_directory
from bot.referrals.log import ReferralLog
from bot.scam import mask_personal_data
from bot.service import ConversationService
from bot.state import ConversationStore, make_store

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    store: ConversationStore
    nlu: NluService
    content: ContentSource
    database: Engine
    recorder: SqlRecorder
    conversations: ConversationService
    twilio: TwilioChannel
    telegram: TelegramChannel
    sender: OutboundSender
    rasa_server: RasaServer | None = None
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def background(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        """Run work after a response (late replies); keep a reference so it is not garbage-collected."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

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

    async def maintain(self, every_seconds: float = 6 * 3600) -> None:
        """Retention and spool replay, forever: transcripts expire, spooled referrals reach SQL."""
        sessions = session_factory(self.database)
        while True:
            try:
                purged = await asyncio.to_thread(purge_expired, sessions, self.settings.retention_days)
                replayed = (
                    await asyncio.to_thread(self.conversations.referrals.replay)
                    if self.conversations.referrals
                    else 0
                )
                log.info("maintenance: %d expired rows purged, %d referrals replayed", purged, replayed)
            except SQLAlchemyError as exc:
                log.error("maintenance failed, will retry: %s", exc.__class__.__name__)
            await asyncio.sleep(every_seconds)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            if task.get_name() == "maintenance":
                task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=15)
        if self.rasa_server is not None:
            await self.rasa_server.stop()
        await self.nlu.client.aclose()
        await self.twilio.aclose()
        await self.telegram.aclose()
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
    lines = ["rest: on (web chat and tests)"]
    twilio_missing = [
        n
        for n, v in (
            ("TWILIO_ACCOUNT_SID", settings.twilio_account_sid),
            ("TWILIO_AUTH_TOKEN", settings.twilio_auth_token),
        )
        if not v
    ]
    lines.append(
        "twilio (WhatsApp, SMS): "
        + ("on" if not twilio_missing else f"off — set {', '.join(twilio_missing)}")
    )
    telegram_missing = [
        n
        for n, v in (
            ("TELEGRAM_BOT_TOKEN", settings.telegram_bot_token),
            ("TELEGRAM_WEBHOOK_SECRET", settings.telegram_webhook_secret),
        )
        if not v
    ]
    lines.append(
        "telegram: " + ("on" if not telegram_missing else f"off — set {', '.join(telegram_missing)}")
    )
    return lines


async def start_runtime(settings: Settings, *, manage_rasa: bool = True) -> Runtime:
    """Everything the service needs; starts a Rasa child process unless RASA_URL names one."""
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    database = make_engine(settings.database_url)
    await asyncio.to_thread(migrate, database)
    nlu, rasa_server = await start_nlu(settings, manage_rasa=manage_rasa)
    store = make_store(settings)
    content = ContentSource(settings.content_dir)
    recorder = SqlRecorder(session_factory(database), settings.pseudonym_key, mask_personal_data)
    sessions = session_factory(database)
    referrals = ReferralLog(sessions, settings.var_dir / "spool" / "referrals.jsonl")
    await asyncio.to_thread(referrals.replay)
    conversations = ConversationService(
        store,
        nlu,
        content,
        settings.pseudonym_key,
        recorder,
        directory=load_hub_directory(settings),
        referrals=referrals,
    )
    twilio = TwilioChannel(
        settings.twilio_auth_token,
        settings.twilio_account_sid,
        settings.public_base_url,
        settings.twilio_api_base,
    )
    telegram = TelegramChannel(
        settings.telegram_bot_token, settings.telegram_webhook_secret, settings.telegram_api_base
    )
    install_redaction([*twilio.secrets(), *telegram.secrets(), *secrets_of(settings)])
    await telegram.start()
    channels: dict[str, Channel] = {"twilio": twilio, "telegram": telegram, "rest": RestChannel()}
    sender = OutboundSender(channels, store, recorder.dead_letter)
    for line in describe_channels(settings):
        log.info("channel %s", line)
    parts = (store, nlu, content, database, recorder, conversations, twilio, telegram, sender)
    runtime = Runtime(settings, *parts, rasa_server=rasa_server)
    maintenance = asyncio.get_running_loop().create_task(runtime.maintain(), name="maintenance")
    runtime._tasks.add(maintenance)
    return runtime
