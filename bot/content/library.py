"""The answers in memory, looked up by topic, language and country, reloaded atomically on edits."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from bot.content.loader import LoadResult, Problem, load_content
from bot.content.model import ContentEntry
from bot.content.versions import Changes, apply

log = logging.getLogger(__name__)


class ContentLibrary:
    """An immutable index of entries."""

    def __init__(self, entries: list[ContentEntry]) -> None:
        self._index = {(e.intent, e.lang, e.country): e for e in entries}

    def __len__(self) -> int:
        return len(self._index)

    def lookup(self, intent: str, lang: str, country: str | None) -> ContentEntry | None:
        """The country's answer, else the general one, in that language only (never another language)."""
        if country is not None:
            entry = self._index.get((intent, lang, country))
            if entry is not None:
                return entry
        return self._index.get((intent, lang, None))

    def entries(self) -> list[ContentEntry]:
        return list(self._index.values())


def _errors(result: LoadResult) -> list[Problem]:
    return [p for p in result.problems if p.severity == "error"]


class ContentSource:
    """Holds the live library; `current()` re-reads the files when they changed (hot reload).

    A broken edit never replaces working content: the old library stays and the problem is logged.
    """

    def __init__(self, content_dir: Path, check_interval: float = 1.0) -> None:
        self._dir = content_dir
        self._interval = check_interval
        self._lock = threading.Lock()
        self._stamp = self._fingerprint()
        self._checked_at = time.monotonic()
        result = load_content(content_dir)
        for problem in _errors(result):
            log.error("content problem: %s", problem)
        self._base = result.entries
        self._overlay: Changes = {}
        self.version = 0
        """The live content version (0: the shipped files only; bot/content/live.py)."""
        self._library = ContentLibrary(result.entries)
        self.last_problems: list[Problem] = _errors(result)

    @property
    def content_dir(self) -> Path:
        return self._dir

    def set_live(self, version: int, changes: Changes) -> None:
        """The published versions' changes over the files: swapped in at once for the next lookup."""
        with self._lock:
            library = ContentLibrary(apply(self._base, changes))
            self._overlay, self.version, self._library = changes, version, library
        log.info("content version %d live: %d entries", version, len(library))

    def _fingerprint(self) -> tuple[tuple[str, int, int], ...]:
        files = sorted(self._dir.glob("*/*.y*ml"))
        return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files if p.exists())

    def reload(self) -> list[Problem]:
        """Load every file again; swap only when there is no error. Returns the errors found."""
        with self._lock:
            self._stamp = self._fingerprint()
            result = load_content(self._dir)
            errors = _errors(result)
            self.last_problems = errors
            if errors:
                for problem in errors:
                    log.error("content edit refused, keeping the previous answers: %s", problem)
                return errors
            self._base = result.entries
            self._library = ContentLibrary(apply(result.entries, self._overlay))
            log.info("content reloaded: %d entries", len(self._library))
            return []

    def current(self) -> ContentLibrary:
        now = time.monotonic()
        if now - self._checked_at >= self._interval:
            self._checked_at = now
            if self._fingerprint() != self._stamp:
                self.reload()
        return self._library
