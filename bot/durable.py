"""What matters to a person is never lost and never claimed done before it is: escalations (emergencies
included), erasure requests, opt-outs and opt-ins. (Consented referrals have their own journal,
bot/referrals/log.py, built the same way.)

Each one is a journal entry (bot/journal.py: a local file, fsynced) before the person is answered, then
applied to SQL exactly once: the entry's key is stored in `applied_entries` in the same transaction as
the change. When the database is down the entry waits in the journal; `replay()` runs at start-up and
every minute. An opt-out or an erasure decided while Redis was down must also reach Redis (the state's
flag, or its deletion) once it is back: such entries carry `sync_store` and stay pending until it has.

`keep()` says what became of each entry, so the service tells the truth: APPLIED (in SQL now),
JOURNALED (on disk, applied as soon as the database answers), LOST (neither took it: "try again").
Opt-outs live in SQL too (`contact_preferences`, by pseudonym), so they survive the loss of Redis;
`contact_flags()` reads them, and whether staff hold the conversation, when Redis cannot say.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns.subscribers import end_subscriptions, forget_subscriptions, subscribe
from bot.db.models import AppliedEntry, ContactPreference, Escalation
from bot.journal import Entry, Journal, in_file_thread
from bot.records import PRIORITY, erase_person
from bot.state.base import ConversationStore, StoreUnavailable
from bot.state.record import read_conversation, write_conversation

log = logging.getLogger(__name__)
APPLY_SECONDS = 5.0
"""How long a turn waits for SQL before answering from the journal (the replay finishes the work)."""
FLAGS_SECONDS = 2.0
"""How long a turn waits for SQL's contact preferences when Redis cannot say (then: not known)."""
UNAVAILABLE = (OperationalError, InterfaceError, TimeoutError)
"""The database is down or unreachable: stop replaying, try again in a minute."""
LONG_AGO = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class Kept(enum.Enum):
    APPLIED = "applied"
    JOURNALED = "journaled"
    LOST = "lost"


@dataclass(frozen=True)
class ContactFlags:
    opted_out: bool
    held_by_staff: bool
    certain: bool = True
    """False when SQL could not be asked: `opted_out` then comes from this worker's memory of opt-outs
    (SQL's list, refreshed every replay, and the STOPs and STARTs this worker took since)."""


def escalation(
    conversation_id: str,
    person: str,
    channel: str,
    language: str,
    country: str | None,
    topic: str | None,
    reason: str,
) -> Entry:
    data = {
        "conversation_id": conversation_id,
        "person": person,
        "channel": channel,
        "language": language,
        "country": country,
        "topic": topic,
        "reason": reason,
    }
    return Entry("escalation", data)


def erasure(conversation_id: str, person: str, *, sync_store: bool) -> Entry:
    data = {"conversation_id": conversation_id, "person": person, "sync_store": sync_store}
    return Entry("erasure", data)


def contact_preference(conversation_id: str, person: str, *, opted_out: bool, sync_store: bool) -> Entry:
    data = {
        "conversation_id": conversation_id,
        "person": person,
        "opted_out": opted_out,
        "sync_store": sync_store,
    }
    return Entry("contact_preference", data)


def subscription(
    conversation_id: str, person: str, channel: str, address: str, data: dict[str, object] | None
) -> Entry:
    """The person subscribed to alerts in conversation (`data`: country, topics, language,
    consent_version), or ended them (`data` None)."""
    fields = {"conversation_id": conversation_id, "person": person, "channel": channel, "address": address}
    return Entry("subscription", {**fields, "alerts": data})


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes for timezone-aware columns; they were written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _apply_escalation(session: Session, entry: Entry) -> None:
    """One open escalation per person: a new reason can only raise its priority. An escalation written
    before the person's erasure request is not brought back by a late replay."""
    data = entry.data
    preference = session.get(ContactPreference, data["person"])
    if preference is not None and preference.erased_at and _aware(preference.erased_at) > entry.written_at:
        return
    priority = PRIORITY.get(data["reason"], 2)
    open_one = session.scalars(
        select(Escalation).where(Escalation.person == data["person"], Escalation.status != "closed")
    ).first()
    if open_one is not None:
        if priority < open_one.priority:
            open_one.priority, open_one.reason = priority, data["reason"]
        return
    fields = {k: data[k] for k in ("conversation_id", "person", "channel", "language", "country", "topic")}
    session.add(Escalation(**fields, reason=data["reason"], priority=priority, created_at=entry.written_at))


