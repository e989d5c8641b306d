"""Fixtures for the Redis store tests: one private redis-server per test session, a fresh prefix per test.

Imported by the test modules that use them (`from .conftest_redis import redis_url, store_pair`),
so this file does not collide with a `conftest.py` of the OAuth side.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator

import pytest

from mcp_server_freshbooks.hosting.redis_store import RedisStore

from ._services import need, need_module, redis_server


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A redis-server of our own on a free loopback port (skipped without redis-server, failed in CI)."""
    binary = need("redis-server")
    need_module("redis")
    with redis_server(binary) as server:
        yield server.url


@pytest.fixture
def prefix() -> str:
    """A key prefix of this test's own, so tests sharing the server never see each other's keys."""
    return f"fbmcp-test-{secrets.token_hex(4)}:"


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
