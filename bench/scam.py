"""Scam check benchmark: the frozen test set, the fresh set, the old held-out set, baseline and speed.

A message counts as flagged when the verdict is likely_fraud or warning_signs; precision is the share of
flagged messages that are scams, recall the share of scams flagged; 95 % Wilson intervals. The baseline is
the lexicon-only detector as it was before the model (word lists frozen in bench/scam_data/baseline_lexicon),
scored and timed in the same run. The protocol is in bench/scam.md.

    .venv/bin/python bench/scam.py            # test sets, baseline, speed
    .venv/bin/python bench/scam.py --cv       # 5-fold cross-validation on the training corpus; thresholds
    .venv/bin/python bench/scam.py --cv --grid   # also the hyper-parameter grid (slow)
    .venv/bin/python bench/scam.py --misses   # list every miss and false alarm of the test sets
    .venv/bin/python bench/scam.py --speed    # only throughput and latency
    .venv/bin/python bench/scam.py --fresh PATH   # only an extra unseen set, scored once
                                        # (JSONL: {"text", "label": "scam"|"legit", "lang", "pattern"?})
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from sklearn.metrics import brier_score_loss, roc_auc_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

from bot import LANGUAGES  # noqa: E402
from bot.scam import assess  # noqa: E402
from bot.scam.features import prepare_message  # noqa: E402
from bot.scam.lexicon import Lexicon, default_lexicon, load_lexicon  # noqa: E402
from bot.scam.rules import find_signals  # noqa: E402
from bot.scam.text import prepare  # noqa: E402
from bot.scam.training import CUE_WEIGHT, C, default_model, fit, load_corpus  # noqa: E402
from bot.scam.verdict import FRAUD_THRESHOLD, WARN_THRESHOLD  # noqa: E402

DATA = ROOT / "bench" / "scam_data"
FROZEN = DATA / "frozen_test.jsonl"
FROZEN_SHA256 = "92fcfcfcbae7c6d7ab3859057ac7eb97e01e07ca3370c2be78cbd95923ee323d"
FRESH = DATA / "fresh3.jsonl"
"""The newest set written apart from the project; training data since round 6 (fresh sets 1 and 2 since
round 5), so its figures now mean nothing: the next unseen set is scored with --fresh PATH."""
HELDOUT = ROOT / "tests" / "scam" / "heldout.jsonl"
"""The lexicon's old held-out set: the lexicons were widened on it, the model never saw it."""
BASELINE_LEXICON = DATA / "baseline_lexicon"
LENGTHS = (100, 500, 1000, 2000, 4096)

Item = dict[str, str]
VerdictOf = Callable[[Item], str]


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def add(self, flagged: bool, scam: bool) -> None:
        if flagged and scam:
            self.tp += 1
        elif flagged:
            self.fp += 1
        elif scam:
            self.fn += 1
        else:
            self.tn += 1


