"""The `infobot` command: batch NLU over real Rasa, and one-line errors for bad input."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from bot.config import PROJECT_ROOT

INFOBOT = str(PROJECT_ROOT / ".venv" / "bin" / "infobot")


def run(args: list[str], stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "INFOBOT_SECRET_KEY": "test-secret-key-0123456789abcdefghij", **env}
    return subprocess.run(
        [INFOBOT, *args], input=stdin, capture_output=True, text=True, env=full_env, timeout=300
    )


def test_nlu_parse_writes_one_line_per_good_input_and_one_error_per_bad_line(rasa_url: str) -> None:
    lines = [
        '{"text": "m pèdi paspò m"}',
        "not json",
        '{"txt": "x"}',
        '{"text": "quiero pedir refugio en mexico"}',
        "[1]",
        '{"text": "hello"}',
    ]
    result = run(["nlu", "parse"], "\n".join(lines) + "\n", RASA_URL=rasa_url)
    assert result.returncode == 1
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["text"] for o in out] == ["m pèdi paspò m", "quiero pedir refugio en mexico", "hello"]
    assert set(out[0]) == {"text", "intent", "confidence", "language", "language_confidence"}
    assert (out[0]["intent"], out[0]["language"]) == ("ask_documents", "ht")
    assert (out[1]["intent"], out[1]["language"]) == ("ask_asylum", "es")
    errors = result.stderr.strip().splitlines()
    assert [e.split(":")[1].strip() for e in errors] == ["line 2", "line 3", "line 5"]
    assert "Traceback" not in result.stderr


def test_nlu_eval_prints_scores_per_language(rasa_url: str, tmp_path: Path) -> None:
    data = tmp_path / "eval.jsonl"
    data.write_text(
        "\n".join(
            json.dumps(x, ensure_ascii=False)
            for x in [
                {"text": "hola buenas", "intent": "greet", "lang": "es"},
                {"text": "mèsi anpil", "intent": "thanks", "lang": "ht"},
                {"text": "bad", "intent": "greet", "lang": "xx"},
            ]
        )
    )
    result = run(["nlu", "eval", str(data)], RASA_URL=rasa_url)
    assert result.returncode == 1  # the line with an unknown language
    assert "unknown lang 'xx'" in result.stderr
    assert "overall" in result.stdout and "macro-F1" in result.stdout
    rows = {
        line.split()[0]: line.split() for line in result.stdout.splitlines() if line[:2] in ("es", "ht", "ov")
    }
    assert rows["es"][1] == "1" and rows["ht"][1] == "1"


def test_nlu_eval_with_a_missing_file_is_one_line() -> None:
    result = run(["nlu", "eval", "/nonexistent.jsonl"])
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "no such file" in result.stderr


def test_chat_refuses_an_unknown_language_in_one_line() -> None:
    result = run(["chat", "--lang", "de"])
    assert result.returncode == 2
    assert result.stderr == "infobot: error: unknown language 'de': use one of es, en, fr, ht\n"


def test_chat_refuses_a_malformed_country_code() -> None:
    result = run(["chat", "--country", "costa"])
    assert result.returncode == 2 and "not a country code" in result.stderr


def test_chat_talks_through_the_same_dialogue(rasa_url: str) -> None:
    result = run(["chat", "--lang", "ht", "--country", "DO"], "bonjou\n3\n", RASA_URL=rasa_url)
    assert result.returncode == 0, result.stderr
    assert "Bonjou! Mwen se infobot" in result.stdout
    assert "\n0. Pale ak yon moun" in result.stdout
    assert "Sous:" in result.stdout  # the documents answer for the Dominican Republic, with its source
