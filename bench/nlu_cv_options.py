"""Round-3 options, cross-validated on the training data only (never the held-out set): classifier
variants over the same features, and a fallback that asks a higher confidence of substantive answers than
of small talk. Runs in Rasa's environment:

    .venv-rasa/bin/python bench/nlu_cv_options.py

Features as in the Rasa pipeline (bench/nlu_cv.py): normalised text, whitespace-word counts + char_wb 2-5
counts. Variants: Rasa's LogisticRegression (C=1, balanced) on counts; the same on sublinear TF-IDF rows
(C swept). Fallback: Rasa's rule (below `threshold`, or within 0.1 of the second intent) with a separate,
higher threshold for answering intents (topics and ask_human; not emergency).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy.sparse import hstack
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nlu_cv import ANSWERING, LANGS, load, normalise_text, scores, words  # noqa: E402

AMBIGUITY = 0.1
GUARDED = ANSWERING - {"emergency"}
"""Intents held to the higher threshold: emergency is not (missing a real emergency costs more than a false
alarm, which staff see at once)."""


def variants() -> dict[str, tuple[bool, float]]:
    """name -> (tf-idf rows?, C)."""
    return {
        "counts C=1 (Rasa LR)": (False, 1.0),
        "tfidf C=1000": (True, 1000.0),
        "tfidf C=300": (True, 300.0),
    }


def out_of_fold(texts: list[str], y: np.ndarray, langs: np.ndarray) -> dict[str, np.ndarray]:
    """Out-of-fold probability matrices per variant (columns in sorted intent order)."""
    classes = np.array(sorted(set(y)))
    probas = {name: np.zeros((len(texts), len(classes))) for name in variants()}
    strata = np.array([f"{a}|{b}" for a, b in zip(y, langs, strict=True)])
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(texts, strata):
        vec_w = CountVectorizer(preprocessor=normalise_text, tokenizer=words, token_pattern=None)
        vec_c = CountVectorizer(
            preprocessor=lambda t: " ".join(words(normalise_text(t))), analyzer="char_wb", ngram_range=(2, 5)
        )
        tr = [texts[i] for i in train]
        te = [texts[i] for i in test]
        x_train = hstack([vec_w.fit_transform(tr), vec_c.fit_transform(tr)]).tocsr()
        x_test = hstack([vec_w.transform(te), vec_c.transform(te)]).tocsr()
        tfidf = TfidfTransformer(sublinear_tf=True).fit(x_train)
        for name, (use_tfidf, c) in variants().items():
            a, b = (tfidf.transform(x_train), tfidf.transform(x_test)) if use_tfidf else (x_train, x_test)
            clf = LogisticRegression(C=c, max_iter=1000, class_weight="balanced", random_state=42).fit(
                a, y[train]
            )
            assert list(clf.classes_) == list(classes)
            probas[name][test] = clf.predict_proba(b)
    return {"classes": classes, **probas}


def decide(proba: np.ndarray, classes: np.ndarray, threshold: float, answer_threshold: float) -> np.ndarray:
    order = np.argsort(-proba, 1)
    top, second = proba[np.arange(len(proba)), order[:, 0]], proba[np.arange(len(proba)), order[:, 1]]
    pred = classes[order[:, 0]]
    needed = np.where(np.isin(pred, list(GUARDED)), answer_threshold, threshold)
    return np.where((top < needed) | (top - second < AMBIGUITY), "nlu_fallback", pred)


def main() -> None:
    texts, y, langs = load()
    print(f"{len(texts)} training examples, 5-fold stratified by intent x language\n")
    result = out_of_fold(texts, y, langs)
    classes = result.pop("classes")
    print("| variant | threshold (small talk / answers) | " + " | ".join(f"{lg} acc / wrong" for lg in LANGS)
          + " | all acc / wrong / fallback |")  # fmt: skip
    print("|---|---|" + "---|" * (len(LANGS) + 1))
    for name, proba in result.items():
        for threshold, answer_threshold in (
            (0.4, 0.4),
            (0.3, 0.5),
            (0.3, 0.55),
            (0.3, 0.6),
            (0.25, 0.6),
            (0.3, 0.65),
            (0.3, 0.7),
        ):
            pred = decide(proba, classes, threshold, answer_threshold)
            cells = []
            for lang in LANGS:
                acc, _, wrong, _ = scores(y[langs == lang], pred[langs == lang])
                cells.append(f"{acc:.3f} / {wrong:.3f}")
            acc, _, wrong, rate = scores(y, pred)
            print(f"| {name} | {threshold} / {answer_threshold} | " + " | ".join(cells)
                  + f" | {acc:.3f} / {wrong:.3f} / {rate:.3f} |")  # fmt: skip


if __name__ == "__main__":
    main()
