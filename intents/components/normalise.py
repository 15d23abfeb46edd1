"""Phone-typing normalisation, pure Python (no Rasa import) so that benches and tests can use it too.

- lowercase, accents and cedillas removed ("pèdi" = "pedi", "vencío" = "vencio"): people type both;
- letters repeated three times or more squeezed to two ("holaaaa" -> "holaa", "mèsiiii" -> "mesii");
- repeated punctuation squeezed ("???" -> "?", "!!!" -> "!");
- each emoji becomes one word named after it ("👍🏾👍🏾" -> "emo_thumbs_up_sign"), because the
  whitespace tokenizer drops emoji and an emoji-only message would otherwise have no features at all;
- a bare URL becomes "url", whitespace is collapsed.
"""

from __future__ import annotations

import re
import unicodedata

_ELONGATION = re.compile(r"([^\W\d_])\1{2,}")
_PUNCT_RUN = re.compile(r"([^\w\s])\1+")
_URL = re.compile(r"(?:https?://|www\.)\S+")
_SPACES = re.compile(r"\s+")
# Skin tones, variation selectors and the zero-width joiner carry no meaning for us.
_EMOJI_NOISE = {0x200D, 0xFE0E, 0xFE0F, *range(0x1F3FB, 0x1F400)}


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


def normalise_text(text: str) -> str:
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
