"""Two `infobot serve` workers sharing the real Redis: one delivery received by both is answered once."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.channels.conftest import TWILIO_SID, TWILIO_TOKEN, payload, sign
from tests.helpers.services import require_redis
from tests.helpers.workers import serve_workers

PUBLIC = "https://bot.example.org"


@pytest.fixture
def two_workers(rasa_url: str, tmp_path: Path) -> Iterator[list[str]]:
    try:
        redis_url = require_redis()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    env = {
        **os.environ,
        "RASA_URL": rasa_url,
        "REDIS_URL": redis_url,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_ACCOUNT_SID": TWILIO_SID,
        "PUBLIC_BASE_URL": PUBLIC,
        "INFOBOT_SECRET_KEY": "shared-secret-0123456789abcdefghij",
        "DATABASE_URL": f"sqlite:///{tmp_path}/shared.db",
        "INFOBOT_VAR_DIR": str(tmp_path / "var"),  # journals and spools of this test only
    }
    with serve_workers(env, tmp_path) as urls:
        yield urls


def test_the_same_delivery_to_two_workers_at_once_gets_exactly_one_reply(two_workers: list[str]) -> None:
    for n in range(5):
        params = {**payload("twilio", "whatsapp_text"), "MessageSid": f"SM{n:032d}"}
        signature = sign(params)

        def deliver(url: str, params: dict[str, str] = params, signature: str = signature) -> str:
            response = httpx.post(
                f"{url}/webhooks/twilio", data=params, headers={"X-Twilio-Signature": signature}, timeout=30
            )
            assert response.status_code == 200
            return response.text

        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(deliver, two_workers * 2))
        replied = [a for a in answers if re.search(r"<Message>", a)]
        assert len(replied) == 1, answers
