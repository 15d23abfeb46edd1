"""Rendering per channel: WhatsApp limits and splitting, SMS segments (GSM-7 vs UCS-2), plain numbering."""

from __future__ import annotations

from bot.channels.render import WHATSAPP_MAX_CHARS, as_plain_text, sms_body, whatsapp_bodies
from bot.content.sms import is_gsm7, segments
from bot.vocab.messages import Button, OutboundMessage
from bot.vocab.topics import HUMAN_PAYLOAD

MENU = (Button("Papye", "/ask_regularization"), Button("Azil", "/ask_asylum"), Button("Moun", HUMAN_PAYLOAD))


def test_a_long_whatsapp_answer_is_split_on_paragraph_boundaries() -> None:
    paragraphs = [f"Paragraph {i}: " + "word " * 60 for i in range(12)]
    bodies = whatsapp_bodies(OutboundMessage(recipient="x", text="\n\n".join(paragraphs), buttons=MENU))
    assert len(bodies) > 1 and all(len(b) <= WHATSAPP_MAX_CHARS for b in bodies)
    assert all(b.startswith("Paragraph") or b.startswith("*") for b in bodies)  # never cut inside a paragraph
    assert "\n\n".join(bodies).count("Paragraph") == 12
    assert bodies[-1].endswith("*0* Moun") and "*1* Papye" in bodies[-1]


def test_a_single_huge_paragraph_is_cut_between_words() -> None:
    bodies = whatsapp_bodies(OutboundMessage(recipient="x", text="palabra " * 500))
    assert all(len(b) <= WHATSAPP_MAX_CHARS for b in bodies)
    assert all(not b.startswith(" ") and "palabr " not in b for b in bodies)


def test_sms_uses_the_short_variant_and_numbers_choices() -> None:
    message = OutboundMessage(
        recipient="x", text="long text " * 50, sms_text="Rele DGM: migracion.gob.do", buttons=MENU
    )
    body = sms_body(message)
    assert body.startswith("Rele DGM") and "\n1 Papye\n2 Azil\n0 Moun" in body


def test_sms_segment_counting_with_and_without_ucs2() -> None:
    spanish_gsm = (
        "Las citas de migracion son gratis. Nadie puede venderle una cita. Mas informacion: migracion.go.cr"
    )
    assert is_gsm7(spanish_gsm + " año ñ") and segments(spanish_gsm + " año ñ") == 1
    with_emoji = spanish_gsm + " 🙏"
    assert not is_gsm7(with_emoji) and segments(with_emoji) == 2
    with_accent = spanish_gsm + " información"
    assert not is_gsm7(with_accent) and segments(with_accent) == 2


def test_plain_text_numbers_choices_with_zero_for_a_person_last() -> None:
    text = as_plain_text(OutboundMessage(recipient="x", text="Chwazi:", buttons=MENU))
    assert text.splitlines()[-3:] == ["1. Papye", "2. Azil", "0. Moun"]
