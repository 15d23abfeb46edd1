"""Scores for `infobot nlu eval`: accuracy, macro-F1 and wrong-answer rate per language and overall."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from bot.vocab.topics import TOPIC_INTENTS

ANSWERING_INTENTS = frozenset(TOPIC_INTENTS) | {"ask_human", "emergency"}
"""Intents whose answer is substantive: predicting the wrong one gives a person wrong information."""


@dataclass
class Scores:
    total: int = 0
    correct: int = 0
    wrong_answers: int = 0
    """A topic intent was predicted, but not the right one (worse than asking again)."""
    fallbacks: int = 0
    pairs: list[tuple[str, str]] = field(default_factory=list)
    """(expected, predicted)."""

    def add(self, expected: str, predicted: str) -> None:
        self.total += 1
        self.pairs.append((expected, predicted))
        if expected == predicted:
            self.correct += 1
        elif predicted in ANSWERING_INTENTS:
            self.wrong_answers += 1
        if predicted == "nlu_fallback":
            self.fallbacks += 1

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def wrong_answer_rate(self) -> float:
        return self.wrong_answers / self.total if self.total else 0.0

    @property
    def fallback_rate(self) -> float:
        return self.fallbacks / self.total if self.total else 0.0

    @property
    def macro_f1(self) -> float:
        """Mean F1 over the expected intents (a fallback counts as a miss)."""
        labels = {e for e, _ in self.pairs}
        f1s = []
        for label in labels:
            tp = sum(1 for e, p in self.pairs if e == label and p == label)
            fp = sum(1 for e, p in self.pairs if e != label and p == label)
            fn = sum(1 for e, p in self.pairs if e == label and p != label)
            f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
        return sum(f1s) / len(f1s) if f1s else 0.0

    def confusions(self, top: int = 15) -> list[tuple[str, str, int]]:
        counts = Counter((e, p) for e, p in self.pairs if e != p)
        return [(e, p, n) for (e, p), n in counts.most_common(top)]


def report(by_language: dict[str, Scores]) -> str:
    overall = Scores()
    for scores in by_language.values():
        for expected, predicted in scores.pairs:
            overall.add(expected, predicted)
    lines = [f"{'lang':<8}{'n':>6}{'accuracy':>10}{'macro-F1':>10}{'wrong':>8}{'fallback':>10}"]
    for lang, scores in [*sorted(by_language.items()), ("overall", overall)]:
        lines.append(
            f"{lang:<8}{scores.total:>6}{scores.accuracy:>10.3f}{scores.macro_f1:>10.3f}"
            f"{scores.wrong_answer_rate:>8.3f}{scores.fallback_rate:>10.3f}"
        )
    lines.append("")
    lines.append("confusions (expected -> predicted: count)")
    lines += [f"  {e} -> {p}: {n}" for e, p, n in overall.confusions()]
    return "\n".join(lines)
