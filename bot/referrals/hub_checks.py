"""Reading and checking one hub file, field by field, with the line of every mistake.

The files are edited by programme staff, so each mistake becomes a `Problem` with file and line instead of
an exception deep in a conversation.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from bot import LANGUAGES
from bot.content.loader import Problem
from bot.referrals.hubs import DAYS, SERVICES, Hub

REQUIRED_TEXT = ("id", "name", "country", "city", "department", "address", "phone")
OPTIONAL_TEXT = ("whatsapp", "webhook_url", "source")
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


def read_hub_file(
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


def check_hub(
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
        source=text["source"],
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
