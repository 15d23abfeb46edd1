"""Reads the Rasa training examples (intents/data/nlu/<lang>.yml) for tools that need them outside Rasa."""

from __future__ import annotations

from pathlib import Path

import yaml


def read_examples(path: Path) -> list[tuple[str, str]]:
    """(intent, text) pairs of one Rasa NLU file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    pairs: list[tuple[str, str]] = []
    for block in data.get("nlu", []) or []:
        intent = block.get("intent")
        if not intent:
            continue
        for line in str(block.get("examples", "")).splitlines():
            text = line.strip()
            if text.startswith("- "):
                pairs.append((intent, text[2:].strip()))
    return pairs


def examples_by_language(nlu_dir: Path) -> dict[str, list[tuple[str, str]]]:
    return {path.stem: read_examples(path) for path in sorted(nlu_dir.glob("*.yml"))}
