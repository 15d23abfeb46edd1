"""One settings object, read from the environment and validated once at start-up."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import limits

from bot.privacy import derive_key

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """A setting is missing or wrong; the message tells an operator what to change."""


MIN_SECRET_LENGTH = 32
"""Characters a secret key needs: the session, pseudonym and web chat keys are all derived from it."""

MAKE_A_KEY = 'python3 -c "import secrets; print(secrets.token_hex(32))"'


def _check_environment_secret(secret: str) -> bytes:
    """Refuse a key an attacker could guess: an empty key makes console cookies forgeable."""
    if len(secret.strip()) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"INFOBOT_SECRET_KEY holds {len(secret.strip())} characters; it needs at least "
            f"{MIN_SECRET_LENGTH} random characters: make one with {MAKE_A_KEY} (or unset it to have "
            "one generated into var/secret_key, for development)"
        )
    return secret.encode()


def _load_or_create_secret(var_dir: Path) -> bytes:
    """Keep one random key per installation so pseudonyms stay stable across restarts.

    Workers starting together must end up with the same key: the key is written whole into a private
    temporary file and then hard-linked into place, which fails if another worker got there first, in
    which case the winner's key is read. A reader never sees a half-written file.
    """
    path = var_dir / "secret_key"
    if not path.exists():
        try:
            var_dir.mkdir(parents=True, exist_ok=True)
            _publish_new_secret(path)
        except OSError as exc:
            raise ConfigError(
                f"cannot create {path} ({exc.strerror or exc}): set INFOBOT_SECRET_KEY to at least "
                f"{MIN_SECRET_LENGTH} random characters instead, e.g. from {MAKE_A_KEY}"
            ) from exc
    secret = path.read_bytes().strip()
    if len(secret) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"{path} holds {len(secret)} characters; the secret key needs at least {MIN_SECRET_LENGTH} "
            f"random characters: put the output of {MAKE_A_KEY} in it, or delete the file to have one "
            "generated (pseudonyms and console sessions made with an old key stop matching)"
        )
    return secret


def _publish_new_secret(path: Path) -> None:
    """Write a new key under a temporary name (created O_EXCL, mode 0600), then link it to `path`."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(secrets.token_hex(32).encode())
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another worker won the race: its key is used
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the new name survives a power cut: pseudonyms stay stable
    finally:
        os.close(directory)


ENVIRONMENTS = ("development", "production")


def _environment_name(env: Mapping[str, str]) -> str:
    """INFOBOT_ENV, `development` unless set; a typo must not silently run production as development."""
    name = (env.get("INFOBOT_ENV") or "development").strip().lower()
    if name not in ENVIRONMENTS:
        raise ConfigError(f"INFOBOT_ENV is {name!r}: use one of {', '.join(ENVIRONMENTS)}")
    return name


@dataclass(frozen=True)
class RateLimitSettings:
    """Abuse limits in the `limits` notation ("20/minute", several joined by ";"); "" turns one off.

    Chosen so a person never meets them and a provider's whole traffic never does (bot/ratelimit.py)."""

    sender: str = "20/minute"
    """INFOBOT_RATE_LIMIT_SENDER: messages per person (conversation) on the REST, Twilio, Telegram routes."""
    rest_address: str = "60/minute"
    """INFOBOT_RATE_LIMIT_REST: REST webhook requests per client address (web chat and custom clients)."""
    outbox_address: str = "300/minute"
    """INFOBOT_RATE_LIMIT_OUTBOX: web chat outbox polls per client address (an open page polls every 4 s)."""
    provider_address: str = "6000/minute"
    """INFOBOT_RATE_LIMIT_PROVIDER: Twilio / Telegram requests per client address: a flood ceiling only."""
    login_address: str = "20/minute;100/hour"
    """INFOBOT_RATE_LIMIT_LOGIN: console login attempts per client address."""


RATE_LIMIT_ENV = {
    "sender": "INFOBOT_RATE_LIMIT_SENDER",
    "rest_address": "INFOBOT_RATE_LIMIT_REST",
    "outbox_address": "INFOBOT_RATE_LIMIT_OUTBOX",
    "provider_address": "INFOBOT_RATE_LIMIT_PROVIDER",
    "login_address": "INFOBOT_RATE_LIMIT_LOGIN",
}


