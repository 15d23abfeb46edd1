"""The web chat's outbox: staff messages for a person on the web chat, which cannot be pushed to.

The page asks for them (POST /webhooks/rest/outbox, every few seconds); until then they wait on the
conversation's contact, under its lock, so they share its time to live and its store (memory or Redis).
"""

from __future__ import annotations

from typing import Any

from bot.state.base import ConversationStore
from bot.state.record import StoredConversation, read_conversation, write_conversation

OUTBOX_LIMIT = 50
"""Messages kept for a web-chat page that is closed; beyond this the agent is told the person is away."""


async def queue_for_web_chat(
    store: ConversationStore, conversation_id: str, text: str, language: str | None
) -> bool:
    """False when the outbox is full (the page has not fetched the earlier messages)."""
    async with store.lock(conversation_id):
        kept = await read_conversation(store, conversation_id) or StoredConversation()
        if len(kept.contact.outbox) >= OUTBOX_LIMIT:
            return False
        kept.contact.outbox.append({"text": text, "language": language})
        await write_conversation(store, conversation_id, kept)
    return True


async def take_web_chat_outbox(store: ConversationStore, conversation_id: str) -> list[dict[str, Any]]:
    """The waiting messages, each handed out once."""
    async with store.lock(conversation_id):
        kept = await read_conversation(store, conversation_id)
        if kept is None or not kept.contact.outbox:
            return []
        waiting, kept.contact.outbox = kept.contact.outbox, []
        await write_conversation(store, conversation_id, kept)
    return waiting
