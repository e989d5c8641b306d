"""`Store` on Redis (``FRESHBOOKS_MCP_STORE=redis://...``): what replicas share (issue #18).

Records are JSON strings at ``<prefix>rec:<kind>:<key>`` (prefix default ``fbmcp:``), so one Redis
can serve several deployments with different prefixes. `ttl` is ``PX`` (milliseconds, rounded up),
`add` is ``SET NX``, `take` is ``GETDEL`` (atomic: one caller among any replicas gets the record),
`scan` walks ``SCAN MATCH <prefix>rec:<kind>:*``. `locks` is a `RedisKeyedLock` on the same
connection pool (hosting/redis_locks.py).

Needs the ``[hosted]`` extra (the ``redis`` package) and Redis 6.2 or later (``GETDEL``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from mcp_server_freshbooks.hosting.redis_locks import RedisKeyedLock
from mcp_server_freshbooks.hosting.store import Record

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["DEFAULT_PREFIX", "RedisStore"]

DEFAULT_PREFIX = "fbmcp:"
_KIND = re.compile(r"^[A-Za-z0-9_.-]+$")
_GLOB = re.compile(r"([*?\[\]\\])")


def _ms(ttl: float) -> int:
    return max(1, math.ceil(ttl * 1000))


def _decode(raw: Any) -> Record | None:
    if raw is None:
        return None
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("the store holds a record that is not a JSON object")
    return value


class RedisStore:
    """The `Store` contract (hosting/store.py) on one Redis database."""

    def __init__(self, redis: Redis, *, prefix: str = DEFAULT_PREFIX, lease: float = 15.0, owned: bool = True) -> None:
        self._redis = redis
        self.prefix = prefix
        self._owned = owned
        self._locks = RedisKeyedLock(redis, prefix=prefix, lease=lease)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = DEFAULT_PREFIX, lease: float = 15.0, **options: Any) -> RedisStore:
        """A store on ``redis://[:password@]host:port/db`` (or ``rediss://``, ``unix://``); `options` go to redis-py."""
        try:
            from redis.asyncio import Redis
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError(
                "FRESHBOOKS_MCP_STORE=redis://... needs the redis package: pip install 'mcp-server-freshbooks[hosted]'"
            ) from exc
        options.setdefault("health_check_interval", 30)
        options.setdefault("socket_connect_timeout", 5)
        options.setdefault("socket_timeout", 10)  # no command may wait forever (none of ours blocks)
        return cls(Redis.from_url(url, **options), prefix=prefix, lease=lease)

    def _key(self, kind: str, key: str) -> str:
        if not _KIND.match(kind):
            raise ValueError(f"record kind {kind!r} must be letters, digits, '_', '-' or '.'")
        return f"{self.prefix}rec:{kind}:{key}"

    @staticmethod
    def _encode(value: Record) -> str:
        return json.dumps(value, separators=(",", ":"), sort_keys=True)

    async def put(self, kind: str, key: str, value: Record, *, ttl: float | None = None) -> None:
        await self._redis.set(self._key(kind, key), self._encode(value), px=None if ttl is None else _ms(ttl))

    async def add(self, kind: str, key: str, value: Record, *, ttl: float | None = None) -> bool:
        done = await self._redis.set(
            self._key(kind, key), self._encode(value), nx=True, px=None if ttl is None else _ms(ttl)
        )
        return bool(done)

    async def get(self, kind: str, key: str) -> Record | None:
        return _decode(await self._redis.get(self._key(kind, key)))

    async def take(self, kind: str, key: str) -> Record | None:
        return _decode(await self._redis.getdel(self._key(kind, key)))

    async def delete(self, kind: str, key: str) -> bool:
        return bool(await self._redis.delete(self._key(kind, key)))

    async def scan(self, kind: str) -> AsyncIterator[tuple[str, Record]]:
        start = self._key(kind, "")
        pattern = _GLOB.sub(r"\\\1", start) + "*"
        seen: set[bytes] = set()
        batch: list[bytes] = []

        async def flush() -> AsyncIterator[tuple[str, Record]]:
            values = await self._redis.mget(batch)
            for name, raw in zip(batch, values, strict=True):
                record = _decode(raw)  # None: expired or deleted since SCAN listed it
                if record is not None:
                    yield name.decode()[len(start) :], record
            batch.clear()

        async for name in self._redis.scan_iter(match=pattern, count=500):
            raw_name = name if isinstance(name, bytes) else str(name).encode()
            if raw_name in seen:  # SCAN may return a key more than once
                continue
            seen.add(raw_name)
            batch.append(raw_name)
            if len(batch) >= 200:
                async for item in flush():
                    yield item
        if batch:
            async for item in flush():
                yield item

    @property
    def locks(self) -> RedisKeyedLock:
        return self._locks

    @property
    def redis(self) -> Redis:
        """The client (for operators' tools and tests, e.g. INFO commandstats)."""
        return self._redis

    async def aclose(self) -> None:
        if self._owned:
            await self._redis.aclose()
