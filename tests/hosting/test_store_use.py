"""How much the hosted mode asks of its store per tool call (what a Redis round trip costs each call)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mcp_server_freshbooks.freshbooks.locks import KeyedLock
from mcp_server_freshbooks.hosting.store import Record, Store

from .conftest import STORE_FACTORIES, SignedIn, hosted_server, tool

pytestmark = pytest.mark.anyio


class CountingStore:
    """A real SQLiteStore that counts the operations asked of it."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.ops: Counter[str] = Counter()

    async def put(self, kind: str, key: str, value: Record, *, ttl: float | None = None) -> None:
        self.ops[f"put {kind}"] += 1
        await self.inner.put(kind, key, value, ttl=ttl)

    async def add(self, kind: str, key: str, value: Record, *, ttl: float | None = None) -> bool:
        self.ops[f"add {kind}"] += 1
        return await self.inner.add(kind, key, value, ttl=ttl)

    async def get(self, kind: str, key: str) -> Record | None:
        self.ops[f"get {kind}"] += 1
        return await self.inner.get(kind, key)

    async def take(self, kind: str, key: str) -> Record | None:
        self.ops[f"take {kind}"] += 1
        return await self.inner.take(kind, key)

    async def delete(self, kind: str, key: str) -> bool:
        self.ops[f"delete {kind}"] += 1
        return await self.inner.delete(kind, key)

    async def scan(self, kind: str) -> AsyncIterator[tuple[str, Record]]:
        self.ops[f"scan {kind}"] += 1
        async for item in self.inner.scan(kind):
            yield item

    @property
    def locks(self) -> KeyedLock:
        return self.inner.locks

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.mark.parametrize("store_name", [name for name, _ in STORE_FACTORIES])
@pytest.mark.parametrize("stateless", [True, False], ids=["stateless", "sessions"])
async def test_store_operations_per_tool_call(tmp_path: Path, stateless: bool, store_name: str) -> None:
    store = CountingStore(await dict(STORE_FACTORIES)[store_name](tmp_path))
    async with hosted_server(tmp_path, store=store, stateless=stateless) as hosted:
        user = SignedIn(hosted, login_hint=0)
        async with user.client() as client:
            await tool(client, "whoami")
            sign_in = sum(store.ops.values())
            store.ops.clear()
            calls = 20
            started = time.perf_counter()
            for _ in range(calls):
                await tool(client, "find_client", {"query": "a"})
            elapsed = time.perf_counter() - started
        per_call = sum(store.ops.values()) / calls
        print(
            f"\n[{store_name}, {'stateless' if stateless else 'sessions'}] sign-in + first call: {sign_in} store ops; "
            f"per tool call: {per_call:.2f} store ops ({dict(store.ops)}), {elapsed / calls * 1000:.1f} ms"
        )
        # One lookup of the access token's hash per HTTP request; FreshBooks tokens are read once per process.
        assert store.ops["get access"] == sum(store.ops.values())
        assert per_call <= 1.0
