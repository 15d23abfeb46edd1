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


# The one normaliser. intents/components/normalise.py keeps a copy of `_phone_typed` for Rasa's own
# environment (Python 3.10, which cannot import the bot); tests/test_architecture.py keeps them identical.
_ELONGATION = re.compile(r"([^\W\d_])\1{2,}")
_PUNCT_RUN = re.compile(r"([^\w\s])\1+")
_URL = re.compile(r"(?:https?://|www\.)\S+")
_SPACES = re.compile(r"\s+")
# Skin tones, variation selectors and the zero-width joiner carry no meaning for us.
_EMOJI_NOISE = {0x200D, 0xFE0E, 0xFE0F, *range(0x1F3FB, 0x1F400)}
_TYPED_LONG = re.compile(r"([^\W\d_])\1{2,}")
_NON_WORD = re.compile(r"[^\w\s]+")


def _is_emoji(char: str) -> bool:
    code = ord(char)
    return (
        0x1F000 <= code <= 0x1FAFF
        or 0x2600 <= code <= 0x27BF
        or 0x2B00 <= code <= 0x2BFF
        or code in (0x203C, 0x2049, 0x2122, 0x2139, 0x3030, 0x303D)
    )


def _emoji_word(char: str) -> str:
    name = unicodedata.name(char, "emoji").lower()
    return "emo_" + re.sub(r"[^a-z0-9]+", "_", name).strip("_")


def _phone_typed(text: str) -> str:
    text = _URL.sub(" url ", text)
    out: list[str] = []
    previous = ""
    for char in text:
        if ord(char) in _EMOJI_NOISE:
            continue
        if _is_emoji(char):
            word = _emoji_word(char)
            if word != previous:
                out.append(f" {word} ")
            previous = word
            continue
        previous = ""
        out.append(char)
    decomposed = unicodedata.normalize("NFKD", "".join(out).lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = _ELONGATION.sub(r"\1\1", plain)
    plain = _PUNCT_RUN.sub(r"\1", plain)
    return _SPACES.sub(" ", plain).strip()


def normalise(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Phone-typed text as the NLU sees it: lowercase, no accents ("pèdi" = "pedi"), letters repeated
    three times or more squeezed to two, repeated punctuation squeezed, each emoji a word, a link "url".
    Bounded before and after (one U+FDFA grows 18-fold under NFKD)."""
    return _phone_typed(text[:limit])[:limit]


def plain_words(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Letters typed three times or more as one ("holaaaa!!" -> "hola"), then `normalise`, then punctuation
    as spaces: what keyword, place and language matching compare, so spelling variants meet."""
    return " ".join(_NON_WORD.sub(" ", normalise(_TYPED_LONG.sub(r"\1", text[:limit]), limit)).split())
