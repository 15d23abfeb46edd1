"""`infobot campaign send` through the real twilio and python-telegram-bot clients and a local fake of
both APIs: exactly the matching subscribers, once each, in their language, within the platforms' rules."""

from __future__ import annotations

import io
import json
from pathlib import Path

from sqlalchemy import select

from bot.campaigns.audience import prepare
from bot.campaigns.runner import database, dry_run, send
from bot.campaigns.spec import load_spec
from bot.campaigns.subscribers import person_key, subscribe
from bot.config import Settings
from bot.db.models import CampaignRecipient, ContactPreference, Subscription
from bot.durable import _apply_preference, contact_preference
from tests.campaigns.conftest import TEMPLATE_SID, provider_env
from tests.helpers.app import make_settings
from tests.helpers.campaign_fakes import CampaignFake, telegram_error, twilio_error

TEXTS = {
    "es": "Alerta: nadie puede cobrarle por la cita.",
    "en": "Alert: nobody can charge you for the appointment.",
    "fr": "Alerte : personne ne peut vous faire payer le rendez-vous.",
    "ht": "Alèt: pesonn pa ka fè w peye pou randevou a.",
}
CAMPAIGN = f"""
id: fraud-alert-1
audience: {{countries: [CR, MX], languages: [es, en, fr, ht], topics: [fraud, regularization]}}
messages:
  es: "{TEXTS["es"]}"
  en: "{TEXTS["en"]}"
  fr: "{TEXTS["fr"]}"
  ht: "{TEXTS["ht"]}"
whatsapp_template:
  es: {{content_sid: {TEMPLATE_SID}, variables: {{"1": "CR"}}}}
"""
PEOPLE = {  # name: (channel, address, language, country, topics)
    "wa_es": ("whatsapp", "+50688880001", "es", "CR", ["fraud"]),
    "wa_en": ("whatsapp", "+50688880002", "en", "CR", ["fraud"]),
    "sms_fr": ("sms", "+50688880003", "fr", "CR", ["regularization"]),
    "tg_ht": ("telegram", "1001", "ht", "CR", ["fraud", "work"]),
    "other_country": ("sms", "+50288880004", "es", "GT", ["fraud"]),
    "other_topic": ("sms", "+50688880005", "es", "CR", ["work"]),
    "stopped": ("sms", "+52188880006", "es", "MX", ["fraud"]),
    "carrier_stop": ("sms", "+50688880007", "es", "CR", ["fraud"]),
    "blocked": ("telegram", "1002", "es", "MX", ["fraud"]),
    "slow_down": ("sms", "+52188880008", "en", "MX", ["fraud"]),
    "bad_number": ("sms", "+50688880009", "es", "CR", ["fraud"]),
    "tg_slow_down": ("telegram", "1003", "fr", "MX", ["fraud"]),
}


def setup(tmp_path: Path, fake: CampaignFake, db_url: str) -> tuple[Settings, Path]:
    settings = make_settings(tmp_path, **provider_env(fake, db_url, tmp_path))
    sessions = database(settings)
    with sessions.begin() as session:
        for channel, address, language, country, topics in PEOPLE.values():
            subscribe(
                session,
                settings.pseudonym_key,
                channel=channel,
                address=address,
                language=language,
                country=country,
                topics=topics,
                consent_version="alerts-v1",
            )
    stop(settings, "sms", PEOPLE["stopped"][1])
    fake.scripted = {
        PEOPLE["carrier_stop"][1]: [twilio_error(21610)],
        PEOPLE["blocked"][1]: [telegram_error(403, "Forbidden: bot was blocked by the user")],
        PEOPLE["slow_down"][1]: [twilio_error(20429, 429, retry_after="1")],
        PEOPLE["bad_number"][1]: [twilio_error(21211)],
        PEOPLE["tg_slow_down"][1]: [telegram_error(429, "Too Many Requests: retry after 1", retry_after=1)],
    }
    path = tmp_path / "campaign.yml"
    path.write_text(CAMPAIGN, encoding="utf-8")
    return settings, path


def stop(settings: Settings, channel: str, address: str) -> None:
    """The person writes STOP: the durable record the service keeps, applied to SQL."""
    person = person_key(settings.pseudonym_key, channel, address)
    entry = contact_preference(f"{channel}:{address}", person, opted_out=True, sync_store=False)
    with database(settings).begin() as session:
        _apply_preference(session, entry)


