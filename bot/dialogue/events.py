"""What the dialogue decided that the service must act on or count: one type per kind of event.

The service dispatches them in one place (`bot/service.py`, `effects_of`): what must be kept before the
person is told (escalations, erasures, opt-outs and opt-ins, consented referrals) is written ahead there;
the recorder (bot/records.py) counts the rest. `name` is the stable label used in logs and metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class DialogueEvent:
    name: ClassVar[str] = "event"


@dataclass(frozen=True)
class OptedOut(DialogueEvent):
    """STOP: nothing more is sent until START (the contact records it)."""

    name: ClassVar[str] = "opted_out"


@dataclass(frozen=True)
class OptedIn(DialogueEvent):
    name: ClassVar[str] = "opted_in"


@dataclass(frozen=True)
class ErasureRequested(DialogueEvent):
    name: ClassVar[str] = "erasure_requested"


@dataclass(frozen=True)
class Suppressed(DialogueEvent):
    """A message from a person who opted out: read, not answered."""

    name: ClassVar[str] = "suppressed"


@dataclass(frozen=True)
class ForStaff(DialogueEvent):
    """A message in a conversation staff hold: the bot stays quiet."""

    name: ClassVar[str] = "for_staff"


@dataclass(frozen=True)
class NluUnavailable(DialogueEvent):
    name: ClassVar[str] = "nlu_unavailable"


@dataclass(frozen=True)
class CountrySet(DialogueEvent):
    name: ClassVar[str] = "country_set"
    country: str
    source: str = "person"
    """person (chosen or named) or location (a shared pin clearly inside the country)."""


@dataclass(frozen=True)
class LocationShared(DialogueEvent):
    """A pin was answered. Neither its coordinates nor any distance: only the country it is clearly in
    (None at a border, at sea or abroad) and the hubs listed (or, in a referral, that one was proposed)."""

    name: ClassVar[str] = "location_shared"
    country: str | None
    hubs: tuple[str, ...] = ()
    referral: bool = False


@dataclass(frozen=True)
class AttachmentReceived(DialogueEvent):
    """A voice note, photo, document, sticker, contact or reaction: answered kindly, never read as text."""

    name: ClassVar[str] = "attachment_received"
    kind: str


@dataclass(frozen=True)
class AttachmentForStaff(DialogueEvent):
    """A voice note or file staff may need: its provider reference is kept for the console (bot/records.py,
    media_references) when staff hold the conversation or an escalation of the person waits for them,
    under the transcript's retention and erasure; otherwise it is dropped."""

    name: ClassVar[str] = "attachment_for_staff"
    kind: str
    content_type: str | None
    ref: str


@dataclass(frozen=True)
class EscalationRequested(DialogueEvent):
    """A person is needed; `reason` is asked, emergency, trafficking or repeated_fallback."""

    name: ClassVar[str] = "escalation_requested"
    reason: str
    priority: str = "normal"


@dataclass(frozen=True)
class Fallback(DialogueEvent):
    """Not understood: the message joins the unanswered questions C4D teams read."""

    name: ClassVar[str] = "fallback"
    language: str | None
    count: int


@dataclass(frozen=True)
class ScamAssessed(DialogueEvent):
    name: ClassVar[str] = "scam_assessed"
    verdict: str
    signals: tuple[str, ...]


@dataclass(frozen=True)
class ScamReported(DialogueEvent):
    """The person reported the offer they asked about; `text` is already masked of personal data."""

    name: ClassVar[str] = "scam_reported"
    text: str
    verdict: str | None
    signals: tuple[str, ...]


@dataclass(frozen=True)
class ContentMissing(DialogueEvent):
    name: ClassVar[str] = "content_missing"
    intent: str
    language: str


@dataclass(frozen=True)
class Answered(DialogueEvent):
    name: ClassVar[str] = "answered"
    intent: str
    content_id: str
    stale: bool


@dataclass(frozen=True)
class ReferralConsented(DialogueEvent):
    """Consent given: the referral is logged (written ahead) before the person gets the code."""

    name: ClassVar[str] = "referral_consented"
    code: str
    idempotency_key: str
    hub_id: str
    service: str
    country: str
    consent_version: str


@dataclass(frozen=True)
class ReferralDisaggregated(DialogueEvent):
    """An optional answer (sex or age band) for the referral's statistics."""

    name: ClassVar[str] = "referral_disaggregated"
    code: str
    sex: str | None = None
    age: str | None = None


@dataclass(frozen=True)
class AlertsSubscribed(DialogueEvent):
    """Consent to campaign alerts (issue 16): journaled before the person is told they are subscribed."""

    name: ClassVar[str] = "alerts_subscribed"
    country: str
    topics: tuple[str, ...]
    language: str
    consent_version: str

    def consented(self) -> dict[str, Any]:
        """What the subscription keeps (bot/campaigns/subscribers.py)."""
        return {
            "country": self.country,
            "topics": list(self.topics),
            "language": self.language,
            "consent_version": self.consent_version,
        }


@dataclass(frozen=True)
class AlertsEnded(DialogueEvent):
    """The person stopped their alerts (STOP, which ends everything, is OptedOut)."""

    name: ClassVar[str] = "alerts_ended"
    reason: str
