"""Builds and tears down the running parts (store, NLU, content, database) from the settings."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings
from bot.content.library import ContentSource
from bot.nlu.client import NluService
from bot.nlu.server import RasaServer
from bot.nlu.session import start_nlu
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
    conversations: ConversationService
    rasa_server: RasaServer | None = None

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

    async def aclose(self) -> None:
        if self.rasa_server is not None:
            await self.rasa_server.stop()
        await self.nlu.client.aclose()
        await self.store.aclose()
        self.database.dispose()


async def start_runtime(settings: Settings, *, manage_rasa: bool = True) -> Runtime:
    """Everything the service needs; starts a Rasa child process unless RASA_URL names one."""
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    nlu, rasa_server = await start_nlu(settings, manage_rasa=manage_rasa)
    store = make_store(settings)
    content = ContentSource(settings.content_dir)
    database = create_engine(settings.database_url, pool_pre_ping=True)
    conversations = ConversationService(store, nlu, content, settings.secret_key)
    return Runtime(settings, store, nlu, content, database, conversations, rasa_server)
