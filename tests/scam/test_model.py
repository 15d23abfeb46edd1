"""The model: the same numbers as scikit-learn, trained once per corpus and cached by its hash."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import hstack
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.scam import training
from bot.scam.features import char_tokens, cue_list, prepare_message, word_tokens
from bot.scam.lexicon import Lexicon, default_lexicon
from bot.scam.model import ScamModel
from bot.scam.training import (
    CORPUS_DIR,
    Example,
    corpus_hash,
    default_model,
    fit,
    load_corpus,
    load_or_train,
)


def _small_corpus(directory: Path, per_label: int = 15) -> None:
    """A few lines of each label per language, spread over the patterns, copied from the real corpus."""
    directory.mkdir(parents=True, exist_ok=True)
    for source in sorted(CORPUS_DIR.glob("*.jsonl")):
        rows = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines()]
        kept = []
        for label in ("scam", "legit"):
            of_label = [r for r in rows if r["label"] == label]
            kept += of_label[:: len(of_label) // per_label][:per_label]
        (directory / source.name).write_text("\n".join(json.dumps(r) for r in kept) + "\n", encoding="utf-8")


def test_tokenisers_match_scikit_learn_analyzers() -> None:
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), lowercase=False).build_analyzer()
    words = TfidfVectorizer(ngram_range=(1, 2), token_pattern=r"\S+", lowercase=False).build_analyzer()
    for doc in ["a bb ccc dddd eeeee ffffff", "vendo  citas\n cbp one 200$", "", " y "]:
        assert char_tokens(doc) == chars(doc)
        assert word_tokens(doc) == words(doc)


def test_numpy_prediction_equals_scikit_learn_predict_proba(tmp_path: Path) -> None:
    _small_corpus(tmp_path)
    examples = load_corpus(tmp_path)
    items = [prepare_message(e.text, default_lexicon()) for e in examples]
    labels = np.array([e.scam for e in examples])
    model = fit(items, [e.scam for e in examples], [e.pattern for e in examples], c=10.0, cue_weight=0.5)

    reference = [
        TfidfVectorizer(analyzer=word_tokens, sublinear_tf=True),
        TfidfVectorizer(analyzer=char_tokens, min_df=2, sublinear_tf=True),
        CountVectorizer(analyzer=cue_list, binary=True),
    ]
    docs = ([i.word_doc for i in items], [i.words for i in items], [i.cue_text for i in items])
    matrix = hstack([w * v.fit_transform(d) for v, d, w in zip(reference, docs, (1, 1, 0.5), strict=True)])
    expected = LogisticRegression(C=10.0, class_weight="balanced", solver="liblinear", random_state=0)
    expected.fit(matrix.tocsr(), labels)
    assert np.allclose(model.probabilities(items), expected.predict_proba(matrix.tocsr())[:, 1], atol=1e-9)
    pattern, probability = model.pattern(items[0])
    assert pattern in {e.pattern for e in examples if e.scam} and 0 < probability <= 1


def test_the_cache_is_keyed_reused_and_rebuilt_when_damaged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, cache = tmp_path / "corpus", tmp_path / "cache"
    _small_corpus(corpus, per_label=6)
    calls: list[int] = []
    real_train = training.train

    def counting_train(examples: Iterable[Example], lexicon: Lexicon) -> ScamModel:
        calls.append(1)
        return real_train(examples, lexicon)

    monkeypatch.setattr(training, "train", counting_train)

    first = load_or_train("key-a", default_lexicon(), corpus, cache)
    assert calls == [1] and (cache / "key-a.pickle").exists()
    again = load_or_train("key-a", default_lexicon(), corpus, cache)
    assert calls == [1] and np.array_equal(again.coef, first.coef)  # loaded, not retrained

    (cache / "key-a.pickle").write_bytes(b"not a pickle")
    load_or_train("key-a", default_lexicon(), corpus, cache)
    assert calls == [1, 1]  # a damaged cache is rebuilt

    load_or_train("key-b", default_lexicon(), corpus, cache)
    assert sorted(p.name for p in cache.glob("*.pickle")) == ["key-b.pickle"]  # old models are removed


def test_the_cache_key_changes_with_the_corpus(tmp_path: Path) -> None:
    copy = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, copy)
    before = corpus_hash(copy)
    assert corpus_hash(copy) == before
    with (copy / "es.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(
            json.dumps({"text": "nueva línea", "label": "legit", "pattern": "everyday", "lang": "es"}) + "\n"
        )
    assert corpus_hash(copy) != before


def test_the_model_is_loaded_once_per_process() -> None:
    assert default_model() is default_model()
