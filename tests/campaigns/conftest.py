"""Campaign tests: SQLite and a fresh PostgreSQL schema, the local fake for Twilio and Telegram."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.db import make_engine
from tests.helpers.campaign_fakes import CampaignFake, campaign_fake

POSTGRES_URL = os.environ.get("INFOBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
TWILIO_SID = "AC00000000000000000000000000000000"
TEMPLATE_SID = "HX" + "0123456789abcdef" * 2


CREATED: list[str] = []


def fresh_schema() -> str:
    """A new PostgreSQL schema, as a DATABASE_URL (dropped at the end of the test session)."""
    schema = f"camp_{uuid.uuid4().hex[:10]}"
    CREATED.append(schema)
    engine = make_engine(POSTGRES_URL)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as exc:  # noqa: BLE001 - turned into a clear instruction
        pytest.fail(f"These tests need PostgreSQL at {POSTGRES_URL} ({exc.__class__.__name__})")
    finally:
        engine.dispose()
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session", autouse=True)
def drop_schemas() -> Iterator[None]:
    yield
    if CREATED:
        engine = make_engine(POSTGRES_URL)
        with engine.begin() as conn:
            for schema in CREATED:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/c.db" if request.param == "sqlite" else fresh_schema()


@pytest.fixture
def fake() -> Iterator[CampaignFake]:
    with campaign_fake() as provider:
        yield provider


def provider_env(fake: CampaignFake, db_url: str, tmp_path: Path) -> dict[str, str]:
    """Everything `infobot campaign send` needs, pointed at the fake."""
    return {
        "INFOBOT_SECRET_KEY": "test-secret-key-0123456789abcdefghij",
        "DATABASE_URL": db_url,
        "INFOBOT_VAR_DIR": str(tmp_path / "var"),
        "TWILIO_ACCOUNT_SID": TWILIO_SID,
        "TWILIO_AUTH_TOKEN": "twilio-auth-token-for-tests-0001",
        "TWILIO_API_BASE": fake.twilio_base,
        "TWILIO_SMS_FROM": "+15005550006",
        "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
        "TELEGRAM_BOT_TOKEN": "123456:TEST-telegram-token-abcdefghijklmno",
        "TELEGRAM_WEBHOOK_SECRET": "telegram-webhook-secret-for-tests",
        "TELEGRAM_API_BASE": fake.telegram_base,
        "INFOBOT_CAMPAIGN_RATE_SMS": "1000",
        "INFOBOT_CAMPAIGN_RATE_WHATSAPP": "1000",
        "INFOBOT_CAMPAIGN_RATE_TELEGRAM": "1000",
        "REDIS_URL": "",
    }
