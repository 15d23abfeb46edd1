"""The answer to a scam check, in the person's language, as plain channel-neutral text.

The wording lives in content/scam/messages.yml so C4D teams can change it; this module only assembles
it: verdict, the signs found with the person's own words quoted back, and the reminder that official
procedures are free with the offer to report or talk to someone. Channels format the plain text.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from bot import LANGUAGES
from bot.config import PROJECT_ROOT
from bot.scam.detector import Assessment

MAX_CHARS = 900


@cache
def load_messages(content_dir: Path = PROJECT_ROOT / "content") -> dict[str, Any]:
    """content/scam/messages.yml as a mapping language -> wording."""
    data = yaml.safe_load((content_dir / "scam" / "messages.yml").read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError("content/scam/messages.yml: expected one block per language")
    return data


def missing_messages(signal_ids: tuple[str, ...], messages: dict[str, Any] | None = None) -> list[str]:
    """Every 'lang: key' the wording lacks, so an edit that forgets a language is caught by tests."""
    msgs = messages if messages is not None else load_messages()
    problems: list[str] = []
    for lang in LANGUAGES:
        block = msgs.get(lang) or {}
        for key in ("found", "known_pattern", "reminder", "offer"):
            if not block.get(key):
                problems.append(f"{lang}: {key}")
        for verdict in ("likely_fraud", "warning_signs", "no_signs"):
            if not (block.get("verdict") or {}).get(verdict):
                problems.append(f"{lang}: verdict.{verdict}")
        for sid in signal_ids:
            if not (block.get("signals") or {}).get(sid):
                problems.append(f"{lang}: signals.{sid}")
    return problems


def render_assessment(assessment: Assessment, language: str | None = None) -> str:
    """Plain text of at most 900 characters: verdict, signs with quoted evidence, reminder, offer."""
    lang = language if language in LANGUAGES else assessment.language
    block = load_messages().get(lang) or load_messages()["en"]
    head = str(block["verdict"][assessment.verdict])
    tail = f"{block['reminder']}\n{block['offer']}"
    lines: list[str] = []
    budget = MAX_CHARS - len(head) - len(tail) - len(str(block["found"])) - 6
    for sid in assessment.signals:
        explanation = (block.get("signals") or {}).get(sid) or block["known_pattern"]
        quote = assessment.evidence.get(sid, "")
        line = f"- {explanation}" + (f' ("{quote}")' if quote else "")
        if len(line) + 1 > budget:
            line = f"- {explanation}"
            if len(line) + 1 > budget:
                break
        lines.append(line)
        budget -= len(line) + 1
    parts = [head]
    if lines:
        parts.append(f"{block['found']}\n" + "\n".join(lines))
    parts.append(tail)
    return "\n\n".join(parts)[:MAX_CHARS]
