"""Fault injection: 5xx before writes, 429 + Retry-After, dropped connections, latency."""

from __future__ import annotations

import time

import httpx
import pytest

from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions, serve_on_loopback

from .conftest import TODAY, acct

pytestmark = pytest.mark.anyio

# What a client sees when the server closes the TCP connection without replying.
NO_RESPONSE = (httpx.RemoteProtocolError, httpx.ReadError)


def small(**faults: object) -> Sandbox:
    return Sandbox(SandboxOptions(seed=5, today=TODAY, clients=5, invoices=5, expenses=5, **faults))  # type: ignore[arg-type]


def auth(sb: Sandbox) -> dict[str, str]:
    return {"Authorization": f"Bearer {sb.access_token}"}


async def test_fail_rate_returns_5xx_before_any_write() -> None:
    sb = small(fail_rate=1.0)
    n_clients = len(sb.db.clients)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sb.app), base_url="http://t") as c:
        statuses = set()
        for _ in range(12):
            r = await c.post(acct(sb, "users/clients"), json={"client": {"email": "a@b.c"}}, headers=auth(sb))
            statuses.add(r.status_code)
            if r.status_code == 500:
                assert r.json()["response"]["errors"][0]["errno"] == 500
            else:
                assert r.headers["content-type"].startswith("text/html")
        assert statuses <= {500, 502, 503} and len(statuses) >= 2
        assert len(sb.db.clients) == n_clients and sb.write_log == []
        # debug endpoints are never faulted
        assert (await c.get("/__sandbox__/stats")).status_code == 200
        sb.set_faults(fail_rate=0.0)
        assert (await c.get(acct(sb, "users/clients"), headers=auth(sb))).status_code == 200


async def test_rate_limit_429_with_retry_after() -> None:
    sb = small(rate_limit=3)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sb.app), base_url="http://t") as c:
        codes = []
        for _ in range(10):
            r = await c.get("/auth/api/v1/users/me", headers=auth(sb))
            codes.append(r.status_code)
            if r.status_code == 429:
                retry_after = r.headers["retry-after"]
                assert retry_after.isdigit() and int(retry_after) >= 1
        # 10 quick requests span at most two 1-second windows -> at most 6 succeed
        assert set(codes) == {200, 429} and codes.count(200) <= 6
        sb.set_faults(rate_limit=None)
        assert (await c.get("/auth/api/v1/users/me", headers=auth(sb))).status_code == 200


async def test_drop_in_process_raises_like_tcp() -> None:
    sb = small(drop_rate=1.0)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sb.app), base_url="http://t") as c:
        with pytest.raises(httpx.RemoteProtocolError, match="Server disconnected without sending a response"):
            await c.get(acct(sb, "users/clients"), headers=auth(sb))
        before = len(sb.db.clients)
        for n in range(16):
            with pytest.raises(httpx.RemoteProtocolError):
                await c.post(acct(sb, "users/clients"), json={"client": {"email": f"d{n}@x.com"}}, headers=auth(sb))
    applied = len(sb.db.clients) - before
    # half the dropped writes were applied (reply lost), half never reached the books
    assert 0 < applied < 16
    assert len(sb.write_log) == applied
    assert {e.resource for e in sb.write_log} == {"client"}


async def test_drop_over_real_tcp_aborts_and_write_log_shows_applied_writes() -> None:
    sb = small()
    async with serve_on_loopback(sb) as base_url, httpx.AsyncClient(base_url=base_url, headers=auth(sb)) as c:
        assert (await c.get(acct(sb, "users/clients"))).status_code == 200
        sb.set_faults(drop_rate=1.0)
        with pytest.raises(NO_RESPONSE):
            await c.get(acct(sb, "users/clients"))
        before = len(sb.db.clients)
        for n in range(12):
            with pytest.raises(NO_RESPONSE):
                await c.post(acct(sb, "users/clients"), json={"client": {"email": f"t{n}@x.com"}})
        sb.set_faults(drop_rate=0.0)
        log = (await c.get("/__sandbox__/write_log")).json()
        applied = len(sb.db.clients) - before
        assert 0 < applied < 12 and len(log) == applied
        # the server is still healthy after aborted connections
        assert (await c.get("/auth/api/v1/users/me")).status_code == 200


async def test_latency_and_jitter() -> None:
    sb = small(latency_ms=120, jitter_ms=30)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sb.app), base_url="http://t") as c:
        t0 = time.perf_counter()
        assert (await c.get("/auth/api/v1/users/me", headers=auth(sb))).status_code == 200
        elapsed = time.perf_counter() - t0
        assert 0.115 <= elapsed < 1.0
        t0 = time.perf_counter()
        await c.get("/__sandbox__/stats")
        assert time.perf_counter() - t0 < 0.1


async def test_fault_decisions_are_seeded() -> None:
    async def pattern() -> list[int]:
        sb = small(fail_rate=0.5)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sb.app), base_url="http://t") as c:
            return [(await c.get("/auth/api/v1/users/me", headers=auth(sb))).status_code for _ in range(20)]

    first, second = await pattern(), await pattern()
    assert first == second and 200 in first and len(set(first)) > 1


def test_set_faults_validates() -> None:
    sb = small()
    with pytest.raises(ValueError):
        sb.set_faults(fail_rate=1.5)
    with pytest.raises(ValueError):
        sb.set_faults(rate_limit=0)
    sb.set_faults(latency_ms=3)
    assert sb.faults.config.latency_ms == 3 and sb.faults.config.fail_rate == 0.0
