"""Logging: one JSON object per line for `infobot serve`, and secrets redacted from every library's logs.

HTTP client libraries log request URLs, and Telegram's Bot API puts the bot token in the URL: a filter
on those loggers replaces every configured secret before any handler sees the record.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable

NOISY_LOGGERS = ("httpx", "httpcore", "telegram", "twilio", "aiohttp", "uvicorn.access", "uvicorn.error")
REDACTED = "[redacted]"


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 6]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        if any(secret in message for secret in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, REDACTED)
            record.msg, record.args = message, None
        return True


def install_redaction(secrets: Iterable[str]) -> None:
    """Attach the filter to the loggers that log URLs and to the root (our own records)."""
    redactor = RedactSecrets(list(secrets))
    for name in (*NOISY_LOGGERS, ""):
        logger = logging.getLogger(name)
        for old in [f for f in logger.filters if isinstance(f, RedactSecrets)]:
            logger.removeFilter(old)
        logger.addFilter(redactor)


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
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("httpx", "httpcore", "aiohttp"):
        logging.getLogger(name).setLevel(logging.WARNING)
