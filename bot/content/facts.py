"""The checkable facts of an answer: its links and its numbers (phones, deadlines, amounts, ages).

The four languages' versions of one answer must give the same facts: a link or a phone number present in
Spanish but missing in Kreyòl means a Kreyòl speaker gets less help. Words differ between languages;
links and digits do not, so they are what can be compared mechanically.
"""

from __future__ import annotations

import re

_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_LIST_MARKER = re.compile(r"^\s*\d{1,2}[.)](?=\s)", re.MULTILINE)
_NUMBER = re.compile(r"\d+(?:[ \u00a0.\-]\d+)*")
"""Digits with the separators people put inside one phone number: "800 5533 000", "+509 2813-1234"."""


def normalize_url(url: str) -> str:
    """ "https://www.gob.mx/comar/." and "http://gob.mx/comar" are the same link."""
    url = url.rstrip(".,;:)!?»\"'").lower()
    url = re.sub(r"^https?://", "", url).removeprefix("www.")
    return url.rstrip("/")


def normalize_number(number: str) -> str:
    """Only the digits: "800 5533 000" and "800-5533-000" are the same number."""
    return re.sub(r"\D", "", number)


def normalize_fact(fact: str) -> str:
    """A fact as written in `parity_exceptions`: a link or a number."""
    fact = fact.strip()
    return normalize_url(fact) if _URL.match(fact) else normalize_number(fact) or fact.lower()


def facts(text: str) -> set[str]:
    """The normalized links and numbers of a text; numbered-list markers ("1. ") are layout, not facts."""
    links = {normalize_url(url) for url in _URL.findall(text)}
    rest = _LIST_MARKER.sub(" ", _URL.sub(" ", text))
    numbers = {normalize_number(n) for n in _NUMBER.findall(rest)}
    return links | numbers


def describe(fact: str) -> str:
    """How a fact is named in a problem: links with their scheme so they can be searched in the file."""
    return fact if fact.isdigit() else f"https://{fact}"
