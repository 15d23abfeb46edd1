"""What the scam model reads: the normalised message, what the word lists found, and the tokens of its
three feature blocks (words, characters inside words, engineered cues).

The same tokenisers serve training (scikit-learn vectorisers are given them) and prediction (bot/scam/model.py
counts them itself), so the two can never disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.scam.cues import cue_tokens
from bot.scam.domains import official_links
from bot.scam.lexicon import Lexicon
from bot.scam.rules import RuleFindings, find_signals
from bot.scam.text import Text, prepare

WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (2, 5)
"""Words and word pairs, and character 2- to 5-grams inside words: phone spellings ("xq", "tmb", "pa peye")
share character n-grams with the full forms."""

_SPACES = re.compile(r"\s\s+")
_QUOTED = re.compile(r"[\"“”«»„]([^\"“”«»„\n]{2,400})[\"“”«»„]")
"""A passage between double quotes or guillemets: someone else's words, quoted in a warning or a question."""
_WORD = re.compile(r"\S+")
QUOTED_PREFIX = "q_"
QUOTES = True
"""Mark quoted words (CV on the round-4 corpus: ROC-AUC 0.9827 -> 0.9833, Brier 0.0476 -> 0.0464)."""


def _word_doc(text: Text) -> str:
    """The words view with every word inside a quoted passage marked: "pay 350" quoted in a warning is
    reported speech, and the model learns it apart from the same words said to the person."""
    spans = [m.span(1) for m in _QUOTED.finditer(text.lower)] if QUOTES else []
    if not spans:
        return text.words
    out: list[str] = []
    k = 0
    for match in _WORD.finditer(text.words):
        while k < len(spans) and spans[k][1] <= match.start():
            k += 1
        inside = k < len(spans) and spans[k][0] <= match.start() < spans[k][1]
        out.append(QUOTED_PREFIX + match.group() if inside else match.group())
    return " ".join(out)


@dataclass(frozen=True)
class Prepared:
    """A message ready for the model: the normalised text, what the rules found and the cue tokens."""

    text: Text
    findings: RuleFindings
    cues: list[str]
    word_doc: str
    """The words view for the word block, quoted passages marked (see `_word_doc`)."""

    @property
    def words(self) -> str:
        return self.text.words

    @property
    def cue_text(self) -> str:
        return " ".join(self.cues)


def prepare_message(text: str, lexicon: Lexicon) -> Prepared:
    prepared = prepare(text)
    findings = find_signals(prepared, lexicon)
    links = official_links(prepared.lower, lexicon.domains)
    cues = cue_tokens(prepared, findings, links)
    return Prepared(prepared, findings, cues, _word_doc(prepared))


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
