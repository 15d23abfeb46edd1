"""Words the dialogue recognises without the NLU: opt-out, opt-in, language and country names."""

from __future__ import annotations

import re

from bot.vocab.text import plain_words

OPT_OUT_WORDS: frozenset[str] = frozenset(
    {
        "stop",
        "stopall",
        "unsubscribe",
        "cancel",
        "end",
        "quit",  # en (carrier words)
        "baja",
        "parar",
        "alto",
        "cancelar",
        "detener",  # es
        "arret",
        "arreter",
        "desabonner",
        "desinscrire",  # fr
        "kanpe",
        "sispann",
        "rete",  # ht
    }
)
OPT_IN_WORDS: frozenset[str] = frozenset(
    {
        "start",
        "unstop",
        "subscribe",
        "alta",
        "inicio",
        "iniciar",
        "reprendre",
        "demarrer",
        "komanse",
        "kòmanse",
    }
)

LANGUAGE_NAMES: dict[str, tuple[str, ...]] = {
    "es": ("espanol", "español", "spanish", "espagnol", "panyol", "castellano"),
    "en": ("english", "ingles", "inglés", "anglais", "angle", "anglè"),
    "fr": ("french", "frances", "francés", "francais", "français", "franse", "fransè"),
    "ht": ("kreyol", "kreyòl", "creole", "créole", "criollo", "haitian", "haitiano", "ayisyen"),
}

COUNTRY_NAMES: dict[str, tuple[str, ...]] = {
    "BZ": ("belize", "belice", "beliz"),
    "CR": ("costa rica", "kosta rika", "costarica"),
    "DO": (
        "republica dominicana",
        "dominican republic",
        "republique dominicaine",
        "dominikani",
        "dominicana",
        "santo domingo",
        "rd",
        "repiblik dominikèn",
    ),
    "GD": ("grenada", "granada", "grenade", "grenad"),
    "GT": ("guatemala", "gwatemala"),
    "HN": ("honduras", "ondiras"),
    "HT": ("haiti", "haïti", "ayiti", "haití"),
    "MX": ("mexico", "méxico", "mexique", "meksik", "tapachula"),
    "PA": ("panama", "panamá", "darien", "darién"),
    "SR": ("suriname", "surinam", "sirinam"),
    "SV": ("el salvador", "salvador", "salvadò"),
}


def is_opt_out(text: str) -> bool:
    return plain_words(text) in OPT_OUT_WORDS


def is_opt_in(text: str) -> bool:
    return plain_words(text) in _OPT_IN_PLAIN


def _words_match(phrase: str, words: list[str]) -> bool:
    target = phrase.split()
    return any(words[i : i + len(target)] == target for i in range(len(words) - len(target) + 1))


def _normalised(table: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    return {key: tuple(plain_words(name) for name in names) for key, names in table.items()}


def _the_one_named(text: str, table: dict[str, tuple[str, ...]]) -> str | None:
    words = plain_words(text).split()
    found = {key for key, names in table.items() if any(_words_match(name, words) for name in names)}
    return found.pop() if len(found) == 1 else None


def mentioned_language(text: str) -> str | None:
    """The language a person names ('in English please', 'an kreyòl'), if exactly one."""
    return _the_one_named(text, _LANGUAGE_NAMES_PLAIN)


def mentioned_country(text: str) -> str | None:
    """The programme country a message names, if exactly one (accent- and case-insensitive)."""
    return _the_one_named(text, _COUNTRY_NAMES_PLAIN)


def number_choice(text: str) -> int | None:
    """'1', ' 2. ', '#3' -> the number; anything else -> None."""
    match = re.fullmatch(r"\s*#?\s*(\d{1,2})\s*[.)]?\s*", text)
    return int(match.group(1)) if match else None


ERASURE_PHRASES: tuple[str, ...] = (
    "borrar mis datos",
    "borren mis datos",
    "eliminar mis datos",
    "eliminen mis datos",
    "borrar mi informacion",
    "delete my data",
    "erase my data",
    "delete my information",
    "remove my data",
    "supprimer mes donnees",
    "effacer mes donnees",
    "supprimez mes donnees",
    "effacez mes donnees",
    "efase done m",
    "efase done mwen",
    "efase enfomasyon m",
    "efase enfomasyon mwen",
    "retire done m",
)


def is_erasure_request(text: str) -> bool:
    """A request to erase one's conversation data, in any of the four languages."""
    plain = plain_words(text)
    return any(phrase in plain for phrase in ERASURE_PHRASES)


_LANGUAGE_NAMES_PLAIN = _normalised(LANGUAGE_NAMES)
_COUNTRY_NAMES_PLAIN = _normalised(COUNTRY_NAMES)
_OPT_IN_PLAIN = frozenset(plain_words(word) for word in OPT_IN_WORDS)
