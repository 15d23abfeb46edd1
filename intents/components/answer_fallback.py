"""Rasa's FallbackClassifier with a higher bar for intents that give a substantive answer.

A wrong answer to a legal question (asylum read as return, work read as trafficking) hurts more than
asking again, while asking again after "ok" or "gracias" is only annoying. So an answering intent (a topic
or ask_human) must reach `answer_threshold`; every other intent `threshold` (emergency too: missing a real
emergency costs more than a false alarm). Both were chosen on the
cross-validated curve of wrong answers against fallbacks (bench/nlu_cv_options.py, bench/nlu.md round 3).

    - name: components.answer_fallback.AnswerAwareFallbackClassifier
      threshold: 0.3
      answer_threshold: 0.65
      ambiguity_threshold: 0.1
      answer_intents: [ask_asylum, ...]
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.fallback_classifier import THRESHOLD_KEY, FallbackClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class AnswerAwareFallbackClassifier(FallbackClassifier):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**FallbackClassifier.get_default_config(), "answer_threshold": 0.65, "answer_intents": []}

    def _nlu_confidence_below_threshold(self, message: Message) -> tuple[bool, float]:
        intent = message.data[INTENT]
        confidence = float(intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
        if intent.get(INTENT_NAME_KEY) in set(self.component_config["answer_intents"]):
            return confidence < float(self.component_config["answer_threshold"]), confidence
        return confidence < float(self.component_config[THRESHOLD_KEY]), confidence
