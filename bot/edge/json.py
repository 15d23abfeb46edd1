"""JSON from the internet, parsed with limits: nesting depth, number size, and valid strings.

Python's `json` accepts what hurts later: `[` nested thousands deep (RecursionError), a 5,000-digit
integer (ValueError past int's digit limit, or seconds of work below it), NaN and Infinity, and string
escapes of lone UTF-16 surrogates (`"\\ud800"`) that no UTF-8 encoder, hash or database accepts.
`parse_json` turns each of these into one `InvalidJson` with a message a client can act on.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Literal

from bot.vocab.text import clean_text

MAX_DEPTH = 32
"""Deeper than any webhook payload we accept (a Telegram update is about 5 levels deep)."""
MAX_NUMBER_CHARS = 30
"""Longer than any id or amount a provider sends (Telegram ids have at most 20 digits)."""

Strings = Literal["reject", "clean"]
_INVALID = re.compile("[\x00\ud800-\udfff]")


class InvalidJson(ValueError):
    """The body is not JSON within our limits; the message says which limit."""


def _integer(raw: str) -> int:
    if len(raw) > MAX_NUMBER_CHARS:
        raise InvalidJson(f"a number has more than {MAX_NUMBER_CHARS} characters")
    return int(raw)


def _real(raw: str) -> float:
    if len(raw) > MAX_NUMBER_CHARS:
        raise InvalidJson(f"a number has more than {MAX_NUMBER_CHARS} characters")
    value = float(raw)
    if not math.isfinite(value):
        raise InvalidJson(f"the number {raw} is out of range")
    return value


def _constant(name: str) -> float:
    raise InvalidJson(f"{name} is not a JSON number")


def parse_json(raw: bytes, strings: Strings = "reject", max_depth: int = MAX_DEPTH) -> Any:
    """The parsed body. With `strings="reject"` a string holding a lone surrogate or NUL is an error;
    with `strings="clean"` such characters (and other control characters but tab and newline) are
    removed from every key and string value instead."""
    try:
        value = json.loads(raw, parse_int=_integer, parse_float=_real, parse_constant=_constant)
    except InvalidJson:
        raise
    except RecursionError as exc:
        raise InvalidJson(f"the body is nested more than {max_depth} levels deep") from exc
    except UnicodeDecodeError as exc:
        raise InvalidJson(
            f"the body is not valid JSON: undecodable text ({exc.reason} at byte {exc.start})"
        ) from exc
    except ValueError as exc:  # json.JSONDecodeError and int's own limits
        raise InvalidJson(f"the body is not valid JSON: {exc}") from exc
    return _checked(value, strings, max_depth)


def _checked(value: Any, strings: Strings, max_depth: int) -> Any:
    """Depth and strings checked without recursion (the depth is what is being checked)."""
    root: list[Any] = [value]
    stack: list[tuple[Any, Any, int]] = [(root, 0, 0)]
    while stack:
        parent, key, depth = stack.pop()
        item = parent[key]
        if isinstance(item, str):
            parent[key] = _string(item, strings)
        elif isinstance(item, (list, dict)):
            if depth >= max_depth:
                raise InvalidJson(f"the body is nested more than {max_depth} levels deep")
            if isinstance(item, dict):
                item = parent[key] = {_string(k, strings): v for k, v in item.items()}
            stack.extend((item, k, depth + 1) for k in (item if isinstance(item, dict) else range(len(item))))
    return root[0]


def _string(text: str, strings: Strings) -> str:
    if strings == "clean":
        return clean_text(text)
    if _INVALID.search(text):
        raise InvalidJson("a string holds NUL or a lone UTF-16 surrogate (such as \\ud800)")
    return text
