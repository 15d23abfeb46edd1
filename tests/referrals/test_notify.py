"""Hub notification: delivered to a local fake hub with retries, status moves to sent, nothing personal."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sqlalchemy import select

from bot.db import make_engine, migrate, session_factory
from bot.db.models import Referral
from bot.referrals import load_directory
from bot.referrals.log import ReferralLog
from bot.referrals.notify import HubNotifier
from tests.helpers.fake_provider import serve
from tests.referrals.test_referral_log import record


def ok(_request: object) -> tuple[int, dict[str, str]]:
    return 200, {"status": "received"}


async def test_a_new_referral_reaches_the_hub_after_a_server_error(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/n.db")
    migrate(engine)
    log = ReferralLog(session_factory(engine), tmp_path / "spool.jsonl")
    referral = record(5)
    log.log(referral)
    with serve(ok) as hub_api:
        hub = dataclasses.replace(
            load_directory().get("mx-tapachula"), webhook_url=f"{hub_api.url}/referrals"
        )  # type: ignore[arg-type]
        hub_api.failures = [503]
        assert await HubNotifier(log, base_delay=0.01).notify(referral, hub)
        first, second = hub_api.requests
    assert second.json == {
        "code": "ABC-0005",
        "service": "asylum",
        "language": "ht",
        "country": "MX",
        "hub_id": "mx-tapachula",
        "created_at": referral.created_at,
        "consent_version": "2026-11-v1",
    }
    assert referral.person not in second.body.decode()
    with engine.connect() as conn:
        assert conn.execute(select(Referral.status)).scalar_one() == "sent"
    del first


async def test_a_hub_that_refuses_is_not_retried(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/n.db")
    migrate(engine)
    log = ReferralLog(session_factory(engine), tmp_path / "spool.jsonl")
    log.log(record(6))
    with serve(lambda _r: (400, {"error": "bad"})) as hub_api:
        hub = dataclasses.replace(load_directory().get("mx-tapachula"), webhook_url=hub_api.url)  # type: ignore[arg-type]
        assert not await HubNotifier(log, base_delay=0.01).notify(record(6), hub)
        assert len(hub_api.requests) == 1
    with engine.connect() as conn:
        assert conn.execute(select(Referral.status)).scalar_one() == "new"
