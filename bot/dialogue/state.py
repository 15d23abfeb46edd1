"""What the dialogue remembers of one conversation (language, country, what it awaits, the topic).

Transport facts — address, our number, the last inbound time, STOP, the web chat's outbox — are the
contact's (bot/state/record.py). Serialisable to JSON for any store."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class ConversationState:
    language: str | None = None
    country: str | None = None
    pending_intent: str | None = None
    """A topic question waiting for the country before it can be answered."""
    awaiting: str | None = None
    """What the last bot message asked for: 'country', 'language', 'place' (for a referral), 'consent',
    'sex', 'age' (optional referral statistics), 'hub_place' (a pin or a city for the nearest hubs), or
    None."""
    options: list[str] = field(default_factory=list)
    """Payloads of the numbered choices last shown, so '1', '2' map to them."""
    fallback_count: int = 0
    turns: int = 0
    handed_over: bool = False
    """A person from the hotline holds the conversation: the bot stays quiet (opt-out still works)."""
    referral_declined: bool = False
    """Declining a referral is respected: it is not offered again in this conversation."""
    ref_service: str | None = None
    ref_hub: str | None = None
    ref_code: str | None = None
    last_offer: str | None = None
    """The last offer the person asked us to check, personal data masked, kept until reported."""
    last_verdict: str | None = None
    last_signals: list[str] = field(default_factory=list)
    alerts: dict[str, Any] = field(default_factory=dict)
    """The person's campaign alerts as they chose them ({country, topics}); SQL's subscriptions decide."""
    alerts_draft: dict[str, Any] = field(default_factory=dict)
    """Country and topics chosen so far while subscribing (bot/dialogue/alerts.py)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ConversationState:
        """Unknown keys (from a newer version) are ignored, missing ones take defaults."""
        if not data:
            return cls()
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
