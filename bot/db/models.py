"""The SQL schema: referrals, escalations, transcripts, staff, audit, delivery and analytics records.

Phone numbers and chat ids appear only where the service must reach the person again (an open
escalation's `conversation_id`, `<channel>:<address>`; dead letters until retention); everywhere else
people are known by a keyed-hash pseudonym.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Referral(Base):
    __tablename__ = "referrals"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    service: Mapped[str] = mapped_column(String(40), index=True)
    hub_id: Mapped[str] = mapped_column(String(80), index=True)
    country: Mapped[str] = mapped_column(String(2), index=True)
    language: Mapped[str] = mapped_column(String(2))
    channel: Mapped[str] = mapped_column(String(20))
    person: Mapped[str] = mapped_column(String(40), index=True)
    consent_version: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="new")
    sex: Mapped[str | None] = mapped_column(String(20), nullable=True)
    age_group: Mapped[str | None] = mapped_column(String(20), nullable=True)
    history: Mapped[list[ReferralStatus]] = relationship(
        back_populates="referral", order_by="ReferralStatus.id"
    )


class ReferralStatus(Base):
    __tablename__ = "referral_status_history"
    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(120))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    referral: Mapped[Referral] = relationship(back_populates="history")


class Escalation(Base):
    __tablename__ = "escalations"
    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(160), index=True)
    """`<channel>:<address>`: needed to reply through the person's channel; erased on close + retention."""
    person: Mapped[str] = mapped_column(String(40), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(2))
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    topic: Mapped[str | None] = mapped_column(String(40), nullable=True)
    reason: Mapped[str] = mapped_column(String(40))
    priority: Mapped[int] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(40), nullable=True)
    handover_pending: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    """The store was down when staff claimed or closed: its quiet flag still has to follow `status`."""


class TranscriptMessage(Base):
    __tablename__ = "transcript_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    person: Mapped[str] = mapped_column(String(40), index=True)
    direction: Mapped[str] = mapped_column(String(10))
    """in (from the person), bot, staff, note (internal, never sent)."""
    author: Mapped[str | None] = mapped_column(String(120), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)


class MediaReference(Base):
    """A voice note or file sent into a conversation staff hold: the provider's handle to it (Twilio media
    URL, Telegram file_id, Cloud API media id), never the bytes. The console fetches it for logged-in staff
    with the provider's credentials; retention and erasure delete it with the transcript."""

    __tablename__ = "media_references"
    id: Mapped[int] = mapped_column(primary_key=True)
    person: Mapped[str] = mapped_column(String(40), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    adapter: Mapped[str] = mapped_column(String(20))
    """Which provider holds it: twilio, telegram or whatsapp_cloud."""
    kind: Mapped[str] = mapped_column(String(20))
    content_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    ref: Mapped[str] = mapped_column(String(600))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)


class StaffUser(Base):
    __tablename__ = "staff_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ConsoleSession(Base):
    """One console login, checked on every request: logout, removal, a role change or a password reset
    ends it at once, whatever copy of the cookie is still around."""

    __tablename__ = "console_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """SHA-256 of the token in the (signed) cookie: the table alone cannot be used to log in."""
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)


class LoginFailure(Base):
    """Failed console logins counted per (typed account, client address) and per address (account ""),
    both as keyed hashes: unknown e-mails count like real ones, and an attacker's address is locked without
    locking the real agent out from theirs."""

    __tablename__ = "login_failures"
    __table_args__ = (UniqueConstraint("account", "address"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str | None] = mapped_column(String(200), nullable=True)


class DeadLetter(Base):
    __tablename__ = "dead_letters"
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    conversation_id: Mapped[str] = mapped_column(String(160), index=True)
    """Address and text are personal data: erased on request, purged after the retention period."""
    body: Mapped[str] = mapped_column(Text)
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class DeliveryStatus(Base):
    __tablename__ = "delivery_status"
    provider_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    error_code: Mapped[str | None] = mapped_column(String(20), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=_now, onupdate=func.now()
    )


class MessageEvent(Base):
    """One handled message, for the monthly report (people reached, questions by topic)."""

    __tablename__ = "message_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    person: Mapped[str] = mapped_column(String(40), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(2))
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    intent: Mapped[str | None] = mapped_column(String(40), nullable=True)


class UnansweredQuestion(Base):
    """A message the bot did not understand, masked, so C4D teams see what to write next."""

    __tablename__ = "unanswered_questions"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    person: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(2), index=True)
    text: Mapped[str] = mapped_column(Text)


class ScamReport(Base):
    """An offer a person reported as a possible scam; personal data masked before it is stored."""

    __tablename__ = "scam_reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    person: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(2), nullable=True, index=True)
    language: Mapped[str] = mapped_column(String(2))
    verdict: Mapped[str] = mapped_column(String(20))
    signals: Mapped[str] = mapped_column(Text)
    """Comma-separated signal ids, as the detector named them."""
    text: Mapped[str] = mapped_column(Text)


class ContactPreference(Base):
    """Whether a person may be written to: kept in SQL so an opt-out survives the loss of Redis."""

    __tablename__ = "contact_preferences"
    person: Mapped[str] = mapped_column(String(40), primary_key=True)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    """When the person last wrote STOP or START: the newest word wins, in whatever order they arrive."""
    erased_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    """The person's last erasure request: what was journaled before it is not applied after it."""


class AppliedEntry(Base):
    """Keys of write-ahead journal entries already applied (bot/journal.py): a replay applies none twice."""

    __tablename__ = "applied_entries"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    applied_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)


