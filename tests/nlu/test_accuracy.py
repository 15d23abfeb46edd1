"""Intent accuracy on the held-out set, per language, with the real Rasa model trained from intents/."""

from __future__ import annotations

import json

import pytest

from bot import LANGUAGES
from bot.config import PROJECT_ROOT
from bot.nlu.client import NluService, RasaClient
from bot.nlu.evaluation import Scores
from bot.nlu.language import language_identifier
from bot.nlu.server import RasaServer

HELDOUT = PROJECT_ROOT / "tests" / "nlu" / "heldout.jsonl"
MINIMUM_ACCURACY = 0.89
"""Achieved (bench/nlu.md, round 3): es 0.920, en 0.919, fr 0.904, ht 0.942; floor = lowest minus ~0.015."""
MAXIMUM_WRONG_ANSWERS = 0.04
"""Achieved (round 3): es 0.024, en 0.020, fr 0.030, ht 0.012; ceiling = highest plus 0.01."""


@pytest.mark.rasa
async def test_heldout_accuracy_and_wrong_answers_stay_within_bounds_in_every_language(
    rasa_server: RasaServer,
) -> None:
    items = [json.loads(line) for line in HELDOUT.read_text(encoding="utf-8").splitlines() if line.strip()]
    nlu = NluService(
        RasaClient(rasa_server.url, timeout=10.0, token=rasa_server.token),
        language_identifier(PROJECT_ROOT / "intents" / "data" / "nlu"),
    )
    scores = {lang: Scores() for lang in LANGUAGES}
    try:
        for item in items:
            result = await nlu.parse(item["text"])
            assert result.available, "Rasa did not answer"
            scores[item["lang"]].add(item["intent"], result.intent)
    finally:
        await nlu.client.aclose()
    accuracy = {lang: round(s.accuracy, 3) for lang, s in scores.items()}
    wrong = {lang: round(s.wrong_answer_rate, 3) for lang, s in scores.items()}
    print(accuracy, wrong)
    assert all(s.total >= 15 for s in scores.values()), {lang: s.total for lang, s in scores.items()}
    assert all(value >= MINIMUM_ACCURACY for value in accuracy.values()), accuracy
    assert all(value <= MAXIMUM_WRONG_ANSWERS for value in wrong.values()), wrong
