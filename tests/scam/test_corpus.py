"""The training corpus covers the field: 300+ scams and 300+ hard legitimate messages per language, every
pattern in every language, documented in TAXONOMY.md, and nothing of the frozen test set in it."""

from __future__ import annotations

import json
import re
from collections import Counter

from bot import LANGUAGES
from bot.config import PROJECT_ROOT
from bot.scam.training import CORPUS_DIR, load_corpus

FROZEN = PROJECT_ROOT / "bench" / "scam_data" / "frozen_test.jsonl"
REQUIRED = {"text", "label", "pattern", "lang"}
SOURCES = ("fresh1", "fresh2", "fresh3")
"""Optional `source` of a line: the messages of the fresh sets, seen and moved into training (fresh sets 1
and 2 in round 5, bench/scam_data/fresh.jsonl and fresh2.jsonl; fresh set 3 in round 6, fresh3.jsonl);
hand-written lines have none."""


def _squeeze(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


def test_sizes_per_language_and_label() -> None:
    counts = Counter((e.lang, e.scam) for e in load_corpus())
    for lang in LANGUAGES:
        assert counts[(lang, True)] >= 300 and counts[(lang, False)] >= 300, lang
    assert set(lang for lang, _ in counts) == set(LANGUAGES)


def test_every_pattern_in_every_language_and_documented() -> None:
    corpus = load_corpus()
    taxonomy = (CORPUS_DIR / "TAXONOMY.md").read_text(encoding="utf-8")
    patterns = {e.pattern for e in corpus if e.scam}
    kinds = {e.pattern for e in corpus if not e.scam}
    assert len(patterns) >= 15
    for name in patterns | kinds:
        assert f"`{name}`" in taxonomy, name
    for lang in LANGUAGES:
        present = Counter(e.pattern for e in corpus if e.lang == lang)
        assert all(present[p] >= 10 for p in patterns), (lang, present)
        assert all(present[k] >= 10 for k in kinds), (lang, present)


def test_no_duplicates_and_nothing_of_the_frozen_test() -> None:
    corpus = [_squeeze(e.text) for e in load_corpus()]
    assert len(corpus) == len(set(corpus))
    frozen = {_squeeze(json.loads(line)["text"]) for line in FROZEN.read_text(encoding="utf-8").splitlines()}
    assert not frozen & set(corpus)


def test_lines_are_well_formed() -> None:
    for path in CORPUS_DIR.glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            assert REQUIRED <= set(row) <= REQUIRED | {"source"}, row
            assert row.get("source", "fresh1") in SOURCES, row
            assert row["lang"] == path.stem and row["label"] in ("scam", "legit") and row["text"].strip()
