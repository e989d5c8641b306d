"""The `Store` contract (hosting/store.py), run against every implementation in STORE_FACTORIES."""

from __future__ import annotations

import anyio
import pytest

from mcp_server_freshbooks.freshbooks.locks import LockTimeoutError
from mcp_server_freshbooks.hosting.store import Store

pytestmark = pytest.mark.anyio


async def test_put_get_overwrite_delete(store: Store) -> None:
    assert await store.get("client", "a") is None
    await store.put("client", "a", {"n": 1})
    await store.put("client", "a", {"n": 2, "nested": {"x": [1, "two"]}})
    assert await store.get("client", "a") == {"n": 2, "nested": {"x": [1, "two"]}}
    assert await store.get("code", "a") is None  # kinds are separate
    assert await store.delete("client", "a") is True
    assert await store.delete("client", "a") is False
    assert await store.get("client", "a") is None


async def test_ttl_expires(store: Store) -> None:
    await store.put("code", "short", {"v": 1}, ttl=0.3)
    await store.put("code", "kept", {"v": 2})
    assert await store.get("code", "short") == {"v": 1}
    await anyio.sleep(0.5)
    assert await store.get("code", "short") is None
    assert await store.take("code", "short") is None
    assert await store.get("code", "kept") == {"v": 2}
    assert [k async for k, _ in store.scan("code")] == ["kept"]


async def test_add_only_when_absent_or_expired(store: Store) -> None:
    assert await store.add("user", "u", {"v": 1}, ttl=0.3) is True
    assert await store.add("user", "u", {"v": 2}) is False
    assert await store.get("user", "u") == {"v": 1}
    await anyio.sleep(0.5)
    assert await store.add("user", "u", {"v": 3}) is True
    assert await store.get("user", "u") == {"v": 3}


async def test_take_is_once(store: Store) -> None:
    await store.put("refresh", "r", {"v": 1})
    results: list[object] = []

    async def racer() -> None:
        results.append(await store.take("refresh", "r"))

    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(racer)
    assert [r for r in results if r is not None] == [{"v": 1}]
    assert await store.get("refresh", "r") is None


async def test_scan_lists_one_kind(store: Store) -> None:
    await store.put("user", "b", {"n": "b"})
    await store.put("user", "a", {"n": "a"})
    await store.put("client", "c", {"n": "c"})
    assert sorted([(k, v["n"]) async for k, v in store.scan("user")]) == [("a", "a"), ("b", "b")]


async def test_locks_exclude_and_time_out(store: Store) -> None:
    order: list[str] = []
    async with store.locks.hold("u:1:fb-refresh") as held:
        assert held.keys == ("u:1:fb-refresh",)
        with pytest.raises(LockTimeoutError):
            async with store.locks.hold("u:1:fb-refresh", wait=0.2):
                order.append("second")  # pragma: no cover - must not get here
        async with store.locks.hold("u:2:fb-refresh", wait=0.2):
            order.append("other key")
    async with store.locks.hold("u:1:fb-refresh", wait=0.2):
        order.append("after release")
    assert order == ["other key", "after release"]
