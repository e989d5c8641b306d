"""Fixtures for the Redis store tests: one private redis-server per test session, a fresh prefix per test.

Imported by the test modules that use them (`from .conftest_redis import redis_url, store_pair`),
so this file does not collide with the `conftest.py` of the OAuth side. `redis_store_factory` is
the entry for that conftest's STORE_FACTORIES list (the shared store contract test):

    from .conftest_redis import redis_store_factory
    STORE_FACTORIES.append(("redis", redis_store_factory))
"""

from __future__ import annotations

import atexit
import contextlib
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mcp_server_freshbooks.hosting.redis_store import RedisStore

from ._services import need, need_module, redis_server

_server: list[str] = []
_stack = contextlib.ExitStack()
atexit.register(_stack.close)


def shared_redis_url() -> str:
    """The session's redis-server (started on first use, stopped at exit); skips or fails like `need`."""
    if not _server:
        binary = need("redis-server")
        need_module("redis")
        _server.append(_stack.enter_context(redis_server(binary)).url)
    return _server[0]


def new_prefix() -> str:
    return f"fbmcp-test-{secrets.token_hex(4)}:"


async def redis_store_factory(tmp_path: Path) -> RedisStore:
    """A RedisStore of its own prefix on the session's redis-server (for STORE_FACTORIES)."""
    return RedisStore.from_url(shared_redis_url(), prefix=new_prefix())


@pytest.fixture
def redis_url() -> str:
    """A redis-server of our own on a free loopback port (skipped without redis-server, failed in CI)."""
    return shared_redis_url()


@pytest.fixture
def prefix() -> str:
    """A key prefix of this test's own, so tests sharing the server never see each other's keys."""
    return new_prefix()


@pytest.fixture
async def store_pair(redis_url: str, prefix: str) -> AsyncIterator[tuple[RedisStore, RedisStore]]:
    """Two stores on one Redis with separate connection pools: two replicas, as far as Redis can tell."""
    first = RedisStore.from_url(redis_url, prefix=prefix, lease=2.0)
    second = RedisStore.from_url(redis_url, prefix=prefix, lease=2.0)
    try:
        yield first, second
    finally:
        await first.aclose()
        await second.aclose()
