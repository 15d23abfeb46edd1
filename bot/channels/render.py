"""Shared rendering helpers: buttons become numbered lines for channels without buttons."""

from __future__ import annotations

from bot.channels.base import Button, OutboundMessage
from bot.dialogue.topics import HUMAN_PAYLOAD


def numbered(buttons: tuple[Button, ...]) -> list[tuple[str, Button]]:
    """Number choices 1..n in order; the 'talk to a person' choice is always 0 and comes last."""
    items: list[tuple[str, Button]] = []
    count = 0
    for button in buttons:
        if button.payload != HUMAN_PAYLOAD:
            count += 1
            items.append((str(count), button))
    items += [("0", b) for b in buttons if b.payload == HUMAN_PAYLOAD]
    return items


def as_plain_text(message: OutboundMessage) -> str:
    """The text followed by numbered choices, one per line: works on any phone."""
    if not message.buttons:
        return message.text
    lines = [f"{number}. {button.title}" for number, button in numbered(message.buttons)]
    return message.text + "\n\n" + "\n".join(lines)
