"""Reading JSON lines for batch commands: good lines go on, each bad line gets one clear error."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any


class BadLine(ValueError):
    def __init__(self, number: int, reason: str) -> None:
        super().__init__(f"line {number}: {reason}")
        self.number = number


def read_objects(lines: Iterable[str], required: tuple[str, ...]) -> Iterator[dict[str, Any] | BadLine]:
    """Each non-blank line as a dict with the required string fields, or a BadLine saying why not."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield BadLine(number, f"not valid JSON ({exc.msg})")
            continue
        if not isinstance(obj, dict):
            yield BadLine(number, "expected a JSON object")
            continue
        missing = [f for f in required if not isinstance(obj.get(f), str) or not obj[f].strip()]
        if missing:
            yield BadLine(number, f"missing or empty field(s): {', '.join(missing)}")
            continue
        yield obj
