"""Keyed locks: serialize the check and the write it guards, per thing the check protects.

Keys name what must not interleave: ``invoice:123`` for payments and sends on one invoice,
``client-identity:email:ann@x.com`` for client creates, ``create:payments:<hash>`` for identical creates.

The interface (`KeyedLock`) is what the write primitive uses. It has two jobs:

1. mutual exclusion: `hold(*keys)` is an async context manager; while it is held no other holder
   of any of those keys runs. Keys are always taken in sorted order, so two writers holding
   overlapping sets cannot deadlock.
2. unsettled writes: a write whose outcome is unknown (its reply was lost, it timed out, its call
   was abandoned) may still land after its holder gave up and released the keys. The holder calls
   `Held.leave_unsettled(seconds)`; every holder that took the keys before that mark ran out sees
   `Held.may_adopt()` False, so a lookup never adopts a record that may be that earlier write's.

`InProcessKeyedLock` is exact within one process (all MCP sessions of one server process share
`PROCESS_LOCKS`). Across replicas, an implementation backed by a shared store gives the same
guarantees (issue #18), for example with Redis:

- hold: ``SET lock:<key> <token> NX PX <lease>`` per key in sorted order, retried with backoff
  until `wait` elapses; renewed while held; released with a compare-and-delete script;
- leave_unsettled: ``SET unsettled:<key>:<token> 1 PX <seconds*1000>``;
- may_adopt: no ``unsettled:<key>:*`` of another holder whose expiry is after this hold began
  (store the expiry as the value; expired ones vanish once no hold older than them remains).

No redis dependency here: only the interface and the in-process implementation.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["PROCESS_LOCKS", "Held", "InProcessKeyedLock", "KeyedLock", "LockTimeoutError"]


class LockTimeoutError(TimeoutError):
    """Another write on the same key held it longer than we were willing to wait; nothing was sent."""


class Held(Protocol):
    """What a holder of some keys can ask and tell while it holds them."""

    @property
    def keys(self) -> tuple[str, ...]:
        """The keys held (sorted)."""
        ...

    def may_adopt(self) -> bool:
        """True when no other write on these keys may still land (so a new match is ours)."""
        ...

    def leave_unsettled(self, seconds: float) -> None:
        """This holder's write may still land within `seconds` after release: warn later holders."""
        ...


class KeyedLock(Protocol):
    """Mutual exclusion per key, plus the unsettled-write marks described in the module docstring."""

    def hold(self, *keys: str, wait: float | None = None) -> AbstractAsyncContextManager[Held]:
        """Hold every key (sorted, duplicates ignored) for the `async with` block.

        Raises `LockTimeoutError` when the keys are not free within `wait` seconds (None: no limit).
        """
        ...


@dataclass
class _Entry:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # holders and waiters, so idle keys are forgotten
    unsettled: dict[int, float] = field(default_factory=dict)  # holder token -> monotonic deadline


@dataclass
class _InProcessHeld:
    keys: tuple[str, ...]
    token: int
    owner: InProcessKeyedLock
    since: float  # when the keys were acquired: this holder's snapshots are taken after it

    def may_adopt(self) -> bool:
        # Another write that may have landed at any time since we took the keys (its mark was still
        # running then) could have made a record our lookup now sees as new.
        for key in self.keys:
            entry = self.owner._entries.get(key)
            if entry is None:
                continue
            for token, deadline in entry.unsettled.items():
                if token != self.token and deadline > self.since:
                    return False
        return True

    def leave_unsettled(self, seconds: float) -> None:
        deadline = time.monotonic() + max(0.0, seconds)
        for key in self.keys:
            self.owner._entry(key).unsettled[self.token] = deadline


class InProcessKeyedLock:
    """`KeyedLock` for one process: an asyncio.Lock per key, created on demand, dropped when idle.

    Must be used from one event loop at a time (asyncio locks bind to the loop that first waits).
    """

    def __init__(self) -> None:
        # One table per event loop: asyncio locks belong to the loop they first wait on.
        self._tables: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, _Entry]] = (
            weakref.WeakKeyDictionary()
        )
        self._tokens = 0

    @property
    def _entries(self) -> dict[str, _Entry]:
        loop = asyncio.get_running_loop()
        table = self._tables.get(loop)
        if table is None:
            table = self._tables[loop] = {}
        return table

    def _entry(self, key: str) -> _Entry:
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry()
        return entry

    def _release_use(self, key: str) -> None:
        entry = self._entries.get(key)
        if entry is None:
            return
        entry.users -= 1
        if entry.users <= 0:
            # Expired marks only matter to holders that started before they expired: none is left.
            now = time.monotonic()
            entry.unsettled = {t: d for t, d in entry.unsettled.items() if d > now}
            if not entry.unsettled and not entry.lock.locked():
                del self._entries[key]

    def in_use(self) -> int:
        """Keys currently known (held, waited for or unsettled): for tests and leak checks."""
        return len(self._entries)

    @asynccontextmanager
    async def _hold(self, keys: tuple[str, ...], wait: float | None) -> AsyncIterator[Held]:
        self._tokens += 1
        token = self._tokens
        acquired: list[str] = []
        for key in keys:
            self._entry(key).users += 1
        try:
            deadline = None if wait is None else time.monotonic() + wait
            for key in keys:
                lock = self._entry(key).lock
                if deadline is None:
                    await lock.acquire()
                else:
                    try:
                        await asyncio.wait_for(lock.acquire(), max(0.0, deadline - time.monotonic()))
                    except TimeoutError:
                        raise LockTimeoutError(f"another write on {key!r} is still in progress") from None
                acquired.append(key)
            yield _InProcessHeld(keys, token, self, time.monotonic())
        finally:
            for key in reversed(acquired):
                self._entries[key].lock.release()
            for key in keys:
                self._release_use(key)

    def hold(self, *keys: str, wait: float | None = None) -> AbstractAsyncContextManager[Held]:
        return self._hold(tuple(sorted(set(keys))), wait)


PROCESS_LOCKS = InProcessKeyedLock()
"""The lock every FreshBooks client of this process shares unless given another one."""
