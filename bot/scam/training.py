"""Training the scam model on the corpus, and the cache that makes each worker load it once.

The model is trained on the hand-written corpus of bot/scam/corpus/ (scams of 19 patterns and hard
legitimate messages in es, en, fr, ht). Training takes some seconds, so the fitted model is cached under
models/scam/, keyed by a hash of everything it depends on (corpus, word lists, feature code, scikit-learn
version): editing the corpus retrains it at the next start. The cache is a pickle of plain data (dicts,
tuples, numpy arrays) written by this module into the project's own models/ folder and read from nowhere else.

Hyper-parameters below were chosen by 5-fold cross-validation on the corpus only (`bench/scam.py --cv`);
the frozen test set of bench/scam_data/ never chose anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from bot.config import PROJECT_ROOT
from bot.scam.features import Prepared, prepare_message
from bot.scam.lexicon import Lexicon, default_lexicon
from bot.scam.model import TOKENISERS, Block, ScamModel

CORPUS_DIR = PROJECT_ROOT / "bot" / "scam" / "corpus"
CACHE_DIR = PROJECT_ROOT / "models" / "scam"

CHAR_MIN_DF = 2
"""Character n-grams seen in fewer than two corpus lines are dropped (names, numbers, typos)."""
CUE_WEIGHT = 0.5
"""Scale of the engineered cues (bot/scam/cues.py) against the two n-gram blocks."""
C = 1000.0
"""Inverse regularisation of the scam/legit logistic regression. Round-3 grid (10/30/100 × cue weight
0/0.5/1): 100 and 0.5. Round 4 (quoted words marked, cue pairs, 3,424 lines; out-of-fold, no pattern
classifier): C 10 / 30 / 100 at cue weight 0.5 gave ROC-AUC 0.9846 / 0.9861 / 0.9833 and Brier 0.0476 /
0.0434 / 0.0464; cue weight 1: 0.9838 at C 100 (a hair above 0.5 there), and at C 30 on 3,506 lines 0.9815
against 0.9852 for 0.5. Chosen: C 30, cue weight 0.5. Round 5 (4,147 lines with the two seen fresh sets;
out-of-fold, no pattern classifier): C 10 / 30 / 100 / 300 / 1000 / 3000 gave ROC-AUC 0.9878 / 0.9891 /
0.9898 / 0.9902 / 0.9905 / 0.9907, Brier 0.0426 / 0.0383 / 0.0361 / 0.0352 / 0.0348 / 0.0347, and a worst
per-language precision or recall at the best warn threshold of 0.928 / 0.930 / 0.932 / 0.932 / 0.937 /
0.937. Chosen: C 1000 (3000 no better on the worst language). Re-checked on the final round-5 corpus (4,261
lines): C 100 / 300 / 1000 / 3000 ROC-AUC 0.9909 / 0.9913 / 0.9916 / 0.9919, worst language 0.933 / 0.937 /
0.943 / 0.945 — kept 1000 (3000 differs by about one line)."""
PATTERN_C = 10.0
"""Inverse regularisation of the one-vs-rest pattern classifiers (CV accuracy over the 19 patterns ≈ 0.75:
neighbouring patterns such as express passports and forged documents overlap)."""

_DEPENDS_ON = (
    "bot/scam/training.py",
    "bot/scam/model.py",
    "bot/scam/features.py",
    "bot/scam/cues.py",
    "bot/scam/rules.py",
    "bot/scam/text.py",
    "bot/scam/lexicon.py",
    "bot/scam/amounts.py",
    "bot/scam/domains.py",
    "content/scam/signals.yml",
    "content/scam/patterns.yml",
    "content/sources.yml",
)


@dataclass(frozen=True)
class Example:
    """One corpus line."""

    text: str
    scam: bool
    pattern: str
    lang: str


def load_corpus(directory: Path = CORPUS_DIR) -> list[Example]:
    """Every line of every <lang>.jsonl of the corpus folder."""
    examples: list[Example] = []
    for path in sorted(directory.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            row = json.loads(line)
            if row.get("label") not in ("scam", "legit") or not row.get("text") or not row.get("lang"):
                raise ValueError(f"{path.name} line {number}: needs text, lang and label scam|legit")
            examples.append(Example(row["text"], row["label"] == "scam", row.get("pattern", ""), row["lang"]))
    return examples


def corpus_hash(directory: Path = CORPUS_DIR) -> str:
    """SHA-256 over the corpus, the word lists and the feature code: the model cache key."""
    digest = hashlib.sha256(f"scikit-learn {version('scikit-learn')}\n".encode())
    paths = sorted(directory.glob("*.jsonl")) + [PROJECT_ROOT / p for p in _DEPENDS_ON]
    for path in paths:
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes() if path.exists() else b"(missing)")
    return digest.hexdigest()


def _vectorisers() -> list[Any]:
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

    words, chars, cues = TOKENISERS
    return [
        TfidfVectorizer(analyzer=words, sublinear_tf=True),
        TfidfVectorizer(analyzer=chars, min_df=CHAR_MIN_DF, sublinear_tf=True),
        CountVectorizer(analyzer=cues, binary=True),
    ]


def fit(
    items: Sequence[Prepared],
    scam: Sequence[bool],
    patterns: Sequence[str] | None,
    c: float = C,
    cue_weight: float = CUE_WEIGHT,
) -> ScamModel:
    """Fit the feature blocks and the classifiers on prepared messages (the benchmark's CV calls this too).

    `patterns` (the taxonomy id of each line) trains the pattern classifier; None, or only one pattern,
    skips it."""
    from scipy.sparse import hstack
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    vectorisers = _vectorisers()
    weights = (1.0, 1.0, cue_weight)
    docs = ([p.word_doc for p in items], [p.words for p in items], [p.cue_text for p in items])
    matrices = [w * v.fit_transform(d) for v, d, w in zip(vectorisers, docs, weights, strict=True)]
    matrix = hstack(matrices).tocsr()
    labels = np.array(scam, dtype=bool)
    classifier = LogisticRegression(
        C=c, class_weight="balanced", solver="liblinear", max_iter=5000, random_state=0
    )
    classifier.fit(matrix, labels)
    names: tuple[str, ...] = ()
    pattern_coef = np.zeros((0, matrix.shape[1]), dtype=np.float32)
    pattern_intercept = np.zeros(0)
    if patterns is not None and len(set(np.array(patterns)[labels])) > 1:
        ovr = OneVsRestClassifier(LogisticRegression(C=PATTERN_C, solver="liblinear", random_state=0))
        ovr.fit(matrix[labels], np.array(patterns)[labels])
        names = tuple(str(n) for n in ovr.classes_)
        pattern_coef = np.vstack([e.coef_[0] for e in ovr.estimators_]).astype(np.float32)
        pattern_intercept = np.array([e.intercept_[0] for e in ovr.estimators_])
    offsets = np.cumsum([0] + [m.shape[1] for m in matrices])
    blocks = tuple(
        Block(
            vocabulary={str(k): int(i) for k, i in v.vocabulary_.items()},
            idf=np.asarray(v.idf_) if hasattr(v, "idf_") else None,
            weight=w,
            offset=int(offset),
        )
        for v, w, offset in zip(vectorisers, weights, offsets, strict=False)
    )
    word_names = tuple(str(n) for n in vectorisers[0].get_feature_names_out())
    return ScamModel(
        blocks=(blocks[0], blocks[1], blocks[2]),
        coef=np.asarray(classifier.coef_[0]),
        intercept=float(classifier.intercept_[0]),
        pattern_names=names,
        pattern_coef=pattern_coef,
        pattern_intercept=pattern_intercept,
        word_names=word_names,
    )


def train(examples: Iterable[Example], lexicon: Lexicon) -> ScamModel:
    rows = list(examples)
    items = [prepare_message(e.text, lexicon) for e in rows]
    return fit(items, [e.scam for e in rows], [e.pattern for e in rows])


def load_or_train(
    key: str, lexicon: Lexicon, corpus: Path = CORPUS_DIR, cache_dir: Path = CACHE_DIR
) -> ScamModel:
    """The cached model for `key`, or a model trained now and cached (older cache files are removed)."""
    path = cache_dir / f"{key}.pickle"
    if path.exists():
        try:
            with path.open("rb") as reader:
                cached = pickle.load(reader)  # noqa: S301 - our own cache file, written below
            if isinstance(cached, ScamModel):
                return cached
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
            pass  # a damaged or outdated cache is rebuilt
    model = train(load_corpus(corpus), lexicon)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=cache_dir, delete=False, suffix=".tmp") as writer:
            pickle.dump(model, writer, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(writer.name, path)  # atomic: another worker never reads half a file
        for old in cache_dir.glob("*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only deployment still works, it just trains at each start
    return model


@cache
def default_model() -> ScamModel:
    """The model of the project's corpus, loaded (or trained and cached) once per process."""
    return load_or_train(corpus_hash(), default_lexicon())
