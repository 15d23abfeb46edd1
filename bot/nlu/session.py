"""Gets an NLU service ready: the Rasa server named by RASA_URL (with RASA_TOKEN, if it asks for one), or a
child Rasa process of our own with a token generated for this start."""

from __future__ import annotations

import asyncio
import logging

from bot.config import Settings
from bot.logs import install_redaction
from bot.nlu.client import NluService, RasaClient
from bot.nlu.language import language_identifier
from bot.nlu.server import RasaServer
from bot.nlu.training import train

log = logging.getLogger(__name__)


async def start_nlu(settings: Settings, *, manage_rasa: bool = True) -> tuple[NluService, RasaServer | None]:
    """Train if intents/ changed, start Rasa on a free loopback port unless RASA_URL is set."""
    server: RasaServer | None = None
    url, token = settings.rasa_url, settings.rasa_token
    if url is None and manage_rasa:
        model, trained = await asyncio.to_thread(
            train, settings.root, settings.intents_dir, settings.models_dir
        )
        log.info("nlu model %s (%s)", model.name, "trained now" if trained else "up to date")
        server = RasaServer(settings.root, model)
        install_redaction([server.token])  # it travels in request URLs, which HTTP libraries log
        await server.start()
        url, token = server.url, server.token
    client = RasaClient(url or "http://127.0.0.1:5005", timeout=settings.nlu_timeout, token=token)
    return NluService(client, language_identifier(settings.intents_dir / "data" / "nlu")), server
