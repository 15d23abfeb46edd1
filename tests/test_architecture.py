"""The layers hold: no import cycles between the bot's packages, and the shared vocabulary at the bottom.

Read from the code's own imports (ast), so a new cycle fails here before it makes the next change harder.
"""

from __future__ import annotations

import ast
import importlib.util
import json
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from bot.vocab.text import normalise

BOT = Path(__file__).resolve().parent.parent / "bot"
BOTTOM = {"bot", "bot.vocab", "bot.privacy", "bot.i18n", "bot.metrics", "bot.jsonlines", "bot.config"}
"""Modules every layer may import; they import nothing above them."""


def _unit(module: str) -> str:
    """A package (bot.channels) or a top-level module (bot.service): the unit of layering."""
    return ".".join(module.split(".")[:2])


def _module_name(path: Path) -> str:
    parts = path.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for path in BOT.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        source = _unit(_module_name(path))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [node.module]
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            for name in names:
                if name == "bot" or name.startswith("bot."):
                    target = _unit(name)
                    if target != source:
                        graph[source].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one unit (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(set(graph) | {t for ts in graph.values() for t in ts}):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_between_packages() -> None:
    assert cycles(import_graph()) == []


def test_the_bottom_floor_imports_nothing_above_it() -> None:
    graph = import_graph()
    upward = {unit: sorted(graph[unit] - BOTTOM) for unit in BOTTOM if graph.get(unit, set()) - BOTTOM}
    assert upward == {}


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _rasa_normaliser() -> Callable[[str], str]:
    """The copy Rasa's environment runs (intents/components/normalise.py is plain Python)."""
    path = BOT.parent / "intents" / "components" / "normalise.py"
    spec = importlib.util.spec_from_file_location("rasa_normalise_copy", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    function: Callable[[str], str] = module.normalise_text
    return function


def test_rasa_keeps_an_identical_copy_of_the_normaliser() -> None:
    heldout = BOT.parent / "tests" / "nlu" / "heldout.jsonl"
    texts = [json.loads(line)["text"] for line in heldout.read_text(encoding="utf-8").splitlines() if line]
    texts += ["Holaaaa!!! PÈDI 👍🏾👍🏾 www.x.org", "\ufdfa" * 3, "ça???", "1000 dólares", "m  an   danje\n"]
    rasa = _rasa_normaliser()
    assert [t for t in texts if rasa(t) != normalise(t)] == []
