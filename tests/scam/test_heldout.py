"""Regression guard: precision and recall on the held-out set stay at or above 0.85 in every language."""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest

from bot import LANGUAGES
from bot.config import PROJECT_ROOT

_spec = importlib.util.spec_from_file_location("bench_scam", PROJECT_ROOT / "bench" / "scam.py")
assert _spec and _spec.loader
bench = importlib.util.module_from_spec(_spec)
sys.modules["bench_scam"] = bench  # dataclasses need the module registered
_spec.loader.exec_module(bench)

ITEMS = bench.load()


def test_heldout_is_balanced_and_large_enough() -> None:
    for lang in LANGUAGES:
        rows = [r for r in ITEMS if r["lang"] == lang]
        scams = sum(r["label"] == "scam" for r in rows)
        assert len(rows) >= 50
        assert 0.4 <= scams / len(rows) <= 0.6
    assert all(set(r) == {"text", "label", "lang"} for r in ITEMS)
    assert len({json.dumps(r, sort_keys=True) for r in ITEMS}) == len(ITEMS)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_precision_and_recall_at_least_085(lang: str) -> None:
    counts = bench.score(ITEMS)[lang]
    assert counts.recall >= 0.85, f"{lang} recall {counts.recall:.3f}"
    assert counts.precision >= 0.85, f"{lang} precision {counts.precision:.3f}"
