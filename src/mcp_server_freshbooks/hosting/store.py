"""The one interface every hosted-mode state goes through, so replicas share nothing but a store.

Records are small JSON objects grouped by `kind` (``client``, ``code``, ``access``, ``refresh``,
``user``, ``fb_tokens``, ``cimd``...), keyed by a string (token *hashes*, never tokens). Two
implementations: `SQLiteStore` (one file, WAL; the single-machine default) and `RedisStore`
(``FRESHBOOKS_MCP_STORE=redis://...``; the `[hosted]` extra). Both honour the same contract, which
tests/hosting/test_store_contract.py runs against each.

Contract:
- `put` overwrites; `ttl` (seconds) makes the record vanish after it (None: kept until deleted).
- `add` writes only when the key is absent (or expired) and says whether it did.
- `take` returns and deletes in one atomic step: two callers racing for one authorization code or
  one refresh token, on any replicas, get it once between them.
- `scan` lists a kind (operator commands: `users list`); not for hot paths.
- `locks` is a `KeyedLock` (freshbooks/locks.py) shared by every replica on this store, with
  leases (a dead replica's lock expires) and fencing (a holder whose lease ran out cannot release
  or extend a later holder's lock).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from mcp_server_freshbooks.freshbooks.locks import KeyedLock

Record = dict[str, Any]


class Store(Protocol):
    async def put(self, kind: str, key: str, value: Record, *, ttl: float | None = None) -> None: ...

    async def add(self, kind: str, key: str, value: Record, *, ttl: float | None = None) -> bool: ...

    async def get(self, kind: str, key: str) -> Record | None: ...

    async def take(self, kind: str, key: str) -> Record | None: ...

    async def delete(self, kind: str, key: str) -> bool: ...

    def scan(self, kind: str) -> AsyncIterator[tuple[str, Record]]: ...

    @property
    def locks(self) -> KeyedLock: ...

    async def aclose(self) -> None: ...
