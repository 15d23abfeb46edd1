"""The batch interface: one JSON line per good input, one error line per bad one, exit 1 if any was bad."""

from __future__ import annotations

import io
import json
from typing import Any

from bot.scam.batch import run_scam_check


def _run(lines: list[str]) -> tuple[int, list[dict[str, Any]], list[str]]:
    out, err = io.StringIO(), io.StringIO()
    code = run_scam_check(io.StringIO("\n".join(lines) + "\n"), out, err)
    return code, [json.loads(x) for x in out.getvalue().splitlines()], err.getvalue().splitlines()


def test_good_lines_are_answered_in_order_with_the_expected_fields() -> None:
    code, rows, errors = _run(
        [
            json.dumps(
                {"text": "Vendo citas CBP One 200 USD, escribe al whatsapp", "lang": "es", "country": "MX"}
            ),
            json.dumps({"text": "yo mande m 200 dola pou randevou a"}),
            json.dumps({"text": "Where is the IOM information center?", "lang": "en"}),
        ]
    )
    assert code == 0 and errors == []
    assert [set(r) for r in rows] == [{"text", "verdict", "signals", "language"}] * 3
    assert rows[0]["verdict"] == "likely_fraud" and "payment_for_free_procedure" in rows[0]["signals"]
    assert rows[1]["language"] == "ht" and rows[1]["verdict"] != "no_signs"
    assert rows[2] == {
        "text": "Where is the IOM information center?",
        "verdict": "no_signs",
        "signals": [],
        "language": "en",
    }


def test_malformed_lines_get_one_error_each_and_the_rest_go_on() -> None:
    code, rows, errors = _run(
        [
            "not json",
            json.dumps({"text": "cita 100 dolares", "lang": "es"}),
            json.dumps(["a list"]),
            json.dumps({"txt": "no text field"}),
            "",
            json.dumps({"text": "hola", "lang": "de"}),
            json.dumps({"text": "   "}),
            json.dumps({"text": "bonjou", "lang": "ht"}),
            json.dumps({"text": "x", "country": 5}),
        ]
    )
    assert code == 1
    assert [r["text"] for r in rows] == ["cita 100 dolares", "bonjou"]
    assert len(errors) == 6
    assert [e.split(":")[0] for e in errors] == ["line 1", "line 3", "line 4", "line 6", "line 7", "line 9"]
    assert "not valid JSON" in errors[0] and "unknown lang 'de'" in errors[3]
