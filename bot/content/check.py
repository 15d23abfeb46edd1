"""`infobot content check`: every problem in content/ named by file and line, before it reaches a person."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from bot import COUNTRIES, LANGUAGES
from bot.content.facts import describe, facts, normalize_fact
from bot.content.loader import GENERAL_KEY, Problem, load_content
from bot.content.model import ContentEntry
from bot.content.reviewers import read_reviewers
from bot.content.sms import segments
from bot.vocab.topics import MENU_LABELS, TOPIC_INTENTS

MAX_SMS_SEGMENTS = 2
WARN_DAYS_BEFORE_REVIEW = 30
_URL = re.compile(r"https?://\S+")
_VALID_URL = re.compile(r"https?://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(/[^\s]*)?$")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
SAME_DAY_SHARE = 0.5
"""Warn when one review date covers more than this share of a language's entries: nobody checks dozens of
answers against their sources in one day, so such a date records an edit, not a check."""
_HOME_PAGE = re.compile(r"https?://[^/\s]+/?(?=[\s;,)]|$)")


def check_content(content_dir: Path, today: dt.date) -> list[Problem]:
    """All problems (errors and warnings), sorted by file and line."""
    result = load_content(content_dir)
    problems = list(result.problems)
    for (lang, intent), keys in result.keys_by_file.items():
        where = f"content/{lang}/{intent}.yml"
        if intent not in TOPIC_INTENTS and intent != "emergency":
            problems.append(
                Problem(where, 1, f"unknown topic '{intent}' (file names must be taxonomy intents)")
            )
        if GENERAL_KEY not in keys:
            problems.append(Problem(where, 1, "there is no 'general' answer"))
        for key in keys:
            if key != GENERAL_KEY and key not in COUNTRIES:
                problems.append(
                    Problem(where, 1, f"unknown country code '{key}' (use {', '.join(COUNTRIES)})")
                )
    problems += _cross_language(result.keys_by_file, result.unreadable)
    reviewers, reviewer_problems = read_reviewers(content_dir)
    problems += reviewer_problems
    by_key: dict[tuple[str, str | None], list[ContentEntry]] = {}
    for entry in result.entries:
        by_key.setdefault((entry.intent, entry.country), []).append(entry)
        problems += _entry_problems(entry, today)
        if reviewers is not None and entry.reviewed_by not in reviewers:
            problems.append(
                Problem(
                    entry.file,
                    entry.line,
                    f"reviewed_by '{entry.reviewed_by}' is not an office or team listed in "
                    "content/reviewers.yml (name the team that checked it, never a person)",
                )
            )
    for entries in by_key.values():
        problems += _placeholder_mismatch(entries)
        problems += _fact_parity(entries)
    problems += _review_records(result.entries)
    return sorted(problems, key=lambda p: (p.file, p.line, p.message))


def _cross_language(
    keys_by_file: dict[tuple[str, str], list[str]], unreadable: set[tuple[str, str]]
) -> list[Problem]:
    problems: list[Problem] = []
    intents = {intent for _, intent in keys_by_file}
    for intent in sorted(intents):
        union = set().union(*(set(keys_by_file.get((lang, intent), [])) for lang in LANGUAGES))
        for lang in LANGUAGES:
            where = f"content/{lang}/{intent}.yml"
            if (lang, intent) in unreadable:
                continue
            if (lang, intent) not in keys_by_file:
                problems.append(
                    Problem(where, 0, "file missing: every topic needs an answer in es, en, fr and ht")
                )
                continue
            for key in sorted(union - set(keys_by_file[(lang, intent)])):
                problems.append(Problem(where, 1, f"'{key}' exists in another language but not here"))
    return problems


def _entry_problems(entry: ContentEntry, today: dt.date) -> list[Problem]:
    problems: list[Problem] = []
    where, line = entry.file, entry.line
    if entry.review_by < today:
        problems.append(
            Problem(where, line, f"review_by {entry.review_by} is past: check the entry with its source")
        )
    elif (entry.review_by - today).days <= WARN_DAYS_BEFORE_REVIEW:
        problems.append(Problem(where, line, f"review_by {entry.review_by} is within 30 days", "warning"))
    if entry.reviewed > today:
        problems.append(Problem(where, line, f"reviewed {entry.reviewed} is in the future"))
    if entry.reviewed > entry.review_by:
        problems.append(
            Problem(where, line, f"reviewed {entry.reviewed} is after review_by {entry.review_by}")
        )
    if segments(entry.sms) > MAX_SMS_SEGMENTS:
        problems.append(
            Problem(where, line, f"sms takes {segments(entry.sms)} segments (max {MAX_SMS_SEGMENTS})")
        )
    for url in _URL.findall(entry.text + " " + entry.source):
        url = url.rstrip(".,;:)")
        if not _VALID_URL.match(url):
            problems.append(Problem(where, line, f"malformed link: {url}"))
    for button in entry.buttons:
        if button not in MENU_LABELS:
            problems.append(Problem(where, line, f"unknown button topic '{button}'"))
    return problems


def _placeholder_mismatch(entries: list[ContentEntry]) -> list[Problem]:
    """A {placeholder} must appear in every language's version of the same entry."""
    sets = {e.lang: set(_PLACEHOLDER.findall(e.text + e.sms)) for e in entries}
    if len({frozenset(s) for s in sets.values()}) <= 1:
        return []
    reference = sets.get("en") or next(iter(sets.values()))
    return [
        Problem(
            e.file, e.line, f"placeholders {sorted(sets[e.lang])} differ from English {sorted(reference)}"
        )
        for e in entries
        if sets[e.lang] != reference
    ]


