"""Channel adapters behind one contract (see base.py); the registry names every channel."""

from bot.channels.base import (
    BadRequest,
    Button,
    Channel,
    ChannelConfigError,
    ChannelError,
    ContactStopped,
    Forbidden,
    InboundMessage,
    OutboundMessage,
    SendError,
    SendResult,
)
from bot.channels.rest import RestChannel

REGISTRY: dict[str, type] = {RestChannel.name: RestChannel}

__all__ = [
    "REGISTRY",
    "BadRequest",
    "Button",
    "Channel",
    "ChannelConfigError",
    "ChannelError",
    "ContactStopped",
    "Forbidden",
    "InboundMessage",
    "OutboundMessage",
    "RestChannel",
    "SendError",
    "SendResult",
]
