"""Shared fixtures: a seeded sandbox, a server bound to it, and real MCP clients in both eras."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from mcp import Client

from mcp_server_freshbooks.config import Settings, load_settings
from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions
from mcp_server_freshbooks.server import build_server


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def settings() -> Settings:
    """Settings as a clean machine has them: no environment, no .env."""
    return load_settings(environ={}, use_dotenv=False)


@pytest.fixture
def sandbox() -> Sandbox:
    """Fresh seeded books per test (seed 7, the real today)."""
    return Sandbox(SandboxOptions(seed=7))


@pytest.fixture(params=["auto", "legacy"])
def mode(request: pytest.FixtureRequest) -> str:
    """Both protocol eras: 2026-07-28 (auto) and the handshake era (legacy)."""
    return str(request.param)


@pytest.fixture
async def mcp(sandbox: Sandbox, settings: Settings, mode: str) -> AsyncIterator[Client]:
    """A real MCP client session, in-process, against a server on the sandbox."""
    async with Client(build_server(settings, sandbox=sandbox), mode=mode) as client:  # type: ignore[arg-type]
        yield client


async def call_ok(client: Client, name: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    """Call a tool that must succeed; return its structured content."""
    result = await client.call_tool(name, arguments or {})
    text = " ".join(getattr(c, "text", "") for c in result.content)
    assert not result.is_error, f"{name} failed: {text}"
    assert result.structured_content is not None, f"{name} returned no structured content"
    return dict(result.structured_content)


async def call_error(client: Client, name: str, arguments: dict[str, Any] | None = None) -> str:
    """Call a tool that must fail; return the error text the model would read."""
    result = await client.call_tool(name, arguments or {})
    text = " ".join(getattr(c, "text", "") for c in result.content)
    assert result.is_error, f"{name} unexpectedly succeeded: {text[:300]}"
    assert "Traceback" not in text
    return text
