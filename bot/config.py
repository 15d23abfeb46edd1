"""One settings object, read from the environment and validated once at start-up."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """A setting is missing or wrong; the message tells an operator what to change."""


def _load_or_create_secret(var_dir: Path) -> bytes:
    """Keep one random key per installation so pseudonyms stay stable across restarts."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_bytes().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    path.write_bytes(key)
    path.chmod(0o600)
    return key


@dataclass(frozen=True)
class Settings:
    root: Path
    rasa_url: str | None
    redis_url: str | None
    database_url: str
    secret_key: bytes
    public_base_url: str | None
    twilio_account_sid: str | None
    twilio_auth_token: str | None
    twilio_api_base: str | None
    telegram_bot_token: str | None
    telegram_webhook_secret: str | None
    telegram_api_base: str
    nlu_timeout: float
    conversation_ttl_seconds: int
    retention_days: int = 90
    content_override: Path | None = None
    var_override: Path | None = None

    @property
    def var_dir(self) -> Path:
        """INFOBOT_VAR_DIR: state files (SQLite, referral spool, generated secret) kept apart per service."""
        return self.var_override or self.root / "var"

    @property
    def content_dir(self) -> Path:
        """INFOBOT_CONTENT_DIR lets a country office keep its answers outside the code checkout."""
        return self.content_override or self.root / "content"

    @property
    def intents_dir(self) -> Path:
        return self.root / "intents"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, root: Path | None = None) -> Settings:
        """Read the environment; unset optional services fall back to embedded defaults."""
        env = os.environ if env is None else env
        root = Path(env.get("INFOBOT_ROOT", root or PROJECT_ROOT))
        var_dir = Path(env["INFOBOT_VAR_DIR"]) if env.get("INFOBOT_VAR_DIR") else root / "var"
        secret = env.get("INFOBOT_SECRET_KEY")
        if secret is not None and len(secret) < 16:
            raise ConfigError("INFOBOT_SECRET_KEY is too short: use at least 16 random characters")
        try:
            nlu_timeout = float(env.get("INFOBOT_NLU_TIMEOUT", "3"))
            ttl = int(env.get("INFOBOT_CONVERSATION_TTL", str(30 * 24 * 3600)))
            retention_days = int(env.get("INFOBOT_RETENTION_DAYS", "90"))
        except ValueError as exc:
            raise ConfigError(
                f"INFOBOT_NLU_TIMEOUT, INFOBOT_CONVERSATION_TTL, INFOBOT_RETENTION_DAYS: not a number ({exc})"
            ) from exc
        return cls(
            root=root,
            rasa_url=(env.get("RASA_URL") or None),
            redis_url=(env.get("REDIS_URL") or None),
            database_url=env.get("DATABASE_URL") or f"sqlite:///{var_dir / 'infobot.db'}",
            secret_key=secret.encode() if secret else _load_or_create_secret(var_dir),
            public_base_url=(env.get("PUBLIC_BASE_URL") or None),
            twilio_account_sid=(env.get("TWILIO_ACCOUNT_SID") or None),
            twilio_auth_token=(env.get("TWILIO_AUTH_TOKEN") or None),
            twilio_api_base=(env.get("TWILIO_API_BASE") or None),
            telegram_bot_token=(env.get("TELEGRAM_BOT_TOKEN") or None),
            telegram_webhook_secret=(env.get("TELEGRAM_WEBHOOK_SECRET") or None),
            telegram_api_base=env.get("TELEGRAM_API_BASE") or "https://api.telegram.org/bot",
            nlu_timeout=nlu_timeout,
            conversation_ttl_seconds=ttl,
            retention_days=retention_days,
            content_override=Path(env["INFOBOT_CONTENT_DIR"]) if env.get("INFOBOT_CONTENT_DIR") else None,
            var_override=var_dir if env.get("INFOBOT_VAR_DIR") else None,
        )
