"""The `Store` contract (hosting/store.py) on a real redis-server, from two stores = two replicas."""

from __future__ import annotations

import asyncio

import pytest

from mcp_server_freshbooks.hosting.redis_store import RedisStore
from mcp_server_freshbooks.hosting.store import Store

from .conftest_redis import prefix, redis_url, store_pair

pytestmark = pytest.mark.anyio
__all__ = ["prefix", "redis_url", "store_pair"]  # fixtures, imported for pytest

Pair = tuple[RedisStore, RedisStore]


def _is_store(store: Store) -> Store:
    return store  # mypy checks RedisStore against the Protocol here


async def test_put_get_overwrite_and_delete(store_pair: Pair) -> None:
    a, b = store_pair
    _is_store(a)
    assert await a.get("client", "c1") is None
    await a.put("client", "c1", {"name": "Ann", "uris": ["https://x.example/cb"], "n": 1})
    assert await b.get("client", "c1") == {"name": "Ann", "uris": ["https://x.example/cb"], "n": 1}
    await b.put("client", "c1", {"name": "Bob"})
    assert await a.get("client", "c1") == {"name": "Bob"}  # put overwrites
    assert await a.get("code", "c1") is None  # kinds are separate
    assert await a.delete("client", "c1") is True
    assert await b.delete("client", "c1") is False
    assert await b.get("client", "c1") is None


async def test_ttl_makes_the_record_vanish(store_pair: Pair) -> None:
    a, b = store_pair
    await a.put("code", "short", {"v": 1}, ttl=0.15)
    await a.put("code", "long", {"v": 2}, ttl=30)
    await a.put("code", "forever", {"v": 3})
    assert await b.get("code", "short") == {"v": 1}
    await asyncio.sleep(0.3)
    assert await b.get("code", "short") is None
    assert await b.get("code", "long") == {"v": 2}
    assert await b.get("code", "forever") == {"v": 3}
    ttl_ms = await a.redis.pttl(f"{a.prefix}rec:code:long")
    assert 29_000 < ttl_ms <= 30_000


async def test_add_writes_only_when_absent_or_expired(store_pair: Pair) -> None:
    a, b = store_pair
    assert await a.add("cimd", "k", {"v": 1}, ttl=0.15) is True
    assert await b.add("cimd", "k", {"v": 2}) is False
    assert await a.get("cimd", "k") == {"v": 1}
    await asyncio.sleep(0.3)
    assert await b.add("cimd", "k", {"v": 3}) is True
    assert await a.get("cimd", "k") == {"v": 3}


async def test_add_race_across_replicas_has_one_winner(store_pair: Pair) -> None:
    a, b = store_pair
    results = await asyncio.gather(*(s.add("user", "same", {"by": i}) for i, s in enumerate([a, b] * 20)))
    assert results.count(True) == 1
    winner = results.index(True)
    assert await a.get("user", "same") == {"by": winner}


async def test_take_returns_once_among_many_concurrent_takers(store_pair: Pair) -> None:
    a, b = store_pair
    for round_ in range(5):
        await a.put("code", f"auth-{round_}", {"round": round_}, ttl=60)
        takers = [s.take("code", f"auth-{round_}") for s in [a, b] * 25]  # 50 takers on two pools
        results = await asyncio.gather(*takers)
        won = [r for r in results if r is not None]
        assert won == [{"round": round_}]
        assert await a.get("code", f"auth-{round_}") is None
    assert await b.take("code", "never-was") is None


async def test_scan_lists_one_kind_only_live_records(store_pair: Pair) -> None:
    a, b = store_pair
    for i in range(450):  # more than one SCAN page and one MGET batch
        await a.put("user", f"u{i}", {"i": i})
    await a.put("user", "with:colon*and[glob]", {"i": -1})
    await a.put("user", "gone", {"i": -2}, ttl=0.05)
    await a.put("users", "other-kind", {"i": -3})
    await a.put("use", "prefix-kind", {"i": -4})
    await asyncio.sleep(0.15)
    listed = {key: value async for key, value in b.scan("user")}
    assert len(listed) == 451
    assert listed["u0"] == {"i": 0} and listed["u449"] == {"i": 449}
    assert listed["with:colon*and[glob]"] == {"i": -1}
    assert "gone" not in listed and "other-kind" not in listed and "prefix-kind" not in listed
    assert [k async for k, _ in b.scan("nothing")] == []


async def test_prefixes_isolate_deployments(redis_url: str) -> None:
    one = RedisStore.from_url(redis_url, prefix="fbmcp-iso-1:")
    two = RedisStore.from_url(redis_url, prefix="fbmcp-iso-2:")
    try:
        await one.put("client", "x", {"who": 1})
        assert await two.get("client", "x") is None
        assert [k async for k, _ in two.scan("client")] == []
        assert await two.add("client", "x", {"who": 2}) is True
        assert await one.get("client", "x") == {"who": 1}
    finally:
        await one.delete("client", "x")
        await two.delete("client", "x")
        await one.aclose()
        await two.aclose()


async def test_a_kind_must_be_a_plain_name(store_pair: Pair) -> None:
    a, _ = store_pair
    with pytest.raises(ValueError, match="kind"):
        await a.put("bad:kind", "k", {})
    with pytest.raises(ValueError, match="kind"):
        await a.get("bad*", "k")


async def test_from_url_default_prefix_and_records_are_json(redis_url: str) -> None:
    store = RedisStore.from_url(redis_url)
    try:
        assert store.prefix == "fbmcp:"
        await store.put("contract-test", "k", {"amount": "3136.94", "ok": True, "none": None})
        raw = await store.redis.get("fbmcp:rec:contract-test:k")
        assert raw == b'{"amount":"3136.94","none":null,"ok":true}'
        assert await store.take("contract-test", "k") == {"amount": "3136.94", "ok": True, "none": None}
    finally:
        await store.aclose()
