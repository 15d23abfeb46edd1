"""A campaign as a file or a console form: id, audience, one message per language, WhatsApp templates."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot import COUNTRIES, LANGUAGES
from bot.campaigns.topics import ALERT_TOPICS

CAMPAIGN_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,79}$")
CONTENT_SID = re.compile(r"^HX[0-9a-f]{32}$")
"""Twilio Content API template ids."""
MAX_SPEC_BYTES = 256 * 1024
MAX_TEXT_CHARS = 1600
"""Twilio's body limit; longer texts would be split into several messages per person."""


class SpecError(ValueError):
    """The campaign file is wrong; the message names the key."""


@dataclass(frozen=True)
class Template:
    content_sid: str
    variables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CampaignSpec:
    id: str
    countries: tuple[str, ...]
    languages: tuple[str, ...]
    topics: tuple[str, ...]
    messages: dict[str, str]
    whatsapp_template: dict[str, Template] = field(default_factory=dict)

    def to_json(self) -> str:
        data = {
            "id": self.id,
            "audience": {"countries": self.countries, "languages": self.languages, "topics": self.topics},
            "messages": self.messages,
            "whatsapp_template": {
                lang: {"content_sid": t.content_sid, "variables": t.variables}
                for lang, t in self.whatsapp_template.items()
            },
        }
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_data(cls, data: object) -> CampaignSpec:
        if not isinstance(data, dict):
            raise SpecError("a campaign is a mapping with keys id, audience, messages, whatsapp_template")
        unknown = set(data) - {"id", "audience", "messages", "whatsapp_template"}
        if unknown:
            raise SpecError(f"unknown key(s): {', '.join(sorted(map(str, unknown)))}")
        campaign_id = str(data.get("id") or "")
        if not CAMPAIGN_ID.match(campaign_id):
            raise SpecError("id: 1-80 characters, lower-case letters, digits, '-', '_' or '.'")
        audience = data.get("audience")
        if not isinstance(audience, dict):
            raise SpecError("audience: a mapping with countries, languages, topics")
        countries = _codes(audience, "countries", COUNTRIES, str.upper)
        languages = _codes(audience, "languages", LANGUAGES, str.lower)
        topics = _codes(audience, "topics", ALERT_TOPICS, str.lower)
        messages = data.get("messages")
        if not isinstance(messages, dict):
            raise SpecError("messages: a mapping {language: text}")
        for lang in languages:
            text = messages.get(lang)
            if not isinstance(text, str) or not text.strip():
                raise SpecError(f"messages.{lang}: the audience includes {lang}, so it needs a text")
            if len(text) > MAX_TEXT_CHARS:
                raise SpecError(f"messages.{lang}: longer than {MAX_TEXT_CHARS} characters")
        return cls(
            campaign_id,
            countries,
            languages,
            topics,
            {lang: str(messages[lang]).strip() for lang in languages},
            _templates(data.get("whatsapp_template") or {}),
        )

    @classmethod
    def from_json(cls, text: str) -> CampaignSpec:
        return cls.from_data(json.loads(text))


def _codes(audience: dict[str, Any], key: str, allowed: tuple[str, ...], case: Any) -> tuple[str, ...]:
    values = audience.get(key)
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise SpecError(f"audience.{key}: a non-empty list of {', '.join(allowed)}")
    chosen = sorted({case(v.strip()) for v in values})
    unknown = [v for v in chosen if v not in allowed]
    if unknown:
        raise SpecError(f"audience.{key}: unknown {', '.join(unknown)} (use {', '.join(allowed)})")
    return tuple(chosen)


def _templates(data: object) -> dict[str, Template]:
    if not isinstance(data, dict):
        raise SpecError("whatsapp_template: a mapping {language: {content_sid, variables}}")
    templates = {}
    for lang, value in data.items():
        if lang not in LANGUAGES or not isinstance(value, dict):
            raise SpecError(f"whatsapp_template.{lang}: a language code with {{content_sid, variables}}")
        sid = str(value.get("content_sid") or "")
        if not CONTENT_SID.match(sid):
            raise SpecError(f"whatsapp_template.{lang}.content_sid: a Twilio Content SID (HX + 32 hex)")
        variables = value.get("variables") or {}
        if not isinstance(variables, dict):
            raise SpecError(f'whatsapp_template.{lang}.variables: a mapping {{"1": text, ...}}')
        templates[lang] = Template(sid, {str(k): str(v) for k, v in variables.items()})
    return templates


def load_spec(path: Path) -> CampaignSpec:
    """Read and check a campaign file; SpecError (with the file name) for anything wrong."""
    if path.stat().st_size > MAX_SPEC_BYTES:
        raise SpecError(f"{path}: larger than {MAX_SPEC_BYTES // 1024} KB")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: not valid YAML ({exc.__class__.__name__})") from exc
    try:
        return CampaignSpec.from_data(data)
    except SpecError as exc:
        raise SpecError(f"{path}: {exc}") from exc
