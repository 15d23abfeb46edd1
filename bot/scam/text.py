"""Normalised views of a message that still point back at the original characters.

Phone-typed messages come without accents, with stretched letters ("urgenteee") and random punctuation.
Rules are matched on a plain lowercase view, but the answer must quote the person's own words, so every
normalised character remembers where it came from in the original text.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

# Characters that separate words for phrase matching ("100% seguro" is matched as "100 seguro").
# `$ @ # + &` stay: they carry meaning in amounts and handles.
_SEPARATORS = frozenset(".,;:!?¿¡\"'`´()[]{}*_~-–—…«»“”‘’/\\|<>=^%")
# Where a clause ends: rules about negation and questions only look inside one clause.
_CLAUSE_END = re.compile(r"[!?¡¿;\n]+|\.(?=\s|$)")
_WORD = re.compile(r"\S+")


@lru_cache(maxsize=8192)
def _plain_char(ch: str) -> str:
    """One lowercase, accent-free character for one original character (keeps offsets aligned)."""
    low = ch.lower()
    decomposed = "".join(c for c in unicodedata.normalize("NFKD", low) if not unicodedata.combining(c))
    if not decomposed:
        return " "
    return decomposed[0]


@dataclass(frozen=True)
class Clause:
    start: int
    end: int
    is_question: bool


@dataclass
class Text:
    """The original message and its normalised views.

    `lower`: lowercase, no accents, a letter repeated 3+ times kept once (URLs and amounts are read here).
    `words`: the same with punctuation turned into spaces (phrases are matched here).
    `origin[i]`: index in `original` of the character `lower[i]` came from.
    """

    original: str
    lower: str
    words: str
    origin: list[int]
    word_starts: list[int] = field(default_factory=list)
    clauses: list[Clause] = field(default_factory=list)
    clause_starts: list[int] = field(default_factory=list)

    def word_index(self, offset: int) -> int:
        """Index of the word containing (or just after) a character offset of `words`."""
        return max(0, bisect.bisect_right(self.word_starts, offset) - 1)

    def clause_at(self, offset: int) -> Clause:
        """The clause containing an offset (binary search: many lookups on a long message stay fast)."""
        index = bisect.bisect_right(self.clause_starts, offset) - 1
        if index >= 0 and offset < self.clauses[index].end:
            return self.clauses[index]
        return self.clauses[-1] if self.clauses else Clause(0, len(self.lower), False)

    def quote(self, start: int, end: int, limit: int = 60) -> str:
        """The original words behind a normalised span, widened to whole words, at most `limit` chars."""
        if not self.original:
            return ""
        lo = self.origin[min(start, len(self.origin) - 1)]
        hi = self.origin[min(max(end - 1, start), len(self.origin) - 1)] + 1
        src = self.original
        while lo > 0 and not src[lo - 1].isspace():
            lo -= 1
        while hi < len(src) and not src[hi].isspace():
            hi += 1
        # A very short match ("escribe al") reads better with the next word or two ("escribe al +52 ...").
        extra = 0
        while hi - lo < 18 and hi < len(src) and extra < 2:
            nxt = hi
            while nxt < len(src) and src[nxt].isspace():
                nxt += 1
            end = nxt
            while end < len(src) and not src[end].isspace():
                end += 1
            if end == nxt or any(c in ".!?\n" for c in src[hi:nxt]):
                break
            hi, extra = end, extra + 1
        snippet = " ".join(src[lo:hi].split()).strip(" ,;:.!?¿¡\"'()")
        if len(snippet) > limit:
            snippet = snippet[: limit - 1].rstrip() + "…"
        return snippet


def prepare(original: str) -> Text:
    """Build the aligned views of one message."""
    plain = [(_plain_char(ch), index) for index, ch in enumerate(original)]
    chars: list[str] = []
    origin: list[int] = []
    i = 0
    while i < len(plain):
        j = i
        while j < len(plain) and plain[j][0] == plain[i][0]:
            j += 1
        # A letter typed three or more times in a row ("vitttt", "urgenteee") counts once; digits never.
        run = plain[i : i + 1] if plain[i][0].isalpha() and j - i >= 3 else plain[i:j]
        for ch, index in run:
            chars.append(ch)
            origin.append(index)
        i = j
    lower = "".join(chars)
    words = "".join(" " if c in _SEPARATORS else c for c in lower)
    word_starts = [m.start() for m in _WORD.finditer(words)]
    clauses: list[Clause] = []
    start = 0
    for match in _CLAUSE_END.finditer(lower):
        if match.start() > start:
            clauses.append(Clause(start, match.end(), "?" in match.group()))
        start = match.end()
    if start < len(lower):
        clauses.append(Clause(start, len(lower), False))
    return Text(original, lower, words, origin, word_starts, clauses, [c.start for c in clauses])
