"""The real console script over stdio: `mcp-server-freshbooks serve --demo`, driven by the SDK's client."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SCRIPT = Path(sys.executable).with_name("mcp-server-freshbooks")


def _params(tmp_path: Path, *args: str) -> StdioServerParameters:
    # Hosts start servers with a near-empty environment: pass only what a Claude Desktop entry would.
    env = {"PATH": os.environ.get("PATH", ""), "FRESHBOOKS_TOKEN_FILE": str(tmp_path / "tokens.json")}
    command = str(SCRIPT) if SCRIPT.exists() else sys.executable
    prefix = [] if SCRIPT.exists() else ["-m", "mcp_server_freshbooks"]
    return StdioServerParameters(command=command, args=[*prefix, *args], env=env, cwd=str(tmp_path))


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_serve_demo_over_stdio(tmp_path: Path, mode: str) -> None:
    serve = _params(tmp_path, "serve", "--demo", "--toolsets", "clients,client_admin")
    async with Client(serve, mode=mode) as client:  # type: ignore[arg-type]
        assert client.instructions and "find_client" in client.instructions
        names = {t.name for t in (await client.list_tools()).tools}
        assert {"find_client", "get_client", "archive_client"} <= names
        result = await client.call_tool("find_client", {"query": "a", "limit": 3})
        assert not result.is_error, result.content
        out = result.structured_content or {}
        assert 1 <= len(out["clients"]) <= 3 and out["has_more"] is True
        missing = await client.call_tool("get_client", {"client_id": 1})
        assert missing.is_error and "find_client" in missing.content[0].text  # type: ignore[union-attr]


async def test_read_only_flag_over_stdio(tmp_path: Path) -> None:
    async with Client(_params(tmp_path, "serve", "--demo", "--read-only")) as client:
        names = {t.name for t in (await client.list_tools()).tools}
    assert "find_client" in names and "create_client" not in names and "archive_client" not in names
