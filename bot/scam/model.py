"""The fitted scam model at prediction time: linear weights over three feature blocks, in plain numpy.

Prediction does not use scikit-learn (bot/scam/training.py fits the model): counting a message's tokens
and a dot product take well under a millisecond, where scikit-learn's per-call input checks take several.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bot.scam.features import QUOTED_PREFIX, Prepared, char_tokens, cue_list, word_tokens

TOKENISERS: tuple[Callable[[str], list[str]], ...] = (word_tokens, char_tokens, cue_list)
"""The tokeniser of each block, in block order (the cue block reads `Prepared.cue_text`)."""


Row = tuple[np.ndarray, np.ndarray]
"""A message's non-zero columns and their values: computed once, it serves both classifiers."""


@dataclass(frozen=True)
class Block:
    """One fitted feature block: tokens -> sublinear tf-idf, L2-normalised, or binary presence when `idf`
    is None (the cues); scaled by `weight`."""

    vocabulary: dict[str, int]
    idf: np.ndarray | None
    weight: float
    offset: int
    """Index of the block's first column among all the model's columns."""

    def row(self, tokens: list[str]) -> tuple[list[int], list[float]]:
        counts = Counter(t for t in tokens if t in self.vocabulary)
        columns = [self.vocabulary[t] for t in counts]
        if self.idf is None:
            values = [self.weight] * len(columns)
        else:
            raw = [
                (1.0 + math.log(n)) * float(self.idf[c])
                for c, n in zip(columns, counts.values(), strict=True)
            ]
            norm = math.sqrt(sum(v * v for v in raw)) or 1.0
            values = [self.weight * v / norm for v in raw]
        return [self.offset + c for c in columns], values


@dataclass(frozen=True)
class ScamModel:
    """The feature blocks, and the linear weights of the scam/legit and of the pattern classifiers."""

    blocks: tuple[Block, Block, Block]
    coef: np.ndarray
    intercept: float
    pattern_names: tuple[str, ...]
    pattern_coef: np.ndarray
    pattern_intercept: np.ndarray
    word_names: tuple[str, ...]

    def row(self, item: Prepared) -> Row:
        """The message's non-zero columns and their values."""
        columns: list[int] = []
        values: list[float] = []
        for block, tokenise, doc in zip(
            self.blocks, TOKENISERS, (item.word_doc, item.words, item.cue_text), strict=True
        ):
            cols, vals = block.row(tokenise(doc))
            columns += cols
            values += vals
        return np.array(columns, dtype=np.int64), np.array(values, dtype=float)

    def probability(self, item: Prepared, row: Row | None = None) -> float:
        """Probability that the message is a scam."""
        columns, values = row if row is not None else self.row(item)
        return _sigmoid(float(values @ self.coef[columns]) + self.intercept)

    def probabilities(self, items: Sequence[Prepared]) -> np.ndarray:
        return np.array([self.probability(item) for item in items])

    def pattern(self, item: Prepared, row: Row | None = None) -> tuple[str, float]:
        """The most likely fraud pattern of the taxonomy and its probability (one-vs-rest, normalised)."""
        if not self.pattern_names:
            return "", 0.0
        columns, values = row if row is not None else self.row(item)
        scores = 1.0 / (1.0 + np.exp(-(self.pattern_coef[:, columns] @ values + self.pattern_intercept)))
        scores = scores / (scores.sum() or 1.0)
        best = int(np.argmax(scores))
        return self.pattern_names[best], float(scores[best])

    def telling_words(self, item: Prepared, limit: int = 2) -> list[str]:
        """The words and word pairs of the message that push most towards "scam", strongest first."""
        columns, values = self.blocks[0].row(word_tokens(item.word_doc))
        scored = sorted(
            ((v * float(self.coef[c]), c) for c, v in zip(columns, values, strict=True)), reverse=True
        )
        return [_unquoted(self.word_names[c]) for score, c in scored[:limit] if score > 0]


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def _unquoted(phrase: str) -> str:
    """A word-block feature as the words of the message (quoted words carry a marker in the model)."""
    return " ".join(w.removeprefix(QUOTED_PREFIX) for w in phrase.split())
