"""Fetching what a person sent (a voice note, a photo, a file) from its provider, bounded in size and
time, for the console only: the bytes are passed to a logged-in agent and never stored."""

from __future__ import annotations

import httpx

from bot.channels.base import MAX_MEDIA_BYTES, MediaUnavailable

WHATSAPP_MEDIA_KINDS = {
    "audio": "voice",
    "image": "image",
    "video": "video",
    "document": "document",
    "sticker": "sticker",
    "contacts": "contact",
    "reaction": "reaction",
}
"""WhatsApp's message types (Meta's `type`, which Twilio passes on as MessageType) as attachment kinds."""


async def fetch_bounded(
    url: str, auth: tuple[str, str] | None = None, headers: dict[str, str] | None = None
) -> tuple[bytes, str | None]:
    """GET at most MAX_MEDIA_BYTES, following redirects; any failure is MediaUnavailable."""
    try:
        async with (
            httpx.AsyncClient(timeout=15.0, follow_redirects=True, max_redirects=3) as client,
            client.stream("GET", url, auth=auth, headers=headers) as response,
        ):
            if response.status_code != 200:
                raise MediaUnavailable(f"the provider answered HTTP {response.status_code}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) > MAX_MEDIA_BYTES:
                    raise MediaUnavailable("larger than the console shows")
            return bytes(body), response.headers.get("content-type")
    except httpx.HTTPError as exc:
        raise MediaUnavailable(f"the provider could not be reached: {exc.__class__.__name__}") from exc
