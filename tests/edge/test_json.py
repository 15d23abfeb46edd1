"""Bounded JSON parsing (bot/edge/json.py): every hostile body is one InvalidJson, never another error."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.edge.json import MAX_DEPTH, MAX_NUMBER_CHARS, InvalidJson, parse_json


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"[" * 5000, "nested more than"),
        (b"[" * 5000 + b"]" * 5000, "nested more than"),
        (b'{"a":' * 5000 + b"1" + b"}" * 5000, "nested more than"),
        (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), "nested more than"),
        (b"9" * 5000, "more than 30 characters"),
        (b'{"sender": "a", "message": ' + b"1" * 5000 + b"}", "more than 30 characters"),
        (b"-" + b"1" * 31, "more than 30 characters"),
        (b"1." + b"5" * 40, "more than 30 characters"),
        (b"1e999", "out of range"),
        (b"[NaN]", "NaN is not a JSON number"),
        (b"-Infinity", "-Infinity is not a JSON number"),
        (b'"hola \\ud800"', "lone UTF-16 surrogate"),
        (b'{"\\udc00": 1}', "lone UTF-16 surrogate"),
        (b'"\xed\xa0\x80"', "lone UTF-16 surrogate"),  # a surrogate encoded in UTF-8
        (b'"a\\u0000b"', "NUL"),
        (b"\xff\xfe\xfd", "not valid"),
        (b"", "not valid JSON"),
        (b"{'single': 'quotes'}", "not valid JSON"),
    ],
)
def test_hostile_bodies_are_refused_with_the_reason(body: bytes, why: str) -> None:
    with pytest.raises(InvalidJson, match=why):
        parse_json(body)


def test_limits_leave_real_payloads_alone() -> None:
    update = {
        "update_id": 900000001,
        "message": {
            "message_id": 11,
            "chat": {"id": -1001234567890123, "type": "private"},
            "entities": [{"offset": 0, "length": 5, "type": "bold"}],
            "text": "bonjou 👍🏾 \u00e9\t\nfin",
            "amount": 1234.5,
        },
    }
    assert parse_json(json.dumps(update).encode()) == update
    assert parse_json(json.dumps(update, ensure_ascii=False).encode("utf-16")) == update
    nested: list[object] = []
    for _ in range(MAX_DEPTH - 1):
        nested = [nested]
    assert parse_json(json.dumps(nested).encode()) == nested
    assert parse_json(("1" * MAX_NUMBER_CHARS).encode()) == int("1" * MAX_NUMBER_CHARS)


def test_clean_mode_strips_invalid_characters_from_keys_and_values() -> None:
    body = b'{"sender": "web\\u0000-1\\ud800", "message": "hola \\ud800\\u0007!", "x\\udc00": ["\\ud83d"]}'
    assert parse_json(body, strings="clean") == {"sender": "web-1", "message": "hola !", "x": [""]}


@given(st.binary(max_size=300))
def test_any_bytes_parse_or_give_invalid_json(body: bytes) -> None:
    with contextlib.suppress(InvalidJson):
        parse_json(body)


texts = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=30,
)


@given(json_values)
def test_valid_json_within_limits_round_trips(value: object) -> None:
    body = json.dumps(value).encode()
    try:
        assert parse_json(body) == value
    except InvalidJson as exc:  # only a limit may refuse it: a long number (17 digits and an exponent)
        assert "characters" in str(exc) or "out of range" in str(exc)
