"""The Information Hubs directory: `referrals/hubs/<CC>.yml`, loaded into immutable `Hub` records.

The files are edited by programme staff, not developers, so every mistake is reported as a `Problem` with
file and line (the same record `infobot content check` prints) instead of an exception deep in a
conversation. A referral to a hub that does not exist, is closed, or does not offer the service costs a
person a journey, which is why the checks are strict about services, hours and defaults.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot import COUNTRIES, LANGUAGES
from bot.config import PROJECT_ROOT
from bot.content.loader import Problem

DEFAULT_HUBS_DIR = PROJECT_ROOT / "referrals" / "hubs"

SERVICES: tuple[str, ...] = (
    "regularization",
    "asylum",
    "documents",
    "legal_aid",
    "labour",
    "health",
    "psychosocial",
    "shelter",
    "return",
    "counter_trafficking",
)
"""The fixed list of services; reports count referrals by these names, so free text is not allowed."""

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
REQUIRED_TEXT = ("id", "name", "country", "city", "department", "address", "phone")
OPTIONAL_TEXT = ("whatsapp", "webhook_url")
KNOWN_FIELDS = frozenset(
    REQUIRED_TEXT
    + OPTIONAL_TEXT
    + ("hours", "languages", "services", "aliases", "lat", "lon", "default", "sample")
)
SAMPLE_WARNING = "sample entry: replace it with the hub's confirmed details before deployment"

_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_DAY_SPEC = re.compile(rf"^({'|'.join(DAYS)})(-({'|'.join(DAYS)}))?$")
_RANGE = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d+)?(/\S*)?$")


@dataclass(frozen=True)
class Hub:
    """One Information Hub. Frozen so a loaded directory can be shared by every conversation safely."""

    id: str
    name: str
    country: str
    city: str
    department: str
    address: str
    phone: str
    hours: tuple[tuple[str, str], ...]
    """Opening hours as written, e.g. (("mon-fri", "08:00-16:00"),), in `timezone`."""
    timezone: str
    languages: tuple[str, ...]
    services: tuple[str, ...]
    whatsapp: str | None = None
    lat: float | None = None
    lon: float | None = None
    webhook_url: str | None = None
    aliases: tuple[str, ...] = ()
    default: bool = False
    sample: bool = False
    file: str = ""
    line: int = 0

    def offers(self, service: str | None) -> bool:
        """True when the hub offers `service`; `None` means any service."""
        return service is None or service in self.services

    @property
    def coordinates(self) -> tuple[float, float] | None:
        return None if self.lat is None or self.lon is None else (self.lat, self.lon)


@dataclass(frozen=True)
class Directory:
    """All hubs, in file order (country files sorted, hubs as written), which is the fallback order."""

    hubs: tuple[Hub, ...] = ()

    def hubs_for(self, country: str, service: str | None = None) -> list[Hub]:
        """The country's hubs, optionally only those offering `service`; [] for an unknown country."""
        code = country.upper()
        return [h for h in self.hubs if h.country == code and h.offers(service)]

    def default_hub(self, country: str) -> Hub | None:
        """The hub people are sent to when they name no place (or one we cannot match)."""
        return next((h for h in self.hubs_for(country) if h.default), None)

    def get(self, hub_id: str) -> Hub | None:
        """A hub by id, for looking up a logged referral's hub."""
        return next((h for h in self.hubs if h.id == hub_id), None)

    @property
    def countries(self) -> tuple[str, ...]:
        return tuple(sorted({h.country for h in self.hubs}))


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
        for raw, lines in _read_file(file, where, problems):
            hub_problems: list[Problem] = []
            hub = _hub(raw, lines, where, country, hub_problems)
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


def _read_file(
    file: Path, where: str, problems: list[Problem]
) -> list[tuple[dict[str, Any], dict[str, int]]]:
    """(raw hub mapping, {field: line, "": hub line, "services.2": item line, ...}) for each hub in a file."""
    try:
        text = file.read_text(encoding="utf-8")
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problems.append(Problem(where, line, f"cannot read this YAML: {getattr(exc, 'problem', exc)}"))
        return []
    if data is None:
        problems.append(Problem(where, 1, "the file has no hubs"))
        return []
    if not isinstance(data, list) or not isinstance(node, yaml.SequenceNode):
        problems.append(Problem(where, 1, "the file must be a list of hubs, each starting with '- id:'"))
        return []
    result: list[tuple[dict[str, Any], dict[str, int]]] = []
    for raw, item in zip(data, node.value, strict=True):
        line = item.start_mark.line + 1
        if not isinstance(raw, dict) or not isinstance(item, yaml.MappingNode):
            problems.append(Problem(where, line, "each hub must be a block of fields (id, name, ...)"))
            continue
        lines = _lines(item)
        names = [str(k.value) for k, _ in item.value]
        for key_node, _ in item.value:
            if (
                names.count(str(key_node.value)) > 1
                and lines[str(key_node.value)] != key_node.start_mark.line + 1
            ):
                problems.append(
                    Problem(
                        where,
                        key_node.start_mark.line + 1,
                        f"'{key_node.value}' is written twice in this hub",
                    )
                )
        result.append((raw, lines))
    return result


