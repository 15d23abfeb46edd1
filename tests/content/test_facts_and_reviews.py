"""`infobot content check`: the four languages give the same links and numbers, and review records mean
something (who checked, when, on which page). Broken edits are made in a temporary copy of content/."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from bot.content.check import check_content
from bot.content.facts import facts, normalize_fact

TODAY = dt.date.today()
INFOBOT = str(PROJECT_ROOT / ".venv" / "bin" / "infobot")
LANGS = ("es", "en", "fr", "ht")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A copy of the project's content/ (and what `content check` reads beside it) to break."""
    shutil.copytree(PROJECT_ROOT / "content", tmp_path / "content")
    shutil.copytree(PROJECT_ROOT / "referrals", tmp_path / "referrals")
    return tmp_path


def problems(content: Path, severity: str = "error") -> list[str]:
    return [str(p) for p in check_content(content, TODAY) if p.severity == severity]


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= count, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def test_facts_are_links_and_digits_not_list_numbers() -> None:
    text = "1. Call 800 5533 000 now.\n2. See https://www.gob.mx/comar/.\nIn 30 days."
    assert facts(text) == {"8005533000", "gob.mx/comar", "30"}
    assert normalize_fact("800-5533-000") == normalize_fact("800 5533 000") == "8005533000"
    assert normalize_fact("http://www.gob.mx/comar") == "gob.mx/comar"


@pytest.mark.parametrize("lang", LANGS)
def test_removing_a_link_from_one_languages_answer_fails_the_check(root: Path, lang: str) -> None:
    content = root / "content"
    assert problems(content) == []
    path = content / lang / "ask_return.yml"
    edit(path, "https://help.unhcr.org", "(link removed)")
    found = problems(content)
    assert found, "a missing link must be an error"
    assert all(p.startswith(f"content/{lang}/ask_return.yml:") for p in found)
    assert "lacks https://help.unhcr.org" in found[0]


@pytest.mark.parametrize("lang", LANGS)
def test_changing_one_emergency_number_in_one_language_fails_the_check(root: Path, lang: str) -> None:
    content = root / "content"
    edit(content / lang / "emergency.yml", "125.\n", "126.\n")  # Guatemala's Red Cross, one language only
    found = problems(content)
    assert any(f"content/{lang}/emergency.yml" in p and "'emergency.GT' lacks 125" in p for p in found)
    assert any("'emergency.GT' lacks 126" in p for p in found)  # and the others lack the new one


def test_a_declared_difference_is_allowed(root: Path) -> None:
    content = root / "content"
    edit(content / "ht" / "ask_return.yml", "https://help.unhcr.org", "HCR")
    assert problems(content)
    edit(
        content / "ht" / "ask_return.yml",
        "  buttons:",
        '  parity_exceptions: {"https://help.unhcr.org": "test: the Kreyòl line names HCR only"}\n  buttons:',
    )
    assert problems(content) == []


def test_the_cli_fails_on_a_missing_link_in_a_copy_of_the_content(root: Path) -> None:
    edit(root / "content" / "fr" / "ask_asylum.yml", "https://www.gob.mx/comar", "la COMAR", 1)
    env = {**os.environ, "INFOBOT_ROOT": str(root), "INFOBOT_SECRET_KEY": "k" * 40}
    result = subprocess.run(
        [INFOBOT, "content", "check", "--quiet"], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 1
    assert "content/fr/ask_asylum.yml" in result.stdout and "lacks https://gob.mx/comar" in result.stdout


def test_reviewed_after_review_by_or_in_the_future_is_an_error(root: Path) -> None:
    content = root / "content"
    path = content / "en" / "ask_health.yml"
    text = path.read_text(encoding="utf-8")
    future = TODAY + dt.timedelta(days=3)
    text = re.sub(r"reviewed: \S+", f"reviewed: {future}", text, count=1)
    path.write_text(re.sub(r"review_by: \S+", f"review_by: {future - dt.timedelta(days=1)}", text, count=1))
    found = problems(content)
    assert any("content/en/ask_health.yml" in p and "is in the future" in p for p in found)
    assert any("content/en/ask_health.yml" in p and "is after review_by" in p for p in found)


def test_reviewed_by_must_be_a_listed_office_not_a_person(root: Path) -> None:
    content = root / "content"
    edit(
        content / "fr" / "ask_health.yml",
        'reviewed_by: "infobot content team"',
        'reviewed_by: "Marie Dupont"',
    )
    [found] = problems(content)
    assert (
        found.startswith("content/fr/ask_health.yml:") and "'Marie Dupont' is not an office or team" in found
    )
    edit(content / "fr" / "ask_health.yml", 'reviewed_by: "Marie Dupont"', "reviewed_by: ")
    assert any("has no 'reviewed_by'" in p for p in problems(content))


def test_one_review_day_for_a_whole_language_is_a_warning_and_real_dates_are_not(root: Path) -> None:
    content = root / "content"
    stamped = [p for p in problems(content, "warning") if "write the day each entry was really checked" in p]
    assert {p.split("/")[1] for p in stamped} == set(LANGS)  # the shipped content: written in one day
    days = (dt.date(2026, 6, 1) + dt.timedelta(days=n) for n in range(10_000))
    for lang in LANGS:
        for path in (content / lang).glob("*.yml"):
            text = path.read_text(encoding="utf-8")
            dated = re.sub(r"reviewed: \S+", lambda _: f"reviewed: {next(days)}", text)
            path.write_text(dated, encoding="utf-8")
    assert not [p for p in problems(content, "warning") if "really checked" in p]


def test_home_page_sources_are_counted_per_language(root: Path) -> None:
    warnings = [p for p in problems(root / "content", "warning") if "only a home page" in p]
    assert len(warnings) == 4
    counts = [int(re.search(r"(\d+) of (\d+)", w).group(1)) for w in warnings]  # type: ignore[union-attr]
    assert all(count > 0 for count in counts)
