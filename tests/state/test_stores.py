"""Both stores behave alike: state round-trips, expires, locks serialise one person, claims are once-only."""

from __future__ import annotations

import asyncio

import pytest

from bot.state import ConversationStore, MemoryStore, RedisStore, StoreUnavailable
from tests.helpers.services import require_redis

SECRET = b"test-secret-key-0123456789"


async def test_state_round_trips_and_drops(store: ConversationStore) -> None:
    assert await store.get("rest:alice") is None
    await store.update("rest:alice", {"language": "ht", "country": "DO"})
    assert await store.get("rest:alice") == {"language": "ht", "country": "DO"}
    await store.drop("rest:alice")
    assert await store.get("rest:alice") is None


async def test_conversations_are_separate(store: ConversationStore) -> None:
    await store.update("rest:a", {"language": "es"})
    await store.update("rest:b", {"language": "fr"})
    assert (await store.get("rest:a"), await store.get("rest:b")) == ({"language": "es"}, {"language": "fr"})


async def test_lock_serialises_two_messages_of_one_person_in_order(store: ConversationStore) -> None:
    """Each 'message' reads a counter, yields, writes it + 1: without the lock one update is lost."""
    await store.update("rest:bob", {"n": 0, "order": []})

    async def message(tag: str) -> None:
        async with store.lock("rest:bob"):
            state = await store.get("rest:bob")
            assert state is not None
            await asyncio.sleep(0.05)
            await store.update("rest:bob", {"n": state["n"] + 1, "order": [*state["order"], tag]})

    await asyncio.gather(*(message(str(i)) for i in range(5)))
    final = await store.get("rest:bob")
    assert final == {"n": 5, "order": ["0", "1", "2", "3", "4"]}


async def test_locks_of_different_people_do_not_block_each_other(store: ConversationStore) -> None:
    inside = asyncio.Event()

    async def hold() -> None:
        async with store.lock("rest:x"):
            inside.set()
            await asyncio.sleep(0.3)

    holder = asyncio.create_task(hold())
    await inside.wait()
    async with asyncio.timeout(0.25):
        async with store.lock("rest:y"):
            pass
    await holder


async def test_claim_is_true_once(store: ConversationStore) -> None:
    results = await asyncio.gather(*(store.claim("twilio:SM123", 60) for _ in range(10)))
    assert sorted(results) == [False] * 9 + [True]


async def test_memory_state_expires() -> None:
    store = MemoryStore(ttl_seconds=0)
    await store.update("rest:c", {"a": 1})
    await asyncio.sleep(0.01)
    assert await store.get("rest:c") is None


async def test_redis_keys_hold_no_phone_number() -> None:
    import redis

    url = require_redis()
    store = RedisStore(url, ttl_seconds=60, secret_key=SECRET)
    await store.update("whatsapp:+50688887777", {"language": "es"})
    keys = [k.decode() for k in redis.Redis.from_url(url).keys("infobot:*")]
    assert keys and not any("50688887777" in k for k in keys)
    ttl = redis.Redis.from_url(url).ttl(keys[0])
    assert 0 < ttl <= 60
    await store.aclose()


async def test_a_dead_redis_raises_store_unavailable() -> None:
    store = RedisStore("redis://127.0.0.1:1/0", ttl_seconds=60, secret_key=SECRET)
    with pytest.raises(StoreUnavailable):
        await store.get("rest:z")
    assert await store.ping() is False
    await store.aclose()
