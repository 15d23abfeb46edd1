"""The referral log against real PostgreSQL and SQLite: never lost, never doubled, migrations from empty."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, inspect, select, text

from bot.db import make_engine, migrate, session_factory
from bot.db.models import Referral
from bot.referrals.log import ReferralLog, ReferralRecord

POSTGRES_URL = os.environ.get("INFOBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def record(n: int = 1) -> ReferralRecord:
    return ReferralRecord.now(
        code=f"ABC-{n:04d}",
        idempotency_key=f"key-{n}",
        service="asylum",
        hub_id="mx-tapachula",
        country="MX",
        language="ht",
        channel="whatsapp",
        person="p" * 20,
        consent_version="2026-11-v1",
    )


def fresh_postgres() -> Engine:
    engine = make_engine(POSTGRES_URL)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS infobot_test CASCADE; CREATE SCHEMA infobot_test"))
    except Exception as exc:  # noqa: BLE001 - turned into a clear instruction
        pytest.fail(
            f"These tests need PostgreSQL at {POSTGRES_URL} ({exc.__class__.__name__}). Install it: "
            "`apt-get install -y postgresql` and allow trust auth for 127.0.0.1, or set "
            "INFOBOT_TEST_POSTGRES_URL."
        )
    engine.dispose()
    return make_engine(POSTGRES_URL + "?options=-csearch_path%3Dinfobot_test")


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    db = make_engine(f"sqlite:///{tmp_path}/r.db") if request.param == "sqlite" else fresh_postgres()
    migrate(db)
    yield db
    db.dispose()


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count(Referral.id))).scalar_one())


def test_migrations_upgrade_an_empty_database(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert {
        "referrals",
        "referral_status_history",
        "escalations",
        "scam_reports",
        "alembic_version",
    } <= tables
    migrate(engine)  # a second worker starting: nothing to do, nothing broken


def test_a_referral_is_stored_once_with_its_history(engine: Engine, tmp_path: Path) -> None:
    log = ReferralLog(session_factory(engine), tmp_path / "spool.jsonl")
    assert log.log(record()) == "stored"
    assert log.log(record()) == "stored"  # the same consent delivered twice
    assert count(engine) == 1
    log.set_status("ABC-0001", "sent", "hub-webhook")
    log.set_status("ABC-0001", "contacted", "agent@example.org")
    with session_factory(engine)() as session:
        referral = session.scalars(select(Referral)).one()
        assert [h.status for h in referral.history] == ["new", "sent", "contacted"]
    with pytest.raises(ValueError, match="cannot go from contacted to new"):
        log.set_status("ABC-0001", "new", "x")


def test_database_down_during_consent_is_spooled_then_replayed_once(engine: Engine, tmp_path: Path) -> None:
    spool = tmp_path / "spool.jsonl"
    down = make_engine("postgresql://postgres@127.0.0.1:1/test")
    assert ReferralLog(session_factory(down), spool).log(record(7)) == "spooled"
    assert spool.read_text().count("ABC-0007") == 1
    back = ReferralLog(session_factory(engine), spool)
    assert back.replay() == 1 and count(engine) == 1
    assert back.replay() == 0 and count(engine) == 1
    assert spool.read_text() == ""


def _spool_then_die(spool: str) -> None:
    """A worker killed between the write-ahead and the SQL commit."""
    ReferralLog(session_factory(make_engine("sqlite:///:memory:")), Path(spool)).spool(record(9))
    os._exit(9)


def test_a_process_killed_between_consent_and_commit_loses_nothing(engine: Engine, tmp_path: Path) -> None:
    spool = tmp_path / "spool.jsonl"
    child = multiprocessing.get_context("spawn").Process(target=_spool_then_die, args=(str(spool),))
    child.start()
    child.join(30)
    assert child.exitcode == 9 and count(engine) == 0
    assert ReferralLog(session_factory(engine), spool).replay() == 1
    assert count(engine) == 1


def test_optional_statistics_are_stored_only_when_given(engine: Engine, tmp_path: Path) -> None:
    log = ReferralLog(session_factory(engine), tmp_path / "spool.jsonl")
    log.log(record(3))
    log.disaggregate("ABC-0003", sex="female")
    with engine.connect() as conn:
        assert conn.execute(select(Referral.sex, Referral.age_group)).one() == ("female", None)


def _migrate(url: str) -> str:
    migrate(make_engine(url))
    return "ok"


def test_workers_starting_together_migrate_one_at_a_time(tmp_path: Path) -> None:
    fresh_postgres().dispose()
    urls = [f"sqlite:///{tmp_path}/together.db", POSTGRES_URL + "?options=-csearch_path%3Dinfobot_test"]
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        assert pool.map(_migrate, urls * 2) == ["ok"] * 4
