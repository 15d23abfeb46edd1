"""Cross-validated errors on the training data (never the held-out set): the confusion pairs per
language and the misclassified examples, to see which boundaries need more training data.

    .venv-rasa/bin/python bench/nlu_cv_errors.py [--examples] [--lang ht]
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nlu_cv import LANGS, cross_validate, fallback, load, normalise_text, scores  # noqa: E402


def main() -> None:
    show = "--examples" in sys.argv
    only = sys.argv[sys.argv.index("--lang") + 1] if "--lang" in sys.argv else None
    texts, y, langs = load()
    pred, conf, margin = cross_validate(texts, y, langs, normalise_text)
    fb = fallback(pred, conf, margin, 0.4)
    for lang in LANGS:
        m = langs == lang
        acc, f1, wrong, rate = scores(y[m], fb[m])
        print(f"{lang}: n={m.sum()} acc {acc:.3f} F1 {f1:.3f} wrong {wrong:.3f} fallback {rate:.3f}")
    pairs = Counter((y[i], pred[i]) for i in range(len(y)) if y[i] != pred[i])
    print("\nraw (no fallback) confusions, all languages:")
    for (gold, guess), n in pairs.most_common(30):
        print(f"  {n:3d}  {gold} -> {guess}")
    if show:
        for i in range(len(y)):
            if y[i] != pred[i] and (only is None or langs[i] == only):
                print(f"{langs[i]} {y[i]:>18} -> {pred[i]:<18} {conf[i]:.2f}  {texts[i]}")


if __name__ == "__main__":
    main()
