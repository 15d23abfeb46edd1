"""What the NLU tells the dialogue about one message."""

from __future__ import annotations

from dataclasses import dataclass

FALLBACK_INTENT = "nlu_fallback"


@dataclass(frozen=True)
class NluResult:
    text: str
    intent: str
    """A taxonomy intent name or `nlu_fallback`."""
    confidence: float
    language: str
    language_confidence: float
    ranking: tuple[tuple[str, float], ...] = ()
    available: bool = True
    """False when the NLU server could not be reached: the dialogue degrades to the menu, except for
    emergencies and requests for a person, which the safety rules (bot/nlu/safety.py) still recognise."""

    def top_intents(self, n: int, allowed: frozenset[str] | set[str]) -> list[str]:
        """The n most likely intents among `allowed`, for a clarification question."""
        ordered = [name for name, _ in sorted(self.ranking, key=lambda r: -r[1]) if name in allowed]
        return ordered[:n]
