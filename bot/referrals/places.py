"""Which hub is near the place a person names in free text ("sanjose", "Tapachul", "kap ayisyen").

People type place names on phones, without accents, with typos, in Spanish, French or Kreyòl spelling.
We match them against each hub's city, department and aliases in the person's country only (a "San José"
in another country must never win), and fall back to the country's default hub rather than failing: a
referral to a reasonable hub is better than none.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from rapidfuzz.distance import Indel

from bot.referrals.directory import Directory, Hub
from bot.vocab.text import plain_words

MATCH_THRESHOLD = 88.0
"""Minimum similarity (0-100). 88 accepts one typo in a 6+ letter name ("Tapachul") and rejects words
that merely look alike ("mexico" vs "Mexicali" scores 86)."""

MIN_FUZZY_CHARS = 4

MAX_PLACE_TEXT_CHARS = 300
"""A place is named in a few words: only the answer's first 300 characters are compared with each hub's
names (fuzzy matching costs a few comparisons per word and per name)."""
"""Shorter names ("DF", "PAP") only match exactly: fuzzy matching 2-3 letters matches everything."""

GENERIC_WORDS = frozenset(
    {"centre", "centro", "ciudad", "city", "norte", "sur", "este", "oeste", "san", "santa"}
)
"""Place names that are also ordinary words; on their own they never select a hub ("un centre d'aide")."""

_KIND_RANK = {"city": 2, "alias": 2, "department": 1}


@dataclass(frozen=True)
class PlaceMatch:
    """A hub found from free text, with what matched, so the dialogue can say "I understood: Tapachula"."""

    hub: Hub
    name: str
    kind: str
    """"city", "alias" or "department"."""
    score: float


def normalize(text: str) -> str:
    """Place names compare as the shared plain words: "Cap-Haïtien" -> "cap haitien"."""
    return plain_words(text)


def _phonetic(text: str) -> str:
    """Folds French spellings onto Kreyòl ones ("ouanament" ~ "wanament", "cap" ~ "kap") so both match."""
    text = re.sub(r"ou(?=[aeiy])", "w", text)
    text = re.sub(r"c(?=[aou])", "k", text)
    return text.replace("qu", "k")


def _score(tokens: list[str], name: str) -> float:
    """Best similarity of `name` to any run of words in the text of about the same number of words.

    Runs are compared with and without spaces, so "sanjose" matches "San José" and "san pedro sula"
    matches "San Pedro Sula" inside a longer sentence.
    """
    name_tokens = name.split()
    compact = "".join(name_tokens)
    best = 0.0
    for size in range(max(1, len(name_tokens) - 1), len(name_tokens) + 2):
        for start in range(len(tokens) - size + 1):
            window = tokens[start : start + size]
            spaced, joined = " ".join(window), "".join(window)
            if spaced == name or joined == compact or _phonetic(joined) == _phonetic(compact):
                return 100.0
            if len(joined) < MIN_FUZZY_CHARS or len(compact) < MIN_FUZZY_CHARS:
                continue
            best = max(
                best,
                Indel.normalized_similarity(spaced, name) * 100,
                Indel.normalized_similarity(joined, compact) * 100,
                Indel.normalized_similarity(_phonetic(joined), _phonetic(compact)) * 100,
            )
    return best


def find_place(text: str, country: str, directory: Directory) -> PlaceMatch | None:
    """The hub whose city, alias or department best matches `text`, among `country`'s hubs only.

    Ties go to city/alias matches over departments, then longer names, then the default hub, then file order.
    """
    tokens = normalize(text[:MAX_PLACE_TEXT_CHARS]).split()
    if not tokens:
        return None
    best: PlaceMatch | None = None
    best_key: tuple[float, int, int, bool] | None = None
    for hub in directory.hubs_for(country):
        names = [(hub.city, "city"), *((a, "alias") for a in hub.aliases), (hub.department, "department")]
        for raw_name, kind in names:
            name = normalize(raw_name)
            if not name or name in GENERIC_WORDS:
                continue
            score = _score(tokens, name)
            if score < MATCH_THRESHOLD:
                continue
            key = (score, _KIND_RANK[kind], len(name), hub.default)
            if best_key is None or key > best_key:
                best, best_key = PlaceMatch(hub, raw_name, kind, score), key
    return best


def match_place(text: str, country: str, directory: Directory) -> Hub | None:
    """The hub for the place named in `text` in `country`, or None when no place is recognised."""
    found = find_place(text, country, directory)
    return found.hub if found else None


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance; straight-line is enough to rank a handful of hubs in one country."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def nearest_hub(
    directory: Directory, country: str, service: str | None, place_text: str | None
) -> Hub | None:
    """The hub to refer to for `service` (None: any) in `country`, given the place the person named.

    In order: the hub of the named place if it offers the service; else the hub offering it nearest to
    that place (by coordinates); else the country's default hub if it offers it; else the first hub of the
    country offering it; else None (no hub offers it, or the country has no hubs).
    """
    offering = directory.hubs_for(country, service)
    if not offering:
        return None
    place = match_place(place_text, country, directory) if place_text else None
    if place is not None:
        if place.offers(service):
            return place
        origin = place.coordinates
        located = [(h, h.coordinates) for h in offering]
        distances = [(distance_km(origin, c), i, h) for i, (h, c) in enumerate(located) if origin and c]
        if distances:
            return min(distances)[2]
    default = directory.default_hub(country)
    if default is not None and default.offers(service):
        return default
    return offering[0]


__all__ = [
    "MATCH_THRESHOLD",
    "PlaceMatch",
    "distance_km",
    "find_place",
    "match_place",
    "nearest_hub",
    "normalize",
]
