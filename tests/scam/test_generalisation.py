"""Each fraud pattern recognised, and each kind of hard legitimate message left alone, on wordings the corpus
does not contain — one line per pattern or kind and language (tests/scam/unseen.jsonl).

Honest note: these lines were written after the model's first version; the few it got wrong led to new corpus
lines in other words (round 3 of the corpus). They are a development check, not a measure of how the model
generalises: that is the frozen test set and the fresh set of bench/scam.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot import LANGUAGES
from bot.scam import assess
from bot.scam.training import load_corpus

UNSEEN = [
    json.loads(line) for line in (Path(__file__).parent / "unseen.jsonl").read_text("utf-8").splitlines()
]


def test_every_pattern_and_kind_of_the_corpus_is_covered_in_every_language() -> None:
    kinds = {(e.scam, e.pattern) for e in load_corpus()}
    for lang in LANGUAGES:
        covered = {(r["label"] == "scam", r["pattern"]) for r in UNSEEN if r["lang"] == lang}
        assert covered == kinds, lang


def test_the_lines_are_not_in_the_corpus() -> None:
    corpus = {" ".join(e.text.lower().split()) for e in load_corpus()}
    assert not [r["text"] for r in UNSEEN if " ".join(r["text"].lower().split()) in corpus]


KNOWN_MISSES = {
    # Scored below the threshold by the current model: an offer reported as a question ("is it worth it?").
    # Strict: once the model recognises it, the mark must go. (Round 4 recognises the two others that were
    # here: an invitation to invest with no amount, a code request told in the past tense.)
    ("en", "appointment_sale"),
    # Round 5 (C 1000, fresh sets in training): a code request by "the bank" told in the past tense, with no
    # amount, scores 0.41 (warn 0.45). Four corpus lines of the kind moved it from 0.40; left as a known miss
    # rather than tuned further on this development line.
    ("fr", "account_code_theft"),
    # Round 6 (fresh set 3 and 244 hand-written lines in training, cues frame:reported / frame:verified): the
    # English line of the same kind ("the 'bank' texted asking for the code ... to cancel a purchase") fell
    # from above the warn threshold to 0.448 (warn 0.45). Left as a known miss, not tuned on this line.
    ("en", "account_code_theft"),
}


def _scam_rows() -> list[object]:
    rows: list[object] = []
    for r in UNSEEN:
        if r["label"] != "scam":
            continue
        known = (r["lang"], r["pattern"]) in KNOWN_MISSES
        marks = [pytest.mark.xfail(strict=True, reason="known miss of the current model")] if known else []
        rows.append(pytest.param(r, marks=marks, id=f"{r['lang']}-{r['pattern']}"))
    return rows


@pytest.mark.parametrize("row", _scam_rows())
def test_each_pattern_is_recognised(row: dict[str, str]) -> None:
    result = assess(row["text"], row["lang"])
    assert result.verdict != "no_signs", (round(result.score, 3), row["text"])


@pytest.mark.parametrize(
    "row", [r for r in UNSEEN if r["label"] == "legit"], ids=lambda r: f"{r['lang']}-{r['pattern']}"
)
def test_each_hard_negative_kind_is_not_flagged(row: dict[str, str]) -> None:
    result = assess(row["text"], row["lang"])
    assert result.verdict == "no_signs", (round(result.score, 3), row["text"], result.signals)
