"""Language identification for es, en, fr and ht on short, noisy messages.

Two evidences are combined: py3langid (langid.py's model, shipped in the package, offline) restricted
to our four languages, and a character n-gram naive Bayes model trained at start-up on our own
training examples, whose language is known by the file they are in. The second knows the short,
phone-typed Kreyòl that general identifiers miss ("bonjou", "m pedi paspo m").
"""

from __future__ import annotations

import math
from collections import Counter
from functools import cache
from pathlib import Path

from py3langid import langid

from bot import LANGUAGES
from bot.nlu.trainingdata import examples_by_language
from bot.vocab.text import fit_normalized, plain_words

NGRAM_SIZES = (1, 2, 3, 4)
NB_ALPHA = 0.1
"""Additive smoothing of the naive Bayes model; chosen by 5-fold cross-validation on the training data
(bench/nlu_language.py): 0.1 beats add-one on every language."""
LANGID_WEIGHT = 2.0
"""Weight of py3langid's log-probability against the n-gram model's; chosen by the same cross-validation."""
MIXING = (("en", "es"), ("fr", "ht"), ("es", "ht"))
"""(identified, mixed-in): a Spanglish line is written by someone who reads Spanish, French words in a Kreyòl
line or Kreyòl in a Spanish one by a Haitian. Answering in the mixed-in language is the safe choice."""
SAMPLE_CHARS = 1000
"""Only a message's first thousand characters (after NFKD, which the features use) are identified: a
language shows long before that, and the work grows with the length."""
MIX_MIN_WORDS = 2
MIX_MIN_LOG_RATIO = 3.0
MIX_MIN_COUNT = 5
"""A word counts for the mixed-in language when seen at least MIX_MIN_COUNT times in its training lines and
e^3 (20) times likelier there than in the identified language; two such words switch. Chosen by 5-fold
cross-validation on the training data (bench/nlu_language.py): es +0.7, ht +0.5, en -0.3 points."""


def _words(text: str) -> str:
    """The shared plain words without emoji names and links: they say nothing about the language."""
    return " ".join(w for w in plain_words(text).split() if not w.startswith("emo_") and w != "url")


def _features(text: str) -> list[str]:
    plain = f" {_words(text)} "
    grams = [plain[i : i + n] for n in NGRAM_SIZES for i in range(len(plain) - n + 1)]
    return grams + [f"w:{w}" for w in plain.split()]


class NgramModel:
    """Multinomial naive Bayes over character n-grams and words, with additive smoothing."""

    def __init__(self, samples: dict[str, list[str]], alpha: float = NB_ALPHA) -> None:
        self.alpha = alpha
        self.counts = {
            lang: Counter(f for text in texts for f in _features(text)) for lang, texts in samples.items()
        }
        self.totals = {lang: sum(c.values()) for lang, c in self.counts.items()}
        self.vocabulary = len({f for c in self.counts.values() for f in c}) or 1

    def log_scores(self, text: str) -> dict[str, float]:
        features = _features(text)
        return {lang: sum(self._log_p(lang, f) for f in features) for lang in self.counts}

    def _log_p(self, lang: str, feature: str) -> float:
        return math.log(
            (self.counts[lang][feature] + self.alpha) / (self.totals[lang] + self.alpha * self.vocabulary)
        )

    def telling_words(self, text: str, lang: str, against: str) -> int:
        """How many words of the text are clearly `lang`'s rather than `against`'s."""
        return sum(
            1
            for word in _words(text).split()
            if self.counts[lang][f"w:{word}"] >= MIX_MIN_COUNT
            and self._log_p(lang, f"w:{word}") - self._log_p(against, f"w:{word}") >= MIX_MIN_LOG_RATIO
        )


def _softmax(scores: dict[str, float]) -> dict[str, float]:
    top = max(scores.values())
    exp = {k: math.exp(v - top) for k, v in scores.items()}
    total = sum(exp.values())
    return {k: v / total for k, v in exp.items()}


class LanguageIdentifier:
    def __init__(
        self, nlu_dir: Path | None = None, langid_weight: float = LANGID_WEIGHT, alpha: float = NB_ALPHA
    ) -> None:
        self._langid = langid._load_identifier(norm_probs=True, langs=list(LANGUAGES))
        samples: dict[str, list[str]] = {}
        if nlu_dir is not None and nlu_dir.is_dir():
            samples = {
                lang: [t for _, t in pairs]
                for lang, pairs in examples_by_language(nlu_dir).items()
                if lang in LANGUAGES
            }
        self._ngrams = NgramModel(samples, alpha) if len(samples) == len(LANGUAGES) else None
        self._langid_weight = langid_weight

    def identify(self, text: str) -> tuple[str, float]:
        """The most likely of es/en/fr/ht and its probability (0.25 means no evidence at all)."""
        text = fit_normalized(text, SAMPLE_CHARS)
        if not _words(text):
            return "es", 0.25
        ranked = self._langid.rank(text)
        lid = {lang: max(p, 1e-6) for lang, p in ranked if lang in LANGUAGES}
        if self._ngrams is None:
            lang, prob = max(lid.items(), key=lambda kv: kv[1])
            return lang, float(prob)
        ng = _softmax(self._ngrams.log_scores(text))
        combined = {
            lang: self._langid_weight * math.log(lid.get(lang, 1e-6)) + math.log(max(ng[lang], 1e-12))
            for lang in LANGUAGES
        }
        probs = _softmax(combined)
        lang = max(probs, key=lambda k: probs[k])
        for identified, mixed_in in MIXING:
            if lang == identified and self._ngrams.telling_words(text, mixed_in, identified) >= MIX_MIN_WORDS:
                lang = mixed_in
        return lang, round(probs[lang], 4)


@cache
def language_identifier(nlu_dir: Path) -> LanguageIdentifier:
    """One identifier per training-data folder and process: building it reads every example."""
    return LanguageIdentifier(nlu_dir)