def _rate_limits(env: Mapping[str, str]) -> RateLimitSettings:
    """Each limit from the environment, checked now so a typo stops the start, not the first request."""
    defaults = RateLimitSettings()
    chosen: dict[str, str] = {}
    for name, variable in RATE_LIMIT_ENV.items():
        value = env.get(variable, getattr(defaults, name)).strip()
        value = "" if value.lower() in ("off", "0", "none") else value
        try:
            if value and min(item.amount for item in limits.parse_many(value)) < 1:
                raise ValueError("a limit must allow at least one request")
        except ValueError as exc:
            raise ConfigError(
                f'{variable}={value!r} is not a rate limit ({exc}): write e.g. "20/minute" or '
                '"20/minute;200/hour", or "off"'
            ) from exc
        chosen[name] = value
    return RateLimitSettings(**chosen)


@dataclass(frozen=True)
class CampaignSettings:
    """Senders and per-channel throughput of messages the bot starts (campaigns, issue 16).

    Defaults are the providers' published limits: Twilio sends 1 message/s per long code
    (twilio.com/en-us/changelog/rate-limits-for-multimedia-messaging--mms-), a WhatsApp sender 10
    text messages/s unless raised, up to 50 (twilio.com/docs/whatsapp/best-practices-and-faqs),
    Telegram about 30 messages/s overall and 1 per chat per second (core.telegram.org/bots/faq)."""

    sms_from: str | None = None
    """TWILIO_SMS_FROM: the number SMS campaigns come from (+E.164)."""
    whatsapp_from: str | None = None
    """TWILIO_WHATSAPP_FROM: the WhatsApp sender (`whatsapp:+E.164`)."""
    messaging_service_sid: str | None = None
    """TWILIO_MESSAGING_SERVICE_SID: a Messaging Service (MG...) used when no number is set."""
    rate_sms: float = 1.0
    """INFOBOT_CAMPAIGN_RATE_SMS: messages/s over all workers."""
    rate_whatsapp: float = 10.0
    """INFOBOT_CAMPAIGN_RATE_WHATSAPP."""
    rate_telegram: float = 30.0
    """INFOBOT_CAMPAIGN_RATE_TELEGRAM."""
    attempts: int = 5
    """INFOBOT_CAMPAIGN_ATTEMPTS: tries per recipient on 429/5xx/timeouts before it counts as failed."""

    def rate(self, channel: str) -> float:
        return float(getattr(self, f"rate_{channel}"))

    def sender(self, channel: str) -> str | None:
        """Who a campaign message on `channel` comes from (a number or a Messaging Service)."""
        if channel == "whatsapp" and self.whatsapp_from:
            return (
                self.whatsapp_from
                if self.whatsapp_from.startswith("whatsapp:")
                else (f"whatsapp:{self.whatsapp_from}")
            )
        if channel == "sms" and self.sms_from:
            return self.sms_from
        return self.messaging_service_sid


