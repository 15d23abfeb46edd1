"""The alert topics people can subscribe to, and the consent text version they agree to."""

from __future__ import annotations

ALERT_TOPICS: tuple[str, ...] = ("regularization", "documents", "asylum", "work", "fraud")
"""Stored `;`-separated in subscriptions.topics and named in campaign audiences."""

CONSENT_VERSION = "alerts-v1"
"""Bump when the wording of the subscription consent (bot/locale: alerts_consent) changes."""

CHANNELS: tuple[str, ...] = ("whatsapp", "sms", "telegram")
"""Channels a campaign can reach (the web chat has nobody to write to later)."""


def parse_topics(value: str) -> list[str]:
    """`fraud;work` → ["fraud", "work"]; raises ValueError naming an unknown topic."""
    topics = sorted({t.strip().lower() for t in value.split(";") if t.strip()})
    if not topics:
        raise ValueError(f"no topic: use one or more of {', '.join(ALERT_TOPICS)} separated by ';'")
    unknown = [t for t in topics if t not in ALERT_TOPICS]
    if unknown:
        raise ValueError(f"unknown topic(s) {', '.join(unknown)}: use {', '.join(ALERT_TOPICS)}")
    return topics