def _lines(item: yaml.MappingNode) -> dict[str, int]:
    """1-based lines of a hub's fields and of the items of its lists and mappings ("hours.mon-fri")."""
    lines = {"": item.start_mark.line + 1}
    for key_node, value_node in item.value:
        name = str(key_node.value)
        lines.setdefault(name, key_node.start_mark.line + 1)
        if isinstance(value_node, yaml.SequenceNode):
            for i, sub in enumerate(value_node.value):
                lines[f"{name}.{i}"] = sub.start_mark.line + 1
        elif isinstance(value_node, yaml.MappingNode):
            for sub_key, _ in value_node.value:
                lines[f"{name}.{sub_key.value}"] = sub_key.start_mark.line + 1
    return lines


def _hub(
    raw: dict[str, Any], lines: dict[str, int], where: str, country: str, problems: list[Problem]
) -> Hub | None:
    """A Hub from one raw mapping, appending its problems; None when a required field is unusable."""

    def add(field_name: str, message: str, severity: str = "error") -> None:
        problems.append(Problem(where, lines.get(field_name, lines[""]), message, severity))

    label = f"hub '{raw.get('id')}'" if isinstance(raw.get("id"), str) else "this hub"
    for name in sorted(set(map(str, raw)) - KNOWN_FIELDS):
        add(name, f"unknown field '{name}' (check the spelling; see referrals/README.md)", "warning")
    text: dict[str, str | None] = {}
    for name in REQUIRED_TEXT + OPTIONAL_TEXT:
        value = raw.get(name)
        if value is None or value == "":
            text[name] = None
            if name in REQUIRED_TEXT:
                add(name, f"{label} has no '{name}'")
        elif not isinstance(value, str):
            text[name] = None
            add(name, f"'{name}' must be text (put it in quotes)")
        else:
            text[name] = value.strip()
    hub_id, hub_country = text["id"], text["country"]
    if hub_id is not None and not (_ID.match(hub_id) and hub_id.startswith(f"{country.lower()}-")):
        add("id", f"id '{hub_id}' must look like '{country.lower()}-city-name' (lowercase, digits, dashes)")
    if hub_country is not None and hub_country != country:
        add("country", f"country '{hub_country}' differs from the file's country {country}")
    if text["webhook_url"] is not None and not _URL.match(text["webhook_url"]):
        add("webhook_url", f"webhook_url '{text['webhook_url']}' is not an http(s) URL")
    languages = _choices(raw, lines, "languages", LANGUAGES, where, label, problems)
    services = _choices(raw, lines, "services", SERVICES, where, label, problems)
    aliases = _aliases(raw, lines, where, problems)
    hours, timezone = _hours(raw.get("hours"), lines, where, label, problems)
    lat, lon = _coordinates(raw, lines, where, problems)
    flags = {}
    for name in ("default", "sample"):
        value = raw.get(name, False)
        if not isinstance(value, bool):
            add(name, f"'{name}' must be true or false")
        flags[name] = value is True
    if flags["sample"]:
        add("sample", SAMPLE_WARNING, "warning")
    required = [text[n] for n in REQUIRED_TEXT]
    if any(v is None for v in required) or timezone is None or languages is None or services is None:
        return None
    hub_id, name, _, city, department, address, phone = (str(v) for v in required)
    return Hub(
        id=hub_id,
        name=name,
        country=country,
        city=city,
        department=department,
        address=address,
        phone=phone,
        hours=hours,
        timezone=timezone,
        languages=languages,
        services=services,
        whatsapp=text["whatsapp"],
        lat=lat,
        lon=lon,
        webhook_url=text["webhook_url"],
        aliases=aliases,
        default=flags["default"],
        sample=flags["sample"],
        file=where,
        line=lines[""],
    )


def _choices(
    raw: dict[str, Any],
    lines: dict[str, int],
    name: str,
    allowed: Iterable[str],
    where: str,
    label: str,
    problems: list[Problem],
) -> tuple[str, ...] | None:
    """A non-empty list drawn from `allowed`; unknown items are named with their own line."""
    allowed = tuple(allowed)
    value = raw.get(name)
    line = lines.get(name, lines[""])
    if not value:
        problems.append(Problem(where, line, f"{label} has no '{name}' (use some of: {', '.join(allowed)})"))
        return None
    if not isinstance(value, list):
        problems.append(Problem(where, line, f"'{name}' must be a list like [{allowed[0]}, {allowed[1]}]"))
        return None
    good: list[str] = []
    for i, item in enumerate(value):
        if item in allowed:
            if item not in good:
                good.append(item)
        else:
            singular = name.rstrip("s")
            problems.append(
                Problem(
                    where,
                    lines.get(f"{name}.{i}", line),
                    f"unknown {singular} '{item}' (use {', '.join(allowed)})",
                )
            )
    return tuple(good) if len(good) == len(value) else None


