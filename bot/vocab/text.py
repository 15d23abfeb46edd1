"""Text as it may enter the service: cleaned of code points nothing downstream can store, and bounded.

A JSON escape (`"\\ud800"`) or a UTF-8 encoded surrogate gives Python a string that cannot be encoded
back to UTF-8: it breaks hashing, SQL and logs far from where it came in. NUL is refused by PostgreSQL.
So every channel cleans what a person wrote before anything else sees it.

Unicode normalisation can grow a text: one U+FDFA becomes 18 characters under NFKD. Work that
normalises is therefore bounded twice: the input is cut before normalising and the result after.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

MAX_MESSAGE_CHARS = 4096
"""The longest message any channel passes on (WhatsApp, Telegram and SMS concatenation stay under it)."""

INLINE_CHARS = 256
"""Work on a text up to this long stays on the event loop (well under a millisecond per step); longer texts
are processed in a thread, so that one long message never holds up other conversations."""

NormalForm = Literal["NFC", "NFD", "NFKC", "NFKD"]

_UNWANTED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
"""C0 and C1 controls except tab and newline (carriage returns are turned into newlines first), and
surrogate code points: in a Python string they are always lone, JSON having paired the valid ones."""


def clean_text(text: str, limit: int | None = None) -> str:
    """`text` without lone surrogates, NUL or other control characters (tab and newline stay), and at
    most `limit` characters long. Linear in the length of `text`."""
    text = _UNWANTED.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return text if limit is None else text[:limit]


def normalize_bounded(form: NormalForm, text: str, limit: int) -> str:
    """`unicodedata.normalize(form, text)` for the first `limit` characters, cut to `limit` again."""
    return unicodedata.normalize(form, text[:limit])[:limit]


def fit_normalized(text: str, limit: int, form: NormalForm = "NFKD") -> str:
    """The longest beginning of `text` whose normalised form is at most `limit` characters long, for a
    reader that normalises on its own (the NLU server). Unchanged when it already fits."""
    head = text[:limit]
    if len(unicodedata.normalize(form, head)) <= limit:
        return head
    size = 0
    for index, char in enumerate(head):
        size += len(unicodedata.normalize(form, char))
        if size > limit:
            return head[:index]
    return head