def _apply_preference(session: Session, entry: Entry) -> None:
    """STOP and START: the newest word wins, whatever order the entries are applied in. A STOP also
    ends every campaign subscription of the person (a START does not bring them back)."""
    if entry.data["opted_out"]:
        end_subscriptions(session, entry.data["person"], "stop", entry.written_at)
    row = session.get(ContactPreference, entry.data["person"])
    if row is None:
        opted_out = bool(entry.data["opted_out"])
        session.add(
            ContactPreference(person=entry.data["person"], opted_out=opted_out, changed_at=entry.written_at)
        )
    elif _aware(row.changed_at) <= entry.written_at:
        row.opted_out, row.changed_at = bool(entry.data["opted_out"]), entry.written_at


def _apply_erasure(session: Session, entry: Entry) -> None:
    erase_person(session, entry.data["person"], entry.data["conversation_id"])
    forget_subscriptions(session, entry.data["person"], entry.written_at)
    row = session.get(ContactPreference, entry.data["person"])
    if row is None:
        row = ContactPreference(person=entry.data["person"], opted_out=False, changed_at=LONG_AGO)
        session.add(row)
    if row.erased_at is None or _aware(row.erased_at) < entry.written_at:
        row.erased_at = entry.written_at


def _apply_subscription(session: Session, entry: Entry) -> None:
    """Consent given in conversation, with its text version; a STOP written after it wins."""
    data, person = entry.data, entry.data["person"]
    if not data["alerts"]:
        end_subscriptions(session, person, "changed", entry.written_at)
        return
    preference = session.get(ContactPreference, person)
    if preference is not None and preference.opted_out and _aware(preference.changed_at) > entry.written_at:
        return
    alerts = data["alerts"]
    subscribe(
        session,
        None,
        person=person,
        channel=data["channel"],
        address=data["address"],
        language=alerts["language"],
        country=alerts["country"],
        topics=alerts["topics"],
        consent_version=alerts["consent_version"],
        consented_at=entry.written_at,
    )


APPLY: dict[str, Callable[[Session, Entry], None]] = {
    "subscription": _apply_subscription,
    "escalation": _apply_escalation,
    "contact_preference": _apply_preference,
    "erasure": _apply_erasure,
}


