"""Alerts subscribed in a real WhatsApp conversation (signed Twilio webhooks, the real app and runtime)
land in SQL with the consent's text version; STOP ends them; an import cannot bring them back."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.campaigns.runner import database, import_subscribers
from bot.campaigns.subscribers import person_key
from bot.db.models import Subscription
from bot.dialogue.alerts import CONSENT_VERSION
from tests.durability.conftest import bot_settings, running_bot, texts
from tests.helpers.fake_provider import FakeProvider, serve, twilio_responder


async def test_whatsapp_subscription_is_recorded_and_stop_ends_it(tmp_path: Path) -> None:
    with serve(twilio_responder) as api:
        await _conversation(tmp_path, api)


async def _conversation(tmp_path: Path, api: FakeProvider) -> None:
    settings = bot_settings(tmp_path, api)
    person = person_key(settings.pseudonym_key, "whatsapp", "+50688887777")
    async with running_bot(settings) as bot:
        await bot.twilio("hello", "SM1")
        await bot.twilio("1", "SM1b")  # any menu answer: the conversation is in a language now
        for n, body in enumerate(["ALERTS", "2", "1 5"]):
            answer = await bot.twilio(body, f"SM2{n}")
            assert answer.status_code == 200
        assert "STOP" in texts(answer)[0]  # the consent says how to stop
        done = await bot.twilio("1", "SM30")
        assert texts(done)
        with database(settings)() as session:
            row = session.scalar(select(Subscription).where(Subscription.person == person))
            assert row is not None
            assert (row.channel, row.address, row.country) == ("whatsapp", "+50688887777", "CR")
            assert (row.topics, row.consent_version, row.active) == (
                "fraud;regularization",
                CONSENT_VERSION,
                True,
            )
        await bot.twilio("STOP", "SM40")
    with database(settings)() as session:
        row = session.scalar(select(Subscription).where(Subscription.person == person))
        assert row is not None and (row.active, row.end_reason) == (False, "stop")
    listing = tmp_path / "office.csv"
    listing.write_text(
        "channel,address,language,country,topics,consent_version,consented_at\n"
        "whatsapp,whatsapp:+50688887777,es,CR,work,office-2025,2025-05-01T00:00:00Z\n"
    )
    assert import_subscribers(settings, listing, open("/dev/null", "w")).refused_opted_out == 1  # noqa: SIM115
