"""Scam check benchmark: precision and recall per language on tests/scam/heldout.jsonl, plus speed.

A scam counts as caught when the verdict is likely_fraud or warning_signs; precision is the share of
flagged messages that are scams. Run: .venv/bin/python bench/scam.py [--misses]
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import LANGUAGES  # noqa: E402
from bot.scam import assess  # noqa: E402

HELDOUT = ROOT / "tests" / "scam" / "heldout.jsonl"


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


def load(path: Path = HELDOUT) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def score(items: list[dict[str, str]], misses: list[str] | None = None) -> dict[str, Counts]:
    """Counts per language and "all" for a labelled set."""
    counts = {lang: Counts() for lang in (*LANGUAGES, "all")}
    for item in items:
        flagged = assess(item["text"], item["lang"]).verdict != "no_signs"
        scam = item["label"] == "scam"
        for key in (item["lang"], "all"):
            c = counts[key]
            if flagged and scam:
                c.tp += 1
            elif flagged:
                c.fp += 1
            elif scam:
                c.fn += 1
            else:
                c.tn += 1
        if misses is not None and flagged != scam:
            kind = "missed scam" if scam else "false alarm"
            misses.append(
                f"{kind} [{item['lang']}]: {item['text']} -> {assess(item['text'], item['lang']).signals}"
            )
    return counts


def speed(items: list[dict[str, str]], rounds: int = 20) -> tuple[float, float, float]:
    """(messages per second, p50 ms, p99 ms) of `assess` with the language given."""
    latencies: list[float] = []
    for _ in range(rounds):
        for item in items:
            start = time.perf_counter()
            assess(item["text"], item["lang"])
            latencies.append(time.perf_counter() - start)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return len(latencies) / sum(latencies), statistics.median(latencies) * 1000, p99 * 1000


def main() -> None:
    items = load()
    assess("warm up", "es")
    misses: list[str] = []
    counts = score(items, misses)
    print(f"held-out set: {HELDOUT.relative_to(ROOT)} ({len(items)} messages)\n")
    print("| language | scams | legit | precision | recall |")
    print("|---|---|---|---|---|")
    for key, c in counts.items():
        print(f"| {key} | {c.tp + c.fn} | {c.fp + c.tn} | {c.precision:.3f} | {c.recall:.3f} |")
    rate, p50, p99 = speed(items)
    print(f"\nthroughput: {rate:,.0f} messages/s; latency of assess: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    if "--misses" in sys.argv:
        print("\n" + "\n".join(misses))


if __name__ == "__main__":
    main()
