"""Content versions without SQL: an entry as YAML fields, changes applied over the shipped files, the
candidate content written out in the layout of content/ (for the check and for export).

Changes are a mapping (lang, intent, key) -> the entry's fields as in the YAML, or None when the entry is
removed. The check's rules are run on the candidate written to a directory, so a version is checked by
exactly the rules `infobot content check` applies to content/.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

from bot import LANGUAGES
from bot.content.loader import GENERAL_KEY, Problem, _entry, load_content
from bot.content.model import ContentEntry

EntryKey = tuple[str, str, str]
"""(lang, intent, key): key is 'general' or a country code."""
Changes = dict[EntryKey, dict[str, Any] | None]
FIELDS = ("text", "sms", "source", "reviewed", "reviewed_by", "review_by", "verify", "buttons")


def key_of(entry: ContentEntry) -> EntryKey:
    return (entry.lang, entry.intent, entry.country or GENERAL_KEY)


def raw_of(entry: ContentEntry) -> dict[str, Any]:
    """The entry's fields as JSON-able YAML values (dates as ISO strings)."""
    raw: dict[str, Any] = {
        "text": entry.text,
        "sms": entry.sms,
        "source": entry.source,
        "reviewed": entry.reviewed.isoformat(),
        "reviewed_by": entry.reviewed_by,
        "review_by": entry.review_by.isoformat(),
        "verify": entry.verify,
        "buttons": list(entry.buttons),
    }
    if entry.parity_exceptions:
        raw["parity_exceptions"] = dict(entry.parity_exceptions)
    return raw


def normalise(raw: dict[str, Any]) -> dict[str, Any]:
    """Fields as `raw_of` gives them, so two versions compare equal when a person would see no change."""
    out = {name: raw.get(name) for name in FIELDS}
    for name in ("text", "sms", "source", "reviewed_by"):
        out[name] = str(out[name] or "").strip()
    for name in ("reviewed", "review_by"):
        value = out[name]
        out[name] = value.isoformat() if isinstance(value, dt.date) else str(value or "").strip()
    out["verify"] = bool(out["verify"])
    out["buttons"] = [str(b) for b in out["buttons"] or []]
    if raw.get("parity_exceptions"):
        out["parity_exceptions"] = {str(k): str(v) for k, v in dict(raw["parity_exceptions"]).items()}
    return out


def live_raws(entries: list[ContentEntry]) -> dict[EntryKey, dict[str, Any]]:
    return {key_of(e): raw_of(e) for e in entries}


def merge(*layers: Changes) -> Changes:
    """Later layers win, entry by entry."""
    merged: Changes = {}
    for layer in layers:
        merged.update(layer)
    return merged


def diff(live: dict[EntryKey, dict[str, Any]], wanted: dict[EntryKey, dict[str, Any]]) -> Changes:
    """The changes that turn `live` into `wanted` (new, changed and removed entries)."""
    changes: Changes = {k: normalise(v) for k, v in wanted.items() if live.get(k) != normalise(v)}
    changes.update({k: None for k in live if k not in wanted})
    return changes


def _dump_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    """Text as a literal block, other strings in double quotes: the style of the shipped files."""
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')


def _dump_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)


class _Dumper(yaml.SafeDumper):
    pass


class _Plain(str):
    """A topic name in a button list: written bare, as in the shipped files."""