def _aliases(
    raw: dict[str, Any], lines: dict[str, int], where: str, problems: list[Problem]
) -> tuple[str, ...]:
    value = raw.get("aliases") or []
    if not isinstance(value, list) or not all(isinstance(a, str) and a.strip() for a in value):
        problems.append(
            Problem(
                where, lines.get("aliases", lines[""]), "'aliases' must be a list of place names in quotes"
            )
        )
        return ()
    return tuple(a.strip() for a in value)


def _hours(
    value: Any, lines: dict[str, int], where: str, label: str, problems: list[Problem]
) -> tuple[tuple[tuple[str, str], ...], str | None]:
    """(("mon-fri", "08:00-16:00"), ...) and the timezone; timezone None when the hours are unusable.

    Times must be quoted: YAML 1.1 reads an unquoted 08:00 as the number 480 (minutes in base 60).
    """
    line = lines.get("hours", lines[""])
    if not value:
        problems.append(Problem(where, line, f"{label} has no 'hours' (e.g. mon-fri: \"08:00-16:00\")"))
        return (), None
    if not isinstance(value, dict):
        problems.append(
            Problem(where, line, "'hours' must list days and times, e.g. mon-fri: \"08:00-16:00\"")
        )
        return (), None
    ok = True
    timezone = value.get("timezone")
    if not isinstance(timezone, str) or not _valid_zone(timezone):
        problems.append(
            Problem(
                where,
                lines.get("hours.timezone", line),
                f"hours need a valid 'timezone' like America/Costa_Rica (got {timezone!r})",
            )
        )
        ok = False
    covered: set[str] = set()
    ranges: list[tuple[str, str]] = []
    for key, times in value.items():
        if key == "timezone":
            continue
        key_line = lines.get(f"hours.{key}", line)
        days = _days(str(key))
        if days is None:
            problems.append(
                Problem(
                    where, key_line, f"bad day '{key}' in hours (use mon..sun, a range mon-fri, or sat,sun)"
                )
            )
            ok = False
            continue
        if covered & set(days):
            problems.append(
                Problem(where, key_line, f"hours list {', '.join(sorted(covered & set(days)))} twice")
            )
            ok = False
        covered |= set(days)
        if not isinstance(times, str) or not _valid_times(times):
            problems.append(
                Problem(
                    where,
                    key_line,
                    f'bad hours {times!r} for {key}: write "HH:MM-HH:MM" in quotes '
                    '(several: "08:00-12:00, 13:00-16:00"), or "closed"',
                )
            )
            ok = False
            continue
        ranges.append((str(key), times.strip()))
    if not ranges and ok:
        problems.append(Problem(where, line, f"{label} has no opening days in 'hours'"))
        ok = False
    return tuple(ranges), (str(timezone) if ok else None)


def _coordinates(
    raw: dict[str, Any], lines: dict[str, int], where: str, problems: list[Problem]
) -> tuple[float | None, float | None]:
    """Both lat and lon in degrees, or neither; used only to find the nearest hub."""
    lat, lon = raw.get("lat"), raw.get("lon")
    if lat is None and lon is None:
        return None, None
    line = lines.get("lat", lines.get("lon", lines[""]))

    def degrees(value: Any, limit: float) -> float | None:
        if isinstance(value, int | float) and not isinstance(value, bool) and -limit <= value <= limit:
            return float(value)
        return None

    lat_deg, lon_deg = degrees(lat, 90), degrees(lon, 180)
    if lat_deg is None or lon_deg is None:
        problems.append(
            Problem(where, line, "'lat' and 'lon' must both be decimal degrees, e.g. 9.93 and -84.09")
        )
        return None, None
    return lat_deg, lon_deg


def _valid_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _days(spec: str) -> list[str] | None:
    """'mon-fri' -> [mon..fri]; 'sat,sun' -> [sat, sun]; None when malformed or a range runs backwards."""
    days: list[str] = []
    for part in spec.replace(" ", "").split(","):
        match = _DAY_SPEC.match(part)
        if match is None:
            return None
        start = DAYS.index(match.group(1))
        end = DAYS.index(match.group(3)) if match.group(3) else start
        if end < start:
            return None
        days += DAYS[start : end + 1]
    return days


def _valid_times(times: str) -> bool:
    if times.strip().lower() == "closed":
        return True
    for part in times.split(","):
        match = _RANGE.match(part.strip())
        if match is None:
            return False
        start, end = (int(match.group(i)) * 60 + int(match.group(i + 1)) for i in (1, 3))
        if not start < end <= 24 * 60:
            return False
    return True


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
