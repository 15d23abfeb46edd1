"""`infobot content export/import`: the live content as files a country office can commit, and a
directory of files stored as a new version (draft, or live with --publish). Both audited.

An import is checked as a whole before anything is stored: one error refuses all of it, and the live
answers do not change.
"""

from __future__ import annotations

import datetime as dt
import getpass
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot.content import live
from bot.content.check import check_content
from bot.content.loader import Problem, load_content
from bot.content.versions import EntryKey, diff, errors, live_raws, write_content
from bot.db import session_factory
from bot.db.models import AuditEntry, ContentFlag


class ImportRefused(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"import refused: the content check found {len(problems)} error(s); nothing changed")
        self.problems = problems


@dataclass(frozen=True)
class Imported:
    version: int
    status: str
    entries: list[str]


def operator() -> str:
    """Who runs the command, for the audit log (the operator's login name on this machine)."""
    try:
        return f"cli:{getpass.getuser()}"[:200]
    except (KeyError, OSError):
        return "cli"


def export_live(engine: Engine, base_dir: Path, out_dir: Path) -> int:
    """Writes the live content to `out_dir`; returns the newest live version (0: the shipped files)."""
    with session_factory(engine).begin() as session:
        seq, changes = live.live_changes(session)
        newest = live.newest_live(session)
        target = f"version:{newest} {out_dir}"[:200]
        session.add(AuditEntry(actor=operator(), action="content_export", target=target))
    write_content(base_dir, changes, out_dir)
    return newest


def import_dir(engine: Engine, base_dir: Path, source: Path, publish: bool, today: dt.date) -> Imported:
    """Checks `source`, then stores what differs from the live content as one version."""
    if not source.is_dir():
        raise FileNotFoundError(f"{source} is not a directory")
    sessions = session_factory(engine)
    problems = errors(check_content(source, today))
    if problems:
        with sessions.begin() as session:
            session.add(
                AuditEntry(actor=operator(), action="content_import_refused", target=str(source)[:200])
            )
        raise ImportRefused(problems)
    wanted = live_raws(load_content(source).entries)
    try:
        return _store(sessions, base_dir, source, wanted, publish, today)
    except ImportRefused:
        with sessions.begin() as session:
            session.add(
                AuditEntry(actor=operator(), action="content_import_refused", target=str(source)[:200])
            )
        raise


def _store(
    sessions: sessionmaker[Session],
    base_dir: Path,
    source: Path,
    wanted: dict[EntryKey, dict[str, Any]],
    publish: bool,
    today: dt.date,
) -> Imported:
    with sessions.begin() as session:
        changes = diff(live.live_state(session, base_dir), wanted)
        reason = f"import of {source}"[:2000]
        version = live.create_version(session, operator(), reason, "import", changes)
        if publish:
            version.status = "review"
            try:
                live.publish(session, version, operator(), base_dir, today)
            except live.VersionError as exc:
                raise ImportRefused(exc.problems) from exc
        action = "content_import_publish" if publish else "content_import"
        session.add(
            AuditEntry(actor=operator(), action=action, target=f"version:{version.id} {source}"[:200])
        )
        return Imported(version.id, version.status, live.content_ids(changes))


def needs_update(engine: Engine) -> list[Problem]:
    """Open "needs update" flags as warnings of `infobot content check`."""
    with session_factory(engine)() as session:
        flags = list(session.scalars(select(ContentFlag).where(ContentFlag.cleared_at.is_(None))))
    return [
        Problem(
            f"content/{f.lang}/{f.intent}.yml",
            0,
            f"'{live.entry_id(f.intent, f.key)}' needs update in {f.lang}: {f.reason} (edit it or confirm it "
            "in the console)",
            "warning",
        )
        for f in flags
    ]