_Dumper.add_representer(str, _dump_str)
_Dumper.add_representer(_Plain, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", str(v)))
_Dumper.add_representer(list, _dump_list)


def _plain_keys(dumper: yaml.SafeDumper, value: dict[Any, Any]) -> yaml.Node:
    """Keys unquoted (`general:`, `text:`), values as above."""
    node = dumper.represent_mapping("tag:yaml.org,2002:map", value.items(), flow_style=False)
    for key_node, _ in node.value:
        key_node.style = None
    return node


_Dumper.add_representer(dict, _plain_keys)


def _yaml_value(raw: dict[str, Any]) -> dict[str, Any]:
    """Fields in the order of content/README.md; dates as dates, `text` as a block, no empty optionals."""
    out: dict[str, Any] = {"text": str(raw["text"]).strip() + "\n"}
    for name in ("sms", "source"):
        out[name] = raw[name]
    out["reviewed"] = dt.date.fromisoformat(str(raw["reviewed"]))
    out["reviewed_by"] = raw["reviewed_by"]
    out["review_by"] = dt.date.fromisoformat(str(raw["review_by"]))
    if raw.get("verify"):
        out["verify"] = True
    if raw.get("buttons"):
        out["buttons"] = [_Plain(b) for b in raw["buttons"]]
    if raw.get("parity_exceptions"):
        out["parity_exceptions"] = dict(raw["parity_exceptions"])
    return out


def _file_keys(path: Path) -> list[str]:
    try:
        data = yaml.load(
            path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        )  # noqa: S506
    except (OSError, yaml.YAMLError):
        return []
    return [str(k) for k in data] if isinstance(data, dict) else []


def write_content(base_dir: Path, changes: Changes, out_dir: Path) -> None:
    """The base content with `changes` applied, in the layout of content/: files no change touches are
    copied byte for byte (comments kept); touched files are written from the merged entries."""
    shutil.copytree(base_dir, out_dir, dirs_exist_ok=True)
    base = load_content(base_dir)
    merged: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for entry in base.entries:
        merged.setdefault((entry.lang, entry.intent), {})[entry.country or GENERAL_KEY] = raw_of(entry)
    touched = {(lang, intent) for lang, intent, _ in changes}
    for (lang, intent, key), raw in changes.items():
        file_entries = merged.setdefault((lang, intent), {})
        if raw is None:
            file_entries.pop(key, None)
        else:
            file_entries[key] = raw
    for lang, intent in sorted(touched):
        path = out_dir / lang / f"{intent}.yml"
        order = _file_keys(base_dir / lang / f"{intent}.yml")
        entries = merged.get((lang, intent), {})
        keys = [k for k in order if k in entries] + sorted(k for k in entries if k not in order)
        keys.sort(key=lambda k: k != GENERAL_KEY)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not keys:
            path.unlink(missing_ok=True)
            continue
        body = yaml.dump(
            {k: _yaml_value(entries[k]) for k in keys},
            Dumper=_Dumper,
            allow_unicode=True,
            sort_keys=False,
            width=1000,
        )
        body = "\n".join(
            ("\n" + line) if line[:1].strip() and n else line for n, line in enumerate(body.splitlines())
        )
        header = f"# {intent} ({lang}): written by infobot from the live content.\n\n"
        path.write_text(header + body + "\n", encoding="utf-8")


def check_changes(base_dir: Path, changes: Changes, today: dt.date) -> list[Problem]:
    """Every problem the content check finds in the base content with `changes` applied."""
    from bot.content.check import check_content

    with tempfile.TemporaryDirectory(prefix="infobot-content-") as tmp:
        candidate = Path(tmp) / "content"
        write_content(base_dir, changes, candidate)
        return check_content(candidate, today)


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def apply(base: list[ContentEntry], changes: Changes) -> list[ContentEntry]:
    """The entries the bot answers with: the base ones, replaced, added or removed by `changes`.

    A change that no longer loads (it passed the check when it went live) is skipped with the base kept.
    """
    index = {key_of(e): e for e in base}
    for (lang, intent, key), raw in changes.items():
        if raw is None:
            index.pop((lang, intent, key), None)
            continue
        entry = entry_from_raw(lang, intent, key, raw)
        if entry is not None:
            index[(lang, intent, key)] = entry
    return list(index.values())


def entry_from_raw(lang: str, intent: str, key: str, raw: dict[str, Any]) -> ContentEntry | None:
    """An entry from its fields by the loader's own parsing; None when it is invalid."""
    problems: list[Problem] = []
    where = f"content/{lang}/{intent}.yml"
    return _entry(lang, intent, key, dict(raw), where, {}, 0, problems)


def is_language(lang: str) -> bool:
    return lang in LANGUAGES