class DurableRecords:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        journal: Journal,
        store: ConversationStore,
        retention_days: int = 90,
        apply_seconds: float = APPLY_SECONDS,
    ) -> None:
        self._sessions, self.journal, self._store = sessions, journal, store
        self.retention_days, self.apply_seconds = retention_days, apply_seconds
        self.pending = asyncio.Event()
        """Set when something could not be applied: the replay loop then runs within seconds."""
        self._opted_out: set[str] = set()
        """Pseudonyms known to have opted out, for when neither Redis nor SQL can say."""
        self._opt_outs_read_at: dt.datetime | None = None

    async def keep(self, entries: list[Entry]) -> dict[str, Kept]:
        """Journal (fsync), then apply to SQL, waiting at most `apply_seconds`; never raises."""
        if not entries:
            return {}
        self._remember_opt_outs(entries)
        try:
            await in_file_thread(self.journal.append, *entries)
            journaled = True
        except OSError as exc:
            log.error("journal write failed (%s): applying to SQL directly", exc.__class__.__name__)
            journaled = False
        applied: set[str] = set()
        try:
            applied = await asyncio.wait_for(asyncio.to_thread(self._apply_now, entries), self.apply_seconds)
        except TimeoutError:
            log.error(
                "database slower than %.0f s: entries stay journaled for the replay", self.apply_seconds
            )
        except Exception as exc:  # noqa: BLE001 - whatever failed, the journal still holds the entries
            log.error(
                "database unavailable (%s): entries stay journaled for the replay", exc.__class__.__name__
            )
        otherwise = Kept.JOURNALED if journaled else Kept.LOST
        if len(applied) < len(entries):
            self.pending.set()
        return {e.key: Kept.APPLIED if e.key in applied else otherwise for e in entries}

    def _remember_opt_outs(self, entries: list[Entry]) -> None:
        for entry in entries:
            if entry.kind == "contact_preference":
                person = entry.data["person"]
                (self._opted_out.add if entry.data["opted_out"] else self._opted_out.discard)(person)

    def _apply_now(self, entries: list[Entry]) -> set[str]:
        """Apply in order; mark done those that need nothing more (not the store either)."""
        applied = set()
        for entry in entries:
            self._apply(entry)
            applied.add(entry.key)
        self.journal.mark_done(*(e.key for e in entries if not e.data.get("sync_store")))
        return applied

    def _apply(self, entry: Entry) -> bool:
        """Exactly once: False when the key was applied before (by this worker or another)."""
        with self._sessions.begin() as session:
            if session.get(AppliedEntry, entry.key) is not None:
                return False
            APPLY[entry.kind](session, entry)
            session.add(AppliedEntry(key=entry.key))
        return True

    async def replay(self) -> int:
        """Apply every pending entry in the order written (SQL, then the store where needed), mark them
        done and compact the journal; entries older than the retention period are dropped. `pending`
        stays set while the database or the store could not take an entry (the loop retries within
        seconds), not for an entry that fails by itself. Returns how many entries were finished."""
        finished: list[str] = []
        waiting = False
        for entry in await in_file_thread(self.journal.pending):
            try:
                await asyncio.wait_for(asyncio.to_thread(self._apply, entry), 30)
            except UNAVAILABLE as exc:
                log.error("journal replay stopped, database unavailable (%s)", exc.__class__.__name__)
                waiting = True
                break
            except Exception as exc:  # noqa: BLE001 - a bad entry must not block the others; it is kept
                log.error(
                    "journal %s entry %s failed (%s), kept", entry.kind, entry.key, exc.__class__.__name__
                )
                continue
            if entry.data.get("sync_store"):
                try:
                    await self._sync_store(entry)
                except StoreUnavailable:
                    waiting = True
                    continue  # SQL has it; the store gets it on a later replay
            finished.append(entry.key)
        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=self.retention_days)
        await in_file_thread(self.journal.mark_done, *finished)
        await in_file_thread(self.journal.compact, cutoff)
        (self.pending.set if waiting else self.pending.clear)()
        left = await in_file_thread(self.journal.pending)
        await self._read_opt_outs(left)
        if finished:
            log.info("journal replay: %d entr%s applied", len(finished), "y" if len(finished) == 1 else "ies")
        return len(finished)

    async def _sync_store(self, entry: Entry) -> None:
        """What Redis missed while it was down: the erased conversation goes, the opt-out flag follows
        SQL (newest word wins). A conversation Redis no longer has is read from SQL when it returns."""
        conversation_id = entry.data["conversation_id"]
        if entry.kind == "erasure":
            await self._store.drop(conversation_id)
            return
        flags = await asyncio.to_thread(self._flags, entry.data["person"])
        async with self._store.lock(conversation_id):
            kept = await read_conversation(self._store, conversation_id)
            if kept is None:
                return
            kept.contact.opted_out = flags.opted_out
            await write_conversation(self._store, conversation_id, kept)

    async def _read_opt_outs(self, pending: list[Entry]) -> None:
        """Refresh the memory of opt-outs from SQL (what changed since the last read, all of it the first
        time), then this worker's STOPs and STARTs not yet applied."""
        since = self._opt_outs_read_at
        started = dt.datetime.now(dt.UTC)
        try:
            changed = await asyncio.wait_for(asyncio.to_thread(self._opt_outs_since, since), 30)
        except (SQLAlchemyError, TimeoutError) as exc:
            log.error("opt-outs not refreshed (%s)", exc.__class__.__name__)
            return
        for person, opted_out in changed:
            (self._opted_out.add if opted_out else self._opted_out.discard)(person)
        self._remember_opt_outs(pending)
        self._opt_outs_read_at = started - dt.timedelta(minutes=5)  # margin: clocks, slow commits

    def _opt_outs_since(self, since: dt.datetime | None) -> list[tuple[str, bool]]:
        query = select(ContactPreference.person, ContactPreference.opted_out)
        if since is None:
            query = query.where(ContactPreference.opted_out.is_(True))
        else:
            query = query.where(ContactPreference.changed_at >= since)
        with self._sessions() as session:
            return [(person, bool(opted_out)) for person, opted_out in session.execute(query)]

    async def contact_flags(self, person: str) -> ContactFlags:
        """What SQL knows of the person (opted out, held by staff); when the database cannot say, this
        worker's memory of opt-outs (`certain` False)."""
        try:
            return await asyncio.wait_for(asyncio.to_thread(self._flags, person), FLAGS_SECONDS)
        except (SQLAlchemyError, TimeoutError) as exc:
            log.error("contact preferences unavailable (%s): from memory", exc.__class__.__name__)
            return ContactFlags(opted_out=person in self._opted_out, held_by_staff=False, certain=False)

    def _flags(self, person: str) -> ContactFlags:
        with self._sessions() as session:
            opted_out = session.scalar(
                select(ContactPreference.opted_out).where(ContactPreference.person == person)
            )
            held = session.scalar(
                select(Escalation.id)
                .where(Escalation.person == person, Escalation.status == "claimed")
                .limit(1)
            )
        return ContactFlags(opted_out=bool(opted_out), held_by_staff=held is not None)
