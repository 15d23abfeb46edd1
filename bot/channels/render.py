"""Rendering per channel: the dialogue's neutral messages become what each channel shows best.

- plain text (terminal, SMS): numbered choices one per line;
- WhatsApp: *bold* numbers, ≤ 1,600 characters per message, split on paragraph boundaries;
- SMS: the short `sms` variant of content answers, then the numbered choices;
- Telegram: HTML with escaping, choices as an inline keyboard (built in telegram.py).
"""

from __future__ import annotations

from bot.vocab.messages import Button, OutboundMessage
from bot.vocab.topics import HUMAN_PAYLOAD

WHATSAPP_MAX_CHARS = 1600


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


def split_paragraphs(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, cut between paragraphs (then lines, then words) only."""
    pieces: list[str] = []
    current = ""
    for block in _blocks(text, limit):
        candidate = f"{current}\n\n{block}" if current else block
        if len(candidate) <= limit:
            current = candidate
        else:
            pieces.append(current)
            current = block
    if current:
        pieces.append(current)
    return pieces


def _blocks(text: str, limit: int) -> list[str]:
    """Paragraphs, each cut further by lines and then words when longer than the limit."""
    blocks: list[str] = []
    for paragraph in text.split("\n\n"):
        if len(paragraph) <= limit:
            blocks.append(paragraph)
            continue
        line_block = ""
        for word_run in _runs(paragraph, limit):
            if line_block and len(line_block) + 1 + len(word_run) > limit:
                blocks.append(line_block)
                line_block = word_run
            else:
                line_block = f"{line_block}\n{word_run}" if line_block else word_run
        blocks.append(line_block)
    return blocks


def _runs(paragraph: str, limit: int) -> list[str]:
    runs: list[str] = []
    for line in paragraph.split("\n"):
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            runs.append(line[:cut])
            line = line[cut:].lstrip()
        runs.append(line)
    return runs


def whatsapp_bodies(message: OutboundMessage) -> list[str]:
    """WhatsApp bodies: bold choice numbers, each body within WhatsApp's 1,600 characters."""
    text = message.text
    if message.buttons:
        choices = "\n".join(f"*{n}* {b.title}" for n, b in numbered(message.buttons))
        text = f"{text}\n\n{choices}"
    return split_paragraphs(text, WHATSAPP_MAX_CHARS)


def sms_body(message: OutboundMessage) -> str:
    """The short SMS variant of a content answer (the source stays: safety), then the choices."""
    text = message.sms_text or message.text
    if message.buttons:
        text += "\n" + "\n".join(f"{n} {b.title}" for n, b in numbered(message.buttons))
    return text
