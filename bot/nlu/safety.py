"""Emergencies and requests for a person, recognised without the NLU server (issue 12, item 7).

While Rasa is down the dialogue can only offer the numbered menu, yet someone writing "me van a matar" or
"m an danje" must still reach the hotline. Keyword and pattern rules in es, en, fr and ht are kept as data
(safety_rules.yml, each intent with the messages it must match and the near misses it must leave alone), so
they can be extended without touching code. They are used only when the NLU server does not answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from bot.vocab.text import plain_words

RULES_FILE = Path(__file__).resolve().with_name("safety_rules.yml")
INTENTS = ("emergency", "ask_human")
"""In this order: an emergency in any language wins over a request for a person in any language."""
MAX_CHARS = 2000
"""Only the start of a message is read: bounded work whatever arrives (a cry for help is short)."""


class SafetyRulesError(ValueError):
    """The rules file is malformed; the message names the place."""


@dataclass(frozen=True)
class SafetyMatch:
    intent: str
    language: str
    pattern: str
    """The rule that matched, so a log line or a test can say which."""


@dataclass(frozen=True)
class LanguageRules:
    language: str
    spellings: Mapping[str, str]
    ignore: re.Pattern[str] | None
    patterns: Mapping[str, tuple[re.Pattern[str], ...]]
    elsewhere: tuple[re.Pattern[str], ...]
    """The danger is back home or in the past ("if I go back", "a year ago")..."""
    now: tuple[re.Pattern[str], ...]
    """...unless the message says it is happening now."""
    examples: Mapping[str, tuple[str, ...]]
    near_misses: tuple[str, ...]

    def prepare(self, text: str) -> str:
        """Normalised, phone spellings rewritten, harmless look-alikes ("matar el tiempo") cut out."""
        words = plain_words(text[:MAX_CHARS]).split()
        plain = " ".join(self.spellings.get(word, word) for word in words)
        return self.ignore.sub(" | ", plain) if self.ignore else plain

    def first(self, intent: str, prepared: str) -> re.Pattern[str] | None:
        return next((p for p in self.patterns.get(intent, ()) if p.search(prepared)), None)

    def says(self, which: tuple[re.Pattern[str], ...], prepared: str) -> bool:
        return any(p.search(prepared) for p in which)


@dataclass(frozen=True)
class SafetyRules:
    confidence: float
    """What the dialogue is told when a rule matched (above its floor for any intent)."""
    languages: tuple[LanguageRules, ...]

    def match(self, text: str) -> SafetyMatch | None:
        """The first intent (emergency before ask_human) any language's rules find in `text`.

        An emergency told as being back home or in the past ("they will kill me if I go back") becomes a
        request for a person: still escalated, without the priority-0 alarm meant for danger here and now.
        """
        prepared = [(rules, rules.prepare(text)) for rules in self.languages]
        for intent in INTENTS:
            for rules, plain in prepared:
                if (pattern := rules.first(intent, plain)) is not None:
                    if intent == "emergency" and self._elsewhere(prepared):
                        intent = "ask_human"
                    return SafetyMatch(intent, rules.language, pattern.pattern)
        return None

    @staticmethod
    def _elsewhere(prepared: list[tuple[LanguageRules, str]]) -> bool:
        if any(rules.says(rules.now, plain) for rules, plain in prepared):
            return False
        return any(rules.says(rules.elsewhere, plain) for rules, plain in prepared)

    def problems(self) -> list[str]:
        """Examples their intent misses, near misses some rule catches: the data checks itself."""
        found: list[str] = []
        for rules in self.languages:
            for intent, examples in rules.examples.items():
                for example in examples:
                    got = self.match(example)
                    if got is None or got.intent != intent:
                        found.append(
                            f"{rules.language} {intent} example not recognised: {example!r} -> {got}"
                        )
            for miss in rules.near_misses:
                if (got := self.match(miss)) is not None:
                    found.append(
                        f"{rules.language} near miss caught: {miss!r} by {got.language} {got.pattern!r}"
                    )
        return found


def _compile(pattern: object, where: str) -> re.Pattern[str]:
    if not isinstance(pattern, str) or not pattern.isascii():
        raise SafetyRulesError(
            f"{where}: a pattern must be ASCII text (messages are matched without accents)"
        )
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise SafetyRulesError(f"{where}: {exc}: {pattern!r}") from exc


def _strings(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SafetyRulesError(f"{where}: expected a list of strings")
    return tuple(value)


def _patterns(value: object, where: str) -> tuple[re.Pattern[str], ...]:
    return tuple(_compile(p, f"{where}[{i}]") for i, p in enumerate(_strings(value, where)))


def _language(language: str, data: Mapping[str, Any]) -> LanguageRules:
    spellings = data.get("spellings") or {}
    if not isinstance(spellings, dict):
        raise SafetyRulesError(f"{language}.spellings: expected a mapping of word -> spelling")
    ignore = _strings(data.get("ignore"), f"{language}.ignore")
    for i, phrase in enumerate(ignore):
        _compile(phrase, f"{language}.ignore[{i}]")
    patterns: dict[str, tuple[re.Pattern[str], ...]] = {}
    examples: dict[str, tuple[str, ...]] = {}
    for intent in INTENTS:
        section = data.get(intent) or {}
        patterns[intent] = _patterns(section.get("patterns"), f"{language}.{intent}.patterns")
        examples[intent] = _strings(section.get("examples"), f"{language}.{intent}.examples")
    emergency = data.get("emergency") or {}
    joined = re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p in ignore) + r")\b") if ignore else None
    return LanguageRules(
        language,
        {str(k): str(v) for k, v in spellings.items()},
        joined,
        patterns,
        _patterns(emergency.get("elsewhere"), f"{language}.emergency.elsewhere"),
        _patterns(emergency.get("now"), f"{language}.emergency.now"),
        examples,
        _strings(data.get("near_misses"), f"{language}.near_misses"),
    )


def load_rules(path: Path = RULES_FILE) -> SafetyRules:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SafetyRulesError(f"{path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("languages"), dict):
        raise SafetyRulesError(f"{path}: expected 'confidence' and 'languages'")
    confidence = float(data.get("confidence", 0.9))
    languages = tuple(_language(str(lang), rules or {}) for lang, rules in data["languages"].items())
    return SafetyRules(confidence, languages)


@cache
def safety_rules() -> SafetyRules:
    """The shipped rules, loaded once."""
    return load_rules()
