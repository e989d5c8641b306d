"""RedisKeyedLock across replicas: exclusion, sorted keys, timeouts, leases, fencing, unsettled marks.

"Replicas" are separate connection pools (two `RedisStore`s) in this process, and real child
processes where a holder must die (SIGKILL) or stall (SIGSTOP) the way a replica does.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from mcp_server_freshbooks.freshbooks.locks import KeyedLock, LockTimeoutError
from mcp_server_freshbooks.hosting.redis_store import RedisStore

from .conftest_redis import prefix, redis_url, store_pair

pytestmark = pytest.mark.anyio
__all__ = ["prefix", "redis_url", "store_pair"]  # fixtures, imported for pytest

Pair = tuple[RedisStore, RedisStore]


def _is_keyed_lock(lock: KeyedLock) -> KeyedLock:
    return lock  # mypy checks RedisKeyedLock against the Protocol here


async def test_mutual_exclusion_across_two_replicas(store_pair: Pair) -> None:
    a, b = store_pair
    _is_keyed_lock(a.locks)
    inside = 0
    most = 0
    balance = {"owed": 100}
    paid: list[int] = []

    async def pay(store: RedisStore, n: int) -> None:
        nonlocal inside, most
        async with store.locks.hold("invoice:1"):
            inside += 1
            most = max(most, inside)
            owed = balance["owed"]  # the check...
            await asyncio.sleep(0.005)
            if owed >= 60:  # ...and the write it guards
                balance["owed"] = owed - 60
                paid.append(n)
            inside -= 1

    await asyncio.gather(*(pay(s, i) for i, s in enumerate([a, b] * 10)))
    assert most == 1
    assert len(paid) == 1 and balance["owed"] == 40
    assert await a.locks.holders("invoice:1") == {"invoice:1": None}  # released


async def test_overlapping_keys_in_any_order_never_deadlock_and_other_keys_run_alongside(store_pair: Pair) -> None:
    a, b = store_pair
    order: list[str] = []

    async def writer(store: RedisStore, name: str, *keys: str) -> None:
        async with store.locks.hold(*keys, wait=10) as held:
            assert held.keys == tuple(sorted(set(keys)))
            order.append(f"{name}+")
            await asyncio.sleep(0.05)
            order.append(f"{name}-")

    for _ in range(5):
        order.clear()
        await asyncio.gather(
            writer(a, "a", "invoice:1", "create:x"),
            writer(b, "b", "create:x", "invoice:1", "invoice:1"),  # other order, a duplicate
            writer(b, "c", "invoice:2"),
        )
        assert order.index("a-") < order.index("b+") or order.index("b-") < order.index("a+")
        assert order.index("c+") < max(order.index("a-"), order.index("b-"))


async def test_wait_timeout_raises_and_frees_the_keys_taken_meanwhile(store_pair: Pair) -> None:
    a, b = store_pair
    async with a.locks.hold("k:c"):
        started = time.monotonic()
        with pytest.raises(LockTimeoutError, match="k:c"):
            async with b.locks.hold("k:b", "k:c", wait=0.2):  # takes k:b, then waits for k:c
                pytest.fail("should not get here")
        assert 0.18 < time.monotonic() - started < 1.5
        assert (await a.locks.holders("k:b"))["k:b"] is None  # k:b was given back
        async with b.locks.hold("k:b", wait=0.1):
            pass


async def test_keys_taken_first_stay_held_while_a_later_key_is_waited_for_past_the_lease(
    redis_url: str, prefix: str
) -> None:
    a, b, c = (RedisStore.from_url(redis_url, prefix=prefix, lease=0.6) for _ in range(3))
    try:
        release_k2 = asyncio.Event()
        got: list[tuple[str, ...]] = []

        async def first() -> None:
            async with a.locks.hold("k2"):
                await release_k2.wait()

        async def second() -> None:
            async with b.locks.hold("k1", "k2", wait=10) as held:
                assert held.may_adopt()
                got.append(held.keys)

        holder = asyncio.create_task(first())
        await asyncio.sleep(0.1)
        waiter = asyncio.create_task(second())
        await asyncio.sleep(1.5)  # 2.5 leases: k1 (taken first) is renewed while k2 is waited for
        with pytest.raises(LockTimeoutError):
            async with c.locks.hold("k1", wait=0.1):
                pass
        assert not got
        release_k2.set()
        await holder
        await asyncio.wait_for(waiter, 5)
        assert got == [("k1", "k2")]
    finally:
        await a.aclose()
        await b.aclose()
        await c.aclose()


async def test_unsettled_marks_are_seen_across_replicas_until_they_run_out(store_pair: Pair) -> None:
    a, b = store_pair
    async with a.locks.hold("invoice:7") as first:
        assert first.may_adopt()
        first.leave_unsettled(0.5)  # gave up with an unknown outcome: may still land for 0.5 s
        assert first.may_adopt()  # its own mark does not count against it
    async with b.locks.hold("invoice:7") as second:
        assert not second.may_adopt()  # a new match might be the earlier write's
    async with a.locks.hold("invoice:8") as other:
        assert other.may_adopt()  # marks are per key
    await asyncio.sleep(0.6)
    async with b.locks.hold("invoice:7") as third:
        assert third.may_adopt()
    # nothing is left behind once the marks ran out
    assert await a.redis.keys(f"{a.prefix}*") == []


async def test_a_cancelled_holder_leaves_its_mark_and_releases(store_pair: Pair) -> None:
    a, b = store_pair
    entered = asyncio.Event()

    async def abandoned() -> None:
        async with a.locks.hold("create:payments:abc") as held:
            entered.set()
            try:
                await asyncio.sleep(30)  # the POST is on its way...
            except asyncio.CancelledError:
                held.leave_unsettled(5)  # ...and may still land: what writes.py does
                raise

    task = asyncio.create_task(abandoned())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with b.locks.hold("create:payments:abc", wait=1) as next_holder:
        assert not next_holder.may_adopt()


# ---------------------------------------------------------------------- real processes as replicas

HOLDER = """
import asyncio, json, sys
from mcp_server_freshbooks.hosting.redis_store import RedisStore

