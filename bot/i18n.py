"""UI strings (menus, prompts, confirmations) from gettext catalogs under bot/locale.

English is the source language (the msgids). Catalogs are compiled to .mo by `make locale`;
when a .mo is missing or older than its .po, it is compiled in memory so a fresh checkout works.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
from functools import cache
from pathlib import Path

from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"


@cache
def _catalog(lang: str) -> gettext.NullTranslations:
    po_path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo_path = po_path.with_suffix(".mo")
    if not po_path.exists():
        return gettext.NullTranslations()
    if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
        with mo_path.open("rb") as fh:
            return gettext.GNUTranslations(fh)
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def translate(lang: str, message: str, **values: object) -> str:
    """The UI string in `lang`, with {placeholders} filled in."""
    text = _catalog(lang).gettext(message)
    return text.format(**values) if values else text


def format_day(lang: str, day: dt.date) -> str:
    """A date as people of that language write it (Babel; Kreyòl uses the numeric form)."""
    if lang == "ht":
        return day.strftime("%d/%m/%Y")
    return format_date(day, format="long", locale=lang)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark for extraction only"
    """Marks a string for `pybabel extract` where it is defined; it is translated where it is used."""
    return message
