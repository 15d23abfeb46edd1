"""The Information Hubs directory: `referrals/hubs/<CC>.yml`, loaded into immutable `Hub` records.

The files are edited by programme staff, not developers, so every mistake is reported as a `Problem` with
file and line (the same record `infobot content check` prints) instead of an exception deep in a
conversation. A referral to a hub that does not exist, is closed, or does not offer the service costs a
person a journey, which is why the checks are strict about services, hours and defaults.
"""

from __future__ import annotations

from pathlib import Path

from bot import COUNTRIES
from bot.config import PROJECT_ROOT
from bot.content.loader import Problem
from bot.referrals.hub_checks import check_hub, read_hub_file
from bot.referrals.hubs import DAYS, SERVICES, Directory, Hub

DEFAULT_HUBS_DIR = PROJECT_ROOT / "referrals" / "hubs"


class DirectoryError(ValueError):
    """The directory has errors; raised by `load_directory` so a broken edit never reaches people."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def validate_directory(path: Path = DEFAULT_HUBS_DIR, root: Path | None = None) -> list[Problem]:
    """Every error and warning in the hub files, sorted by file and line.

    `root` is what file names are shown relative to; by default the folder above `referrals/`, so
    messages read `referrals/hubs/CR.yml:12: ...` like the content check's.
    """
    return read_directory(path, root)[1]


def load_directory(path: Path = DEFAULT_HUBS_DIR, root: Path | None = None) -> Directory:
    """The directory, or `DirectoryError` listing the errors. Warnings (sample entries) do not block."""
    directory, problems = read_directory(path, root)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise DirectoryError(errors)
    return directory


def read_directory(path: Path, root: Path | None = None) -> tuple[Directory, list[Problem]]:
    """The valid hubs and all problems; the one pass both `load_directory` and `validate_directory` use."""
    root = root if root is not None else path.parent.parent
    problems: list[Problem] = []
    hubs: list[Hub] = []
    seen_ids: dict[str, tuple[str, int]] = {}
    defaults: dict[str, list[tuple[str, int]]] = {}
    countries_with_hubs: set[str] = set()
    if not path.is_dir():
        return Directory(), [Problem(_rel(path, root), 0, "the hubs folder is missing")]
    for file in sorted(path.glob("*.y*ml")):
        where = _rel(file, root)
        country = file.stem.upper()
        if country not in COUNTRIES or file.stem != country:
            problems.append(
                Problem(where, 1, f"file name must be a programme country code: {', '.join(COUNTRIES)}")
            )
            continue
        for raw, lines in read_hub_file(file, where, problems):
            hub_problems: list[Problem] = []
            hub = check_hub(raw, lines, where, country, hub_problems)
            problems += hub_problems
            hub_id, line = raw.get("id"), lines.get("id", lines[""])
            if isinstance(hub_id, str):
                if hub_id in seen_ids:
                    first = seen_ids[hub_id]
                    problems.append(
                        Problem(where, line, f"duplicate id '{hub_id}' (first used at {first[0]}:{first[1]})")
                    )
                else:
                    seen_ids[hub_id] = (where, line)
            if raw.get("default") is True:
                defaults.setdefault(country, []).append((where, lines.get("default", lines[""])))
            countries_with_hubs.add(country)
            if hub is not None and not any(p.severity == "error" for p in hub_problems):
                hubs.append(hub)
    rel_dir = _rel(path, root)
    for country in COUNTRIES:
        where = f"{rel_dir}/{country}.yml"
        if country not in countries_with_hubs:
            problems.append(Problem(where, 0, f"programme country {country} has no hub"))
        elif not defaults.get(country):
            problems.append(Problem(where, 1, f"no hub of {country} is marked 'default: true' (one must be)"))
        else:
            for extra_where, extra_line in defaults[country][1:]:
                problems.append(
                    Problem(extra_where, extra_line, f"more than one default hub for {country} (keep one)")
                )
    return Directory(tuple(hubs)), sorted(problems, key=lambda p: (p.file, p.line, p.message))


def _rel(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


__all__ = [
    "DAYS",
    "DEFAULT_HUBS_DIR",
    "SERVICES",
    "Directory",
    "DirectoryError",
    "Hub",
    "load_directory",
    "read_directory",
    "validate_directory",
]
