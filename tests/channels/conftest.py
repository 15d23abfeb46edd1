"""The real app wired to local fake Twilio and Telegram APIs, and the real Rasa NLU."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from twilio.request_validator import RequestValidator

from bot.app import create_app
from bot.config import Settings
from tests.helpers.app import make_settings
from tests.helpers.fake_provider import FakeProvider, serve, telegram_responder, twilio_responder

PAYLOADS = Path(__file__).parent / "payloads"
TWILIO_TOKEN = "twilio-auth-token-for-tests-0001"
TWILIO_SID = "AC00000000000000000000000000000000"
TELEGRAM_TOKEN = "123456:TEST-telegram-token-abcdefghijklmno"
TELEGRAM_SECRET = "telegram-webhook-secret-for-tests"
PUBLIC_BASE_URL = "https://bot.example.org"


def payload(channel: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / channel / f"{name}.json").read_text(encoding="utf-8"))
    return data


def sign(
    params: dict[str, str], url: str = PUBLIC_BASE_URL + "/webhooks/twilio", token: str = TWILIO_TOKEN
) -> str:
    return str(RequestValidator(token).compute_signature(url, params))


@dataclass
class Wired:
    client: TestClient
    twilio_api: FakeProvider
    telegram_api: FakeProvider
    log_text: Any

    def twilio(
        self,
        params: dict[str, str],
        signature: str | None = None,
        path: str = "/webhooks/twilio",
        headers: dict[str, str] | None = None,
    ) -> Any:
        all_headers = {**(headers or {})}
        if signature is not None:
            all_headers["X-Twilio-Signature"] = signature
        return self.client.post(path, data=params, headers=all_headers)

    def telegram(self, update: dict[str, Any] | bytes, secret: str | None = TELEGRAM_SECRET) -> Any:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        body = update if isinstance(update, bytes) else json.dumps(update).encode()
        return self.client.post(
            "/webhooks/telegram", content=body, headers={**headers, "content-type": "application/json"}
        )


def wired_settings(tmp_path: Path, rasa_url: str, twilio_api: str, telegram_api: str) -> Settings:
    """Both channels configured, each pointed at its local fake API."""
    return make_settings(
        tmp_path,
        RASA_URL=rasa_url,
        TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
        TWILIO_ACCOUNT_SID=TWILIO_SID,
        TWILIO_API_BASE=twilio_api,
        PUBLIC_BASE_URL=PUBLIC_BASE_URL,
        TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN,
        TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET,
        TELEGRAM_API_BASE=f"{telegram_api}/bot",
    )


@pytest.fixture
def wired(rasa_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Iterator[Wired]:
    caplog.set_level("DEBUG")
    with serve(twilio_responder) as twilio_api, serve(telegram_responder) as telegram_api:
        settings = wired_settings(tmp_path, rasa_url, twilio_api.url, telegram_api.url)
        with TestClient(create_app(settings)) as client:
            yield Wired(client, twilio_api, telegram_api, lambda: caplog.text)
