"""What the scam model reads: the normalised message, what the word lists found, and the tokens of its
three feature blocks (words, characters inside words, engineered cues).

The same tokenisers serve training (scikit-learn vectorisers are given them) and prediction (bot/scam/model.py
counts them itself), so the two can never disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.scam.cues import cue_tokens
from bot.scam.lexicon import Lexicon
from bot.scam.rules import RuleFindings, find_signals
from bot.scam.text import Text, prepare

WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (2, 5)
"""Words and word pairs, and character 2- to 5-grams inside words: phone spellings ("xq", "tmb", "pa peye")
share character n-grams with the full forms."""

_SPACES = re.compile(r"\s\s+")


@dataclass(frozen=True)
class Prepared:
    """A message ready for the model: the normalised text, what the rules found and the cue tokens."""

    text: Text
    findings: RuleFindings
    cues: list[str]

    @property
    def words(self) -> str:
        return self.text.words

    @property
    def cue_text(self) -> str:
        return " ".join(self.cues)


def prepare_message(text: str, lexicon: Lexicon) -> Prepared:
    prepared = prepare(text)
    findings = find_signals(prepared, lexicon)
    return Prepared(prepared, findings, cue_tokens(prepared, findings))


def word_tokens(doc: str) -> list[str]:
    """Words and pairs of neighbouring words."""
    words = doc.split()
    low, high = WORD_NGRAMS
    return [" ".join(words[i : i + n]) for n in range(low, high + 1) for i in range(len(words) - n + 1)]


def char_tokens(doc: str) -> list[str]:
    """Character n-grams inside word boundaries, each word padded with one space (scikit-learn's char_wb)."""
    grams: list[str] = []
    low, high = CHAR_NGRAMS
    for word in _SPACES.sub(" ", doc).split():
        padded = f" {word} "
        for n in range(low, high + 1):
            grams += [padded[i : i + n] for i in range(max(1, len(padded) - n + 1))]
            if len(padded) <= n:
                break  # a short word counts once
    return grams


def cue_list(doc: str) -> list[str]:
    return doc.split()
