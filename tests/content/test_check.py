"""`infobot content check`: shipped content passes; each kind of broken edit is named by file and line."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from bot.content.check import check_content
from bot.content.library import ContentSource
from bot.content.sms import segments

TODAY = dt.date.today()


def errors(content_dir: Path) -> list[str]:
    return [str(p) for p in check_content(content_dir, TODAY) if p.severity == "error"]


@pytest.fixture
def content(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "content", target)
    return target


def test_the_shipped_content_passes() -> None:
    assert errors(PROJECT_ROOT / "content") == []


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_a_yaml_mistake_is_named_with_its_line(content: Path) -> None:
    path = content / "es" / "ask_fraud.yml"
    edit(path, "  source:", "  source: [unclosed\n  other:")
    [problem] = errors(content)
    assert problem.startswith("content/es/ask_fraud.yml:") and "cannot read this YAML" in problem
    assert int(problem.split(":")[1]) >= line_of(path, "[unclosed")


def test_a_missing_field_is_named(content: Path) -> None:
    path = content / "fr" / "ask_health.yml"
    edit(path, "  source:", "  origine:")
    assert any(p.startswith("content/fr/ask_health.yml:") and "has no 'source'" in p for p in errors(content))


def test_a_past_review_date_is_an_error_and_a_near_one_a_warning(content: Path) -> None:
    path = content / "ht" / "ask_return.yml"
    text = path.read_text()
    import re

    path.write_text(re.sub(r"review_by: \S+", f"review_by: {TODAY - dt.timedelta(days=1)}", text, count=1))
    assert any(p.startswith("content/ht/ask_return.yml:") and "is past" in p for p in errors(content))
    path.write_text(re.sub(r"review_by: \S+", f"review_by: {TODAY + dt.timedelta(days=10)}", text, count=1))
    warnings = [p for p in check_content(content, TODAY) if p.severity == "warning"]
    assert any("within 30 days" in str(p) and p.file == "content/ht/ask_return.yml" for p in warnings)


def test_an_sms_too_long_is_named(content: Path) -> None:
    path = content / "en" / "ask_fraud.yml"
    import yaml

    data = yaml.safe_load(path.read_text())
    data["general"]["sms"] = "Do not pay anyone. " * 20
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    assert any(p.startswith("content/en/ask_fraud.yml:") and "segments" in p for p in errors(content))


def test_a_country_in_one_language_only_is_named(content: Path) -> None:
    path = content / "es" / "ask_health.yml"
    path.write_text(
        path.read_text()
        + (
            "\nCR:\n  text: Salud en Costa Rica.\n  sms: Salud CR\n  source: CCSS — https://www.ccss.sa.cr\n"
            "  reviewed: 2026-11-23\n  review_by: 2027-05-23\n"
        )
    )
    problems = errors(content)
    for lang in ("en", "fr", "ht"):
        assert any(
            p.startswith(f"content/{lang}/ask_health.yml:") and "'CR' exists in another language" in p
            for p in problems
        )


def test_unknown_country_and_malformed_link_are_named(content: Path) -> None:
    path = content / "en" / "ask_work.yml"
    edit(path, "\nMX:", "\nZZ:")
    edit(
        path,
        "https://",
        "https//",
    )
    problems = errors(content)
    assert any("unknown country code 'ZZ'" in p for p in problems)
    assert any("'MX' exists in another language" in p for p in problems)


def test_a_broken_edit_never_replaces_working_content(content: Path) -> None:
    source = ContentSource(content, check_interval=0)
    before = source.current().lookup("ask_fraud", "ht", None)
    assert before is not None
    path = content / "ht" / "ask_fraud.yml"
    original = path.read_text()
    path.write_text(original + "\n  : : broken")
    assert source.current().lookup("ask_fraud", "ht", None) == before
    assert source.last_problems
    path.write_text(original.replace(before.text.splitlines()[0], "Nouvo tèks pou tès la."))
    after = source.current().lookup("ask_fraud", "ht", None)
    assert after is not None and after.text.startswith("Nouvo tèks pou tès la.")


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("ñ" * 160, 1),
        ("á" * 70, 1),
        ("á" * 71, 2),
        ("a" * 69 + "😀", 2),
        ("€" * 80, 1),
        ("€" * 81, 2),
    ],
)
def test_sms_segments_count_gsm7_and_ucs2(text: str, count: int) -> None:
    assert segments(text) == count


def test_a_placeholder_missing_in_one_language_is_named(content: Path) -> None:
    import yaml

    for lang in ("es", "en", "ht"):  # French is left without the placeholder
        path = content / lang / "ask_health.yml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["general"]["sms"] = "{hub_name} " + data["general"]["sms"]
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    problems = errors(content)
    assert any(p.startswith("content/fr/ask_health.yml:") and "placeholders" in p for p in problems)


def test_an_untranslated_ui_string_and_a_broken_placeholder_are_named(tmp_path: Path) -> None:
    from babel.messages.pofile import read_po, write_po

    from bot.content.catalogs import check_catalogs
    from bot.i18n import LOCALE_DIR

    locale = tmp_path / "bot" / "locale"
    shutil.copytree(LOCALE_DIR, locale)
    assert check_catalogs(locale) == []
    path = locale / "ht" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        catalog = read_po(fh, locale="ht")
    catalog["Main menu"].string = ""
    catalog["Source: {source}. Checked on {date}."].string = "Sous: {sous}."
    with path.open("wb") as fh:
        write_po(fh, catalog)
    problems = [str(p) for p in check_catalogs(locale)]
    assert any("untranslated: 'Main menu'" in p and "ht/LC_MESSAGES" in p for p in problems)
    assert any("placeholders differ" in p and "Source:" in p for p in problems)
