"""Reads content/<lang>/<intent>.yml into entries, keeping the file and line of each for error messages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot import LANGUAGES
from bot.content.model import ContentEntry

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when present: the same YAML, parsed many times faster (each version is checked)."""
GENERAL_KEY = "general"
REQUIRED_FIELDS = ("text", "sms", "source", "reviewed", "reviewed_by", "review_by")


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the content, named by file and line."""

    file: str
    line: int
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.severity}: {self.message}"


@dataclass
class LoadResult:
    entries: list[ContentEntry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    keys_by_file: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    """(lang, intent) -> the top-level keys present, for cross-language checks."""
    unreadable: set[tuple[str, str]] = field(default_factory=set)
    """Files that exist but could not be parsed (already reported)."""


def _line_map(node: yaml.Node) -> dict[str, tuple[int, dict[str, int]]]:
    """Top-level key -> (line, {field: line}) from the YAML node tree (1-based lines)."""
    lines: dict[str, tuple[int, dict[str, int]]] = {}
    if not isinstance(node, yaml.MappingNode):
        return lines
    for key_node, value_node in node.value:
        inner: dict[str, int] = {}
        if isinstance(value_node, yaml.MappingNode):
            inner = {str(k.value): k.start_mark.line + 1 for k, _ in value_node.value}
        lines[str(key_node.value)] = (key_node.start_mark.line + 1, inner)
    return lines


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _entry(
    lang: str,
    intent: str,
    key: str,
    raw: Any,
    where: str,
    lines: dict[str, int],
    key_line: int,
    problems: list[Problem],
) -> ContentEntry | None:
    if not isinstance(raw, dict):
        problems.append(
            Problem(where, key_line, f"'{key}' must be a block of fields (text, sms, source, ...)")
        )
        return None
    missing = [f for f in REQUIRED_FIELDS if raw.get(f) in (None, "")]
    for name in missing:
        problems.append(Problem(where, key_line, f"'{key}' has no '{name}'"))
    reviewed, review_by = _as_date(raw.get("reviewed")), _as_date(raw.get("review_by"))
    for name, value in (("reviewed", reviewed), ("review_by", review_by)):
        if value is None and name not in missing:
            problems.append(Problem(where, lines.get(name, key_line), f"'{name}' is not a date (YYYY-MM-DD)"))
    buttons = raw.get("buttons") or []
    if not isinstance(buttons, list):
        problems.append(Problem(where, lines.get("buttons", key_line), "'buttons' must be a list of topics"))
        buttons = []
    exceptions = raw.get("parity_exceptions") or {}
    if not isinstance(exceptions, dict) or not all(
        isinstance(reason, str) and reason.strip() for reason in exceptions.values()
    ):
        problems.append(
            Problem(
                where,
                lines.get("parity_exceptions", key_line),
                '\'parity_exceptions\' must map each fact to the reason it differs, e.g. "8840": "why"',
            )
        )
        exceptions = {}
    if missing or reviewed is None or review_by is None:
        return None
    return ContentEntry(
        intent=intent,
        lang=lang,
        country=None if key == GENERAL_KEY else key,
        text=str(raw["text"]).strip(),
        sms=str(raw["sms"]).strip(),
        source=str(raw["source"]).strip(),
        reviewed=reviewed,
        review_by=review_by,
        verify=bool(raw.get("verify", False)),
        buttons=tuple(str(b) for b in buttons),
        reviewed_by=str(raw["reviewed_by"]).strip(),
        parity_exceptions=tuple((str(fact), str(reason).strip()) for fact, reason in exceptions.items()),
        file=where,
        line=key_line,
    )


def load_file(path: Path, lang: str, root: Path, result: LoadResult) -> None:
    """Parse one topic file; every problem is recorded, never raised."""
    where = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    intent = path.stem
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader (libyaml's when installed)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        result.problems.append(Problem(where, line, f"cannot read this YAML: {getattr(exc, 'problem', exc)}"))
        result.unreadable.add((lang, intent))
        return
    if not isinstance(data, dict) or node is None:
        result.problems.append(Problem(where, 1, "the file must map 'general' and country codes to entries"))
        result.unreadable.add((lang, intent))
        return
    lines = _line_map(node)
    result.keys_by_file[(lang, intent)] = [str(k) for k in data]
    for key, raw in data.items():
        key_line, field_lines = lines.get(str(key), (1, {}))
        entry = _entry(lang, intent, str(key), raw, where, field_lines, key_line, result.problems)
        if entry is not None:
            result.entries.append(entry)


def load_content(content_dir: Path) -> LoadResult:
    """Every language folder's topic files; problems collected for `infobot content check`."""
    result = LoadResult()
    root = content_dir.parent
    for lang in LANGUAGES:
        lang_dir = content_dir / lang
        if not lang_dir.is_dir():
            result.problems.append(Problem(str(lang_dir.relative_to(root)), 0, "language folder is missing"))
            continue
        for path in sorted(lang_dir.glob("*.y*ml")):
            load_file(path, lang, root, result)
    return result
