"""SMS segment counting: GSM-7 when every character is in the GSM 03.38 alphabet, UCS-2 otherwise."""

from __future__ import annotations

import math

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text)


def segments(text: str) -> int:
    """How many SMS segments the text takes (160/153 septets in GSM-7, 70/67 characters in UCS-2)."""
    if is_gsm7(text):
        units = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        single, multi = 160, 153
    else:
        units = sum(
            2 if ord(ch) > 0xFFFF else 1 for ch in text
        )  # astral characters (emoji) take 2 UTF-16 units
        single, multi = 70, 67
    if units <= single:
        return 1
    return math.ceil(units / multi)
