"""`infobot chat`: a conversation in the terminal through the same dialogue as every channel."""

from __future__ import annotations

import asyncio
import sys

from bot.channels.base import InboundMessage
from bot.channels.render import as_plain_text
from bot.config import Settings
from bot.dialogue.state import ConversationState
from bot.runtime import start_runtime

SENDER = "terminal"


async def chat(settings: Settings, lang: str | None, country: str | None) -> int:
    print("Starting infobot (the first start trains the NLU model)...", flush=True)
    runtime = await start_runtime(settings)
    conversation_id = f"terminal:{SENDER}"
    await runtime.store.update(conversation_id, ConversationState(language=lang, country=country).to_dict())
    print("Write a message (Ctrl-D to quit).", flush=True)
    try:
        while True:
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                break
            if not line.strip():
                continue
            inbound = InboundMessage(channel="terminal", sender=SENDER, text=line.strip()[:4096])
            for reply in await runtime.conversations.handle(inbound):
                print("\n" + as_plain_text(reply) + "\n", flush=True)
    finally:
        await runtime.aclose()
    return 0
