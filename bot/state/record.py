"""What the store keeps per conversation: the dialogue's state and the contact, apart.

The dialogue (bot/dialogue) owns `ConversationState`: language, country, what the bot awaits, the topic.
The `Contact` is transport: the channel and address, which of our numbers the person wrote to, when they
last wrote (WhatsApp's 24-hour window), whether they said STOP, and staff messages waiting for a web-chat
page. Outbound messages (bot/outbound.py) read only the contact.

Stored as {"dialogue": {...}, "contact": {...}} under the conversation's key, so both change under one
lock and expire (or are erased) together. A flat record written before the split reads as both.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from bot.dialogue.state import ConversationState
from bot.state.base import ConversationStore


@dataclass
class Contact:
    channel: str | None = None
    """The conversation's channel as the person sees it: whatsapp, sms, telegram, rest."""
    address: str | None = None
    """The person's address as the channel writes it (a phone number, a chat id): personal data, kept
    only as long as the conversation (its time to live, or an erasure)."""
    reply_from: str | None = None
    """Our address the person last wrote to (a Twilio number, a Cloud API phone id): later messages
    come from it."""
    last_inbound_at: float | None = None
    """When the person last wrote (epoch seconds): WhatsApp allows free-form messages for 24 hours."""
    opted_out: bool = False
    """STOP: nothing is sent until START (SQL's contact preferences hold it too, bot/durable.py)."""
    outbox: list[dict[str, Any]] = field(default_factory=list)
    """Staff messages for a web-chat person, kept until their page fetches them: the web chat cannot be
    pushed to (POST /webhooks/rest/outbox)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Contact:
        if not data:
            return cls()
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class StoredConversation:
    dialogue: ConversationState = field(default_factory=ConversationState)
    contact: Contact = field(default_factory=Contact)

    def to_dict(self) -> dict[str, Any]:
        return {"dialogue": self.dialogue.to_dict(), "contact": self.contact.to_dict()}

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> StoredConversation:
        if not raw:
            return cls()
        if "dialogue" in raw or "contact" in raw:
            return cls(
                ConversationState.from_dict(raw.get("dialogue")), Contact.from_dict(raw.get("contact"))
            )
        return cls(ConversationState.from_dict(raw), Contact.from_dict(raw))  # written before the split


async def read_conversation(store: ConversationStore, conversation_id: str) -> StoredConversation | None:
    """The stored conversation, or None for a new (or expired) one; StoreUnavailable passes through."""
    raw = await store.get(conversation_id)
    return None if raw is None else StoredConversation.from_dict(raw)


async def write_conversation(
    store: ConversationStore, conversation_id: str, kept: StoredConversation
) -> None:
    await store.update(conversation_id, kept.to_dict())
