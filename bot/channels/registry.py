"""Every channel adapter, one line each: the routes, the running adapters and who reaches whom come from here.

A later line wins a conversation channel that two enabled adapters serve (WhatsApp through Meta's Cloud API
rather than Twilio when both are configured: one WhatsApp provider per deployment is the expectation).
"""

from __future__ import annotations

from bot.channels.rest import RestChannel
from bot.channels.telegram import TelegramChannel
from bot.channels.twilio import TwilioChannel
from bot.channels.whatsapp_cloud import WhatsAppCloudChannel

ADAPTERS = (
    RestChannel,
    TwilioChannel,
    TelegramChannel,
    WhatsAppCloudChannel,
)
