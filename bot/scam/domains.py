"""Web addresses and e-mails in a message, judged against the official websites of content/sources.yml.

Fake appointment sellers copy government sites ("migracion-gob.com", "citas-cbpone.online"). A link is
official only when its domain is an official one or a subdomain of it; anything else is unofficial, and
an unofficial domain dressed with government or agency words is an impersonation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_TLD = (
    r"(?:com|net|org|info|online|site|xyz|top|live|co|io|app|link|click|store|shop|website|biz|us|mx|gt|hn|sv|cr|pa"
    r"|do|ht|bz|gd|sr|int|gov|gob|gouv|ca|me|ly|gl|tk|ml|ga|cf|ee|lat|vip|club|fr|es|cc|ws|page|today|world|help)"
)
# Linear time: a match starts only where a word starts (not at every digit of a long run), and a name has
# at most 32 labels of at most 63 characters (DNS's own limit); unbounded, a run of digits or of "a.a.a…"
# was tried from each of its characters to its end (quadratic: 4,000 digits took 0.2 s).
_URL = re.compile(
    rf"(?<![a-z0-9])(?:https?://)?(?:www\.)?((?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.){{1,32}}{_TLD})"
    r"(?![a-z0-9-])(/[^\s]*)?"
)
_EMAIL = re.compile(r"(?<![a-z0-9._%+-])[a-z0-9._%+-]+@((?:[a-z0-9-]+\.)+[a-z]{2,})")  # a match starts a word


@dataclass(frozen=True)
class DomainPolicy:
    official: frozenset[str]
    messaging: frozenset[str]
    social: frozenset[str]
    agency_tokens: frozenset[str]
    free_mail: frozenset[str]

    def is_official(self, domain: str) -> bool:
        return any(domain == o or domain.endswith("." + o) for o in self.official)

    def _in(self, domain: str, group: frozenset[str]) -> bool:
        return any(domain == d or domain.endswith("." + d) for d in group)

    def looks_official(self, name: str) -> bool:
        """Whether a non-official domain or mailbox name borrows an agency's or a government's words."""
        parts = [p for p in re.split(r"[.\-_0-9]+", name) if p]
        for token in self.agency_tokens:
            if token in parts or (len(token) >= 5 and token in name):
                return True
        return bool(re.search(r"gob|gov|gouv", name))


@dataclass(frozen=True)
class Finding:
    kind: str  # "unofficial" | "lookalike" | "messaging" | "free_mail_official"
    start: int
    end: int


def domain_findings(lower: str, policy: DomainPolicy) -> list[Finding]:
    """Every link or e-mail that is a sign of fraud, with its span in the lowercase view."""
    findings: list[Finding] = []
    email_spans: list[tuple[int, int]] = []
    for match in _EMAIL.finditer(lower):
        email_spans.append(match.span())
        local = match.group(0).split("@", 1)[0]
        if match.group(1) in policy.free_mail and policy.looks_official(local):
            findings.append(Finding("free_mail_official", *match.span()))
        elif not policy.is_official(match.group(1)) and policy.looks_official(match.group(1)):
            findings.append(Finding("lookalike", *match.span()))
    for match in _URL.finditer(lower):
        if any(s <= match.start() < e for s, e in email_spans):
            continue
        raw = match.group(0)
        domain = urlsplit(raw if "://" in raw else "http://" + raw).hostname or match.group(1)
        domain = domain.removeprefix("www.")
        if not re.search(r"[a-z]", domain.split(".")[0]):
            continue  # "1.500.com"? not an address
        if policy._in(domain, policy.messaging):
            findings.append(Finding("messaging", *match.span()))
        elif policy.is_official(domain) or policy._in(domain, policy.social):
            continue
        elif policy.looks_official(domain):
            findings.append(Finding("lookalike", *match.span()))
        else:
            findings.append(Finding("unofficial", *match.span()))
    return findings


def official_links(lower: str, policy: DomainPolicy) -> int:
    """How many links point to an official website (an agency's own page is the channel warnings send to)."""
    found = 0
    for match in _URL.finditer(lower):
        raw = match.group(0)
        domain = urlsplit(raw if "://" in raw else "http://" + raw).hostname or match.group(1)
        if policy.is_official(domain.removeprefix("www.")):
            found += 1
    return found