def wilson(successes: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion."""
    if total == 0:
        return (0.0, 1.0)
    p = successes / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return (max(0.0, centre - half), min(1.0, centre + half))


def load(path: Path = HELDOUT) -> list[Item]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_extra(path: Path) -> list[Item]:
    """An extra labelled set (one JSON object per line), checked line by line: a bad line stops the run
    with its number rather than being skipped (a set scored once must be scored whole)."""
    items: list[Item] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            sys.exit(f"{path} line {number}: not JSON ({error.msg})")
        if (
            not isinstance(row, dict)
            or not isinstance(row.get("text"), str)
            or row.get("label") not in ("scam", "legit")
            or row.get("lang") not in LANGUAGES
        ):
            sys.exit(f"{path} line {number}: needs text, label scam|legit and lang in {', '.join(LANGUAGES)}")
        items.append({k: str(v) for k, v in row.items()})
    if not items:
        sys.exit(f"{path}: no messages")
    return items


def model_verdict(item: Item) -> str:
    return assess(item["text"], item["lang"]).verdict


@cache
def baseline_lexicon() -> Lexicon:
    return load_lexicon(BASELINE_LEXICON)


def baseline_verdict(item: Item) -> str:
    return find_signals(prepare(item["text"]), baseline_lexicon()).verdict


def count(items: Sequence[Item], verdicts: Sequence[str]) -> dict[str, Counts]:
    """Counts per language and "all" for a labelled set and the verdicts given to it."""
    counts = {lang: Counts() for lang in (*LANGUAGES, "all")}
    for item, verdict in zip(items, verdicts, strict=True):
        for key in (item["lang"], "all"):
            counts[key].add(verdict != "no_signs", item["label"] == "scam")
    return counts


def score(items: Sequence[Item], verdict_of: VerdictOf = model_verdict) -> dict[str, Counts]:
    return count(items, [verdict_of(item) for item in items])


def _pr(c: Counts) -> str:
    p_lo, p_hi = wilson(c.tp, c.tp + c.fp)
    r_lo, r_hi = wilson(c.tp, c.tp + c.fn)
    return f"{c.precision:.3f} [{p_lo:.2f}–{p_hi:.2f}] | {c.recall:.3f} [{r_lo:.2f}–{r_hi:.2f}]"


def print_set(name: str, items: Sequence[Item], misses: bool) -> None:
    verdicts = {"model": [model_verdict(i) for i in items], "baseline": [baseline_verdict(i) for i in items]}
    print(f"\n### {name} ({len(items)} messages)\n")
    _row(
        "lang",
        "scams",
        "legit",
        "model precision [95 % CI]",
        "model recall [95 % CI]",
        "baseline precision",
        "baseline recall",
    )
    print("|---|---|---|---|---|---|---|")
    counts = {kind: count(items, found) for kind, found in verdicts.items()}
    for lang in (*LANGUAGES, "all"):
        m, b = counts["model"][lang], counts["baseline"][lang]
        if not m.tp + m.fn + m.fp + m.tn:
            continue  # a language the set does not have: no row rather than a made-up 1.000
        print(f"| {lang} | {m.tp + m.fn} | {m.fp + m.tn} | {_pr(m)} | {b.precision:.3f} | {b.recall:.3f} |")
    levels = Counter((i["label"], v) for i, v in zip(items, verdicts["model"], strict=True))
    print(
        f"\nmodel verdicts: scams → likely_fraud {levels[('scam', 'likely_fraud')]}, warning_signs "
        f"{levels[('scam', 'warning_signs')]}, no_signs {levels[('scam', 'no_signs')]}; legit → likely_fraud "
        f"{levels[('legit', 'likely_fraud')]}, warning_signs {levels[('legit', 'warning_signs')]}, no_signs "
        f"{levels[('legit', 'no_signs')]}"
    )
    if any(i.get("pattern") for i in items):
        print_confusion(items, verdicts["model"])
    if misses:
        print()
        for item, verdict in zip(items, verdicts["model"], strict=True):
            if (verdict != "no_signs") != (item["label"] == "scam"):
                kind = "missed scam" if item["label"] == "scam" else "false alarm"
                print(f"- {kind} [{item['lang']} {item.get('pattern', '')}] {verdict}: {item['text']}")


def print_confusion(items: Sequence[Item], verdicts: Sequence[str]) -> None:
    """Per pattern (scams) or kind (legitimate): how many were flagged, at which level."""
    table: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for item, verdict in zip(items, verdicts, strict=True):
        table[(item["label"], item.get("pattern", "?"))][verdict] += 1
    print("\n| label | pattern or kind | n | flagged | likely_fraud | warning_signs | no_signs |")
    print("|---|---|---|---|---|---|---|")
    for (label, pattern), c in sorted(table.items()):
        n = sum(c.values())
        flagged = c["likely_fraud"] + c["warning_signs"]
        _row(label, pattern, n, flagged, c["likely_fraud"], c["warning_signs"], c["no_signs"])


def _row(*cells: object) -> None:
    print("| " + " | ".join(str(c) for c in cells) + " |", flush=True)


def _timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def _latencies(items: Sequence[Item], verdict_of: VerdictOf, rounds: int) -> list[float]:
    return sorted(_timed(partial(verdict_of, item)) for _ in range(rounds) for item in items)


def _p(values: Sequence[float], q: float) -> float:
    return values[min(len(values) - 1, int(len(values) * q))] * 1000


def print_speed(items: Sequence[Item], rounds: int = 5) -> None:
    model = _latencies(items, model_verdict, rounds)
    base = _latencies(items, baseline_verdict, rounds)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n### Speed ({len(items)} messages × {rounds} rounds, one process; load average {load})\n")
    print("| detector | messages/s | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|")
    for name, lat in (("model (assess)", model), ("baseline (lexicon)", base)):
        _row(
            name,
            f"{len(lat) / sum(lat):,.0f}",
            f"{_p(lat, 0.5):.2f}",
            f"{_p(lat, 0.99):.2f}",
            f"{lat[-1] * 1000:.2f}",
        )
    p50, p99 = _p(model, 0.5) / _p(base, 0.5), _p(model, 0.99) / _p(base, 0.99)
    print(f"\nlatency ratio model / baseline: p50 {p50:.2f}×, p99 {p99:.2f}×")
    shapes = {
        "repeated offer": "Vendo citas CBP One a 150$ por persona, escribe al whatsapp +52 55 1234 5678. ",
        "plain words": "hola buenos dias como estan todos aqui en el albergue gracias por la ayuda ",
        "digits": "0123456789",
        "one long word": "a",
        "punctuation": "¿? ¡! ... ;; ",
        "mixed script": "ﷺ ﬁ ß İ ǅ 𝐀 ",
    }
    print(
        "\nLatency by length (ms, best of 7 runs: the least disturbed by load; model / baseline); "
        "linear if the time per character is flat:\n"
    )
    print("| shape | " + " | ".join(f"{n} chars" for n in LENGTHS) + " |")
    print("|---|" + "---|" * len(LENGTHS))
    for name, unit in shapes.items():
        cells = []
        for n in LENGTHS:
            text = (unit * (n // len(unit) + 1))[:n]
            m = min(_timed(partial(assess, text, "es")) for _ in range(7)) * 1000
            b = min(_timed(partial(baseline_verdict, {"text": text})) for _ in range(7)) * 1000
            cells.append(f"{m:.1f} / {b:.1f}")
        print(f"| {name} | " + " | ".join(cells) + " |")


def print_linearity() -> None:
    """Cost per character of the whole check (rules, features, both classifiers) on texts past the limit:
    flat means linear. `assess` cuts at 4,096 characters, so the parts are timed directly."""
    model, lexicon = default_model(), default_lexicon()
    unit = (
        "hola buenos dias como estan todos aqui en el albergue gracias por la ayuda, vendo citas 200 dolares "
    )
    cells = []
    for n in (1_000, 4_096, 16_000):
        text = (unit * (n // len(unit) + 1))[:n]

        def check(t: str = text) -> None:
            item = prepare_message(t, lexicon)
            model.probability(item)
            model.pattern(item)

        best = min(_timed(check) for _ in range(15))
        cells.append(f"{n:,} chars {best * 1000:.1f} ms ({best * 1e6 / n:.2f} µs/char)")
    print("\nlinearity (best of 15): " + "; ".join(cells))


def _min_pr(probs: np.ndarray, y: np.ndarray, langs: np.ndarray, t: float) -> float:
    worst = 1.0
    for lang in LANGUAGES:
        c = Counts()
        for flagged, scam in zip(probs[langs == lang] >= t, y[langs == lang], strict=True):
            c.add(bool(flagged), bool(scam))
        worst = min(worst, c.precision, c.recall)
    return worst


def cross_validation(grid: bool, errors: bool = False) -> None:
    """Out-of-fold probabilities on the training corpus; thresholds and hyper-parameters are chosen here."""
    examples = load_corpus()
    lexicon = default_lexicon()
    items = [prepare_message(e.text, lexicon) for e in examples]
    y = np.array([e.scam for e in examples])
    langs = np.array([e.lang for e in examples])
    patterns = np.array([e.pattern for e in examples])
    strata = [f"{e.lang}{e.scam}" for e in examples]
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(np.zeros(len(y)), strata))

    def oof(c: float, cue_weight: float, with_patterns: bool = False) -> tuple[np.ndarray, np.ndarray]:
        probs = np.zeros(len(y))
        guessed = np.array([""] * len(y), dtype=object)
        for train, test in folds:
            model = fit(
                [items[i] for i in train], y[train], patterns[train] if with_patterns else None, c, cue_weight
            )
            probs[test] = model.probabilities([items[i] for i in test])
            if with_patterns:
                guessed[test] = [model.pattern(items[i])[0] for i in test]
        return probs, guessed

    print(f"## Cross-validation: {len(y)} corpus lines ({int(y.sum())} scams), 5 stratified folds\n")
    if grid:
        print("| C | cue weight | ROC-AUC | best threshold | worst per-language precision or recall there |")
        print("|---|---|---|---|---|")
        for reg in (10.0, 30.0, 100.0):
            for w in (0.0, 0.5, 1.0):
                probs, _ = oof(reg, w)
                best = max(np.arange(0.2, 0.81, 0.05), key=lambda t: _min_pr(probs, y, langs, t))
                auc = roc_auc_score(y, probs)
                _row(
                    f"{reg:g}", f"{w:g}", f"{auc:.4f}", f"{best:.2f}", f"{_min_pr(probs, y, langs, best):.3f}"
                )
        print()
    probs, guessed = oof(C, CUE_WEIGHT, with_patterns=True)
    auc, brier = roc_auc_score(y, probs), brier_score_loss(y, probs)
    print(f"chosen: C={C:g}, cue weight {CUE_WEIGHT:g}; ROC-AUC {auc:.4f}, Brier {brier:.4f}")
    grid_t = np.arange(0.2, 0.81, 0.05)
    warn = max(grid_t, key=lambda t: _min_pr(probs, y, langs, t))
    fraud = next((t for t in np.arange(warn, 1.0, 0.025) if y[probs >= t].mean() >= 0.98), 0.975)
    print(
        f"thresholds from CV: warn {warn:.2f} (max of the worst per-language precision or recall), "
        f"fraud {fraud:.3f} "
        f"(precision ≥ 0.98); in use: warn {WARN_THRESHOLD}, fraud {FRAUD_THRESHOLD}\n"
    )
    rows = [
        {"text": e.text, "label": "scam" if e.scam else "legit", "lang": e.lang, "pattern": e.pattern}
        for e in examples
    ]
    verdicts = [
        "likely_fraud" if p >= FRAUD_THRESHOLD else "warning_signs" if p >= WARN_THRESHOLD else "no_signs"
        for p in probs
    ]
    print("| lang | precision [95 % CI] | recall [95 % CI] |")
    print("|---|---|---|")
    for lang, c in count(rows, verdicts).items():
        print(f"| {lang} | {_pr(c)} |")
    print(
        f"\npattern classifier (out of fold, scams only): accuracy {np.mean(guessed[y] == patterns[y]):.3f}"
    )
    print_confusion(rows, verdicts)
    if errors:
        print_cv_errors(rows, probs)


def print_cv_errors(rows: Sequence[Item], probs: np.ndarray) -> None:
    """Every out-of-fold false alarm and missed scam of the training corpus, worst first (CV only: the test
    sets are never listed while choosing)."""
    wrong = [
        (abs(p - WARN_THRESHOLD), row, p)
        for row, p in zip(rows, probs, strict=True)
        if (p >= WARN_THRESHOLD) != (row["label"] == "scam")
    ]
    print(f"\n### Cross-validation errors ({len(wrong)})\n")
    for _, row, p in sorted(wrong, key=lambda w: (w[1]["label"], w[1]["lang"], -w[0])):
        kind = "missed scam" if row["label"] == "scam" else "false alarm"
        print(f"- {kind} [{row['lang']} {row['pattern']}] p={p:.2f}: {row['text']}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cv", action="store_true", help="cross-validation on the training corpus")
    parser.add_argument("--grid", action="store_true", help="with --cv: the hyper-parameter grid (slow)")
    parser.add_argument("--misses", action="store_true", help="list every miss and false alarm")
    parser.add_argument(
        "--errors", action="store_true", help="with --cv: list every out-of-fold false alarm and missed scam"
    )
    parser.add_argument("--speed", action="store_true", help="only the speed measurements")
    parser.add_argument(
        "--fresh", type=Path, metavar="PATH", help="score only this extra unseen JSONL set (once, as is)"
    )
    args = parser.parse_args()
    if args.fresh:
        extra = load_extra(args.fresh)
        digest = hashlib.sha256(args.fresh.read_bytes()).hexdigest()
        assess("warm up", "es")
        print(f"{args.fresh}: SHA-256 {digest}")
        print_set(f"Extra set {args.fresh.name}", extra, args.misses)
        return
    if args.cv:
        cross_validation(args.grid, args.errors)
        return
    if args.speed:
        assess("warm up", "es")
        print_speed(load(FROZEN))
        print_linearity()
        return
    digest = hashlib.sha256(FROZEN.read_bytes()).hexdigest()
    if digest != FROZEN_SHA256:
        sys.exit(f"{FROZEN} changed (sha256 {digest}): the frozen test set must not be edited")
    start = time.perf_counter()
    assess("warm up", "es")
    print(f"model loaded (or trained) in {time.perf_counter() - start:.1f} s")
    frozen = load(FROZEN)
    print_set("Frozen test set", frozen, args.misses)
    if FRESH.exists():
        title = "Fresh set 4 (scored unseen once with round 6; seen since)"
        print_set(title, load(FRESH), args.misses)
    else:
        where = FRESH.relative_to(ROOT)
        print(f"\n### Fresh set\n\n{where} does not exist yet (to be written after the model is frozen).")
    print_set("Old held-out set (the lexicons were tuned on it)", load(HELDOUT), args.misses)
    print_speed(frozen)
    print_linearity()


if __name__ == "__main__":
    main()
