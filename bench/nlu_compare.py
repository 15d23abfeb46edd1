"""Compares NLU pipelines on the held-out set, through the bot, with real Rasa. Reproduces bench/nlu.md:

    .venv/bin/python bench/nlu_compare.py                    # DIET (default), linear, round 2, chosen
    .venv/bin/python bench/nlu_compare.py --only chosen      # one pipeline
    .venv/bin/python bench/nlu_compare.py --diet-epochs 100  # DIET with Rasa's full default epochs

For each pipeline: `rasa train nlu` into a temporary folder (wall time), `rasa run --enable-api` on a free
port (RSS of the server process tree once the held-out set has been parsed), every held-out line through
`NluService.parse` (the bot's client + language identification), then latency: p50/p99 of
`NluService.parse` and of a bare `POST /model/parse`, interleaved in the same run, and their ratio.
The fallback curve re-applies FallbackClassifier thresholds (ambiguity 0.1) to the model's own ranking.
Held-out lines are scored only; thresholds and options were chosen by cross-validation (bench/nlu_cv.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import LANGUAGES  # noqa: E402
from bot.nlu.client import NluService, RasaClient  # noqa: E402
from bot.nlu.evaluation import Scores  # noqa: E402
from bot.nlu.language import language_identifier  # noqa: E402
from bot.nlu.server import RasaServer  # noqa: E402
from bot.nlu.training import rasa_env, rasa_executable  # noqa: E402
from bot.nlu.types import FALLBACK_INTENT  # noqa: E402
from bot.vocab.topics import TOPIC_INTENTS  # noqa: E402

INTENTS = ROOT / "intents"
HELDOUT = ROOT / "tests" / "nlu" / "heldout.jsonl"
CURVE = (0.0, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8)
GUARDED = frozenset(TOPIC_INTENTS) | {"ask_human"}
"""Intents the chosen fallback holds to its answer threshold (intents/config.yml)."""
AMBIGUITY = 0.1
LATENCY_ROUNDS = 400

DIET_DEFAULT = """\
# Rasa 3.6's default NLU pipeline (the one Rasa uses when `pipeline:` is empty), language-agnostic.
recipe: default.v1
assistant_id: infobot
language: xx
pipeline:
  - name: WhitespaceTokenizer
  - name: RegexFeaturizer
  - name: LexicalSyntacticFeaturizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 4
  - name: DIETClassifier
    epochs: {epochs}
    constrain_similarities: true
  - name: EntitySynonymMapper
  - name: ResponseSelector
    epochs: {epochs}
    constrain_similarities: true
  - name: FallbackClassifier
    threshold: 0.3
    ambiguity_threshold: 0.1
policies: []
"""

LINEAR = """\
# Rasa's linear pipeline: word + char_wb 2-5 counts, LogisticRegressionClassifier (C=1 on raw counts).
recipe: default.v1
assistant_id: infobot
language: xx
pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
    lowercase: true
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 2
    max_ngram: 5
    lowercase: true
  - name: LogisticRegressionClassifier
    max_iter: 300
    solver: lbfgs
    tol: 0.0001
    random_state: 42
  - name: FallbackClassifier
    threshold: 0.3
policies: []
"""


PREVIOUS = """\
# Round 2's choice: phone-typing normaliser + Rasa's linear pipeline, one fallback threshold of 0.4.
recipe: default.v1
assistant_id: infobot
language: xx
pipeline:
  - name: components.phone_text.PhoneTextNormaliser
""" + LINEAR.split("pipeline:\n", 1)[1].replace(
    "threshold: 0.3", "threshold: 0.4\n    ambiguity_threshold: 0.1"
)


def heldout() -> list[dict[str, str]]:
    return [json.loads(line) for line in HELDOUT.read_text(encoding="utf-8").splitlines() if line.strip()]


def train(config: Path, out: Path, name: str) -> tuple[Path, float]:
    command = [str(rasa_executable(ROOT)), "train", "nlu", "--config", str(config), "--nlu", "data/nlu",
               "--out", str(out), "--fixed-model-name", name]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=INTENTS, env=rasa_env(), capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    model = out / f"{name}.tar.gz"
    if proc.returncode != 0 or not model.exists():
        raise SystemExit(f"training {name} failed:\n{(proc.stdout + proc.stderr)[-3000:]}")
    return model, elapsed


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants, in MB."""
    children: dict[int, list[int]] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        children.setdefault(int(fields["PPid"]), []).append(int(fields["Pid"]))
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        stack += children.get(current, [])
        try:
            match = re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{current}/status").read_text())
        except OSError:
            continue
        total += int(match.group(1)) if match else 0
    return total / 1024


