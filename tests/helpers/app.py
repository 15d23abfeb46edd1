"""Building the real app for tests, with settings pointing at a temporary var/ dir."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bot.config import PROJECT_ROOT, Settings


def make_settings(tmp_path: Path, **overrides: str) -> Settings:
    """The project's content and intents, a throw-away var/ and database, and the given env values."""
    env = {
        "INFOBOT_SECRET_KEY": "test-secret-key-0123456789abcdefghij",
        "DATABASE_URL": f"sqlite:///{tmp_path}/t.db",
        "INFOBOT_NLU_TIMEOUT": "1",
        "INFOBOT_VAR_DIR": str(tmp_path / "var"),  # the referral spool too: nothing leaks between tests
        "RASA_TOKEN": os.environ.get("RASA_TOKEN", ""),  # the session's Rasa (the rasa_url fixture sets it)
        **overrides,
    }
    return Settings.from_env(env, root=PROJECT_ROOT)


def say(client: Any, sender: str, text: str) -> list[dict[str, Any]]:
    """One message through the REST channel; the replies, after checking the request succeeded."""
    response = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
    assert response.status_code == 200, response.text
    replies: list[dict[str, Any]] = response.json()
    return replies
