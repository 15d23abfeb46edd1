"""Loads the editable word lists (content/scam/*.yml) and compiles them once into fast matchers.

The lists belong to C4D teams, who know the words scammers use this month; the code only knows how to
read them. See the header of content/scam/signals.yml for the small phrase syntax.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from bot.config import PROJECT_ROOT
from bot.scam.amounts import amount_pattern
from bot.scam.domains import DomainPolicy

AMOUNT = "<amount>"


class LexiconError(ValueError):
    """A scam word list is malformed; the message names the file and the entry."""


def _phrase_regex(phrase: str) -> str:
    if phrase.startswith("re:"):
        return f"(?:{phrase[3:]})"
    out = ""
    for token in phrase.lower().split():
        if token == "..":
            out += r"(?:\s+\S+){0,3}"
            continue
        piece = re.escape(token[:-1]) + r"\S*" if token.endswith("*") else re.escape(token)
        out += (r"\s+" if out else "") + piece
    return out


def _flatten(value: Any, where: str) -> list[str]:
    """Phrases of an entry written as a list or as {language: list}."""
    if value is None:
        return []
    items: list[Any]
    if isinstance(value, list):
        items = value
    elif isinstance(value, dict):
        items = [v for lang_list in value.values() for v in (lang_list or [])]
    else:
        raise LexiconError(f"{where}: expected a list or a mapping of language -> list")
    odd = [v for v in items if not isinstance(v, str)]
    if odd:
        # YAML reads a bare no / yes / on as true/false: such words must be quoted ("no").
        raise LexiconError(f"{where}: {odd[0]!r} is not text; put quotes around it")
    return items
    raise LexiconError(f"{where}: expected a list or a mapping of language -> list")


def _grouped(phrases: list[str]) -> str:
    """One alternation with the phrases grouped by first character, so the regex engine tests a position
    against one group instead of every phrase (a 4,096-character message stays fast). Within a group the
    order (longest first) is kept, so what matches is unchanged."""
    groups: dict[str, list[str]] = {}
    for phrase in phrases:
        pattern = _phrase_regex(phrase)
        head = re.escape(phrase[0])
        key = phrase[0] if not phrase.startswith("re:") and pattern.startswith(head) else ""
        groups.setdefault(key, []).append(pattern[len(head) :] if key else pattern)
    parts = []
    for key, rests in groups.items():
        parts.append(f"{re.escape(key)}(?:{'|'.join(rests)})" if key else "|".join(rests))
    return "|".join(parts)


@dataclass(frozen=True)
class Matcher:
    """A compiled list of phrases; `amounts` says whether any amount of money also counts."""

    regex: re.Pattern[str] | None
    amounts: bool

    @classmethod
    def build(cls, phrases: Iterable[str]) -> Matcher:
        plain = [p.strip().lower() for p in phrases if p and p.strip()]
        amounts = AMOUNT in plain
        words = sorted({p for p in plain if p != AMOUNT}, key=len, reverse=True)
        if not words:
            return cls(None, amounts)
        return cls(re.compile(rf"(?<!\S)(?:{_grouped(words)})(?!\S)"), amounts)

    def find(self, words: str, amount_spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        spans = [m.span() for m in self.regex.finditer(words)] if self.regex else []
        if self.amounts:
            spans += amount_spans
        return sorted(spans)


@dataclass(frozen=True)
class Rule:
    """`any`: one matcher; `near`: one hit of each matcher within `window` words (the first is negatable)."""

    matchers: tuple[Matcher, ...]
    window: int


@dataclass(frozen=True)
class SignalSpec:
    id: str
    strong: bool
    payment: bool
    rules: tuple[Rule, ...]
    countries: tuple[str, ...] = ()
    pattern: bool = False


@dataclass(frozen=True)
class Lexicon:
    signals: tuple[SignalSpec, ...]
    negations: tuple[tuple[str, ...], ...]
    negation_window: int
    warning_context: Matcher
    not_a_demand: Matcher
    reported_demand: Matcher
    question_starts: Matcher
    amount: re.Pattern[str]
    domains: DomainPolicy

    @property
    def signal_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.signals)


def _rules(raw: Any, terms: dict[str, Matcher], where: str) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    for number, rule in enumerate(raw or [], start=1):
        here = f"{where} rule {number}"
        if not isinstance(rule, dict):
            raise LexiconError(f"{here}: expected `any:` or `near:`")
        if "near" in rule:
            names = rule["near"]
            unknown = [n for n in names if n not in terms]
            if unknown:
                raise LexiconError(f"{here}: unknown term list(s) {', '.join(unknown)}")
            rules.append(Rule(tuple(terms[n] for n in names), int(rule.get("window", 10))))
        elif "any" in rule:
            rules.append(Rule((Matcher.build(_flatten(rule["any"], here)),), 0))
        else:
            raise LexiconError(f"{here}: expected `any:` or `near:`")
    return tuple(rules)


def _official_domains(sources: dict[str, Any]) -> set[str]:
    """Domains of every website in content/sources.yml (agencies per country and international ones)."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "website" and isinstance(value, str):
                    host = re.sub(r"^https?://", "", value).split("/")[0].lower()
                    found.add(host.removeprefix("www."))
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(sources)
    return found


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise LexiconError(f"{path}: {exc}") from exc
    if not isinstance(data, dict):
        raise LexiconError(f"{path}: expected a mapping at the top")
    return data