def best_non_fallback(ranking: tuple[tuple[str, float], ...]) -> tuple[str, float, float]:
    ranked = sorted((r for r in ranking if r[0] != FALLBACK_INTENT), key=lambda r: -r[1])
    if not ranked:
        return FALLBACK_INTENT, 0.0, 0.0
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    return ranked[0][0], ranked[0][1], ranked[0][1] - second


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def measure(name: str, model: Path, items: list[dict[str, str]]) -> dict[str, object]:
    server = RasaServer(ROOT, model)
    await server.start()
    nlu = NluService(
        RasaClient(server.url, timeout=30.0, token=server.token),
        language_identifier(INTENTS / "data" / "nlu"),
    )
    try:
        by_lang: dict[str, Scores] = {lang: Scores() for lang in LANGUAGES}
        raw: list[tuple[str, str, str, float, float]] = []
        for item in items:
            result = await nlu.parse(item["text"])
            by_lang[item["lang"]].add(item["intent"], result.intent)
            top, confidence, margin = best_non_fallback(result.ranking)
            raw.append((item["lang"], item["intent"], top, confidence, margin))
        assert server.process is not None
        rss = tree_rss_mb(server.process.pid)
        bot_ms: list[float] = []
        bare_ms: list[float] = []
        async with httpx.AsyncClient(
            base_url=server.url, params={"token": server.token}, timeout=30.0
        ) as http:
            texts = [item["text"] for item in items]
            for i in range(LATENCY_ROUNDS):
                text = texts[(i * 7) % len(texts)]
                start = time.perf_counter()
                response = await http.post("/model/parse", json={"text": text})
                response.raise_for_status()
                bare_ms.append((time.perf_counter() - start) * 1000)
                start = time.perf_counter()
                await nlu.parse(text)
                bot_ms.append((time.perf_counter() - start) * 1000)
    finally:
        await nlu.client.aclose()
        await server.stop()
    return {"name": name, "scores": by_lang, "raw": raw, "rss_mb": rss, "bot_ms": bot_ms, "bare_ms": bare_ms}


def curve(raw: list[tuple[str, str, str, float, float]], small_talk: float | None = None) -> list[str]:
    """Rows per threshold; with `small_talk`, the threshold applies to guarded (answering) intents only and
    every other intent needs `small_talk` (the chosen AnswerAwareFallbackClassifier)."""
    lines = [
        "| threshold | accuracy | macro-F1 | wrong-answer | wrong-answer (worst language) | fallback rate |",
        "|---|---|---|---|---|---|",
    ]
    for threshold in CURVE:
        overall = Scores()
        per_lang: dict[str, Scores] = {lang: Scores() for lang in LANGUAGES}
        for lang, expected, top, confidence, margin in raw:
            needed = threshold if small_talk is None or top in GUARDED else small_talk
            predicted = FALLBACK_INTENT if confidence < needed or margin < AMBIGUITY else top
            overall.add(expected, predicted)
            per_lang[lang].add(expected, predicted)
        worst = max(s.wrong_answer_rate for s in per_lang.values())
        lines.append(
            f"| {threshold:.2f} | {overall.accuracy:.3f} | {overall.macro_f1:.3f} | "
            f"{overall.wrong_answer_rate:.3f} | {worst:.3f} | {overall.fallback_rate:.3f} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("diet", "linear", "previous", "chosen"), action="append")
    parser.add_argument("--diet-epochs", type=int, default=40)
    args = parser.parse_args()
    items = heldout()
    work = Path(tempfile.mkdtemp(prefix="nlu-bench-"))
    configs = {
        "diet": (
            f"DIET, Rasa default pipeline ({args.diet_epochs} epochs)",
            DIET_DEFAULT.format(epochs=args.diet_epochs),
        ),
        "linear": ("linear (Rasa LogisticRegressionClassifier)", LINEAR),
        "previous": ("round 2: normaliser + linear, fallback 0.4", PREVIOUS),
        "chosen": ("chosen: intents/config.yml", (INTENTS / "config.yml").read_text(encoding="utf-8")),
    }  # fmt: skip
    results = []
    for key in args.only or list(configs):
        label, text = configs[key]
        config = work / f"{key}.yml"
        config.write_text(text, encoding="utf-8")
        print(f"training {label} ...", file=sys.stderr, flush=True)
        model, seconds = train(config, work, key)
        print(f"  {seconds:.0f} s; measuring ...", file=sys.stderr, flush=True)
        result = asyncio.run(measure(label, model, items))
        result["train_s"] = seconds
        results.append(result)

    print("| pipeline | lang | accuracy | macro-F1 | wrong-answer | fallback |")
    print("|---|---|---|---|---|---|")
    for result in results:
        scores: dict[str, Scores] = result["scores"]  # type: ignore[assignment]
        overall = Scores()
        for lang in LANGUAGES:
            s = scores[lang]
            for expected, predicted in s.pairs:
                overall.add(expected, predicted)
        for lang, s in [*scores.items(), ("all", overall)]:
            print(f"| {result['name']} | {lang} | {s.accuracy:.3f} | {s.macro_f1:.3f} | "
                  f"{s.wrong_answer_rate:.3f} | {s.fallback_rate:.3f} |")  # fmt: skip
    print()
    print("| pipeline | training (s) | parse via bot p50 / p99 (ms) | bare /model/parse p50 / p99 (ms) "
          "| ratio bot/bare (p50) | Rasa RSS (MB) |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for result in results:
        bot_ms: list[float] = result["bot_ms"]  # type: ignore[assignment]
        bare_ms: list[float] = result["bare_ms"]  # type: ignore[assignment]
        bot_p50, bare_p50 = statistics.median(bot_ms), statistics.median(bare_ms)
        print(
            f"| {result['name']} | {result['train_s']:.0f} | {bot_p50:.1f} / {percentile(bot_ms, 0.99):.1f} "
            f"| {bare_p50:.1f} / {percentile(bare_ms, 0.99):.1f} | {bot_p50 / bare_p50:.2f} "
            f"| {result['rss_mb']:.0f} |"
        )
    for result in results:
        print(f"\nFallback curve on held-out, {result['name']} (ambiguity threshold {AMBIGUITY}):\n")
        print("\n".join(curve(result["raw"])))  # type: ignore[arg-type]
        print(f"\nSame, threshold on answering intents only, small talk at 0.3, {result['name']}:\n")
        print("\n".join(curve(result["raw"], small_talk=0.3)))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
