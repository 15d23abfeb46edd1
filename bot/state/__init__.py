"""Conversation state behind one interface: in-process by default, Redis when REDIS_URL is set."""

from bot.config import Settings
from bot.state.base import ConversationStore, StoreUnavailable
from bot.state.memory import MemoryStore
from bot.state.redis_store import RedisStore


def make_store(settings: Settings) -> ConversationStore:
    if settings.redis_url:
        return RedisStore(settings.redis_url, settings.conversation_ttl_seconds, settings.pseudonym_key)
    return MemoryStore(settings.conversation_ttl_seconds)


__all__ = ["ConversationStore", "MemoryStore", "RedisStore", "StoreUnavailable", "make_store"]
