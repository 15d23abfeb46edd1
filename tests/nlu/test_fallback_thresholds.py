"""The NLU's two fallback thresholds (intents/config.yml): a substantive answer needs more confidence than
small talk, and the list of guarded intents stays in step with the bot's topics."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import yaml

from bot.config import PROJECT_ROOT
from bot.dialogue.topics import TOPIC_INTENTS
from bot.nlu.types import FALLBACK_INTENT


def fallback_config() -> dict[str, Any]:
    config = yaml.safe_load((PROJECT_ROOT / "intents" / "config.yml").read_text(encoding="utf-8"))
    return next(c for c in config["pipeline"] if c["name"].endswith("AnswerAwareFallbackClassifier"))


def test_every_topic_and_the_handover_are_held_to_the_higher_threshold() -> None:
    config = fallback_config()
    assert set(config["answer_intents"]) == {*TOPIC_INTENTS, "ask_human"}
    # Emergency is deliberately not guarded: missing a real one costs more than a false alarm.
    assert "emergency" not in config["answer_intents"]
    assert config["answer_threshold"] > config["threshold"]


MESSAGES = [
    "ok",
    "si",
    "wi",
    "mèsi",
    "merci bcp",
    "hmm",
    "la cosa esa",
    "papeles",
    "m pa konnen",
    "what about the thing",
    "y lo otro?",
    "se me vencio el permiso que hago",
    "kijan pou m jwenn paspò",
    "je veux demander l'asile",
    "my boss keeps my passport",
    "where is the office",
    "quiero hablar con alguien",
    "ayuda",
    "tengo miedo",
    "trabajo",
    "dokiman",
    "travail",
    "help with papers and job",
]


@pytest.mark.rasa
async def test_rasa_returns_a_guarded_intent_only_above_its_threshold(rasa_url: str) -> None:
    config = fallback_config()
    guarded = set(config["answer_intents"])
    seen = {"guarded": 0, "other": 0, "fallback": 0, "held back by the answer threshold": 0}
    async with httpx.AsyncClient(base_url=rasa_url, timeout=10.0) as http:
        for text in MESSAGES:
            body = (await http.post("/model/parse", json={"text": text})).json()
            name, confidence = body["intent"]["name"], body["intent"]["confidence"]
            ranking = body["intent_ranking"]
            if name == FALLBACK_INTENT:
                seen["fallback"] += 1
                top = ranking[1]  # what the classifier wanted to say, after the inserted fallback
                floor = config["answer_threshold"] if top["name"] in guarded else config["threshold"]
                second = ranking[2]["confidence"] if len(ranking) > 2 else 0.0
                clear = top["confidence"] - second >= config["ambiguity_threshold"]
                assert top["confidence"] < floor or not clear
                if clear and top["name"] in guarded and top["confidence"] >= config["threshold"]:
                    seen["held back by the answer threshold"] += 1
            elif name in guarded:
                seen["guarded"] += 1
                assert confidence >= config["answer_threshold"], (text, name, confidence)
            else:
                seen["other"] += 1
                assert confidence >= config["threshold"], (text, name, confidence)
    # The messages exercise every outcome, or the assertions above prove little; with a single threshold
    # (Rasa's FallbackClassifier) nothing would be held back.
    assert all(seen.values()), seen
