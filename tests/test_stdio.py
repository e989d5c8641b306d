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


async def test_receipt_from_a_local_file_over_stdio(tmp_path: Path) -> None:
    # #17: over stdio the server runs on the user's machine, so a path names the user's file.
    receipt = tmp_path / "parking.pdf"
    receipt.write_bytes(b"%PDF-1.4\n% parking\n%%EOF\n")
    serve = _params(tmp_path, "serve", "--demo", "--toolsets", "documents,expenses")
    async with Client(serve) as client:
        listed = await client.call_tool("list_expenses", {"limit": 100})
        assert not listed.is_error, listed.content
        row = next(r for r in (listed.structured_content or {})["expenses"] if not r["has_receipt"])
        result = await client.call_tool("attach_file", {"file": str(receipt), "expense_id": row["id"]})
        assert not result.is_error, result.content
        assert (result.structured_content or {})["has_receipt"] is True
        day = {"date_from": row["date"], "date_to": row["date"], "limit": 100}
        again = await client.call_tool("list_expenses", day)
        rows = (again.structured_content or {})["expenses"]
        assert next(r for r in rows if r["id"] == row["id"])["has_receipt"] is True
