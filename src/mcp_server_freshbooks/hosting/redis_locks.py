"""`KeyedLock` across replicas, backed by Redis: leases, renewal, fencing, unsettled-write marks.

Keys live under the store's prefix: ``<prefix>lock:<digest>`` holds the holder's random token with a
lease (``PX``); ``<prefix>unsettled:<digest>`` is a hash ``token -> expiry`` (Redis server
milliseconds) of writes that gave up with an unknown outcome and may still land until then. The
digest is a SHA-256 of the lock key, so client emails and names in keys (``client-identity:...``) are
not stored in Redis, nor logged (logs name the kind of key only).

- **hold**: first in this process (an `InProcessKeyedLock`: first come, first served, and only one
  waiter per key and process asks Redis), then in Redis: one Lua call per attempt takes the
  remaining keys in sorted order (``SET NX PX`` each,
  stopping at the first that is held by someone else) and, once all are held, reads the unsettled
  marks of every key at that instant (the hold's `since`, on the Redis clock every replica shares).
  Waiting retries with jittered backoff until `wait` elapses (`LockTimeoutError`). Keys already
  taken stay held (and renewed) while later ones are waited for: the sorted order makes that
  deadlock-free.
- **renewal**: while held, a task extends each lease every third of it, only where the key still
  holds our token. If a lease was lost (the process stalled longer than the lease, or Redis lost
  the key), the hold is marked lost: `may_adopt` is False from then on and a warning is logged.
- **fencing**: renew and release are compare-by-token scripts, so a holder whose lease ran out can
  neither extend nor delete the next holder's lock.
- **unsettled marks**: `leave_unsettled` is synchronous (the `Held` interface); it writes the mark
  right away in a background task and again atomically with the release, before the keys are
  freed, so the next holder always sees it. Marks are written even by a holder whose lease was
  lost: they describe its write, which may land whoever holds the key now.
- **may_adopt**: False when a mark of another holder was alive when this hold began, or one
  appeared while it held the keys (seen by a renewal: a holder whose lease ran out), or this
  hold's own lease was lost.

A dead replica's keys are free again after one lease (default 15 s); its unsettled marks, if it
wrote any before dying, run their own course. Every script touches several keys, so this needs one
Redis (or a primary with replicas), not Redis Cluster.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

from mcp_server_freshbooks.freshbooks.locks import Held, InProcessKeyedLock, LockTimeoutError

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisHeld", "RedisKeyedLock"]

log = logging.getLogger(__name__)

# KEYS: the lock keys still to take (sorted), then the unsettled hash of every key of the hold.
# ARGV: token, lease ms, how many lock keys are in KEYS.
# Returns {taken, now_ms, live marks of others (only counted once everything is taken)}.
_ACQUIRE = """
local token, lease, n = ARGV[1], ARGV[2], tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local taken = 0
for i = 1, n do
  if redis.call('SET', KEYS[i], token, 'NX', 'PX', lease) then
    taken = i
  elseif redis.call('GET', KEYS[i]) == token then
    redis.call('PEXPIRE', KEYS[i], lease)
    taken = i
  else
    break
  end
end
local marks = 0
if taken == n then
  for i = n + 1, #KEYS do
    local flat = redis.call('HGETALL', KEYS[i])
    for j = 1, #flat, 2 do
      if tonumber(flat[j + 1]) > now then
        if flat[j] ~= token then marks = marks + 1 end
      else
        redis.call('HDEL', KEYS[i], flat[j])
      end
    end
  end
end
return {taken, now, marks}
"""

# KEYS: the held lock keys, then their unsettled hashes. ARGV: token, lease ms, since ms.
# Returns {leases lost, marks of others set after since}.
_RENEW = """
local token, lease, since = ARGV[1], ARGV[2], tonumber(ARGV[3])
local n = #KEYS / 2
local lost = 0
for i = 1, n do
  if redis.call('GET', KEYS[i]) == token then
    redis.call('PEXPIRE', KEYS[i], lease)
  else
    lost = lost + 1
  end
end
local marks = 0
for i = n + 1, #KEYS do
  local flat = redis.call('HGETALL', KEYS[i])
  for j = 1, #flat, 2 do
    if flat[j] ~= token and tonumber(flat[j + 1]) > since then marks = marks + 1 end
  end
