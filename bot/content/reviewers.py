"""The offices and teams allowed in `reviewed_by` (content/reviewers.yml).

A review record names who is accountable for a check. An office or team stays accountable when people
change jobs, and a person's name in every answer would be personal data shown to the public.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.content.loader import Problem

REVIEWERS_FILE = "reviewers.yml"


def read_reviewers(content_dir: Path) -> tuple[frozenset[str] | None, list[Problem]]:
    """(the registered team names, problems); None when the file is unusable (already a problem)."""
    where = f"{content_dir.name}/{REVIEWERS_FILE}"
    try:
        data = yaml.safe_load((content_dir / REVIEWERS_FILE).read_text(encoding="utf-8"))
    except OSError:
        return None, [Problem(where, 0, "file missing: list the offices and teams that review content")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return None, [Problem(where, mark.line + 1 if mark else 1, f"cannot read this YAML: {exc}")]
    teams = data.get("teams") if isinstance(data, dict) else None
    if not isinstance(teams, list) or not teams or not all(isinstance(t, str) and t.strip() for t in teams):
        return None, [Problem(where, 1, "'teams' must be a list of office or team names in quotes")]
    return frozenset(t.strip() for t in teams), []
