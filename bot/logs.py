"""Logging: one JSON object per line for `infobot serve`, and secrets redacted from every log line.

Libraries log what they send: HTTP clients log request URLs (Telegram's Bot API puts the bot token in the
URL, Rasa's API the auth token in the query), and an exception's text often quotes the URL or the
credentials. Redaction therefore sits on the handlers, not on named loggers: every record reaches an output
through a handler, whichever logger (or child logger) made it and wherever it propagated from. A filter
redacts the message and its arguments, and each handler's formatter is wrapped so that the formatted line
as a whole (exception text and traceback included) is redacted again before it is written.
"""

from __future__ import annotations

import json
import logging
import re
import time
import traceback
from collections.abc import Iterable, Mapping
from urllib.parse import quote, urlsplit

from bot.config import Settings

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 6
"""Shorter values would redact ordinary words; every real credential is far longer."""


class Redactor:
    """The secrets of this process, replaced in any text; they only accumulate, never become visible."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, secrets: Iterable[str | None]) -> None:
        for secret in secrets:
            if secret and len(secret) >= MIN_SECRET_LENGTH:
                # The forms a secret takes when a URL or a JSON document quotes it.
                self._secrets.update({secret, quote(secret, safe=""), json.dumps(secret)[1:-1]})
        if self._secrets:
            alternatives = sorted(self._secrets, key=len, reverse=True)  # longest first: no partial leak
            self._pattern = re.compile("|".join(map(re.escape, alternatives)))

    def redact(self, text: str) -> str:
        return text if self._pattern is None else self._pattern.sub(REDACTED, text)


REDACTOR = Redactor()
"""One per process: every handler's filter and formatter consult it, so a secret added later is covered."""


class RedactSecrets(logging.Filter):
    """On a handler: redacts the message, each argument and the exception text of every record it sees.

    Arguments are redacted one by one, keeping their number and kind: some formatters unpack them
    (uvicorn's access log does).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _redacted(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(arg) for arg in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {key: _redacted(value) for key, value in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = REDACTOR.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = REDACTOR.redact(record.stack_info)
        return True


def _redacted(value: object) -> object:
    """The value itself unless its text holds a secret; then its redacted text."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    try:
        text = value if isinstance(value, str) else str(value)
    except Exception:  # a broken __str__: the formatter will report it, with nothing to redact
        return value
    redacted = REDACTOR.redact(text)
    return value if redacted == text else redacted


class RedactingFormatter(logging.Formatter):
    """Wraps a handler's formatter: whatever it writes (tracebacks, extras) is redacted as a whole."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return REDACTOR.redact(self.inner.format(record))


def protect(handler: logging.Handler) -> None:
    """Give a handler the redacting filter and formatter (once)."""
    if not any(isinstance(f, RedactSecrets) for f in handler.filters):
        handler.addFilter(RedactSecrets())
    if not isinstance(handler.formatter, RedactingFormatter):
        handler.setFormatter(RedactingFormatter(handler.formatter or logging.Formatter()))


def install_redaction(secrets: Iterable[str | None]) -> None:
    """Redact these secrets from now on, on every handler of every logger that exists."""
    REDACTOR.add(secrets)
    # The root's handlers and those of loggers that keep their own (uvicorn's, which do not propagate).
    loggers = [logging.getLogger()]
    loggers += [lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)]
    for logger in loggers:
        for handler in logger.handlers:
            protect(handler)


def secrets_of(settings: Settings) -> list[str | None]:
    """Every credential a setting holds, including ones other parts add (REST, WhatsApp) when present."""
    found: list[str | None] = [
        settings.secret_key.decode(errors="replace"),
        settings.pseudonym_key.hex(),
        settings.session_key.hex(),
        settings.webchat_key.hex(),
        settings.twilio_auth_token,
        settings.telegram_bot_token,
        settings.telegram_webhook_secret,
        settings.rasa_token,
    ]
    for name in ("rest_api_token", "whatsapp_token", "whatsapp_app_secret", "whatsapp_verify_token"):
        found.append(getattr(settings, name, None))
    for url in (settings.database_url, settings.redis_url):
        found.append(urlsplit(url).password if url else None)
    return found


class JsonFormatter(logging.Formatter):
    """One JSON object per line; `conversation` and `channel` extras are already pseudonymous."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("conversation", "channel"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(entry, ensure_ascii=False)


def configure_json_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    protect(handler)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("httpx", "httpcore", "aiohttp"):
        logging.getLogger(name).setLevel(logging.WARNING)
