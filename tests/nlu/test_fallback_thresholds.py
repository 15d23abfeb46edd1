"""The NLU's two fallback thresholds (intents/config.yml): a substantive answer needs more confidence than
small talk, and the list of guarded intents stays in step with the bot's topics."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import httpx
import pytest
import yaml

from bot.config import PROJECT_ROOT
from bot.nlu.server import RasaServer
from bot.nlu.training import INTENTS_DIR, rasa_env
from bot.nlu.types import FALLBACK_INTENT
from bot.vocab.topics import TOPIC_INTENTS


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
]


@pytest.mark.rasa
async def test_rasa_returns_a_guarded_intent_only_above_its_threshold(rasa_server: RasaServer) -> None:
    config = fallback_config()
    guarded = set(config["answer_intents"])
    seen = {"guarded": 0, "other": 0, "fallback": 0}
    async with httpx.AsyncClient(
        base_url=rasa_server.url, params={"token": rasa_server.token}, timeout=10.0
    ) as http:
        for text in MESSAGES:
            body = (await http.post("/model/parse", json={"text": text})).json()
            name, confidence = body["intent"]["name"], body["intent"]["confidence"]
            ranking = body["intent_ranking"]
            if name == FALLBACK_INTENT:
                seen["fallback"] += 1
                top = ranking[1]  # what the classifier wanted to say, after the inserted fallback
                floor = config["answer_threshold"] if top["name"] in guarded else config["threshold"]
                second = ranking[2]["confidence"] if len(ranking) > 2 else 0.0
                assert top["confidence"] < floor or top["confidence"] - second < config["ambiguity_threshold"]
            elif name in guarded:
                seen["guarded"] += 1
                assert confidence >= config["answer_threshold"], (text, name, confidence)
            else:
                seen["other"] += 1
                assert confidence >= config["threshold"], (text, name, confidence)
    # The messages exercise every outcome, or the assertions above prove little.
    assert all(seen.values()), seen


DECIDE = """
import json, sys
from rasa.shared.nlu.training_data.message import Message
from components.answer_fallback import AnswerAwareFallbackClassifier
config = json.loads(sys.argv[1])
fallback = AnswerAwareFallbackClassifier({**AnswerAwareFallbackClassifier.get_default_config(), **config})
out = []
for name, confidence in json.loads(sys.argv[2]):
    ranking = [{"name": name, "confidence": confidence}, {"name": "out_of_scope", "confidence": 0.01}]
    message = Message(data={"text": "x", "intent": dict(ranking[0]), "intent_ranking": ranking})
    out.append(fallback.process([message])[0].data["intent"]["name"])
print(json.dumps(out))
"""


def test_the_component_holds_answers_to_the_higher_threshold_and_small_talk_to_the_lower() -> None:
    """The component itself, in Rasa's environment, on predictions made up for the purpose."""
    config = {k: v for k, v in fallback_config().items() if k != "name"}
    low, high = config["threshold"], config["answer_threshold"]
    between = (low + high) / 2
    cases = [
        ("ask_work", between, FALLBACK_INTENT),  # a topic must be surer than small talk
        ("ask_human", between, FALLBACK_INTENT),
        ("ask_work", high + 0.01, "ask_work"),
        ("affirm", between, "affirm"),
        ("emergency", between, "emergency"),  # not guarded: a missed emergency costs more
        ("affirm", low - 0.01, FALLBACK_INTENT),
    ]
    python = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"
    predictions = json.dumps([(name, confidence) for name, confidence, _ in cases])
    run = subprocess.run(
        [str(python), "-c", DECIDE, json.dumps(config), predictions],
        cwd=INTENTS_DIR,
        env=rasa_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout.strip().splitlines()[-1]) == [expected for _, _, expected in cases]
