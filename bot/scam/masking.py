"""Masking personal data in reported offers before they are stored.

Forwarded scam messages carry the scammer's and the person's phone numbers, e-mails and names. Reports
need the offer's words (amounts, agencies, the scheme), not who sent it, so those are replaced with
[phone], [email] and [name] before anything is written to the database.
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+@(?:[\w-]+\.)+[a-zA-Z]{2,}")  # starts a word: linear on long runs
_WA_LINK = re.compile(
    r"(?:https?://)?(?:wa\.me/\+?\d+|(?:api|chat)\.whatsapp\.com/\S+|t\.me/\+?\d+)(?:\?\S*)?", re.IGNORECASE
)
# A run of digits with phone separators (spaces, dots, dashes, parentheses), optionally with a + prefix.
_PHONE_CANDIDATE = re.compile(r"(?<![\w$])(?:\+\s?)?\(?\d[\d\s().-]{5,}\d(?![\w])")
_CURRENCY_NEAR = re.compile(
    r"(?:us\$|rd\$|\$|usd|htg|mxn|(?<![a-z])q\.?|(?<![a-z])l\.?|₡|b/\.?)\s*$|^\s*(?:\$|usd|us\$|dolares|dólares|dollars?|dola|"
    r"pesos?|gourdes?|goud|gdes|htg|lempiras?|lps|quetzales?|colones?|balboas?|euros?|mil\b|k\b)",
    re.IGNORECASE,
)
_DATE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}$")
_THOUSANDS = re.compile(r"^\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?$")

_NAME_INTRO = re.compile(
    r"\b(me llamo|mi nombre es|my name is|my name's|i am called|je m'appelle|je m’appelle|je m appelle|"
    r"mon nom est|mwen rele|m rele|non m se|non mwen se|mwen se rele)\s+",
    re.IGNORECASE,
)
# Words that end a name ("me llamo Ana y soy de Honduras").
_NAME_STOP = {
    "y",
    "e",
    "and",
    "et",
    "ak",
    "soy",
    "i",
    "je",
    "mwen",
    "m",
    "de",
    "from",
    "du",
    "nan",
    "pero",
    "but",
    "mais",
    "men",
    "tengo",
    "have",
    "ai",
    "gen",
    "vivo",
    "live",
    "habite",
    "rete",
    "estoy",
    "am",
    "suis",
    "se",
    "yo",
    "desde",
    "con",
    "with",
    "avec",
    "para",
    "pour",
    "pou",
    "por",
    "en",
    "in",
    "a",
    "the",
    "la",
    "el",
}


def _mask_phones(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        raw = match.group(0)
        stripped = raw.strip(" .-()")
        digits = re.sub(r"\D", "", raw)
        before = text[max(0, match.start() - 5) : match.start()]
        after = text[match.end() : match.end() + 12]
        if len(digits) < 7 or len(digits) > 15:
            return raw
        if _CURRENCY_NEAR.search(before) or _CURRENCY_NEAR.search(after):
            return raw
        if _DATE.match(stripped) or _THOUSANDS.match(stripped):
            return raw
        lead = raw[: len(raw) - len(raw.lstrip())]
        trail = raw[len(raw.rstrip()) :]
        return f"{lead}[phone]{trail}"

    return _PHONE_CANDIDATE.sub(replace, text)


def _mask_names(text: str) -> str:
    out: list[str] = []
    position = 0
    for match in _NAME_INTRO.finditer(text):
        if match.start() < position:
            continue
        out.append(text[position : match.end()])
        rest = text[match.end() :]
        words = re.match(r"[^\W\d_][\w'’-]*(?:\s+[^\W\d_][\w'’-]*){0,3}", rest)
        if not words:
            position = match.end()
            continue
        taken: list[str] = []
        candidates = words.group(0).split()
        capitalised = candidates[0][0].isupper()
        for word in candidates[: 3 if capitalised else 2]:
            if word.lower() in _NAME_STOP or (capitalised and not word[0].isupper()):
                break
            taken.append(word)
        if not taken:
            position = match.end()
            continue
        consumed = rest.index(taken[-1]) + len(taken[-1])
        out.append("[name]")
        position = match.end() + consumed
    out.append(text[position:])
    return "".join(out)


def mask_personal_data(text: str) -> str:
    """Replace phone numbers, WhatsApp links, e-mails and introduced names; keep amounts and agencies."""
    masked = _WA_LINK.sub("[phone]", text)
    masked = _EMAIL.sub("[email]", masked)
    masked = _mask_phones(masked)
    return _mask_names(masked)
