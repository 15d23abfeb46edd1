"""Content versions in SQL: draft, review by a second editor, live, rollback; "needs update" flags.

The shipped content/ files are the baseline (version 0). Every later change is a row of content_versions;
the live content is the baseline with the live versions' changes applied in `published_seq` order. A worker
polls the highest `published_seq` (one indexed aggregate) every second and rebuilds its answers when it
moved, so a version published on one worker is answered by all within a few seconds, without a restart.
Nothing goes live before the content check's rules pass on the whole candidate.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot import LANGUAGES
from bot.content.library import ContentSource
from bot.content.loader import Problem, load_content
from bot.content.versions import Changes, EntryKey, check_changes, errors, live_raws, merge
from bot.db.models import ContentFlag, ContentVersion

log = logging.getLogger(__name__)
SELF_APPROVAL = "an author never approves their own change: another editor must approve it"


class VersionError(Exception):
    """A version that cannot move on; `problems` holds the content check's errors when there are any."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


def to_json(changes: Changes) -> str:
    rows = [{"lang": k[0], "intent": k[1], "key": k[2], "entry": v} for k, v in sorted(changes.items())]
    return json.dumps(rows, ensure_ascii=False, sort_keys=True)


def from_json(text: str) -> Changes:
    return {(r["lang"], r["intent"], r["key"]): r["entry"] for r in json.loads(text)}


def content_ids(changes: Changes) -> list[str]:
    """The entries changed, as `intent` or `intent.CC` (languages folded together)."""
    ids = {intent if key == "general" else f"{intent}.{key}" for _, intent, key in changes}
    return sorted(ids)


def live_seq(session: Session) -> int:
    return int(session.scalar(select(func.max(ContentVersion.published_seq))) or 0)


def newest_live(session: Session) -> int:
    """The id of the version that went live last (0: only the shipped files)."""
    query = select(ContentVersion.id).where(ContentVersion.published_seq.is_not(None))
    return int(session.scalar(query.order_by(ContentVersion.published_seq.desc()).limit(1)) or 0)


def _live_versions(session: Session, up_to: int | None = None) -> list[ContentVersion]:
    query = select(ContentVersion).where(ContentVersion.published_seq.is_not(None))
    if up_to is not None:
        query = query.where(ContentVersion.published_seq <= up_to)
    return list(session.scalars(query.order_by(ContentVersion.published_seq)))


def live_changes(session: Session, up_to: int | None = None) -> tuple[int, Changes]:
    """(the newest published_seq, every live version's changes merged in order)."""
    versions = _live_versions(session, up_to)
    merged = merge(*(from_json(v.changes) for v in versions))
    return (versions[-1].published_seq or 0) if versions else 0, merged


def live_state(session: Session, base_dir: Path) -> dict[EntryKey, dict[str, Any]]:
    """Every live entry's fields (baseline with the live versions applied)."""
    raws = live_raws(load_content(base_dir).entries)
    for key, raw in live_changes(session)[1].items():
        if raw is None:
            raws.pop(key, None)
        else:
            raws[key] = raw
    return raws


def create_version(
    session: Session, author: str, reason: str, kind: str, changes: Changes, status: str = "draft"
) -> ContentVersion:
    version = ContentVersion(
        author=author,
        reason=reason.strip()[:2000] or "(no reason given)",
        kind=kind,
        status=status,
        changes=to_json(changes),
        entries=",".join(content_ids(changes)),
    )
    session.add(version)
    session.flush()
    return version


def _get(session: Session, version_id: int) -> ContentVersion:
    version = session.get(ContentVersion, version_id, with_for_update=True)
    if version is None:
        raise VersionError(f"there is no content version {version_id}")
    return version


def submit(session: Session, version_id: int, actor: str) -> ContentVersion:
    version = _get(session, version_id)
    if version.status != "draft":
        raise VersionError(f"version {version_id} is {version.status}, not a draft")
    version.status = "review"
    return version


def reject(session: Session, version_id: int, actor: str) -> ContentVersion:
    version = _get(session, version_id)
    if version.status not in ("draft", "review"):
        raise VersionError(f"version {version_id} is {version.status}: only drafts and submitted ones")
    version.status, version.approved_by = "rejected", actor
    return version


def approve(
    session: Session, version_id: int, approver: str, base_dir: Path, today: dt.date
) -> ContentVersion:
    """A second editor's approval makes a submitted version live (after the check)."""
    version = _get(session, version_id)
    if version.status != "review":
        raise VersionError(f"version {version_id} is {version.status}: submit it for review first")
    if version.author == approver:
        raise VersionError(SELF_APPROVAL)
    return publish(session, version, approver, base_dir, today)


def publish(
    session: Session, version: ContentVersion, actor: str, base_dir: Path, today: dt.date
) -> ContentVersion:
    """Checks the live content with this version applied; live only when the check finds no error."""
    seq, live = live_changes(session)
    changes = from_json(version.changes)
    problems = errors(check_changes(base_dir, merge(live, changes), today))
    if problems:
        raise VersionError(f"the content check found {len(problems)} error(s): nothing went live", problems)
    before = live_state(session, base_dir)
    version.status, version.approved_by = "live", actor
    version.published_at, version.published_seq = dt.datetime.now(dt.UTC), seq + 1
    session.flush()  # a concurrent publish with the same seq fails here (unique), never both
    if version.kind == "rollback":
        _clear_flags(session, changes, actor)
    else:
        _flag_translations(session, version, changes, before, actor)
    return version