class DeliveryClaim(Base):
    """A provider's delivery being answered (token, until) or answered (token None), kept two days: the
    dedupe that outlives a Redis restart, and the claims while Redis is down (bot/state/sql_deliveries.py)."""

    __tablename__ = "delivery_claims"
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    """`<channel>:<provider message id>`: no address, no text."""
    token: Mapped[str | None] = mapped_column(String(40), nullable=True)
    until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)


class ContentVersion(Base):
    """One change to the answers after the shipped content/ baseline (issue 17): who, when, why, which
    entries (their full new fields, per language) and where it stands. Live ones apply in `published_seq`
    order; every worker polls the highest `published_seq` to know when to rebuild its answers."""

    __tablename__ = "content_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    author: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))
    """edit, import, rollback."""
    status: Mapped[str] = mapped_column(String(20), index=True)
    """draft, review (submitted), live, rejected."""
    changes: Mapped[str] = mapped_column(Text)
    """JSON list of {"lang", "intent", "key", "entry"}: the entry's fields as in the YAML, null = removed."""
    entries: Mapped[str] = mapped_column(Text, default="")
    """The content ids changed, comma-separated (for lists and the history of one entry)."""
    approved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    published_seq: Mapped[int | None] = mapped_column(Integer, nullable=True, unique=True)


class ContentFlag(Base):
    """A language of an entry marked "needs update" because another language's text changed; open until an
    editor confirms or edits that language."""

    __tablename__ = "content_flags"
    id: Mapped[int] = mapped_column(primary_key=True)
    intent: Mapped[str] = mapped_column(String(40), index=True)
    key: Mapped[str] = mapped_column(String(10))
    """'general' or a country code."""
    lang: Mapped[str] = mapped_column(String(2))
    version_id: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    cleared_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)
    cleared_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class LabelledExample(Base):
    """A missed question an editor labelled with a taxonomy intent (or "not a question"), masked of personal
    data before it was stored; waits for review, then becomes training data when accepted."""

    __tablename__ = "labelled_examples"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    language: Mapped[str] = mapped_column(String(2))
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str] = mapped_column(String(40))
    labelled_by: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    """pending, accepted, rejected."""
    reviewed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class NluRetrain(Base):
    """One retrain with labelled examples: the old and new model's scores, and whether it was swapped in."""

    __tablename__ = "nlu_retrains"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    actor: Mapped[str] = mapped_column(String(200))
    examples: Mapped[int] = mapped_column(Integer)
    comparison: Mapped[str] = mapped_column(Text)
    """JSON: accuracy and wrong-answer rate per language, before and after."""
    swapped: Mapped[bool] = mapped_column(Boolean, default=False)
    model: Mapped[str | None] = mapped_column(String(200), nullable=True)


class Subscription(Base):
    """One person's opt-in to campaign alerts (issue 16): consent with the text version they agreed to.

    `address` is the one copy of the phone number / chat id campaigns need to reach the person; reports
    and logs use `person` (the keyed pseudonym of `<channel>:<address>`) only."""

    __tablename__ = "subscriptions"
    id: Mapped[int] = mapped_column(primary_key=True)
    person: Mapped[str] = mapped_column(String(40), unique=True)
    channel: Mapped[str] = mapped_column(String(20), index=True)
    """whatsapp, sms or telegram (the conversation channel)."""
    address: Mapped[str] = mapped_column(String(128))
    """As the channel's conversation id writes it: `+50688887777`, a Telegram chat id."""
    language: Mapped[str] = mapped_column(String(2), index=True)
    country: Mapped[str] = mapped_column(String(2), index=True)
    topics: Mapped[str] = mapped_column(String(200))
    """`;`-separated alert topics (bot/campaigns/topics.py)."""
    consent_version: Mapped[str] = mapped_column(String(20))
    consented_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    source: Mapped[str] = mapped_column(String(20), default="conversation")
    """conversation or import."""
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)
    """stop (the person wrote STOP), carrier_stop (Twilio 21610), blocked (Telegram 403), changed."""


class Campaign(Base):
    """A broadcast: its spec (audience, messages, WhatsApp templates) as JSON, and who approved it."""

    __tablename__ = "campaigns"
    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    spec: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    """draft, approved, sending, done."""
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    created_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    scheduled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CampaignRecipient(Base):
    """One (campaign, subscriber): the idempotency key that makes sending exactly-once, and its outcome.

    pending → claimed (a worker's token until `claimed_until`) → sending → sent | failed | skipped;
    `sending` left behind by a dead worker goes back to pending *in doubt*: before sending again, the
    provider is asked whether it already took the message (Twilio's message list); where it cannot say
    (Telegram keeps no such list) the recipient becomes `unknown` — never sent twice; counted."""

    __tablename__ = "campaign_recipients"
    __table_args__ = (Index("ix_campaign_recipients_work", "campaign_id", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"))
    person: Mapped[str] = mapped_column(String(40), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(2))
    country: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    reason: Mapped[str | None] = mapped_column(String(60), nullable=True)
    """Why failed or skipped: `twilio_21610`, `telegram_403`, `outside_window_no_template`, `opted_out`..."""
    template: Mapped[bool] = mapped_column(Boolean, default=False)
    claim_token: Mapped[str | None] = mapped_column(String(40), nullable=True)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    """A retry's earliest time (backoff, Retry-After)."""
    provider_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    in_doubt_since: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    """An earlier send may have reached the provider (a crash mid-send, a timeout): since when."""
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
