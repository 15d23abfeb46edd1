"""`infobot nlu parse` and `infobot nlu eval`: batch use of the same NLU the conversations use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from bot import LANGUAGES
from bot.config import Settings
from bot.jsonlines import BadLine, read_objects
from bot.nlu.evaluation import Scores, report
from bot.nlu.session import start_nlu


async def parse_stream(settings: Settings, source: TextIO, out: TextIO, err: TextIO) -> int:
    """One JSON line out per good line in; one error line on stderr per bad line; exit 1 if any was bad."""
    nlu, server = await start_nlu(settings)
    bad = 0
    try:
        for item in read_objects(source, ("text",)):
            if isinstance(item, BadLine):
                bad += 1
                print(f"infobot nlu parse: {item}", file=err)
                continue
            result = await nlu.parse(item["text"])
            print(
                json.dumps(
                    {
                        "text": result.text,
                        "intent": result.intent,
                        "confidence": round(result.confidence, 4),
                        "language": result.language,
                        "language_confidence": result.language_confidence,
                    },
                    ensure_ascii=False,
                ),
                file=out,
                flush=True,
            )
    finally:
        await nlu.client.aclose()
        if server is not None:
            await server.stop()
    return 1 if bad else 0


def _language_problem(item: dict[str, Any]) -> str | None:
    lang = item.get("lang", "all")
    return (
        None if lang in (*LANGUAGES, "all") else f"unknown lang {lang!r}: use one of {', '.join(LANGUAGES)}"
    )


async def evaluate_file(settings: Settings, path: str, out: TextIO, err: TextIO) -> int:
    file = Path(path)
    if not file.is_file():
        print(f"infobot nlu eval: error: no such file: {path}", file=err)
        return 2
    nlu, server = await start_nlu(settings)
    by_language: dict[str, Scores] = {}
    language_hits: dict[str, list[int]] = {}
    bad = 0
    try:
        with file.open(encoding="utf-8") as lines:
            for item in read_objects(lines, ("text", "intent")):
                problem = item if isinstance(item, BadLine) else _language_problem(item)
                if problem is not None or isinstance(item, BadLine):
                    bad += 1
                    print(f"infobot nlu eval: {problem}", file=err)
                    continue
                result = await nlu.parse(item["text"])
                lang = item.get("lang", "all")
                by_language.setdefault(lang, Scores()).add(item["intent"], result.intent)
                hits = language_hits.setdefault(lang, [0, 0])
                hits[0] += result.language == lang
                hits[1] += 1
    finally:
        await nlu.client.aclose()
        if server is not None:
            await server.stop()
    print(report(by_language), file=out)
    print("\nlanguage identification accuracy", file=out)
    for lang, (hit, total) in sorted(language_hits.items()):
        if lang != "all":
            print(f"  {lang}: {hit / total:.3f} ({hit}/{total})", file=out)
    return 1 if bad else 0
