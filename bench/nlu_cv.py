"""Cross-validation on the training data only (never the held-out set), to choose the pipeline options
and the fallback threshold. Runs in Rasa's environment (it has scikit-learn):

    .venv-rasa/bin/python bench/nlu_cv.py            # the tables in bench/nlu.md, section "Cross-validation"

It reproduces the linear Rasa pipeline with scikit-learn (the same featurisation: whitespace words +
char_wb 2-5 n-gram counts, lowercase; LogisticRegression(C=1, class_weight="balanced", lbfgs) as in Rasa's
LogisticRegressionClassifier), stratified 5-fold by intent and language, with and without the phone-typing
normaliser of intents/components, then prints the fallback curve (wrong-answer rate vs fallback rate).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import yaml
from scipy.sparse import hstack
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "intents"))
from components.normalise import normalise_text  # noqa: E402

ANSWERING = {
    "ask_regularization", "ask_asylum", "ask_documents", "ask_work", "ask_fraud", "ask_trafficking",
    "ask_health", "ask_return", "ask_info_hub", "ask_human", "emergency",
}  # fmt: skip
LANGS = ("es", "en", "fr", "ht")
AMBIGUITY = 0.1  # FallbackClassifier's default ambiguity_threshold
THRESHOLDS = (0.0, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6)


def load() -> tuple[list[str], np.ndarray, np.ndarray]:
    texts, intents, langs = [], [], []
    for path in sorted((ROOT / "intents" / "data" / "nlu").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            for line in str(block.get("examples", "")).splitlines():
                if line.strip().startswith("- "):
                    texts.append(line.strip()[2:].strip())
                    intents.append(block["intent"])
                    langs.append(path.stem)
    return texts, np.array(intents), np.array(langs)


def words(text: str) -> list[str]:
    # Rasa's WhitespaceTokenizer keeps word characters; emoji-only tokens disappear.
    return re.findall(r"[\w#@&]+", text)


def cross_validate(
    texts: list[str], y: np.ndarray, langs: np.ndarray, pre: Callable[[str], str], folds: int = 5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Out-of-fold (prediction, confidence, margin over the second intent) for every training example."""
    pred = np.empty(len(texts), dtype=object)
    conf = np.zeros(len(texts))
    margin = np.zeros(len(texts))
    strata = np.array([f"{a}|{b}" for a, b in zip(y, langs, strict=True)])
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(texts, strata):
        vec_w = CountVectorizer(preprocessor=pre, tokenizer=words, token_pattern=None)
        vec_c = CountVectorizer(preprocessor=lambda t: " ".join(words(pre(t))), analyzer="char_wb",
                                ngram_range=(2, 5))  # fmt: skip
        tr = [texts[i] for i in train]
        te = [texts[i] for i in test]
        x_train = hstack([vec_w.fit_transform(tr), vec_c.fit_transform(tr)]).tocsr()
        x_test = hstack([vec_w.transform(te), vec_c.transform(te)]).tocsr()
        clf = LogisticRegression(C=1.0, max_iter=300, class_weight="balanced", random_state=42)
        clf.fit(x_train, y[train])
        proba = clf.predict_proba(x_test)
        ordered = np.sort(proba, 1)
        pred[test] = clf.classes_[proba.argmax(1)]
        conf[test] = ordered[:, -1]
        margin[test] = ordered[:, -1] - ordered[:, -2]
    return pred, conf, margin


def fallback(pred: np.ndarray, conf: np.ndarray, margin: np.ndarray, threshold: float) -> np.ndarray:
    """Rasa's FallbackClassifier: below the threshold, or within AMBIGUITY of the second intent."""
    return np.where((conf < threshold) | (margin < AMBIGUITY), "nlu_fallback", pred)


def scores(y: np.ndarray, pred: np.ndarray) -> tuple[float, float, float, float]:
    acc = float((y == pred).mean())
    wrong = float(((y != pred) & np.isin(pred, list(ANSWERING))).mean())
    rate = float((pred == "nlu_fallback").mean())
    f1s = []
    for label in set(y):
        tp = int(((y == label) & (pred == label)).sum())
        fp = int(((y != label) & (pred == label)).sum())
        fn = int(((y == label) & (pred != label)).sum())
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return acc, float(np.mean(f1s)), wrong, rate


def main() -> None:
    texts, y, langs = load()
    print(f"{len(texts)} training examples, stratified 5-fold by intent x language\n")
    variants = {"linear": str.lower, "linear + phone-typing normaliser": normalise_text}
    results = {}
    print("| variant (threshold 0.3) | " + " | ".join(f"{lg} acc / F1 / wrong" for lg in LANGS) + " |")
    print("|---|" + "---|" * len(LANGS))
    for name, pre in variants.items():
        pred, conf, margin = cross_validate(texts, y, langs, pre)
        results[name] = (pred, conf, margin)
        fb = fallback(pred, conf, margin, 0.3)
        cells = []
        for lang in LANGS:
            acc, f1, wrong, _ = scores(y[langs == lang], fb[langs == lang])
            cells.append(f"{acc:.3f} / {f1:.3f} / {wrong:.3f}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("\nFallback curve (cross-validated, normaliser on): threshold -> accuracy, wrong-answer, fallback")
    print(f"(ambiguity threshold {AMBIGUITY} as in Rasa's FallbackClassifier)")
    print(
        "| threshold | accuracy | macro-F1 | wrong-answer | wrong-answer (worst language) | fallback rate |"
    )
    print("|---|---|---|---|---|---|")
    pred, conf, margin = results["linear + phone-typing normaliser"]
    for threshold in THRESHOLDS:
        fb = fallback(pred, conf, margin, threshold)
        acc, f1, _, rate = scores(y, fb)
        worst = max(scores(y[langs == lg], fb[langs == lg])[2] for lg in LANGS)
        wrong_all = scores(y, fb)[2]
        # Cost: a wrong substantive answer counts three times as much as asking again.
        print(f"| {threshold:.2f} | {acc:.3f} | {f1:.3f} | {wrong_all:.3f} | {worst:.3f} | {rate:.3f} |")


if __name__ == "__main__":
    main()
