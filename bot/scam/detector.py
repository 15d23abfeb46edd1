"""`assess`: is this forwarded or described offer a scam? A verdict, and the signs with the person's words.

The model of bot/scam/model.py decides; the word lists of content/scam/ (bot/scam/rules.py) give the
evidence quoted back to the person ("they ask for money for a free appointment: '300 dólares por la
cita'"). What is shown always agrees with the verdict: no signs are listed under "no_signs", and a flagged
message always has at least one explanation — when no word list matched, the pattern the model recognised
and the words that weighed most.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot import LANGUAGES
from bot.config import PROJECT_ROOT
from bot.scam.cues import names_a_scam
from bot.scam.features import Prepared, prepare_message
from bot.scam.lexicon import Lexicon, default_lexicon
from bot.scam.model import Row, ScamModel
from bot.scam.training import default_model
from bot.scam.verdict import Verdict, verdict_for
from bot.vocab.text import MAX_MESSAGE_CHARS

MAX_CHARS = MAX_MESSAGE_CHARS
_QUESTION_CLAUSE = re.compile(r"(?<![^.!?\n,;:])[^.!?\n,;:]*\?+")
"""A clause ending in "?". The look-behind starts a match only where a clause starts: without it, a long
stretch with no question mark was rescanned from every character (4,096 characters: 66 ms instead of 0.1)."""
OWN_QUESTION_WORDS = 7
"""A question this short that names a scam ("c'est une arnaque ?", "is this a scam?") is the person asking
about the offer, not part of it; warnings name the scam in statements."""


def without_own_question(text: str) -> str:
    """The offer without the person's own "is this a scam?": a warning's cue must not mute the offer they
    ask about. A message that is nothing but the question is left as it is."""
    kept = text
    for match in _QUESTION_CLAUSE.finditer(text):
        clause = match.group(0)
        if len(clause.split()) <= OWN_QUESTION_WORDS and names_a_scam(clause):
            kept = kept.replace(clause, " ", 1)
    return kept if kept.strip(" ?¿!¡.,;:") else text


"""Only the first 4,096 characters are read (the longest message a channel passes on): work stays bounded."""
GENERIC_SIGNAL = "looks_like_known_scams"
"""Shown when the model flags a message whose fraud pattern it cannot name with confidence."""
PATTERN_MIN_PROBABILITY = 0.35
"""Below this, the pattern classifier's best guess is not named (a display choice: with 19 patterns, 0.35 is
well above chance and leaves the generic explanation for messages mixing schemes)."""


@dataclass(frozen=True)
class Assessment:
    """The result of one check. `evidence` maps each signal to the short fragment that triggered it."""

    verdict: Verdict
    signals: list[str]
    evidence: dict[str, str]
    language: str
    country: str | None = None
    patterns: list[str] = field(default_factory=list)
    score: float = 0.0
    """The model's probability that the message is a scam."""


def _resolve_language(original: str, language: str | None) -> str:
    if language in LANGUAGES:
        return language
    from bot.nlu.language import language_identifier

    return language_identifier(PROJECT_ROOT / "intents" / "data" / "nlu").identify(original)[0]


def _telling_quote(model: ScamModel, item: Prepared) -> str:
    """The person's words around the n-grams that weighed most, as one short quote."""
    spans: list[tuple[int, int]] = []
    for phrase in model.telling_words(item, limit=3):
        match = re.search(rf"(?<!\S){re.escape(phrase)}(?!\S)", item.words)
        if match:
            spans.append(match.span())
    if not spans:
        return ""
    start, end = spans[0]  # the strongest, widened with the others that are close to it
    for s, e in sorted(spans[1:]):
        if min(e, end) - max(s, start) > -25 and max(e, end) - min(s, start) <= 70:
            start, end = min(s, start), max(e, end)
    return item.text.quote(start, end, limit=70)


def _model_explanation(model: ScamModel, item: Prepared, row: Row) -> tuple[str, str]:
    """(signal id, quote): the recognised pattern, or the generic sign, with the words that weighed most."""
    pattern, probability = model.pattern(item, row)
    signal = pattern if probability >= PATTERN_MIN_PROBABILITY else GENERIC_SIGNAL
    return signal, _telling_quote(model, item)


def assess(
    text: str, language: str | None = None, country: str | None = None, lexicon: Lexicon | None = None
) -> Assessment:
    """Check one message for signs of fraud. `language` (es/en/fr/ht) is detected when not given."""
    lex = lexicon or default_lexicon()
    model = default_model()
    item = prepare_message(without_own_question(text[:MAX_CHARS]), lex)
    row = model.row(item)  # once, for the verdict and the pattern
    score = model.probability(item, row)
    verdict = verdict_for(score)
    evidence: dict[str, str] = {}
    patterns: list[str] = []
    if verdict != "no_signs":
        evidence = dict(item.findings.evidence)
        patterns = list(item.findings.patterns)
        if not patterns:  # a known pattern of the word lists already names the scheme more precisely
            signal, quote = _model_explanation(model, item, row)
            evidence.setdefault(signal, quote)
            patterns += [signal] if signal != GENERIC_SIGNAL else []
    return Assessment(
        verdict=verdict,
        signals=list(evidence),
        evidence=evidence,
        language=_resolve_language(text[:MAX_CHARS], language),
        country=country.upper() if country else None,
        patterns=patterns,
        score=score,
    )
