"""Sends in doubt are settled with the provider, never guessed: a worker that died mid-send, or a Twilio 5xx,
leaves recipients the provider may or may not have taken. Twilio's message list says which (sent once,
counted as sent); Telegram keeps no such list, so there the recipient ends `unknown` and is not sent twice.
Through the real twilio and python-telegram-bot clients and the local fake of both APIs."""

from __future__ import annotations

import io
import time
from pathlib import Path

from sqlalchemy import select

from bot.campaigns import claims
from bot.campaigns.audience import prepare
from bot.campaigns.runner import database, send
from bot.campaigns.spec import load_spec
from bot.campaigns.subscribers import subscribe
from bot.channels.twilio import TwilioChannel
from bot.config import Settings
from bot.db.models import CampaignRecipient, Subscription
from tests.campaigns.conftest import provider_env
from tests.helpers.app import make_settings
from tests.helpers.campaign_fakes import CampaignFake, twilio_error

TEXT = "Alèt: randevou COMAR yo gratis, pa peye pesonn."
CAMPAIGN = f"""
id: doubt-1
audience: {{countries: [MX], languages: [ht], topics: [fraud]}}
messages:
  ht: "{TEXT}"
"""
SMS = [f"+5215550000{i:02d}" for i in range(6)]
TELEGRAM = ["7001", "7002"]


def setup(tmp_path: Path, fake: CampaignFake, db_url: str, **extra: str) -> tuple[Settings, Path]:
    settings = make_settings(tmp_path, **(provider_env(fake, db_url, tmp_path) | extra))
    with database(settings).begin() as session:
        for channel, addresses in (("sms", SMS), ("telegram", TELEGRAM)):
            for address in addresses:
                subscribe(
                    session,
                    settings.pseudonym_key,
                    channel=channel,
                    address=address,
                    language="ht",
                    country="MX",
                    topics=["fraud"],
                    consent_version="alerts-v1",
                )
    path = tmp_path / "doubt.yml"
    path.write_text(CAMPAIGN, encoding="utf-8")
    return settings, path


def outcomes(settings: Settings) -> dict[str, tuple[str, str | None]]:
    """address → (status, reason)."""
    with database(settings)() as session:
        rows = session.execute(
            select(Subscription.address, CampaignRecipient.status, CampaignRecipient.reason).join(
                Subscription, Subscription.id == CampaignRecipient.subscription_id
            )
        ).all()
    return {address: (status, reason) for address, status, reason in rows}


async def test_a_dead_workers_sends_are_settled_with_the_provider(
    tmp_path: Path, fake: CampaignFake, db_url: str
) -> None:
    settings, path = setup(tmp_path, fake, db_url)
    earlier = tmp_path / "earlier.yml"  # the same text, a minute before: its messages are not this one's
    earlier.write_text(CAMPAIGN.replace("doubt-1", "earlier-1"), encoding="utf-8")
    await send(settings, earlier, io.StringIO(), lease=5)
    fake.sent.clear()
    sessions = database(settings)
    spec = load_spec(path)
    assert prepare(sessions, spec) == 8
    # a worker claims everyone and marks them sending; the SMS to the first two and the Telegram
    # message to the first chat reach the providers, then the worker dies (its lease runs out)
    dead = [*claims.claim(sessions, spec.id, "sms", "dead", 50, 0.5)]
    dead += claims.claim(sessions, spec.id, "telegram", "dead", 50, 0.5)
    assert len(claims.mark_sending(sessions, "dead", [r.id for r in dead])) == 8
    twilio = TwilioChannel.from_settings(settings)
    for address in SMS[:2]:
        await twilio.send_initiated("sms", address, "+15005550006", body=TEXT)
    await twilio.aclose()
    fake.answer("/bot/sendMessage", {"chat_id": TELEGRAM[0], "text": TEXT})
    time.sleep(0.6)

    out = io.StringIO()
    status = await send(settings, path, out, lease=5)

    assert fake.per_address() == {address: 1 for address in [*SMS, TELEGRAM[0]]}, "once each, no guess"
    got = outcomes(settings)
    assert {a: got[a] for a in SMS[:2]} == {a: ("sent", "settled") for a in SMS[:2]}
    assert {got[a] for a in SMS[2:]} == {("sent", None)}
    # Telegram cannot say what a bot sent: not sent again, counted as unknown
    assert {got[a] for a in TELEGRAM} == {("unknown", "interrupted_mid_send")}
    assert (status["sent"], status["unknown"]) == (6, 2)
    assert "8 targeted, 6 sent, 0 failed, 0 skipped, 2 unknown" in out.getvalue()
    assert "sent settled: 2" in out.getvalue() and "unknown interrupted_mid_send: 2" in out.getvalue()
    with sessions() as session:
        rows = session.scalars(select(CampaignRecipient).where(CampaignRecipient.status == "sent"))
        by_campaign: dict[str, set[str | None]] = {}
        for r in rows:
            by_campaign.setdefault(r.campaign_id, set()).add(r.provider_id)
    # the settled ones carry the sid the dead worker got, never one the earlier campaign owns
    assert len(by_campaign["doubt-1"]) == 6 and None not in by_campaign["doubt-1"]
    assert not by_campaign["doubt-1"] & by_campaign["earlier-1"]


async def test_a_twilio_5xx_is_settled_before_the_retry(
    tmp_path: Path, fake: CampaignFake, db_url: str
) -> None:
    settings, path = setup(tmp_path, fake, db_url)
    fake.scripted = {
        SMS[0]: [twilio_error(20500, 500, retry_after="1", taken=True)],  # Twilio kept it, answered 500
        SMS[1]: [twilio_error(20500, 503, retry_after="1")],  # refused: must be sent on the retry
        SMS[2]: [twilio_error(20429, 429, retry_after="1")],  # a clear refusal: no doubt, no list read
    }
    out = io.StringIO()
    status = await send(settings, path, out, lease=5)

    assert fake.per_address() == {address: 1 for address in [*SMS, *TELEGRAM]}
    got = outcomes(settings)
    assert got[SMS[0]] == ("sent", "settled")
    assert got[SMS[1]][0] == got[SMS[2]][0] == "sent"
    assert fake.listed == 2  # only the two 5xx were in doubt
    assert (status["sent"], sum(status.values())) == (8, 8)


async def test_when_twilio_cannot_say_the_recipient_is_unknown_not_resent(
    tmp_path: Path, fake: CampaignFake, db_url: str
) -> None:
    """Settling needs Twilio's list; while it fails the recipient waits, and after the retries it stays
    unknown: a second message is never sent on a guess."""
    settings, path = setup(tmp_path, fake, db_url, INFOBOT_CAMPAIGN_ATTEMPTS="2")
    sessions = database(settings)
    spec = load_spec(path)
    prepare(sessions, spec)
    dead = claims.claim(sessions, spec.id, "sms", "dead", 1, 0.3)
    claims.mark_sending(sessions, "dead", [r.id for r in dead])
    time.sleep(0.4)
    broken = fake.message_list
    down = (500, {"code": 20500, "message": "down", "status": 500}, {})
    fake.message_list = lambda query: down  # type: ignore[method-assign]
    try:
        status = await send(settings, path, io.StringIO(), lease=5)
    finally:
        fake.message_list = broken  # type: ignore[method-assign]
    assert outcomes(settings)[SMS[0]] == ("unknown", "unconfirmed")
    assert SMS[0] not in fake.per_address()
    assert (status["sent"], status["unknown"]) == (7, 1)