async def test_a_campaign_reaches_each_matching_subscriber_once_in_their_language(
    tmp_path: Path, fake: CampaignFake, db_url: str
) -> None:
    settings, path = setup(tmp_path, fake, db_url)
    out = io.StringIO()
    status = await send(settings, path, out, lease=5)

    got = {s.to: s for s in fake.sent}
    assert fake.per_address() == {
        PEOPLE[n][1]: 1 for n in ("wa_es", "sms_fr", "tg_ht", "slow_down", "tg_slow_down")
    }
    assert got[PEOPLE["sms_fr"][1]].params["Body"] == TEXTS["fr"]
    assert got[PEOPLE["sms_fr"][1]].params["From"] == "+15005550006"
    assert got[PEOPLE["tg_ht"][1]].params["text"] == TEXTS["ht"]
    assert got[PEOPLE["slow_down"][1]].params["Body"] == TEXTS["en"]
    # WhatsApp, nobody wrote within 24 hours: the approved template, never free-form text
    wa = got[PEOPLE["wa_es"][1]].params
    assert (wa["To"], wa["From"], wa["ContentSid"]) == (
        "whatsapp:+50688880001",
        "whatsapp:+14155238886",
        TEMPLATE_SID,
    )
    assert json.loads(wa["ContentVariables"]) == {"1": "CR"} and "Body" not in wa
    # refused once each, and not retried when the error is permanent
    refused = [r.to for r in fake.refused]
    assert sorted(refused) == sorted(
        PEOPLE[n][1] for n in ("carrier_stop", "blocked", "slow_down", "bad_number", "tg_slow_down")
    )
    assert (status["sent"], status["failed"], status["skipped"], sum(status.values())) == (5, 3, 1, 9)
    assert "9 targeted, 5 sent, 3 failed, 1 skipped, 0 unknown" in out.getvalue()
    assert "skipped outside_window_no_template: 1" in out.getvalue()
    assert "failed twilio_21610: 1" in out.getvalue()

    sessions = database(settings)
    with sessions() as session:
        subs = {s.address: s for s in session.scalars(select(Subscription))}
        reasons = {
            r.person: (r.status, r.reason, r.attempts) for r in session.scalars(select(CampaignRecipient))
        }
        carrier = person_key(settings.pseudonym_key, "sms", PEOPLE["carrier_stop"][1])
        assert session.get(ContactPreference, carrier).opted_out  # type: ignore[union-attr]
    assert (subs[PEOPLE["carrier_stop"][1]].active, subs[PEOPLE["carrier_stop"][1]].end_reason) == (
        False,
        "carrier_stop",
    )
    assert (subs["1002"].active, subs["1002"].end_reason) == (False, "blocked")
    assert reasons[person_key(settings.pseudonym_key, "sms", PEOPLE["slow_down"][1])] == ("sent", None, 2)
    assert reasons[person_key(settings.pseudonym_key, "sms", PEOPLE["bad_number"][1])] == (
        "failed",
        "twilio_21211",
        1,
    )
    assert reasons[carrier][:2] == ("failed", "twilio_21610")

    # running the same campaign again sends nothing
    before = len(fake.sent) + len(fake.refused)
    again = await send(settings, path, io.StringIO(), lease=5)
    assert len(fake.sent) + len(fake.refused) == before and again == status


async def test_a_stop_after_the_audience_was_frozen_is_respected(
    tmp_path: Path, fake: CampaignFake, db_url: str
) -> None:
    settings, path = setup(tmp_path, fake, db_url)
    prepare(database(settings), load_spec(path))
    stop(settings, "sms", PEOPLE["sms_fr"][1])
    stop(settings, "telegram", "1001")
    status = await send(settings, path, io.StringIO(), lease=5)
    assert PEOPLE["sms_fr"][1] not in fake.per_address() and "1001" not in fake.per_address()
    assert status["skipped"] == 3  # two opted out, one WhatsApp outside the window without a template


def test_dry_run_prints_the_audience_per_channel_and_language(
    tmp_path: Path, fake: CampaignFake, db_url: str
) -> None:
    settings, path = setup(tmp_path, fake, db_url)
    out = io.StringIO()
    counts = dry_run(settings, load_spec(path), out)
    assert sum(counts.values()) == 9 and counts[("sms", "es")] == 2 and counts[("telegram", "fr")] == 1
    assert "campaign fraud-alert-1: 9 recipient(s)" in out.getvalue()
    assert not fake.sent and not fake.refused


async def test_reach_report_counts_by_country_language_channel_without_addresses(
    tmp_path: Path, fake: CampaignFake, db_url: str
) -> None:
    import datetime as dt

    from bot.campaigns.reach import reach, write_reach
    from bot.db.models import DeliveryStatus

    settings, path = setup(tmp_path, fake, db_url)
    await send(settings, path, io.StringIO(), lease=5)
    sessions = database(settings)
    with sessions.begin() as session:  # Twilio's status callbacks, as bot/webhooks.py stores them
        ids = {r.person: r.provider_id for r in session.scalars(select(CampaignRecipient))}
        wa = ids[person_key(settings.pseudonym_key, "whatsapp", PEOPLE["wa_es"][1])]
        fr = ids[person_key(settings.pseudonym_key, "sms", PEOPLE["sms_fr"][1])]
        session.add(DeliveryStatus(provider_id=wa, channel="whatsapp", status="read"))
        session.add(DeliveryStatus(provider_id=fr, channel="sms", status="undelivered", error_code="30008"))
    stop(settings, "telegram", "1001")  # an opt-out the day after
    now = dt.datetime.now(dt.UTC)
    rows, failures = reach(sessions, now - dt.timedelta(days=1), now + dt.timedelta(days=1))
    by = {(r["country"], r["language"], r["channel"]): r for r in rows}
    assert by[("CR", "es", "whatsapp")] | {} == {
        **by[("CR", "es", "whatsapp")],
        "targeted": 1,
        "sent": 1,
        "delivered": 1,
        "read": 1,
    }
    assert (by[("CR", "fr", "sms")]["failed"], by[("CR", "fr", "sms")]["sent"]) == (1, 0)
    assert by[("CR", "ht", "telegram")]["delivered"] == 1 and by[("CR", "ht", "telegram")]["optouts_7d"] == 1
    assert by[("CR", "es", "sms")]["optouts_7d"] == 1  # the carrier STOP (21610)
    assert failures[("fraud-alert-1", "sms", "failed:twilio_30008")] == 1
    assert failures[("fraud-alert-1", "whatsapp", "skipped:outside_window_no_template")] == 1
    files = write_reach(rows, failures, tmp_path / "out", "2026-12")
    assert {f.suffix for f in files} == {".csv", ".png"}
    written = "".join(f.read_text() for f in files if f.suffix == ".csv")
    for _channel, address, *_ in PEOPLE.values():
        assert address.lstrip("+") not in written, "an address reached the report"
    assert "targeted" in written and "fraud-alert-1" in written
