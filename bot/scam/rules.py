"""The word lists at work: which signs of fraud a message carries, with the words that show them.

Rules do not decide the verdict any more (the model of bot/scam/model.py does), but they give the person the
evidence in their own words and give the model some of its features. Every language's words are checked on
every message, because people forward offers in one language and ask about them in another.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from bot.scam.domains import domain_findings
from bot.scam.lexicon import Lexicon, Matcher, Rule
from bot.scam.text import Text
from bot.scam.verdict import Verdict, decide

Span = tuple[int, int]
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
class RuleFindings:
    """What the word lists found: signals in display order, the evidence quoted for each, context counts."""

    signals: list[str]
    evidence: dict[str, str]
    patterns: list[str]
    amounts: int
    warnings: int
    reported_demand: bool
    domains: tuple[str, ...]
    verdict: Verdict
    """The lexicon-only verdict of bot/scam/verdict.py `decide` (kept as the benchmark's baseline)."""


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
        self._question_starts: list[Span] | None = None
        self._negation_phrases = frozenset(lexicon.negations)
        self._negation_singles = frozenset(p[0] for p in lexicon.negations if len(p) == 1)
        self._longest_negation = max((len(p) for p in lexicon.negations), default=1)
        self._cancelled: dict[Span, bool] = {}

    def _preceding_words(self, start: int, count: int) -> list[str]:
        clause = self.text.clause_at(start)
        # Only the last few words matter: look back a bounded number of characters (linear in length).
        low = max(clause.start, start - 40 * count)
        window = self.text.words[low:start]
        words = window.split()
        if (
            low > clause.start
            and words
            and not window[0].isspace()
            and not self.text.words[low - 1].isspace()
        ):
            words = words[1:]  # a word cut by the window is not a word
        return words[-count:]

    def negated(self, start: int) -> bool:
        before = self._preceding_words(start, self.lexicon.negation_window)
        return any(
            tuple(before[i : i + n]) in self._negation_phrases
            for n in range(1, self._longest_negation + 1)
            for i in range(len(before) - n + 1)
        )

    def _adjacent_negation(self, start: int) -> bool:
        before = self._preceding_words(start, 2)
        singles = self._negation_singles
        return bool(before) and (before[-1] in singles or (len(before) == 2 and before[0] in singles))

    def in_warning(self, start: int) -> bool:
        clause = self.text.clause_at(start)
        return any(clause.start <= ws < start and not self._adjacent_negation(ws) for ws, _ in self.warnings)

    def asking(self, start: int) -> bool:
        """A question with no amount and no 'they asked me': a person asking, not an offer."""
        clause = self.text.clause_at(start)
        if clause.start not in self._question_cache:
            inside = lambda spans: any(clause.start <= s < clause.end for s, _ in spans)  # noqa: E731
            if self._question_starts is None:
                self._question_starts = self.lexicon.question_starts.find(self.text.words, [])
            first = len(self.text.words) - len(self.text.words[clause.start :].lstrip())
            is_question = clause.is_question or any(s == first for s, _ in self._question_starts)
            self._question_cache[clause.start] = (
                is_question and not inside(self.amounts) and not inside(self.demands)
            )
        return self._question_cache[clause.start]

    def not_a_demand(self, span: Span) -> bool:
        """Wages or the person's own plan ("me pagan 300", "m vle voye 100 dola") overlapping the match."""
        return any(s < span[1] and span[0] < e + 2 for s, e in self.not_demands)

    def cancelled(self, span: Span) -> bool:
        if span not in self._cancelled:
            start = span[0]
            self._cancelled[span] = (
                self.negated(start) or self.in_warning(start) or self.asking(start) or self.not_a_demand(span)
            )
        return self._cancelled[span]

    def hits(self, matcher: Matcher) -> list[Span]:
        return matcher.find(self.text.words, self.amounts)

    def word(self, offset: int) -> int:
        return self.text.word_index(offset)


def _nearest(a: Span, hits: list[Span], words: list[int], ctx: _Context, window: int) -> Span | None:
    """The hit closest to `a` within `window` words (hits sorted by position, `words` their word indices)."""
    centre = ctx.word(a[0])
    low = bisect.bisect_left(words, centre - window)
    high = bisect.bisect_right(words, centre + window)
    near = [h for h in hits[low:high] if h != a]
    return min(near, key=lambda h: abs(h[0] - a[0])) if near else None


def _rule_evidence(rule: Rule, ctx: _Context) -> Span | list[Span] | None:
    first = (h for h in ctx.hits(rule.matchers[0]) if not ctx.cancelled(h))
    if len(rule.matchers) == 1:
        return next(first, None)
    others = [ctx.hits(m) for m in rule.matchers[1:]]
    if not all(others):
        return None
    positions = [[ctx.word(h[0]) for h in hits] for hits in others]
    for a in first:
        chosen = [a]
        for hits, words in zip(others, positions, strict=True):
            found = _nearest(a, hits, words, ctx, rule.window)
            if found is None:
                break
            chosen.append(found)
        else:
            return chosen
    return None


def _quote(text: Text, found: Span | list[Span]) -> str:
    spans = [found] if isinstance(found, tuple) else sorted(found)
    start, end = spans[0][0], max(e for _, e in spans)
    if end - start <= 70:
        return text.quote(start, end, limit=70)
    return " … ".join(text.quote(s, e, limit=35) for s, e in spans)


def find_signals(prepared: Text, lexicon: Lexicon) -> RuleFindings:
    """Run every signal's rules and the domain checks over one prepared message."""
    ctx = _Context(prepared, lexicon)
    evidence: dict[str, str] = {}
    for spec in lexicon.signals:
        for rule in spec.rules:
            found = _rule_evidence(rule, ctx)
            if found is not None:
                evidence[spec.id] = _quote(prepared, found)
                break
    kinds: list[str] = []
    for finding in domain_findings(prepared.lower, lexicon.domains):
        kinds.append(finding.kind)
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
    order = {sid: i for i, sid in enumerate((*BASE_SIGNALS, *lexicon.signal_ids))}
    signals = sorted(evidence, key=lambda s: order.get(s, len(order)))
    strong = {s.id for s in lexicon.signals if s.strong} | {s for s, st in _DOMAIN_SIGNALS.items() if st}
    payment = {s.id for s in lexicon.signals if s.payment}
    patterns = {s.id for s in lexicon.signals if s.pattern}
    return RuleFindings(
        signals=signals,
        evidence={s: evidence[s] for s in signals},
        patterns=[s for s in signals if s in patterns],
        amounts=len(ctx.amounts),
        warnings=len(ctx.warnings),
        reported_demand=bool(ctx.demands),
        domains=tuple(kinds),
        verdict=decide(signals, strong, payment),
    )