def load_lexicon(content_dir: Path) -> Lexicon:
    """Read signals.yml, patterns.yml and sources.yml from a content folder and compile them."""
    signals_raw = _read(content_dir / "scam" / "signals.yml")
    patterns_raw = _read(content_dir / "scam" / "patterns.yml")
    sources = _read(content_dir / "sources.yml")

    term_lists = dict(signals_raw.get("terms") or {})
    term_lists.update(patterns_raw.get("terms") or {})
    terms = {name: Matcher.build(_flatten(value, f"terms.{name}")) for name, value in term_lists.items()}

    specs: list[SignalSpec] = []
    for sid, spec in (signals_raw.get("signals") or {}).items():
        specs.append(
            SignalSpec(
                id=sid,
                strong=spec.get("strength") == "strong",
                payment=bool(spec.get("payment")),
                rules=_rules(spec.get("rules"), terms, f"signals.yml {sid}"),
            )
        )
    for pid, spec in (patterns_raw.get("patterns") or {}).items():
        specs.append(
            SignalSpec(
                id=pid,
                strong=spec.get("strength", "strong") == "strong",
                payment=bool(spec.get("payment")),
                rules=_rules(spec.get("rules"), terms, f"patterns.yml {pid}"),
                countries=tuple(str(c).upper() for c in spec.get("countries") or ()),
                pattern=True,
            )
        )

    currencies = signals_raw.get("currencies") or {}
    policy = DomainPolicy(
        official=frozenset(
            _official_domains(sources) | {str(d) for d in signals_raw.get("official_domains") or []}
        ),
        messaging=frozenset(str(d) for d in signals_raw.get("messaging_domains") or []),
        social=frozenset(str(d) for d in signals_raw.get("social_domains") or []),
        agency_tokens=frozenset(str(d) for d in signals_raw.get("agency_tokens") or []),
        free_mail=frozenset(str(d) for d in signals_raw.get("free_mail_domains") or []),
    )
    return Lexicon(
        signals=tuple(specs),
        negations=tuple(
            tuple(str(p).lower().split()) for p in _flatten(signals_raw.get("negations"), "negations")
        ),
        negation_window=int(signals_raw.get("negation_window", 3)),
        not_a_demand=Matcher.build(_flatten(signals_raw.get("not_a_demand"), "not_a_demand")),
        warning_context=Matcher.build(_flatten(signals_raw.get("warning_context"), "warning_context")),
        reported_demand=Matcher.build(_flatten(signals_raw.get("reported_demand"), "reported_demand")),
        question_starts=Matcher.build(_flatten(signals_raw.get("question_starts"), "question_starts")),
        amount=amount_pattern(
            [str(c).lower() for c in currencies.get("prefix") or []],
            [str(c).lower() for c in currencies.get("suffix") or []],
            [str(c).lower() for c in currencies.get("number_words") or []],
        ),
        domains=policy,
    )


@cache
def default_lexicon() -> Lexicon:
    """The lexicon of the project's content folder, compiled once per process."""
    return load_lexicon(PROJECT_ROOT / "content")