def _fact_parity(entries: list[ContentEntry]) -> list[Problem]:
    """Each language's version gives every link and number another version gives, unless declared."""
    by_lang = {e.lang: facts(e.text) for e in entries}
    allowed = {normalize_fact(fact) for e in entries for fact, _ in e.parity_exceptions}
    problems: list[Problem] = []
    for entry in entries:
        for fact in sorted(set().union(*by_lang.values()) - by_lang[entry.lang] - allowed):
            givers = ", ".join(lang for lang in LANGUAGES if fact in by_lang.get(lang, set()))
            problems.append(
                Problem(
                    entry.file,
                    entry.line,
                    f"'{entry.content_id}' lacks {describe(fact)} that {givers} give: add it, or list it "
                    "under parity_exceptions with the reason it differs",
                )
            )
    return problems


def _review_records(entries: list[ContentEntry]) -> list[Problem]:
    """Per language: one review date stamped on most entries, and sources that are only a home page."""
    problems: list[Problem] = []
    for lang in LANGUAGES:
        own = sorted((e for e in entries if e.lang == lang), key=lambda e: (e.file, e.line))
        if not own:
            continue
        dates: dict[dt.date, list[ContentEntry]] = {}
        for entry in own:
            dates.setdefault(entry.reviewed, []).append(entry)
        day, same = max(dates.items(), key=lambda item: len(item[1]))
        if len(own) > 1 and len(same) > SAME_DAY_SHARE * len(own):
            problems.append(
                Problem(
                    same[0].file,
                    same[0].line,
                    f"{len(same)} of {len(own)} {lang} entries say reviewed: {day}; write the day each "
                    "entry was really checked against its source",
                    "warning",
                )
            )
        home = [e for e in own if not _cites_a_page(e.source)]
        if home:
            problems.append(
                Problem(
                    home[0].file,
                    home[0].line,
                    f"{len(home)} of {len(own)} {lang} entries cite only a home page as source: give the "
                    "page each fact was checked on",
                    "warning",
                )
            )
    return problems


def _cites_a_page(source: str) -> bool:
    """True when at least one link of the source goes below the site's home page."""
    links = _URL.findall(source)
    return bool(links) and any(not _HOME_PAGE.fullmatch(link.rstrip(".,;:)")) for link in links)
