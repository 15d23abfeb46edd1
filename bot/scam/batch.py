"""The batch scam check: JSON lines in, one assessment per good line out (for `infobot scam check`).

C4D teams and the benchmark check lists of messages with the very same assessment the conversation uses.
Like every batch command, a bad line gets one clear error and the good lines are still answered.
"""

from __future__ import annotations

import json
from typing import TextIO

from bot import LANGUAGES
from bot.config import PROJECT_ROOT
from bot.jsonlines import BadLine, read_objects
from bot.scam.detector import assess


def _problem(item: dict[str, object]) -> str | None:
    lang = item.get("lang")
    if lang is not None and lang not in LANGUAGES:
        return f"unknown lang {lang!r}: use one of {', '.join(LANGUAGES)}"
    country = item.get("country")
    if country is not None and not isinstance(country, str):
        return 'country must be a string such as "MX"'
    return None


def run_scam_check(source: TextIO, out: TextIO, err: TextIO) -> int:
    """Read `{"text", "lang"?, "country"?}` lines; write `{"text", "verdict", "signals", "language"}` lines.

    A malformed line gives one "line N: reason" on `err` and the rest go on; returns 1 if any line was bad.
    """
    bad = 0
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        parsed = next(iter(read_objects([line], ("text",))))
        reason = str(parsed).split(": ", 1)[1] if isinstance(parsed, BadLine) else _problem(parsed)
        if reason is not None or isinstance(parsed, BadLine):
            bad += 1
            print(f"line {number}: {reason}", file=err)
            continue
        item = parsed
        lang = item.get("lang")
        if lang is None:
            from bot.nlu.language import language_identifier

            lang = language_identifier(PROJECT_ROOT / "intents" / "data" / "nlu").identify(item["text"])[0]
        result = assess(item["text"], lang, item.get("country"))
        print(
            json.dumps(
                {
                    "text": item["text"],
                    "verdict": result.verdict,
                    "signals": result.signals,
                    "language": result.language,
                },
                ensure_ascii=False,
            ),
            file=out,
            flush=True,
        )
    return 1 if bad else 0
