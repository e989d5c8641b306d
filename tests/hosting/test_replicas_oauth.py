"""The hosted mode as a team runs it: two ``serve --transport http --auth oauth --stateless`` replicas on
one redis-server, nginx in front (the public URL), the sandbox playing FreshBooks for two users.

Sign-in (registration, authorize, the FreshBooks callback, the token) crosses replicas through nginx, so
every step must find what an earlier step stored on another replica; then one user's two apps pay one
invoice in parallel across the replicas (never more than owed), and the other user's books do not show it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import anyio
import httpx2
import pytest

from ._services import HOST, free_port, need, need_module, nginx_proxy, redis_server, replicas, sandbox_process

try:  # the OAuth mode's test helpers (tests/hosting/conftest.py, with serve --auth oauth)
    from .conftest import SignedIn, tool
except ImportError:  # pragma: no cover - on a tree without the OAuth mode
    pytest.skip("needs serve --auth oauth and its test helpers (issue #18, OAuth side)", allow_module_level=True)

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


@dataclass
class Team:
    url: str
    mcp_url: str
    browser: httpx2.AsyncClient
    ports: list[int]
    upstreams_used: Any


@pytest.fixture
async def team() -> AsyncIterator[Team]:
    redis_bin, nginx_bin = need("redis-server"), need("nginx")
    need_module("redis")
    need_module("cryptography")
    from cryptography.fernet import Fernet

    public_port = free_port()
    public = f"http://{HOST}:{public_port}"
    slow_payments = ("--write-latency-ms", "300", "--write-latency-match", "^POST .*/payments/payments")
    sandbox_args = ("--identities", "2", "--redirect-uri", f"{public}/oauth/freshbooks/callback", *slow_payments)
    with ExitStack() as stack:
        redis = stack.enter_context(redis_server(redis_bin))
        sandbox = stack.enter_context(
            sandbox_process(today=date.today(), args=sandbox_args, wait_for=("oauth_client_id", "identity_1"))
        )
        env = {
            "FRESHBOOKS_CLIENT_ID": sandbox.announced["oauth_client_id"],
            "FRESHBOOKS_CLIENT_SECRET": sandbox.announced["oauth_client_secret"],
            "FRESHBOOKS_AUTH_URL": sandbox.base_url,
            "FRESHBOOKS_MCP_PUBLIC_URL": public,
            "FRESHBOOKS_MCP_SECRET_KEY": Fernet.generate_key().decode(),
            "FRESHBOOKS_ACCESS_TOKEN": "",
        }
        served = stack.enter_context(
            replicas(2, sandbox=sandbox, store_url=redis.url, env=env, args=("--auth", "oauth"))
        )
        nginx = stack.enter_context(nginx_proxy(served.ports, nginx_bin, access_log=True, port=public_port))
        async with httpx2.AsyncClient(timeout=20.0) as browser:
            yield Team(public, f"{public}/mcp", browser, served.ports, nginx.upstreams_used)


async def test_two_users_sign_in_and_pay_across_replicas(team: Team) -> None:
    phone, laptop = SignedIn(team, login_hint=0), SignedIn(team, login_hint=0)  # type: ignore[arg-type]
    other = SignedIn(team, login_hint=1)  # type: ignore[arg-type]
    with anyio.fail_after(180):
        async with phone.client() as one, laptop.client() as two, other.client() as three:
            mine = (await tool(one, "whoami"))["business"]["account_id"]
            theirs = (await tool(three, "whoami"))["business"]["account_id"]
            assert mine != theirs
            rows = (await tool(one, "list_invoices", {"status": "sent", "limit": 50}))["invoices"]
            inv = next(r for r in rows if Decimal(r["outstanding"]["amount"]) > 5 and r["outstanding"] == r["amount"])
            owed = inv["outstanding"]["amount"]
            args = {"invoice_id": inv["id"], "amount": owed, "confirm": True}

            async def pay(client: Any) -> tuple[bool, str]:
                result = await client.call_tool("record_payment", dict(args))
                return bool(result.is_error), " ".join(getattr(c, "text", "") for c in result.content)

            results = await asyncio.gather(*(pay(c) for c in (one, two, one, two, two, one)))
            ok = [text for is_error, text in results if not is_error]
            assert len(ok) == 1, results
            paid = (await tool(two, "list_payments", {"invoice_id": inv["id"]}))["payments"]
            assert [Decimal(p["amount"]["amount"]) for p in paid] == [Decimal(owed)]
            # the other user's books are their own: the same invoice id there (each sandbox business is
            # seeded alike) carries none of this user's payments
            seen = await three.call_tool("list_payments", {"invoice_id": inv["id"]})
            seen_ids = {p["id"] for p in (seen.structured_content or {}).get("payments", [])}
            assert paid[0]["id"] not in seen_ids
    served = set(team.upstreams_used())
    assert served == {f"{HOST}:{port}" for port in team.ports}, served
