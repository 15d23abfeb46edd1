"""A Rasa 3 intent classifier: logistic regression over sublinear TF-IDF rows of the sparse features.

Why not Rasa's LogisticRegressionClassifier: it fits raw counts with C fixed at 1, so a long message
outweighs a short one and every rare, telling n-gram ("aguinaldo", "batistè") is drowned by frequent ones.
Sublinear TF-IDF with unit-length rows and a weak regularisation (C=1000) was measured better on both
accuracy and wrong answers in cross-validation on the training data (bench/nlu_cv_options.py, bench/nlu.md,
round 3).

    - name: components.tfidf_classifier.TfidfLogisticRegressionClassifier
      C: 1000
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, vstack
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

log = logging.getLogger(__name__)
MODEL_FILE = "tfidf_logistic_regression.skops"
SAFE_EXTRA_TYPES = {"scipy.sparse._csr.csr_matrix"}
"""Beyond scikit-learn's own types, skops must load the IDF diagonal, a plain sparse matrix."""


def _sentence_features(messages: list[Message]) -> csr_matrix:
    """The sparse sentence features of the featurizers before us, one row per message."""
    rows = []
    for message in messages:
        _, sentence = message.get_sparse_features(attribute=TEXT)
        rows.append(csr_matrix(sentence.features) if sentence is not None else None)
    width = next((r.shape[1] for r in rows if r is not None), 0)
    return vstack([r if r is not None else csr_matrix((1, width)) for r in rows]).tocsr()


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class TfidfLogisticRegressionClassifier(IntentClassifier, GraphComponent):
    @classmethod
    def required_components(cls) -> list[type]:
        return [Featurizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"C": 1000.0, "max_iter": 1000, "random_state": 42, "ranking_length": 10}

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource) -> None:
        self.config = {**self.get_default_config(), **config}
        self.model: Pipeline | None = None
        self._model_storage = model_storage
        self._resource = resource

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TfidfLogisticRegressionClassifier:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            log.debug("no intent examples: the classifier is not trained")
            return self._resource
        self.model = Pipeline(
            [
                ("tfidf", TfidfTransformer(sublinear_tf=True)),
                (
                    "logreg",
                    LogisticRegression(
                        C=float(self.config["C"]),
                        max_iter=int(self.config["max_iter"]),
                        class_weight="balanced",
                        random_state=int(self.config["random_state"]),
                    ),
                ),
            ]
        )
        self.model.fit(_sentence_features(examples), [e.get(INTENT) for e in examples])
        self.persist()
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        if self.model is None or not messages:
            return messages
        probabilities = self.model.predict_proba(_sentence_features(messages))
        intents = self.model.classes_
        for message, row in zip(messages, probabilities, strict=True):
            ranking = sorted(
                ({"name": str(name), "confidence": float(p)} for name, p in zip(intents, row, strict=True)),
                key=lambda item: -item["confidence"],
            )
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking[: int(self.config["ranking_length"])], add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def persist(self) -> None:
        import skops.io as sio

        with self._model_storage.write_to(self._resource) as model_dir:
            sio.dump(self.model, model_dir / MODEL_FILE)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TfidfLogisticRegressionClassifier:
        import skops.io as sio

        component = cls(config, model_storage, resource)
        with model_storage.read_from(resource) as model_dir:
            path = model_dir / MODEL_FILE
            untrusted = set(sio.get_untrusted_types(file=path))
            if untrusted - SAFE_EXTRA_TYPES:
                # A model that cannot classify must not serve: every parse would come back without an intent.
                raise ValueError(f"unexpected types in {path}: {sorted(untrusted - SAFE_EXTRA_TYPES)}")
            component.model = sio.load(path, trusted=sorted(untrusted))
        return component
