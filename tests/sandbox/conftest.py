"""Fixtures for the sandbox's own tests: a fixed calendar so dates and overdue sets are stable."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest

from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions

TODAY = date(2026, 11, 21)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sb() -> Sandbox:
    return Sandbox(SandboxOptions(seed=7, today=TODAY))


@pytest.fixture
async def http(sb: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    """In-process client with a valid bearer token."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sb.app),
        base_url="http://sandbox.test",
        headers={"Authorization": f"Bearer {sb.access_token}"},
    ) as client:
        yield client


def acct(sb: Sandbox, path: str) -> str:
    return f"/accounting/account/{sb.account_id}/{path}"
