"""Hosting tests: store factories (extend STORE_FACTORIES to run the contract on another store)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from mcp_server_freshbooks.hosting.sqlite_store import SQLiteStore
from mcp_server_freshbooks.hosting.store import Store

StoreFactory = Callable[[Path], Awaitable[Store]]


async def _sqlite(tmp_path: Path) -> Store:
    return SQLiteStore(tmp_path / "hosted.sqlite3")


# name -> async factory(tmp_path) -> Store. The Redis helper appends ("redis", factory) when a redis-server
# can be started; the contract test is parametrized over this list.
STORE_FACTORIES: list[tuple[str, StoreFactory]] = [("sqlite", _sqlite)]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=[name for name, _ in STORE_FACTORIES])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    factory = dict(STORE_FACTORIES)[request.param]
    made = await factory(tmp_path)
    try:
        yield made
    finally:
        await made.aclose()
