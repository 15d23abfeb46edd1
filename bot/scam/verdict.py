"""The verdict rule, kept apart and simple so C4D teams and reviewers can read it in one glance.

- likely_fraud: a payment signal (money asked for a free procedure, or a money transfer) together with any
  other signal, or at least two strong signals;
- warning_signs: at least one signal;
- no_signs: none. This never means "safe": only that none of the signs we know were found.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

Verdict = Literal["likely_fraud", "warning_signs", "no_signs"]
VERDICTS: tuple[Verdict, ...] = ("likely_fraud", "warning_signs", "no_signs")


def decide(signals: Iterable[str], strong: Iterable[str], payment: Iterable[str]) -> Verdict:
    found = set(signals)
    if not found:
        return "no_signs"
    strong_found = found & set(strong)
    if (found & set(payment) and len(found) >= 2) or len(strong_found) >= 2:
        return "likely_fraud"
    return "warning_signs"
