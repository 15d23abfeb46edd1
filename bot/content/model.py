"""A content entry: one answer for one topic, language and (optional) country."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class ContentEntry:
    intent: str
    lang: str
    country: str | None
    """None for the general answer."""
    text: str
    sms: str
    source: str
    reviewed: dt.date
    review_by: dt.date
    verify: bool = False
    buttons: tuple[str, ...] = ()
    reviewed_by: str = ""
    """The office or team that last checked the entry against its source (content/reviewers.yml), never a
    person's name."""
    parity_exceptions: tuple[tuple[str, str], ...] = ()
    """(fact, reason) pairs: a link or number this entry deliberately does not share with the other
    languages' versions, so the fact-parity check lets it differ."""
    file: str = ""
    line: int = 0

    @property
    def content_id(self) -> str:
        """`<intent>` or `<intent>.<COUNTRY>`, as in the REST metadata."""
        return self.intent if self.country is None else f"{self.intent}.{self.country}"

    def is_stale(self, today: dt.date) -> bool:
        return today > self.review_by
