"""Claim → process → complete through the real Twilio route: a delivery whose turn crashed or whose answer
failed is processed on retry; a duplicate of an answered one never is, also concurrently and across two
workers sharing real Redis; a retry during processing waits for the first answer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.channels.twilio import TwilioChannel
from bot.nlu.types import NluResult
from tests.durability.conftest import Bot, bot_settings, running_bot, texts
from tests.helpers.fake_provider import FakeProvider, serve, telegram_responder
from tests.helpers.services import require_redis

APOLOGY_ES = "Lo siento, algo salió mal"
NO_LIMITS = {"INFOBOT_RATE_LIMIT_SENDER": "off", "INFOBOT_RATE_LIMIT_PROVIDER": "off"}


class FaultyNlu:
    """The real NLU service (Rasa unreachable here: it answers 'unavailable'), with a fault before it:
    the first `fail` calls raise, every call first waits `delay` seconds."""

    def __init__(self, real: Any, fail: int = 0, delay: float = 0.0) -> None:
        self.real, self.fail, self.delay, self.calls = real, fail, delay, 0
        self.client = real.client

    async def parse(self, text: str) -> NluResult:
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self.calls <= self.fail:
            raise RuntimeError("the NLU client crashed (injected)")
        result: NluResult = await self.real.parse(text)
        return result


def with_nlu(bot: Bot, **fault: Any) -> FaultyNlu:
    nlu = FaultyNlu(bot.runtime.conversations.nlu, **fault)
    bot.runtime.conversations.nlu = nlu  # type: ignore[assignment]
    return nlu


async def test_a_turn_that_crashed_is_processed_when_the_provider_retries(
    tmp_path: Path, fake_twilio: FakeProvider
) -> None:
    async with running_bot(bot_settings(tmp_path, fake_twilio, **NO_LIMITS)) as bot:
        with_nlu(bot, fail=1)
        [apology] = texts(await bot.twilio("hola", "SMcrash0000000000000000000000001"))
        assert APOLOGY_ES in apology
        retried = texts(await bot.twilio("hola", "SMcrash0000000000000000000000001"))
        assert retried and APOLOGY_ES not in retried[0]  # the real answer this time
        assert texts(await bot.twilio("hola", "SMcrash0000000000000000000000001")) == []  # answered: done
        assert fake_twilio.requests == []


async def test_an_answer_that_failed_with_500_is_processed_when_the_provider_retries(
    tmp_path: Path, fake_twilio: FakeProvider
) -> None:
    async with running_bot(bot_settings(tmp_path, fake_twilio, **NO_LIMITS)) as bot:
        channel = bot.runtime.channels["twilio"]
        real_twiml: Callable[[list[str]], str] = channel.twiml
        failures = [RuntimeError("rendering failed (injected)")]

        def twiml_failing_once(bodies: list[str]) -> str:
            if failures and bodies:
                raise failures.pop()
            return real_twiml(bodies)

        channel.twiml = twiml_failing_once  # type: ignore[method-assign]
        with pytest.raises(RuntimeError, match="injected"):
            await bot.twilio("hola", "SMfail50000000000000000000000001")  # uvicorn would answer 500
        assert texts(await bot.twilio("hola", "SMfail50000000000000000000000001"))
        assert texts(await bot.twilio("hola", "SMfail50000000000000000000000001")) == []


async def test_a_retry_during_processing_gets_nothing_and_the_first_answers_once(
    tmp_path: Path, fake_twilio: FakeProvider
) -> None:
    async with running_bot(bot_settings(tmp_path, fake_twilio, **NO_LIMITS)) as bot:
        with_nlu(bot, delay=0.5)
        first = asyncio.create_task(bot.twilio("hola", "SMslow0000000000000000000000001"))
        await asyncio.sleep(0.2)
        retry = await bot.twilio("hola", "SMslow0000000000000000000000001")
        assert retry.status_code == 200 and texts(retry) == []
        assert len(texts(await first)) >= 1
        await asyncio.sleep(0.1)
        assert fake_twilio.requests == []


async def test_the_retry_of_a_delivery_whose_worker_died_is_processed_once_its_claim_expires(
    tmp_path: Path, fake_twilio: FakeProvider
) -> None:
    async with running_bot(bot_settings(tmp_path, fake_twilio, **NO_LIMITS)) as bot:
        sid = "SMdied0000000000000000000000001"
        await bot.runtime.store.claim_delivery(f"whatsapp:{sid}", "the-killed-worker", 1)
        started = time.monotonic()
        assert texts(await bot.twilio("hola", sid))  # it waited for the claim, which expired: processed
        assert time.monotonic() - started >= 0.9
        assert texts(await bot.twilio("hola", sid)) == []


async def test_a_retry_that_outwaits_a_live_holder_asks_the_provider_to_try_again(
    tmp_path: Path, fake_twilio: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(TwilioChannel, "reply_within", 0.5)
    async with running_bot(bot_settings(tmp_path, fake_twilio, **NO_LIMITS)) as worker:
        sid, key = "SMheld0000000000000000000000001", "whatsapp:SMheld0000000000000000000000001"
        await worker.runtime.store.claim_delivery(key, "a-slow-worker", 60)
        retry = await worker.twilio("hola", sid)
        assert retry.status_code == 503 and retry.headers["Retry-After"]
        await worker.runtime.store.complete_delivery(key, 3600)  # the slow worker answered
        again = await worker.twilio("hola", sid)
        assert again.status_code == 200 and texts(again) == []


async def test_two_workers_sharing_redis_answer_each_delivery_once_even_concurrently(
    tmp_path: Path, fake_twilio: FakeProvider
) -> None:
    try:
        redis_url = require_redis()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    env = {"REDIS_URL": redis_url, **NO_LIMITS}
    one = bot_settings(tmp_path / "one", fake_twilio, **env)
    two = bot_settings(tmp_path / "two", fake_twilio, **env)
    async with running_bot(one) as first, running_bot(two) as second:
        for bot in (first, second):
            with_nlu(bot, delay=0.1)
        sids = [f"SMtwo{n:027d}" for n in range(6)]
        copies = [
            (worker, sid, f"+5068888{n:04d}")
            for n, sid in enumerate(sids)
            for worker in (first, second, first, second)
        ]
        responses = await asyncio.gather(*(worker.twilio("hola", sid, who) for worker, sid, who in copies))
        assert all(r.status_code == 200 for r in responses)
        for sid in sids:
            answered = [r for (_, s, _), r in zip(copies, responses, strict=True) if s == sid and texts(r)]
            assert len(answered) == 1, sid
        later = await asyncio.gather(*(worker.twilio("hola", sid, who) for worker, sid, who in copies))
        assert [texts(r) for r in later] == [[]] * len(copies)
        assert fake_twilio.requests == []


async def test_a_telegram_update_whose_turn_crashed_is_answered_when_telegram_retries(
    tmp_path: Path, fake_twilio: FakeProvider
) -> None:
    with serve(telegram_responder) as telegram_api:
        settings = bot_settings(
            tmp_path,
            fake_twilio,
            TELEGRAM_BOT_TOKEN="123456:TEST-telegram-token-durability",
            TELEGRAM_WEBHOOK_SECRET="telegram-secret-durability",
            TELEGRAM_API_BASE=f"{telegram_api.url}/bot",
            **NO_LIMITS,
        )
        async with running_bot(settings) as bot:
            with_nlu(bot, fail=1)
            update = {
                "update_id": 900000077,
                "message": {
                    "message_id": 12,
                    "from": {"id": 7077, "is_bot": False, "first_name": "Rose"},
                    "chat": {"id": 7077, "type": "private"},
                    "date": 1795000000,
                    "text": "bonjou",
                },
            }

            async def deliver() -> httpx.Response:
                headers = {"X-Telegram-Bot-Api-Secret-Token": "telegram-secret-durability"}
                return await bot.client.post("/webhooks/telegram", json=update, headers=headers)

            def sent() -> list[str]:
                return [str(r.params["text"]) for r in telegram_api.sent("/sendMessage")]

            assert (await deliver()).status_code == 200
            [apology] = sent()
            assert "Eskize m" in apology or APOLOGY_ES in apology
            assert (await deliver()).json() == {"status": "ok"}  # the retry is processed
            assert len(sent()) >= 2 and sent()[1] != apology
            count = len(sent())
            assert (await deliver()).json() == {"status": "duplicate"}
            assert len(sent()) == count
