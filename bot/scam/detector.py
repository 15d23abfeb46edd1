"""`assess`: which signs of fraud a forwarded or described offer carries, with the words that show them.

Rules and word lists, not a trained model: C4D teams must be able to read why a message was flagged and
add this month's scam wording themselves (content/scam/*.yml). Every language's words are checked on every
message, because people forward offers in one language and ask about them in another.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot import LANGUAGES
from bot.config import PROJECT_ROOT
from bot.scam.domains import domain_findings
from bot.scam.lexicon import Lexicon, Matcher, Rule, default_lexicon
from bot.scam.text import Text, prepare
from bot.scam.verdict import Verdict, decide

Span = tuple[int, int]
MAX_CHECK_CHARS = 2000
"""The check reads an offer's first 2,000 characters (forwarded offers are far shorter): its rules cost
more than linear time on long texts of many amounts or clauses."""
BASE_SIGNALS: tuple[str, ...] = (
    "payment_for_free_procedure",
    "money_transfer_request",
    "guaranteed_outcome",
    "urgency_pressure",
    "personal_contact_only",
    "unofficial_domain",
    "document_or_photo_request",
    "skip_the_queue",
    "fake_official_impersonation",
    "legitimacy_claim",
)
_DOMAIN_SIGNALS = {
    "unofficial_domain": True,
    "fake_official_impersonation": True,
    "personal_contact_only": False,
}


@dataclass(frozen=True)
class Assessment:
    """The result of one check. `evidence` maps each signal to the short fragment that triggered it."""

    verdict: Verdict
    signals: list[str]
    evidence: dict[str, str]
    language: str
    country: str | None = None
    patterns: list[str] = field(default_factory=list)


class _Context:
    """One message ready for matching, with the checks that cancel a match (negation, warning, question)."""

    def __init__(self, text: Text, lexicon: Lexicon) -> None:
        self.text = text
        self.lexicon = lexicon
        self.amounts: list[Span] = [m.span() for m in lexicon.amount.finditer(text.lower)]
        self.warnings = lexicon.warning_context.find(text.words, [])
        self.demands = lexicon.reported_demand.find(text.words, [])
        self.not_demands = lexicon.not_a_demand.find(text.words, [])
        self._question_cache: dict[int, bool] = {}

    def _preceding_words(self, start: int, count: int) -> list[str]:
        clause = self.text.clause_at(start)
        return self.text.words[clause.start : start].split()[-count:]

    def negated(self, start: int) -> bool:
        before = self._preceding_words(start, self.lexicon.negation_window)
        for phrase in self.lexicon.negations:
            n = len(phrase)
            if any(tuple(before[i : i + n]) == phrase for i in range(len(before) - n + 1)):
                return True
        return False

    def _adjacent_negation(self, start: int) -> bool:
        before = self._preceding_words(start, 2)
        singles = {p[0] for p in self.lexicon.negations if len(p) == 1}
        return bool(before) and (before[-1] in singles or (len(before) == 2 and before[0] in singles))

    def in_warning(self, start: int) -> bool:
        clause = self.text.clause_at(start)
        return any(clause.start <= ws < start and not self._adjacent_negation(ws) for ws, _ in self.warnings)

    def asking(self, start: int) -> bool:
        """A question with no amount and no 'they asked me': a person asking, not an offer."""
        clause = self.text.clause_at(start)
        if clause.start not in self._question_cache:
            inside = lambda spans: any(clause.start <= s < clause.end for s, _ in spans)  # noqa: E731
            starts = self.lexicon.question_starts.find(self.text.words, [])
            first = len(self.text.words) - len(self.text.words[clause.start :].lstrip())
            is_question = clause.is_question or any(s == first for s, _ in starts)
            self._question_cache[clause.start] = (
                is_question and not inside(self.amounts) and not inside(self.demands)
            )
        return self._question_cache[clause.start]

    def not_a_demand(self, span: Span) -> bool:
        """Wages or the person's own plan ("me pagan 300", "m vle voye 100 dola") overlapping the match."""
        return any(s < span[1] and span[0] < e + 2 for s, e in self.not_demands)

    def cancelled(self, span: Span) -> bool:
        start = span[0]
        return self.negated(start) or self.in_warning(start) or self.asking(start) or self.not_a_demand(span)

    def hits(self, matcher: Matcher) -> list[Span]:
        return matcher.find(self.text.words, self.amounts)

    def word(self, offset: int) -> int:
        return self.text.word_index(offset)


def _rule_evidence(rule: Rule, ctx: _Context) -> Span | list[Span] | None:
    first = [h for h in ctx.hits(rule.matchers[0]) if not ctx.cancelled(h)]
    if len(rule.matchers) == 1:
        return first[0] if first else None
    others = [ctx.hits(m) for m in rule.matchers[1:]]
    for a in first:
        chosen = [a]
        for hits in others:
            near = [h for h in hits if abs(ctx.word(h[0]) - ctx.word(a[0])) <= rule.window and h != a]
            if not near:
                break
            chosen.append(min(near, key=lambda h: abs(h[0] - a[0])))
        else:
            return chosen
    return None


def _quote(text: Text, found: Span | list[Span]) -> str:
    spans = [found] if isinstance(found, tuple) else sorted(found)
    start, end = spans[0][0], max(e for _, e in spans)
    if end - start <= 70:
        return text.quote(start, end, limit=70)
    return " … ".join(text.quote(s, e, limit=35) for s, e in spans)


def _resolve_language(original: str, language: str | None) -> str:
    if language in LANGUAGES:
        return language
    from bot.nlu.language import language_identifier

    return language_identifier(PROJECT_ROOT / "intents" / "data" / "nlu").identify(original)[0]


def assess(
    text: str, language: str | None = None, country: str | None = None, lexicon: Lexicon | None = None
) -> Assessment:
    """Check one message for signs of fraud. `language` (es/en/fr/ht) is detected when not given."""
    lex = lexicon or default_lexicon()
    prepared = prepare(text[:MAX_CHECK_CHARS])
    ctx = _Context(prepared, lex)
    evidence: dict[str, str] = {}
    for spec in lex.signals:
        for rule in spec.rules:
            found = _rule_evidence(rule, ctx)
            if found is not None:
                evidence[spec.id] = _quote(prepared, found)
                break
    for finding in domain_findings(prepared.lower, lex.domains):
        quote = prepared.quote(finding.start, finding.end, limit=70)
        if finding.kind == "messaging":
            evidence.setdefault("personal_contact_only", quote)
        elif finding.kind == "unofficial":
            evidence.setdefault("unofficial_domain", quote)
        elif finding.kind == "lookalike":
            evidence.setdefault("unofficial_domain", quote)
            evidence.setdefault("fake_official_impersonation", quote)
        else:  # an agency's name on a free mailbox
            evidence.setdefault("fake_official_impersonation", quote)
    order = {sid: i for i, sid in enumerate((*BASE_SIGNALS, *lex.signal_ids))}
    signals = sorted(evidence, key=lambda s: order.get(s, len(order)))
    strong = {s.id for s in lex.signals if s.strong} | {s for s, st in _DOMAIN_SIGNALS.items() if st}
    payment = {s.id for s in lex.signals if s.payment}
    patterns = {s.id for s in lex.signals if s.pattern}
    return Assessment(
        verdict=decide(signals, strong, payment),
        signals=signals,
        evidence={s: evidence[s] for s in signals},
        language=_resolve_language(text, language),
        country=country.upper() if country else None,
        patterns=[s for s in signals if s in patterns],
    )
