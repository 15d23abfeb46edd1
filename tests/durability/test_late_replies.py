"""Late Twilio replies: sent through the API once when not ready within the webhook's wait, and still sent
(once) when the worker that took the delivery was killed before answering — by the next worker to start."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from dataclasses import replace
from pathlib import Path

import pytest

from bot.channels.twilio import TwilioChannel
from bot.deliveries import Handled
from bot.journal import Journal
from bot.nlu.types import NluResult
from bot.runtime import start_runtime
from bot.vocab.messages import InboundMessage, OutboundMessage
from tests.durability.conftest import TWILIO_SID, bot_settings, running_bot, sent_bodies, texts
from tests.durability.test_exactly_once import NO_LIMITS, with_nlu
from tests.helpers.fake_provider import FakeProvider
from tests.helpers.services import require_redis


async def sends(api: FakeProvider, count: int, within: float = 10.0) -> list[dict[str, str]]:
    """The messages sent through the fake Twilio API, once there are `count` (or the time is up)."""
    deadline = time.monotonic() + within
    while len(sent_bodies(api)) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return sent_bodies(api)


async def test_a_reply_not_ready_in_time_is_sent_through_the_api_once(
    tmp_path: Path, fake_twilio: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(TwilioChannel, "reply_within", 0.2)
    async with running_bot(bot_settings(tmp_path, fake_twilio, **NO_LIMITS)) as worker:
        with_nlu(worker, delay=0.6)
        sid = "SMlate000000000000000000000000001"
        first = await worker.twilio("hola", sid)
        assert first.status_code == 200 and texts(first) == []
        [sent] = await sends(fake_twilio, 1)
        assert sent["To"] == "whatsapp:+50688887777" and sent["Body"]
        assert texts(await worker.twilio("hola", sid)) == []  # Twilio's retry: already answered
        await asyncio.sleep(0.3)
        assert len(sent_bodies(fake_twilio)) == 1
        journal = worker.runtime.conversations.deliveries.journal
        assert journal is not None and journal.pending() == []


class HangingNlu:
    """An NLU that never answers: the worker is killed while the turn is still being decided."""

    def __init__(self, client: object) -> None:
        self.client = client

    async def parse(self, text: str) -> NluResult:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


def _take_the_delivery_then_die(tmp_path: str, api_url: str, redis_url: str, sid: str) -> None:
    """A worker that takes a delivery, answers Twilio with empty TwiML (not ready in time) and is killed
    (os._exit: no clean-up) before its reply is sent. Its claim and its conversation lock are held for
    1 s instead of 30 (production), so the next worker need not wait long for them to expire."""
    import bot.state.redis_store

    bot.state.redis_store.LOCK_TIMEOUT_SECONDS = 1

    async def main() -> None:
        settings = bot_settings(
            Path(tmp_path), FakeProvider(lambda r: (500, {}), url=api_url), REDIS_URL=redis_url
        )
        runtime = await start_runtime(settings, manage_rasa=False)
        runtime.conversations.deliveries.claim_seconds = 1
        runtime.conversations.nlu = HangingNlu(runtime.nlu.client)  # type: ignore[assignment]
        inbound = InboundMessage(
            channel="whatsapp",
            sender="+50677776666",
            text="hola",
            message_id=sid,
            metadata={"reply_from": "whatsapp:+14155238886"},
        )
        receipt = await runtime.conversations.receive(inbound, reply_within=0.2)
        assert receipt.status == "late"
        os._exit(9)

    asyncio.run(main())


async def test_a_late_reply_survives_its_worker_being_killed_and_is_sent_once(
    tmp_path: Path, fake_twilio: FakeProvider
) -> None:
    try:
        redis_url = require_redis()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    sid = "SMkill000000000000000000000000001"
    child = multiprocessing.get_context("spawn").Process(
        target=_take_the_delivery_then_die, args=(str(tmp_path), fake_twilio.url, redis_url, sid)
    )
    child.start()
    await asyncio.to_thread(child.join, 60)
    assert child.exitcode == 9
    settings = bot_settings(tmp_path, fake_twilio, REDIS_URL=redis_url, **NO_LIMITS)
    [journaled] = Journal(settings.var_dir / "spool" / "deliveries.jsonl").pending()
    assert journaled.data["message_id"] == sid and sent_bodies(fake_twilio) == []
    async with running_bot(settings) as restarted:  # recovers at start, then every 10 s
        restarted.runtime.conversations.deliveries.claim_seconds = (
            1  # as the killed worker's: recover after 1 s
        )
        [sent] = await sends(fake_twilio, 1, within=15)
        assert sent["To"] == "whatsapp:+50677776666" and sent["From"] == "whatsapp:+14155238886"
        assert await restarted.runtime.conversations.recover_deliveries() == 0
        assert texts(await restarted.twilio("hola", sid, "+50677776666")) == []  # Twilio's retry
        await asyncio.sleep(0.3)
        assert len(sent_bodies(fake_twilio)) == 1
        journal = restarted.runtime.conversations.deliveries.journal
        assert journal is not None and journal.pending() == []
    assert TWILIO_SID in fake_twilio.requests[0].path


async def test_a_late_reply_is_not_sent_to_a_person_who_opted_out_meanwhile(
    tmp_path: Path, fake_twilio: FakeProvider
) -> None:
    """The turn was decided, then the person wrote STOP before its late reply went out."""
    async with running_bot(bot_settings(tmp_path, fake_twilio, **NO_LIMITS)) as worker:
        assert texts(await worker.twilio("STOP", "SMstop1", "+50671000001"))
        deliveries = worker.runtime.conversations.deliveries
        inbound = InboundMessage(channel="whatsapp", sender="+50671000001", text="hola", message_id="SMx")
        ours = "whatsapp:+14155238886"
        reply = OutboundMessage(recipient="+50671000001", text="Menú", channel="whatsapp", reply_from=ours)
        await deliveries._send(inbound, Handled([reply], True, ("answered",)), late=True)
        assert sent_bodies(fake_twilio) == []
        confirmation = replace(reply, text="No recibirá más")
        await deliveries._send(inbound, Handled([confirmation], True, ("opted_out",)), late=True)
        assert [s["Body"] for s in sent_bodies(fake_twilio)] == ["No recibirá más"]
