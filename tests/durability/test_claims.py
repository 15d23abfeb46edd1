"""Delivery claims in both stores and in SQL: taken once, expire unless renewed, done for days, released on
failure."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.db import make_engine, migrate, session_factory
from bot.state import ConversationStore, RedisStore, StoreUnavailable
from bot.state.base import Delivery
from bot.state.sql_deliveries import SqlDeliveries
from tests.durability.conftest import fresh_postgres
from tests.helpers.services import require_redis

SECRET = b"test-secret-key-0123456789-abcdefghijkl"


async def test_one_claimant_at_a_time_and_done_is_done(store: ConversationStore) -> None:
    found = await asyncio.gather(*(store.claim_delivery("twilio:SM1", f"t{i}", 30) for i in range(10)))
    assert sorted(f.value for f in found) == ["in_progress"] * 9 + ["new"]
    winner = f"t{found.index(Delivery.NEW)}"
    await store.complete_delivery("twilio:SM1", 3600)
    assert await store.claim_delivery("twilio:SM1", "late", 30) is Delivery.DONE
    assert not await store.renew_delivery("twilio:SM1", winner, 30)  # done is no longer anyone's claim


async def test_an_unrenewed_claim_expires_so_the_retry_is_processed(store: ConversationStore) -> None:
    assert await store.claim_delivery("twilio:SM2", "crashed-worker", 1) is Delivery.NEW
    assert await store.claim_delivery("twilio:SM2", "retry", 1) is Delivery.IN_PROGRESS
    await asyncio.sleep(1.2)
    assert await store.claim_delivery("twilio:SM2", "retry", 30) is Delivery.NEW


async def test_a_renewed_claim_outlives_its_first_hold(store: ConversationStore) -> None:
    assert await store.claim_delivery("twilio:SM3", "slow", 1) is Delivery.NEW
    for _ in range(3):
        await asyncio.sleep(0.5)
        assert await store.renew_delivery("twilio:SM3", "slow", 1)
    assert await store.claim_delivery("twilio:SM3", "retry", 1) is Delivery.IN_PROGRESS
    assert not await store.renew_delivery("twilio:SM3", "someone-else", 1)


async def test_release_frees_only_the_holders_claim(store: ConversationStore) -> None:
    assert await store.claim_delivery("twilio:SM4", "holder", 30) is Delivery.NEW
    await store.release_delivery("twilio:SM4", "not-the-holder")
    assert await store.claim_delivery("twilio:SM4", "retry", 30) is Delivery.IN_PROGRESS
    await store.release_delivery("twilio:SM4", "holder")
    assert await store.claim_delivery("twilio:SM4", "retry", 30) is Delivery.NEW


async def test_a_delivery_marked_by_the_previous_version_counts_as_done() -> None:
    """Keys written by `claim` before this change (value "1") are answered deliveries."""
    import redis

    url = require_redis()
    redis.Redis.from_url(url).set("infobot:seen:twilio:SMold", b"1", ex=60)
    store = RedisStore(url, ttl_seconds=60, secret_key=SECRET)
    assert await store.claim_delivery("twilio:SMold", "new-version", 30) is Delivery.DONE
    await store.aclose()


async def test_claims_on_a_dead_redis_raise_store_unavailable() -> None:
    store = RedisStore("redis://127.0.0.1:1/0", ttl_seconds=60, secret_key=SECRET)
    for attempt in (
        store.claim_delivery("k", "t", 30),
        store.renew_delivery("k", "t", 30),
        store.complete_delivery("k", 30),
        store.release_delivery("k", "t"),
    ):
        with pytest.raises(StoreUnavailable):
            await attempt
    await store.aclose()


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_claims(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlDeliveries]:
    url = f"sqlite:///{tmp_path}/c.db" if request.param == "sqlite" else fresh_postgres()
    engine = make_engine(url)
    migrate(engine)
    yield SqlDeliveries(session_factory(engine))
    engine.dispose()


def test_sql_claims_behave_like_the_stores(sql_claims: SqlDeliveries) -> None:
    assert sql_claims.claim("twilio:SQ1", "first", 30) is Delivery.NEW
    assert sql_claims.claim("twilio:SQ1", "retry", 30) is Delivery.IN_PROGRESS
    sql_claims.release("twilio:SQ1", "not-the-holder")
    assert sql_claims.claim("twilio:SQ1", "retry", 30) is Delivery.IN_PROGRESS
    sql_claims.release("twilio:SQ1", "first")
    assert sql_claims.claim("twilio:SQ1", "retry", 30) is Delivery.NEW
    sql_claims.complete("twilio:SQ1")
    assert sql_claims.claim("twilio:SQ1", "late", 30) is Delivery.DONE
    sql_claims.complete("twilio:SQ2")  # answered while SQL had no claim for it (the store held it)
    assert sql_claims.claim("twilio:SQ2", "late", 30) is Delivery.DONE


def test_sql_says_what_it_knows_without_claiming(sql_claims: SqlDeliveries) -> None:
    assert sql_claims.state("twilio:SQ5") is Delivery.NEW
    assert sql_claims.state("twilio:SQ5") is Delivery.NEW  # reading took nothing
    assert sql_claims.claim("twilio:SQ5", "held-while-redis-was-down", 30) is Delivery.NEW
    assert sql_claims.state("twilio:SQ5") is Delivery.IN_PROGRESS
    sql_claims.complete("twilio:SQ5", "twilio:SQ6", "twilio:SQ5")  # a batch, a key twice
    assert sql_claims.state("twilio:SQ5") is sql_claims.state("twilio:SQ6") is Delivery.DONE


def test_an_expired_sql_claim_can_be_taken_over(sql_claims: SqlDeliveries) -> None:
    assert sql_claims.claim("twilio:SQ3", "died", 1) is Delivery.NEW
    time.sleep(1.1)
    assert sql_claims.claim("twilio:SQ3", "retry", 30) is Delivery.NEW
    assert sql_claims.claim("twilio:SQ3", "another", 30) is Delivery.IN_PROGRESS


def test_workers_claiming_at_once_in_postgresql_get_one_new() -> None:
    engine = make_engine(fresh_postgres())
    migrate(engine)
    claims = SqlDeliveries(session_factory(engine))
    with ThreadPoolExecutor(8) as pool:
        for n in range(5):
            found = list(pool.map(lambda t, n=n: claims.claim(f"twilio:SQ{n}x", f"t{t}", 30), range(8)))
            assert sorted(f.value for f in found) == ["in_progress"] * 7 + ["new"]
    engine.dispose()


async def test_redis_says_when_its_memory_began_so_a_restart_that_lost_it_is_noticed() -> None:
    import redis

    url = require_redis()  # an empty database, as after a restart without persistence
    store = RedisStore(url, ttl_seconds=60, secret_key=SECRET)
    redis.Redis.from_url(url).set("infobot:since", b"1000.0")  # a memory that began long ago
    await store.claim_delivery("twilio:SMm1", "t", 30)
    assert store.memory_since == 1000.0
    redis.Redis.from_url(url).flushdb()  # Redis lost everything
    before = time.time()
    await store.claim_delivery("twilio:SMm2", "t", 30)
    assert store.memory_since >= before  # young: the service asks SQL as well
    await store.aclose()


async def test_a_claim_retried_after_a_lost_answer_is_still_ours(store: ConversationStore) -> None:
    assert await store.claim_delivery("twilio:SMlost", "mine", 30) is Delivery.NEW
    assert await store.claim_delivery("twilio:SMlost", "mine", 30) is Delivery.NEW
    assert await store.claim_delivery("twilio:SMlost", "theirs", 30) is Delivery.IN_PROGRESS


async def test_a_connection_redis_closed_does_not_make_the_store_unavailable() -> None:
    """After a Redis restart every pooled connection is dead; the first claim on one must not fall back to
    SQL (with the database also down, two workers would then both answer a duplicate)."""
    import redis as sync_redis

    url = require_redis()
    redis_store = RedisStore(url, ttl_seconds=60, secret_key=SECRET)
    try:
        assert (
            await redis_store.claim_delivery("twilio:SMwarm", "t0", 30) is Delivery.NEW
        )  # a pooled connection
        admin = sync_redis.Redis.from_url(url)
        admin.client_kill_filter(_type="normal", skipme=True)  # what a restart does to it
        admin.close()
        assert await redis_store.claim_delivery("twilio:SMafter", "t1", 30) is Delivery.NEW
        assert await redis_store.claim_delivery("twilio:SMafter", "t2", 30) is Delivery.IN_PROGRESS
    finally:
        await redis_store.aclose()
