"""The web chat's outbox: staff messages for a person on the web chat, which cannot be pushed to.

The page asks for them (POST /webhooks/rest/outbox, every few seconds); until then they wait in the
conversation's state, under its lock, so they share its time to live and its store (memory or Redis).
"""

from __future__ import annotations

from typing import Any

from bot.dialogue.state import ConversationState
from bot.state.base import ConversationStore

OUTBOX_LIMIT = 50
"""Messages kept for a web-chat page that is closed; beyond this the agent is told the person is away."""


async def queue_for_web_chat(
    store: ConversationStore, conversation_id: str, text: str, language: str | None
) -> bool:
    """False when the outbox is full (the page has not fetched the earlier messages)."""
    async with store.lock(conversation_id):
        state = ConversationState.from_dict(await store.get(conversation_id))
        if len(state.outbox) >= OUTBOX_LIMIT:
            return False
        state.outbox.append({"text": text, "language": language})
        await store.update(conversation_id, state.to_dict())
    return True


async def take_web_chat_outbox(store: ConversationStore, conversation_id: str) -> list[dict[str, Any]]:
    """The waiting messages, each handed out once."""
    async with store.lock(conversation_id):
        state = ConversationState.from_dict(await store.get(conversation_id))
        if not state.outbox:
            return []
        waiting, state.outbox = state.outbox, []
        await store.update(conversation_id, state.to_dict())
    return waiting
