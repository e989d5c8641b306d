"""Replicas behind a real load balancer: the safe-writes payment race (#11) across processes (#18).

A real redis-server, two replicas of ``mcp-server-freshbooks serve --transport http --stateless``
sharing it through ``FRESHBOOKS_MCP_STORE``, nginx in front (round-robin, ``proxy_buffering off``),
and the sandbox in its own process playing FreshBooks. MCP clients talk only to nginx. Parallel
payments on one invoice land on both replicas (nginx's log says which served each request), and
never add up to more than the invoice owed.

Bearer-token mode: the OAuth mode (``--auth oauth``) is built alongside; the write locks are the
same either way.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from ._services import (
    HOST,
    Nginx,
    Replicas,
    SandboxProcess,
    need,
    need_module,
    nginx_proxy,
    redis_server,
    replicas,
    sandbox_process,
)

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

# FBMCP_TEST_WITHOUT_STORE=1 runs the replicas without the shared store: the control, which must fail
WITHOUT_STORE = os.environ.get("FBMCP_TEST_WITHOUT_STORE") == "1"


@dataclass
class Deployment:
    sandbox: SandboxProcess
    replicas: Replicas
    nginx: Nginx
    account_id: str

    def rest(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.sandbox.base_url,
            headers={"Authorization": f"Bearer {self.sandbox.access_token}"},
            timeout=30,
        )


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    redis_bin, nginx_bin = need("redis-server"), need("nginx")
    need_module("redis")
    with ExitStack() as stack:
        redis = stack.enter_context(redis_server(redis_bin))
        # A payment takes 0.3 s to apply, as a slow FreshBooks would: without shared locks another
        # replica's outstanding check runs inside that window and both payments pass it.
        slow_payments = ("--write-latency-ms", "300", "--write-latency-match", "^POST .*/payments/payments")
        sandbox = stack.enter_context(sandbox_process(today=date.today(), args=("--list-cache", *slow_payments)))
        served = stack.enter_context(replicas(2, sandbox=sandbox, store_url=None if WITHOUT_STORE else redis.url))
        nginx = stack.enter_context(nginx_proxy(served.ports, nginx_bin, access_log=True))
        with httpx.Client(base_url=sandbox.base_url, timeout=30) as rest:
            me = rest.get("/auth/api/v1/users/me", headers={"Authorization": f"Bearer {sandbox.access_token}"})
            account_id = me.json()["response"]["business_memberships"][0]["business"]["account_id"]
        yield Deployment(sandbox, served, nginx, str(account_id))


async def _clients(dep: Deployment, n: int, stack: AsyncExitStack) -> list[Client]:
    out = []
    for _ in range(n):
        http = httpx2.AsyncClient(
            headers={"Authorization": f"Bearer {dep.replicas.token}"}, timeout=httpx2.Timeout(60.0)
        )
        out.append(
            await stack.enter_async_context(Client(streamable_http_client(f"{dep.nginx.url}/mcp", http_client=http)))
        )
    return out


def _open_invoices(dep: Deployment) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    with dep.rest() as rest:
        for page in range(1, 4):
            body = rest.get(
                f"/accounting/account/{dep.account_id}/invoices/invoices", params={"page": page, "per_page": 100}
            ).json()["response"]["result"]
            found += [
                inv
                for inv in body["invoices"]
                if inv["vis_state"] == 0
                and inv["display_status"] != "draft"
                and Decimal(inv["outstanding"]["amount"]) > 5
                and Decimal(inv["paid"]["amount"]) == 0
            ]
    return found


def _payments(dep: Deployment, invoice_id: int) -> list[dict[str, Any]]:
    with dep.rest() as rest:
        body = rest.get(
            f"/accounting/account/{dep.account_id}/payments/payments",
            params={"search[invoiceid]": invoice_id, "per_page": 100},
        ).json()["response"]["result"]
    return [p for p in body["payments"] if p["vis_state"] == 0]


async def _pay_in_parallel(clients: list[Client], calls: int, args: dict[str, Any]) -> list[tuple[bool, str]]:
    async def one(client: Client) -> tuple[bool, str]:
        result = await client.call_tool("record_payment", dict(args))
        text = " ".join(getattr(c, "text", "") for c in result.content)
        assert "Traceback" not in text and "Unexpected server error" not in text, text
        return bool(result.is_error), text

    with anyio.fail_after(120):  # a lost reply must fail the test, not hang it
        return list(await asyncio.gather(*(one(clients[i % len(clients)]) for i in range(calls))))


@pytest.fixture
async def four_clients(deployment: Deployment) -> AsyncIterator[list[Client]]:
    async with AsyncExitStack() as stack:
        yield await _clients(deployment, 4, stack)


async def test_parallel_full_payments_across_replicas_record_exactly_one(
    deployment: Deployment, four_clients: list[Client]
) -> None:
    dep = deployment
    inv = _open_invoices(dep)[0]
    owed = inv["outstanding"]["amount"]
    logged_before = len(dep.nginx.upstreams_used())
    results = await _pay_in_parallel(four_clients, 6, {"invoice_id": inv["id"], "amount": owed, "confirm": True})
    ok = [text for is_error, text in results if not is_error]
    refused = [text for is_error, text in results if is_error]
    assert len(ok) == 1, results
    assert all("already paid" in t and "nothing was recorded" in t for t in refused), refused
    paid = [Decimal(p["amount"]["amount"]) for p in _payments(dep, inv["id"])]
    assert paid == [Decimal(owed)]  # one payment, for what was owed: no overpayment, no credit
    # the calls were spread over both replicas by nginx
    served = set(dep.nginx.upstreams_used()[logged_before:])
    assert served == {f"{HOST}:{port}" for port in dep.replicas.ports}, served


async def test_parallel_partial_payments_across_replicas_never_exceed_outstanding(
    deployment: Deployment, four_clients: list[Client]
) -> None:
    dep = deployment
    for inv in _open_invoices(dep)[1:4]:
        owed = Decimal(inv["outstanding"]["amount"])
        part = (owed * Decimal("0.4")).quantize(Decimal("0.01"))
        results = await _pay_in_parallel(
            four_clients, 4, {"invoice_id": inv["id"], "amount": f"{part}", "confirm": True}
        )
        ok = [text for is_error, text in results if not is_error]
        refused = [text for is_error, text in results if is_error]
        # two payments of 40% fit, a third would overpay: refused, whichever replica it reached
        assert len(ok) == 2, results
        assert all("nothing was recorded" in t.lower() for t in refused), refused
        paid = sum((Decimal(p["amount"]["amount"]) for p in _payments(dep, inv["id"])), Decimal(0))
        assert paid == 2 * part <= owed
