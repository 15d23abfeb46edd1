"""Delivers new referrals to hubs that have a webhook, with retries; the status then moves to `sent`.

The payload carries only what the person consented to share: code, service, language, country, hub.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict

import httpx
from sqlalchemy.exc import SQLAlchemyError

from bot.referrals.directory import Hub
from bot.referrals.log import ReferralLog, ReferralRecord

log = logging.getLogger(__name__)
SHARED_FIELDS = ("code", "service", "language", "country", "hub_id", "created_at", "consent_version")


class HubNotifier:
    def __init__(
        self, referrals: ReferralLog, attempts: int = 4, base_delay: float = 1.0, timeout: float = 10.0
    ) -> None:
        self._referrals, self.attempts, self.base_delay, self.timeout = (
            referrals,
            attempts,
            base_delay,
            timeout,
        )

    @staticmethod
    def payload(record: ReferralRecord) -> dict[str, str]:
        data = asdict(record)
        return {name: data[name] for name in SHARED_FIELDS}

    async def notify(self, record: ReferralRecord, hub: Hub) -> bool:
        """True when the hub accepted the referral (2xx); 4xx is not retried, 5xx and timeouts are."""
        if not hub.webhook_url:
            return False
        async with httpx.AsyncClient(timeout=self.timeout) as http:
            for attempt in range(1, self.attempts + 1):
                try:
                    response = await http.post(hub.webhook_url, json=self.payload(record))
                    if response.is_success:
                        await asyncio.to_thread(self._mark_sent, record.code)
                        return True
                    if response.status_code < 500:
                        log.error(
                            "hub %s refused referral %s: HTTP %d", hub.id, record.code, response.status_code
                        )
                        return False
                except httpx.HTTPError as exc:
                    log.warning(
                        "hub %s unreachable (attempt %d): %s", hub.id, attempt, exc.__class__.__name__
                    )
                if attempt < self.attempts:
                    await asyncio.sleep(self.base_delay * 2 ** (attempt - 1))
        log.error("hub %s did not accept referral %s after %d attempts", hub.id, record.code, self.attempts)
        return False

    def _mark_sent(self, code: str) -> None:
        try:
            self._referrals.set_status(code, "sent", "hub-webhook")
        except (SQLAlchemyError, ValueError) as exc:
            log.error("could not mark referral %s as sent: %s", code, exc)