end
return {lost, marks}
"""

# KEYS: the lock keys, then their unsettled hashes. ARGV: token, mark ms (0: none), release (1/0).
# Marks first, then compare-and-delete: the next holder cannot take a key before seeing the mark.
_MARK_RELEASE = """
local token, mark, release = ARGV[1], tonumber(ARGV[2]), ARGV[3] == '1'
local n = #KEYS / 2
if mark > 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  for i = n + 1, #KEYS do
    local old = tonumber(redis.call('HGET', KEYS[i], token) or '0')
    if now + mark > old then redis.call('HSET', KEYS[i], token, now + mark) end
    if redis.call('PTTL', KEYS[i]) < mark then redis.call('PEXPIRE', KEYS[i], mark) end
  end
end
local freed = 0
if release then
  for i = 1, n do
    if redis.call('GET', KEYS[i]) == token then
      redis.call('DEL', KEYS[i])
      freed = freed + 1
    end
  end
end
return freed
"""


def _kinds(keys: tuple[str, ...]) -> str:
    """What the keys are about, without their values (emails, names): ``invoice, create``."""
    return ", ".join(sorted({k.rsplit("|", 1)[-1].split(":", 1)[0] for k in keys}))


class RedisHeld:
    """What one hold knows: its keys, token, start on the Redis clock, and what it has seen since."""

    def __init__(self, owner: RedisKeyedLock, keys: tuple[str, ...], token: str) -> None:
        self._owner = owner
        self._keys = keys
        self.token = token
        self.since_ms = 0
        self.marks_seen = False  # another holder's unsettled write may land while we hold the keys
        self.lost = False  # a lease ran out: someone else may have held a key meanwhile
        self.taken = 0  # how many of the keys (in order) are held so far
        self._mark_until: float | None = None  # monotonic deadline of our own unsettled write
        self._mark_tasks: set[asyncio.Task[int]] = set()

    @property
    def keys(self) -> tuple[str, ...]:
        return self._keys

    def may_adopt(self) -> bool:
        return not (self.marks_seen or self.lost)

    def leave_unsettled(self, seconds: float) -> None:
        until = time.monotonic() + max(0.0, seconds)
        if self._mark_until is not None and self._mark_until >= until:
            return
        self._mark_until = until
        # Written now (so a crash before release still leaves it) and again with the release.
        task = asyncio.get_running_loop().create_task(self._owner._mark(self, release=False))
        self._mark_tasks.add(task)
        task.add_done_callback(self._mark_tasks.discard)

    def _mark_ms(self) -> int:
        if self._mark_until is None:
            return 0
        return max(1, int((self._mark_until - time.monotonic()) * 1000))


class RedisKeyedLock:
    """`KeyedLock` shared by every process on one Redis (see the module docstring).

    `lease`: seconds a key stays held after its holder stops renewing (a dead replica's keys are
    free after this). `poll`: the first and the longest pause between attempts on a held key.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "fbmcp:",
        lease: float = 15.0,
        poll: tuple[float, float] = (0.005, 0.05),
    ) -> None:
        if lease <= 0:
            raise ValueError("lease must be positive")
        self._redis = redis
        self._prefix = prefix
        self.lease = lease
        self._poll = poll
        self._local = InProcessKeyedLock()
        self._acquire = redis.register_script(_ACQUIRE)
        self._renew = redis.register_script(_RENEW)
        self._mark_release = redis.register_script(_MARK_RELEASE)

    @staticmethod
    def _digest(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()[:32]

    def lock_key(self, key: str) -> str:
        return f"{self._prefix}lock:{self._digest(key)}"

    def unsettled_key(self, key: str) -> str:
        return f"{self._prefix}unsettled:{self._digest(key)}"

    @property
    def _lease_ms(self) -> int:
        return max(1, int(self.lease * 1000))

    def _all_keys(self, held: RedisHeld, count: int | None = None) -> list[str]:
        keys = held.keys if count is None else held.keys[:count]
        return [self.lock_key(k) for k in keys] + [self.unsettled_key(k) for k in keys]

    async def _mark(self, held: RedisHeld, *, release: bool) -> int:
        ms = held._mark_ms()
        if not ms and not release:
            return 0
        try:
            freed = await self._mark_release(keys=self._all_keys(held), args=[held.token, ms, 1 if release else 0])
        except Exception:
            log.warning("could not write to the lock store for %s", _kinds(held.keys), exc_info=True)
            if release:
                raise
            return 0
        return int(freed)

    async def _take(self, held: RedisHeld, wait: float | None) -> None:
        deadline = None if wait is None else time.monotonic() + wait
        lock_keys = [self.lock_key(k) for k in held.keys]
        unsettled = [self.unsettled_key(k) for k in held.keys]
        taken = 0
        pause = self._poll[0]
        while True:
            todo = lock_keys[taken:]
            result = await self._acquire(keys=todo + unsettled, args=[held.token, self._lease_ms, len(todo)])
            got, now_ms, marks = (int(x) for x in result)
            taken += got
            held.taken = taken
            if taken == len(lock_keys):
                held.since_ms = now_ms
                held.marks_seen = marks > 0
                return
            if deadline is not None and time.monotonic() >= deadline:
                raise LockTimeoutError(f"another write on {held.keys[taken]!r} is still in progress")
            sleep = pause * (0.5 + random.random())
            if deadline is not None:
                sleep = min(sleep, max(0.0, deadline - time.monotonic()))
            await asyncio.sleep(sleep)
            pause = min(self._poll[1], pause * 2)

    async def _keep(self, held: RedisHeld) -> None:
        """Renew the leases of the keys taken so far every third of a lease; note lost leases and new marks.

        Runs while later keys are still waited for too, so the first keys do not lapse meanwhile.
        """
        interval = self.lease / 3
        while True:
            await asyncio.sleep(interval)
            count, since = held.taken, held.since_ms  # since is 0 until every key is taken
            if not count:
                continue
            try:
                lost, marks = await self._renew(
                    keys=self._all_keys(held, count), args=[held.token, self._lease_ms, since]
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("could not renew the lease on %s", _kinds(held.keys), exc_info=True)
                continue
            if int(marks) and since:
                held.marks_seen = True
            if int(lost) and not held.lost:
                held.lost = True
                log.warning("the lease on %s ran out while held; not adopting lookups", _kinds(held.keys))

    async def _partial_release(self, held: RedisHeld) -> None:
        # Only our own tokens are deleted, so releasing keys we never took is harmless.
        await self._mark(held, release=True)

    @asynccontextmanager
    async def _hold(self, keys: tuple[str, ...], wait: float | None) -> AsyncIterator[Held]:
        # In-process waiters queue fairly on a local lock; only the one at the front polls Redis.
        deadline = None if wait is None else time.monotonic() + wait
        async with self._local.hold(*keys, wait=wait):
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            async with self._hold_shared(keys, left) as held:
                yield held

    @asynccontextmanager
    async def _hold_shared(self, keys: tuple[str, ...], wait: float | None) -> AsyncIterator[Held]:
        held = RedisHeld(self, keys, secrets.token_hex(16))
        taken = asyncio.Event()
        keeper = asyncio.get_running_loop().create_task(self._keep(held))
        try:
            try:
                await self._take(held, wait)
            except BaseException:
                keeper.cancel()
                await asyncio.shield(self._partial_release(held))
                raise
            taken.set()
            yield held
        finally:
            if taken.is_set():
                keeper.cancel()
                # Release even when the holder is being cancelled: the marks must reach Redis first.
                await asyncio.shield(self._release(held, keeper))

    async def _release(self, held: RedisHeld, keeper: asyncio.Task[None]) -> None:
        # The keeper is cancelled, not awaited: a renewal still in flight is fenced by our token and
        # cannot bring a released key back. Marks written meanwhile are written again below.
        keeper.cancel()
        if held._mark_tasks:
            await asyncio.wait(set(held._mark_tasks), timeout=5)
        freed = await self._mark(held, release=True)
        if freed < len(held.keys) and not held.lost:
            held.lost = True
            log.warning("the lease on %s had run out before release", _kinds(held.keys))

    def hold(self, *keys: str, wait: float | None = None) -> AbstractAsyncContextManager[Held]:
        return self._hold(tuple(sorted(set(keys))), wait)

    async def holders(self, *keys: str) -> dict[str, Any]:
        """Who holds each key now (token or None): for tests and operators."""
        values = await self._redis.mget([self.lock_key(k) for k in keys])
        return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in zip(keys, values, strict=True)}
