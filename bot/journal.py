"""A write-ahead journal: what must not be lost is on disk (fsynced) before anyone is told it is done.

One JSON line per entry (`{"key", "kind", "at", "data"}`), appended and fsynced; when the entry has
reached its destination (a SQL row, a reply sent) a `{"done": key}` line is appended. Replaying applies
every entry without a done line, in the order written; applying must be idempotent (keyed by `key`),
since a worker may die after applying and before marking. `compact` rewrites the file with only the
pending entries, so applied data (addresses, message text) does not stay on disk.

Several threads and worker processes share one file: every operation holds an exclusive `flock`, and
compaction writes a new file and renames it over the old one (a crash mid-way leaves the old file whole);
a writer that locked the old file notices the rename and opens the new one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import fcntl
import json
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
_FILE_THREADS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="journal")
"""Journal files have threads of their own: SQL calls hanging in the default pool (a database behind a
cut network) never delay an fsync, so "written ahead" stays fast when it matters most."""


async def in_file_thread(function: Callable[..., T], *args: Any) -> T:
    """Run journal file work (append, mark, read, compact) off the event loop, in the journal's threads."""
    return await asyncio.get_running_loop().run_in_executor(_FILE_THREADS, lambda: function(*args))


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


@dataclass(frozen=True)
class Entry:
    kind: str
    data: dict[str, Any]
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    """Unique and free of personal data: SQL remembers applied keys to make a replay idempotent."""
    at: str = field(default_factory=_now)

    @property
    def written_at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.at)


Legacy = Callable[[dict[str, Any]], Entry]
"""Turns a line written before the journal existed (no `kind`) into an entry."""


class Journal:
    def __init__(self, path: Path, legacy: Legacy | None = None) -> None:
        self.path = path
        self._legacy = legacy
        path.parent.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def _locked(self) -> Iterator[IO[str]]:
        """The file, exclusively locked; reopened if a compaction replaced it while we waited."""
        while True:
            handle = self.path.open("a+", encoding="utf-8")
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                if os.fstat(handle.fileno()).st_ino == os.stat(self.path).st_ino:
                    break
            except FileNotFoundError:
                pass
            handle.close()
        try:
            yield handle
        finally:
            handle.close()

    def append(self, *entries: Entry) -> None:
        """Write and fsync: once this returns, a crash (or a power cut) cannot lose the entries."""
        lines = "".join(json.dumps(asdict(e), ensure_ascii=False) + "\n" for e in entries)
        with self._locked() as handle:
            handle.write(lines)
            handle.flush()
            os.fsync(handle.fileno())

    def mark_done(self, *keys: str) -> None:
        """Not fsynced: a lost done line only means one more idempotent apply after a power cut."""
        if keys:
            with self._locked() as handle:
                handle.write("".join(json.dumps({"done": k}) + "\n" for k in keys))
                handle.flush()

    def pending(self) -> list[Entry]:
        """Entries not marked done, in the order written."""
        with self._locked() as handle:
            handle.seek(0)
            return [e for e in self._parse(handle.read())[0] if isinstance(e, Entry)]

    def _parse(self, text: str) -> tuple[list[Entry | str], set[str]]:
        """Pending entries (unreadable lines kept as text for an operator) and the keys marked done."""
        items: list[Entry | str] = []
        done: set[str] = set()
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                if "done" in raw:
                    done.add(str(raw["done"]))
                elif "kind" in raw:
                    items.append(Entry(**raw))
                elif self._legacy is not None:
                    items.append(self._legacy(raw))
                else:
                    raise ValueError("neither an entry nor a done mark")
            except (ValueError, TypeError, KeyError) as exc:
                log.error("unreadable journal line in %s kept for an operator: %s", self.path.name, exc)
                items.append(line)
        return [i for i in items if not isinstance(i, Entry) or i.key not in done], done

    def compact(self, drop_before: dt.datetime | None = None) -> int:
        """Rewrite the file with only the pending entries; entries written before `drop_before`
        (retention: they could not be applied for that long) are dropped and logged. Returns how many
        were dropped."""
        with self._locked() as handle:
            handle.seek(0)
            text = handle.read()
            items, done = self._parse(text)
            if not done and drop_before is None:
                return 0
            keep: list[str] = []
            dropped = 0
            for item in items:
                if isinstance(item, str):
                    keep.append(item)
                elif drop_before is not None and item.written_at < drop_before:
                    log.error(
                        "journal %s: %s entry %s dropped by retention", self.path.name, item.kind, item.key
                    )
                    dropped += 1
                else:
                    keep.append(json.dumps(asdict(item), ensure_ascii=False))
            temporary = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}")
            with temporary.open("w", encoding="utf-8") as fresh:
                fresh.write("".join(f"{line}\n" for line in keep))
                fresh.flush()
                os.fsync(fresh.fileno())
            os.replace(temporary, self.path)
            directory = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        return dropped

    def replay(self, apply: Callable[[Entry], bool], unavailable: tuple[type[Exception], ...]) -> int:
        """Apply the pending entries in order, then compact. `apply` returns True when it changed
        something (False: it was already there). An `unavailable` error (the destination is down) stops
        the replay; any other error skips that entry, which stays pending (a bad entry must not block
        the others). Returns how many entries changed something."""
        changed = 0
        for entry in self.pending():
            try:
                changed += apply(entry)
            except unavailable as exc:
                log.error(
                    "journal %s: destination unavailable (%s), replay later",
                    self.path.name,
                    type(exc).__name__,
                )
                break
            except Exception as exc:  # noqa: BLE001 - one bad entry is logged (no data) and kept
                log.error(
                    "journal %s: %s entry %s failed (%s), kept",
                    self.path.name,
                    entry.kind,
                    entry.key,
                    type(exc).__name__,
                )
                continue
            self.mark_done(entry.key)
        self.compact()
        return changed