async def main(url, prefix, lease, key):
    store = RedisStore.from_url(url, prefix=prefix, lease=lease)
    async with store.locks.hold(key) as held:
        print(json.dumps({"token": held.token}), flush=True)
        await asyncio.to_thread(sys.stdin.readline)  # renewing meanwhile, until it is told to go (or dies)
        held.leave_unsettled(5)
    print(json.dumps({"lost": held.lost, "may_adopt": held.may_adopt()}), flush=True)
    await store.aclose()

asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]))
"""


def _holder(redis_url: str, prefix: str, lease: float, key: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, redis_url, prefix, str(lease), key],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, "the holder process did not start"
    return proc, str(json.loads(line)["token"])


async def test_a_dead_replicas_lock_expires_after_its_lease(redis_url: str, prefix: str) -> None:
    proc, token = await asyncio.to_thread(_holder, redis_url, prefix, 1.5, "invoice:9")
    store = RedisStore.from_url(redis_url, prefix=prefix)
    try:
        assert await store.locks.holders("invoice:9") == {"invoice:9": token}
        with pytest.raises(LockTimeoutError):  # alive (renewing past its 1.5 s lease): still held
            async with store.locks.hold("invoice:9", wait=2.0):
                pass
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(5)
        started = time.monotonic()
        async with store.locks.hold("invoice:9", wait=5) as held:
            waited = time.monotonic() - started
            assert held.may_adopt()
        assert waited < 2.5  # free again within one lease of its last renewal
    finally:
        if proc.poll() is None:
            proc.kill()
        await store.aclose()


async def test_a_holder_whose_lease_ran_out_cannot_release_the_next_holders_lock(redis_url: str, prefix: str) -> None:
    """A replica stalls (SIGSTOP) past its lease; another takes the key; the stalled one resumes and
    leaves: the new holder keeps its lock, learns of the stalled write's mark, and the stalled one
    knows it lost its lease."""
    proc, stalled_token = await asyncio.to_thread(_holder, redis_url, prefix, 0.6, "invoice:10")
    store = RedisStore.from_url(redis_url, prefix=prefix, lease=3.0)
    try:
        await asyncio.wait_for(_stalled_holder_meets_the_next(store, proc, stalled_token), 60)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)
            proc.kill()
        proc.wait(5)
        await store.aclose()


async def _stalled_holder_meets_the_next(store: RedisStore, proc: subprocess.Popen[str], stalled_token: str) -> None:
    os.kill(proc.pid, signal.SIGSTOP)
    async with store.locks.hold("invoice:10", wait=5) as held:
        assert held.may_adopt()
        os.kill(proc.pid, signal.SIGCONT)
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
        report = json.loads(await asyncio.to_thread(proc.stdout.readline))
        assert report == {"lost": True, "may_adopt": False}
        # still ours: its compare-and-delete did not touch our token
        assert await store.locks.holders("invoice:10") == {"invoice:10": held.token}  # type: ignore[attr-defined]
        assert held.token != stalled_token  # type: ignore[attr-defined]
        await asyncio.sleep(1.5)  # a renewal (every lease/3) sees the stalled write's mark
        assert not held.may_adopt()
    assert await store.locks.holders("invoice:10") == {"invoice:10": None}