def _text_changed(before: dict[str, Any] | None, after: dict[str, Any] | None) -> bool:
    fields = ("text", "sms")
    return any((before or {}).get(f) != (after or {}).get(f) for f in fields)


def _open_flags(session: Session, intent: str, key: str) -> dict[str, ContentFlag]:
    query = select(ContentFlag).where(
        ContentFlag.intent == intent, ContentFlag.key == key, ContentFlag.cleared_at.is_(None)
    )
    return {flag.lang: flag for flag in session.scalars(query)}


def _flag_translations(
    session: Session,
    version: ContentVersion,
    changes: Changes,
    before: dict[EntryKey, dict[str, Any]],
    actor: str,
) -> None:
    """Languages whose text changed clear their flag; the entry's other languages get one."""
    now = dt.datetime.now(dt.UTC)
    for intent, key in sorted({(i, k) for _, i, k in changes}):
        changed = [
            lang
            for lang in LANGUAGES
            if (lang, intent, key) in changes
            and _text_changed(before.get((lang, intent, key)), changes[(lang, intent, key)])
        ]
        if not changed:
            continue
        flags = _open_flags(session, intent, key)
        for lang in changed:
            if lang in flags:
                flags[lang].cleared_at, flags[lang].cleared_by = now, actor
        for lang in LANGUAGES:
            if lang not in changed and lang not in flags:
                session.add(
                    ContentFlag(
                        intent=intent,
                        key=key,
                        lang=lang,
                        version_id=version.id,
                        reason=f"{', '.join(changed)} changed in version {version.id}",
                    )
                )


def _clear_flags(session: Session, changes: Changes, actor: str) -> None:
    """A rollback restores the four languages together: their flags from later edits go."""
    now = dt.datetime.now(dt.UTC)
    for intent, key in {(i, k) for _, i, k in changes}:
        for flag in _open_flags(session, intent, key).values():
            flag.cleared_at, flag.cleared_by = now, actor


def confirm(session: Session, intent: str, key: str, lang: str, actor: str) -> bool:
    """An editor says this language still says the same as the changed one. False when nothing was open."""
    flag = _open_flags(session, intent, key).get(lang)
    if flag is None:
        return False
    flag.cleared_at, flag.cleared_by = dt.datetime.now(dt.UTC), actor
    return True


def open_flags(session: Session) -> list[ContentFlag]:
    query = select(ContentFlag).where(ContentFlag.cleared_at.is_(None))
    return list(session.scalars(query.order_by(ContentFlag.intent, ContentFlag.key, ContentFlag.lang)))


def entry_id(intent: str, key: str) -> str:
    return intent if key == "general" else f"{intent}.{key}"


def history(session: Session, intent: str, key: str) -> list[ContentVersion]:
    """Every version that touched this entry, newest first (drafts included)."""
    wanted = entry_id(intent, key)
    query = select(ContentVersion).where(ContentVersion.entries.contains(wanted))
    return [
        v for v in session.scalars(query.order_by(ContentVersion.id.desc())) if wanted in v.entries.split(",")
    ]


def entry_at(session: Session, base_dir: Path, intent: str, key: str, seq: int) -> dict[str, Any]:
    """The entry's four languages as they were live right after `published_seq` = seq (0: the files)."""
    base = live_raws(load_content(base_dir).entries)
    state: dict[str, Any] = {lang: base.get((lang, intent, key)) for lang in LANGUAGES}
    for (lang, i, k), raw in live_changes(session, up_to=seq)[1].items():
        if (i, k) == (intent, key):
            state[lang] = raw
    return state


def rollback(
    session: Session, intent: str, key: str, to_version: int, actor: str, base_dir: Path, today: dt.date
) -> ContentVersion:
    """A new live version giving the entry back the four languages it had when `to_version` was live."""
    if to_version == 0:
        seq = 0
    else:
        target = session.get(ContentVersion, to_version)
        if target is None or target.published_seq is None:
            raise VersionError(f"version {to_version} was never live: nothing to go back to")
        seq = target.published_seq
    wanted = entry_at(session, base_dir, intent, key, seq)
    current = live_state(session, base_dir)
    changes: Changes = {
        (lang, intent, key): raw for lang, raw in wanted.items() if current.get((lang, intent, key)) != raw
    }
    if not changes:
        raise VersionError(f"{entry_id(intent, key)} already reads as it did in version {to_version}")
    reason = f"rollback of {entry_id(intent, key)} to version {to_version}"
    version = create_version(session, actor, reason, "rollback", changes, status="review")
    return publish(session, version, actor, base_dir, today)


@dataclass
class LivePoller:
    """Keeps a worker's ContentSource on the live version (run in a thread: SQL is synchronous)."""

    source: ContentSource
    sessions: sessionmaker[Session]

    def poll(self) -> bool:
        """True when a new live version was loaded."""
        with self.sessions() as session:
            seq = live_seq(session)
            if seq == self.source.version:
                return False
            seq, changes = live_changes(session)
        self.source.set_live(seq, changes)
        return True