def _campaign_settings(env: Mapping[str, str]) -> CampaignSettings:
    try:
        rates = {
            f"rate_{ch}": float(env.get(f"INFOBOT_CAMPAIGN_RATE_{ch.upper()}") or default)
            for ch, default in (("sms", 1.0), ("whatsapp", 10.0), ("telegram", 30.0))
        }
        attempts = int(env.get("INFOBOT_CAMPAIGN_ATTEMPTS") or 5)
    except ValueError as exc:
        raise ConfigError(
            f"INFOBOT_CAMPAIGN_RATE_* and INFOBOT_CAMPAIGN_ATTEMPTS are numbers ({exc})"
        ) from exc
    if min(rates.values()) <= 0 or attempts < 1:
        raise ConfigError("INFOBOT_CAMPAIGN_RATE_* must be above 0 and INFOBOT_CAMPAIGN_ATTEMPTS at least 1")
    return CampaignSettings(
        sms_from=env.get("TWILIO_SMS_FROM") or None,
        whatsapp_from=env.get("TWILIO_WHATSAPP_FROM") or None,
        messaging_service_sid=env.get("TWILIO_MESSAGING_SERVICE_SID") or None,
        attempts=attempts,
        **rates,
    )


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
    rasa_token: str | None = None
    """RASA_TOKEN: sent as Rasa's `token` query parameter to a server started with --auth-token."""
    env: str = "development"
    """INFOBOT_ENV: `production` refuses placeholder hubs and unsafe settings (bot/production.py)."""
    secret_key_from_env: bool = True
    """False when the key was read from (or generated into) var/secret_key, a file beside the database."""
    forwarded_allow_ips: str = "127.0.0.1,::1"
    """FORWARDED_ALLOW_IPS: proxies whose X-Forwarded-For/-Proto uvicorn believes (client address, scheme)."""
    rest_api_token: str | None = None
    """REST_API_TOKEN: when set, REST clients other than the web chat page need `Authorization: Bearer`."""
    rate_limits: RateLimitSettings = field(default_factory=RateLimitSettings)
    whatsapp_token: str | None = None
    """WHATSAPP_TOKEN: the Cloud API access token (Meta's own WhatsApp API, without Twilio)."""
    whatsapp_app_secret: str | None = None
    """WHATSAPP_APP_SECRET: the app secret that signs updates (X-Hub-Signature-256)."""
    whatsapp_verify_token: str | None = None
    """WHATSAPP_VERIFY_TOKEN: what Meta's subscription challenge must present."""
    whatsapp_phone_number_id: str | None = None
    whatsapp_api_base: str | None = None
    """WHATSAPP_API_BASE: the Graph API base URL with its version (tests point it at a local fake)."""
    campaigns: CampaignSettings = field(default_factory=CampaignSettings)

    @property
    def var_dir(self) -> Path:
        """INFOBOT_VAR_DIR: state files (SQLite, referral spool, generated secret) kept apart per service."""
        return self.var_override or self.root / "var"

    @property
    def pseudonym_key(self) -> bytes:
        """Keys pseudonyms of phone numbers and chat ids (logs, Redis keys, records, exports)."""
        return derive_key(self.secret_key, "pseudonym")

    @property
    def session_key(self) -> bytes:
        """Signs console session cookies; a leaked pseudonym key cannot forge them, nor the reverse."""
        return derive_key(self.secret_key, "session")

    @property
    def webchat_key(self) -> bytes:
        """Signs the web chat's conversation tokens."""
        return derive_key(self.secret_key, "webchat")

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
            secret_key=(
                _check_environment_secret(secret) if secret is not None else _load_or_create_secret(var_dir)
            ),
            public_base_url=(env.get("PUBLIC_BASE_URL") or None),
            twilio_account_sid=(env.get("TWILIO_ACCOUNT_SID") or None),
            twilio_auth_token=(env.get("TWILIO_AUTH_TOKEN") or None),
            twilio_api_base=(env.get("TWILIO_API_BASE") or None),
            telegram_bot_token=(env.get("TELEGRAM_BOT_TOKEN") or None),
            telegram_webhook_secret=(env.get("TELEGRAM_WEBHOOK_SECRET") or None),
            telegram_api_base=env.get("TELEGRAM_API_BASE") or "https://api.telegram.org/bot",
            whatsapp_token=env.get("WHATSAPP_TOKEN") or None,
            whatsapp_app_secret=env.get("WHATSAPP_APP_SECRET") or None,
            whatsapp_verify_token=env.get("WHATSAPP_VERIFY_TOKEN") or None,
            whatsapp_phone_number_id=env.get("WHATSAPP_PHONE_NUMBER_ID") or None,
            whatsapp_api_base=env.get("WHATSAPP_API_BASE") or None,
            nlu_timeout=nlu_timeout,
            conversation_ttl_seconds=ttl,
            retention_days=retention_days,
            content_override=Path(env["INFOBOT_CONTENT_DIR"]) if env.get("INFOBOT_CONTENT_DIR") else None,
            var_override=var_dir if env.get("INFOBOT_VAR_DIR") else None,
            rasa_token=(env.get("RASA_TOKEN") or None),
            env=_environment_name(env),
            secret_key_from_env=secret is not None,
            forwarded_allow_ips=env.get("FORWARDED_ALLOW_IPS") or "127.0.0.1,::1",
            rest_api_token=(env.get("REST_API_TOKEN") or None),
            rate_limits=_rate_limits(env),
            campaigns=_campaign_settings(env),
        )
