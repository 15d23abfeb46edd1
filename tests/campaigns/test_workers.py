"""Durable delivery: a worker SIGKILLed mid-campaign and restarted sends the rest without duplicates;
two workers share a campaign through real Redis (arq) and PostgreSQL; WhatsApp inside the window gets
the free-form text."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import time
from pathlib import Path

import redis
from sqlalchemy import select

from bot.campaigns.runner import database
from bot.campaigns.spec import load_spec
from bot.campaigns.subscribers import subscribe
from bot.config import PROJECT_ROOT, Settings
from bot.db.models import Campaign, CampaignRecipient
from bot.state.record import Contact, StoredConversation, write_conversation
from bot.state.redis_store import RedisStore
from tests.campaigns.conftest import TEMPLATE_SID, fresh_schema, provider_env
from tests.helpers.app import make_settings
from tests.helpers.campaign_fakes import campaign_fake
from tests.helpers.services import require_redis

INFOBOT = str(PROJECT_ROOT / ".venv" / "bin" / "infobot")
CAMPAIGN = f"""
id: docs-week
audience: {{countries: [HT, DO], languages: [ht, fr], topics: [documents]}}
messages: {{ht: "Biwo a louvri pou paspò.", fr: "Le bureau est ouvert pour les passeports."}}
whatsapp_template: {{ht: {{content_sid: {TEMPLATE_SID}, variables: {{"1": "HT"}}}}}}
"""


def subscribers(settings: Settings, n: int, channel: str = "sms") -> list[str]:
    prefix = {"sms": "+5093000", "whatsapp": "+5093100"}.get(channel)
    addresses = [f"{prefix}{i:04d}" if prefix else str(5000 + i) for i in range(n)]
    with database(settings).begin() as session:
        for i, address in enumerate(addresses):
            subscribe(
                session,
                settings.pseudonym_key,
                channel=channel,
                address=address,
                language="ht" if i % 2 else "fr",
                country="HT",
                topics=["documents"],
                consent_version="alerts-v1",
            )
    return addresses


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [INFOBOT, *args],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_worker_killed_mid_campaign_and_restarted_sends_the_rest_once(tmp_path: Path) -> None:
    with campaign_fake(delay=0.1) as fake:  # slow enough to be killed mid-way on a loaded machine
        env = provider_env(fake, f"sqlite:///{tmp_path}/c.db", tmp_path)
        env |= {"INFOBOT_CAMPAIGN_LEASE": "2", "INFOBOT_CAMPAIGN_RATE_SMS": "40"}
        settings = make_settings(tmp_path, **env)
        addresses = subscribers(settings, 80)
        (tmp_path / "c.yml").write_text(CAMPAIGN)
        first = start(["campaign", "send", str(tmp_path / "c.yml")], env)
        deadline = time.monotonic() + 60
        while len(fake.sent) < 30 and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)
        first.wait()
        assert 30 <= len(fake.sent) < 80, "killed too late to test a resume"
        time.sleep(0.3)  # requests the dead worker had in flight reach the fake
        killed_at = len(fake.sent)

        second = subprocess.run(
            [INFOBOT, "campaign", "send", str(tmp_path / "c.yml")],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 0, second.stderr
        counts = fake.per_address()
        assert max(counts.values()) == 1, "someone got the campaign twice"
        with database(settings)() as session:
            statuses = [r.status for r in session.scalars(select(CampaignRecipient))]
        missed = [a for a in addresses if a not in counts]
        # what the dead worker had in flight was settled with Twilio's list: nobody missed, nobody twice
        assert missed == [] and statuses == ["sent"] * 80 and len(fake.sent) > killed_at
        assert "80 targeted, 80 sent, 0 failed, 0 skipped, 0 unknown" in second.stdout


def test_two_workers_share_a_campaign_through_redis(tmp_path: Path) -> None:
    redis_url = require_redis()
    with campaign_fake(delay=0.01) as fake:
        env = provider_env(fake, fresh_schema(), tmp_path) | {
            "REDIS_URL": redis_url,
            "INFOBOT_CAMPAIGN_LEASE": "3",
        }
        env |= {"INFOBOT_CAMPAIGN_RATE_SMS": "50", "INFOBOT_CAMPAIGN_RATE_WHATSAPP": "50"}
        settings = make_settings(tmp_path, **env)
        # 4 s of work at 50/s: more than one worker's claims ahead (up to 4 lanes and 8 groups of 4), so a
        # fast first worker cannot hold the whole campaign before the others ask
        subscribers(settings, 200)
        wa = subscribers(settings, 2, channel="whatsapp")
        store = RedisStore(redis_url, 3600, settings.pseudonym_key)

        async def wrote_recently() -> None:
            wrote = StoredConversation(contact=Contact(last_inbound_at=time.time() - 60))
            await write_conversation(store, f"whatsapp:{wa[1]}", wrote)
            await store.aclose()

        asyncio.run(wrote_recently())
        workers = [start(["campaign", "worker"], env) for _ in range(2)]
        try:
            for worker in workers:  # migrated and listening
                assert worker.stdout is not None and "ready" in worker.stdout.readline()
            (tmp_path / "c.yml").write_text(CAMPAIGN)
            sent = subprocess.run(
                [INFOBOT, "campaign", "send", str(tmp_path / "c.yml")],
                env={**os.environ, **env},
                capture_output=True,
                text=True,
                timeout=120,
            )
        finally:
            for worker in workers:
                worker.terminate()
                worker.wait(10)
        logs = [w.stderr.read() for w in workers if w.stderr is not None]
        assert sent.returncode == 0, sent.stderr
        assert fake.per_address() and max(fake.per_address().values()) == 1
        assert len(fake.sent) == 201
        with database(settings)() as session:
            tokens = {r.claim_token for r in session.scalars(select(CampaignRecipient))}
        assert len(tokens) >= 2, f"one worker sent everything: {logs}"  # claims split between workers
        by_to = {s.to: s.params for s in fake.sent}
        assert "ContentSid" not in by_to[wa[1]] and by_to[wa[1]]["Body"] == "Biwo a louvri pou paspò."
        assert wa[0] not in by_to  # French, outside the window, no French template: skipped
        redis.Redis.from_url(redis_url).flushdb()


def test_without_redis_the_worker_sends_a_campaign_approved_in_the_console_once(tmp_path: Path) -> None:
    """The in-process default: no REDIS_URL, and `infobot campaign worker` still sends what editors
    approved and scheduled in the console, once each, then marks the campaign done."""
    with campaign_fake() as fake:
        env = provider_env(fake, f"sqlite:///{tmp_path}/c.db", tmp_path)
        env.pop("REDIS_URL", None)
        settings = make_settings(tmp_path, **env)
        addresses = subscribers(settings, 6)
        (tmp_path / "c.yml").write_text(CAMPAIGN)
        spec = load_spec(tmp_path / "c.yml")
        with database(settings).begin() as session:
            past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
            session.add(
                Campaign(
                    id=spec.id,
                    spec=spec.to_json(),
                    status="approved",
                    created_by="editor@example.org",
                    approved_by="admin@example.org",
                    scheduled_at=past,
                )
            )
        worker = start(["campaign", "worker"], {k: v for k, v in env.items() if k != "REDIS_URL"})
        try:
            assert worker.stdout is not None and "in process" in worker.stdout.readline()
            deadline = time.monotonic() + 90
            status = "approved"
            while time.monotonic() < deadline and status != "done":
                time.sleep(0.2)
                with database(settings)() as session:
                    row = session.get(Campaign, spec.id)
                    status = row.status if row is not None else "missing"
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
        assert status == "done"
        assert fake.per_address() == dict.fromkeys(addresses, 1)
