"""Amounts of money as people type them: 500$, $500, US$300, RD$5,000, 5mil pesos, Q2000, 200 dola.

An amount next to an appointment or an asylum request is the strongest sign of a scam, and phone-typed
amounts come in many shapes. The currency words are data (`currencies` in content/scam/signals.yml).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_NUMBER = r"\d{1,3}(?:[.,\s]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_MULTIPLIER = r"(?:\s?(?:mil|k|m|mille|thousand))?"


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


def amount_pattern(prefixes: list[str], suffixes: list[str], number_words: list[str]) -> re.Pattern[str]:
    """One regular expression for every amount shape, matched on the lowercase, accent-free view."""
    long_prefixes = [p for p in prefixes if len(p) > 1 or not p.isalpha()]
    letter_prefixes = [p for p in prefixes if len(p) == 1 and p.isalpha()]
    suffix = _alternation(suffixes)
    parts = [
        rf"(?:{_alternation(long_prefixes)})\s?(?:{_NUMBER}){_MULTIPLIER}",
        rf"(?:{_NUMBER}){_MULTIPLIER}\s?(?:{suffix})(?![a-z])",
        rf"(?:(?:{_alternation(number_words)})\s+)+(?:{suffix})(?![a-z])",
    ]
    if letter_prefixes:
        parts.append(rf"(?<![a-z])(?:{_alternation(letter_prefixes)})\.?(?:{_NUMBER}){_MULTIPLIER}")
    return re.compile(rf"(?<![a-z0-9])(?:{'|'.join(parts)})")
