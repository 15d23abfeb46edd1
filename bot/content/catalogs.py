"""Checks of the UI string catalogs (bot/locale): every string translated, placeholders intact."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import PoFileError, read_po

from bot import LANGUAGES
from bot.content.loader import Problem
from bot.i18n import LOCALE_DIR

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def check_catalogs(locale_dir: Path = LOCALE_DIR) -> list[Problem]:
    problems: list[Problem] = []
    template_path = locale_dir / "messages.pot"
    with template_path.open("rb") as fh:
        expected = {m.id for m in read_po(fh) if m.id}
    for lang in LANGUAGES:
        path = locale_dir / lang / "LC_MESSAGES" / "messages.po"
        where = str(path.relative_to(locale_dir.parent.parent))
        if not path.exists():
            problems.append(
                Problem(where, 0, "catalog missing: run `make extract-messages` and translate it")
            )
            continue
        try:
            with path.open("rb") as fh:
                catalog = read_po(fh, locale=lang, abort_invalid=True)
        except PoFileError as exc:
            problems.append(Problem(where, 0, f"cannot read this catalog: {exc}"))
            continue
        present = {m.id: m for m in catalog if m.id}
        for msgid in sorted(expected - set(present)):
            problems.append(Problem(where, 0, f"missing string {msgid[:60]!r}: run `make extract-messages`"))
        for msgid, message in present.items():
            line = message.lineno or 0
            if msgid in expected and not message.string:
                problems.append(Problem(where, line, f"untranslated: {str(msgid)[:60]!r}"))
            elif message.string and set(_PLACEHOLDER.findall(str(msgid))) != set(
                _PLACEHOLDER.findall(str(message.string))
            ):
                problems.append(
                    Problem(where, line, f"placeholders differ from the English: {str(msgid)[:60]!r}")
                )
            if "fuzzy" in message.flags:
                problems.append(Problem(where, line, f"fuzzy translation needs review: {str(msgid)[:60]!r}"))
    return problems
