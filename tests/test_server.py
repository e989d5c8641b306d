"""The assembled server: read-only mode, toolsets, instructions, tool metadata, error hygiene, missing credentials."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client

from mcp_server_freshbooks.config import Settings
from mcp_server_freshbooks.freshbooks import StaticTokenSource
from mcp_server_freshbooks.sandbox import Sandbox
from mcp_server_freshbooks.server import build_server

pytestmark = pytest.mark.anyio

CLIENT_WRITES = {"create_client", "update_client", "archive_client", "restore_client"}
CLIENT_READS = {"find_client", "get_client"}


async def tool_map(settings: Settings, sandbox: Sandbox, mode: str = "auto") -> dict[str, Any]:
    async with Client(build_server(settings, sandbox=sandbox), mode=mode) as client:  # type: ignore[arg-type]
        return {t.name: t for t in (await client.list_tools()).tools}


async def test_read_only_mode_hides_every_write_tool(settings: Settings, sandbox: Sandbox, mode: str) -> None:
    full = await tool_map(settings, sandbox, mode)
    read_only = await tool_map(settings.with_overrides(read_only=True), sandbox, mode)
    assert set(full) >= CLIENT_WRITES and set(full) >= CLIENT_READS
    assert not CLIENT_WRITES & set(read_only)
    assert set(read_only) >= CLIENT_READS
    assert read_only, "read-only mode must keep the read tools"
    for tool in read_only.values():
        assert tool.annotations is not None and tool.annotations.read_only_hint is True, tool.name
    hidden = set(full) - set(read_only)
    assert all(full[name].annotations.read_only_hint is False for name in hidden)


async def test_read_only_mode_refuses_a_write_call(settings: Settings, sandbox: Sandbox) -> None:
    server = build_server(settings.with_overrides(read_only=True), sandbox=sandbox)
    async with Client(server) as client:
        result = await client.call_tool("create_client", {"organization": "Sneaky Co"})
    assert result.is_error
    assert sandbox.write_log == []


@pytest.mark.parametrize(
    ("toolsets", "must", "must_not"),
    [
        ("clients", CLIENT_READS | CLIENT_WRITES, {"whoami"}),
        ("identity", {"whoami"}, CLIENT_READS),
        ("identity,clients", {"whoami", "find_client"}, set()),
    ],
)
async def test_toolset_selection(
    settings: Settings, sandbox: Sandbox, toolsets: str, must: set[str], must_not: set[str]
) -> None:
    names = set(await tool_map(settings.with_overrides(toolsets=toolsets), sandbox))
    assert must <= names
    assert not must_not & names


async def test_toolsets_and_read_only_combine(settings: Settings, sandbox: Sandbox) -> None:
    names = set(await tool_map(settings.with_overrides(toolsets="clients", read_only=True), sandbox))
    assert names == CLIENT_READS


async def test_instructions_are_sent(settings: Settings, sandbox: Sandbox, mode: str) -> None:
    async with Client(build_server(settings, sandbox=sandbox), mode=mode) as client:  # type: ignore[arg-type]
        instructions = client.instructions
    assert instructions and "find_client" in instructions and "confirm" in instructions


async def test_every_tool_is_fully_described(settings: Settings, sandbox: Sandbox) -> None:
    tools = await tool_map(settings, sandbox)
    assert tools
    for name, tool in tools.items():
        assert tool.title, name
        assert tool.description and len(tool.description) > 80, name
        assert tool.output_schema and tool.output_schema.get("type") == "object", name
        ann = tool.annotations
        assert ann is not None and ann.title, name
        assert ann.read_only_hint is not None, name
        if not ann.read_only_hint:
            assert ann.destructive_hint is not None and ann.idempotent_hint is not None, name
        if name not in CLIENT_READS | CLIENT_WRITES:
            continue  # parameter descriptions: checked here for the client tools (#3)
        props = tool.input_schema.get("properties", {})
        for pname, prop in props.items():
            described = "description" in prop or any("description" in p for p in prop.get("anyOf", []))
            assert described or pname in {"response_format"}, f"{name}.{pname} has no description"
    assert tools["archive_client"].annotations.destructive_hint is True
    assert tools["create_client"].annotations.destructive_hint is False
    assert "confirm" in tools["archive_client"].input_schema["properties"]
    assert "approval" not in tools["archive_client"].input_schema["properties"]


def _exploding_transport() -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("secret internal detail /home/user/.config/tokens.json")

    return httpx.MockTransport(handler)


async def test_unexpected_errors_never_leak_tracebacks(settings: Settings) -> None:
    server = build_server(settings, transport=_exploding_transport(), token_source=StaticTokenSource("tok"))
    async with Client(server) as client:
        result = await client.call_tool("find_client", {"query": "acme"})
    text = " ".join(getattr(c, "text", "") for c in result.content)
    assert result.is_error
    assert "Traceback" not in text and "secret internal detail" not in text and "tokens.json" not in text
    assert "find_client" in text


async def test_freshbooks_rejection_becomes_actionable_error(settings: Settings) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"message": "The server could not verify that you are authorized."})

    server = build_server(settings, transport=httpx.MockTransport(handler), token_source=StaticTokenSource("tok"))
    async with Client(server) as client:
        result = await client.call_tool("get_client", {"client_id": 1})
    text = " ".join(getattr(c, "text", "") for c in result.content)
    assert result.is_error and "auth login" in text and "Traceback" not in text


async def test_missing_credentials_give_an_actionable_error(settings: Settings, tmp_path: Path, mode: str) -> None:
    bare = settings.with_overrides(token_file=tmp_path / "no-tokens.json")
    async with Client(build_server(bare), mode=mode) as client:  # type: ignore[arg-type]
        names = {t.name for t in (await client.list_tools()).tools}
        result = await client.call_tool("find_client", {"query": "acme"})
    assert "find_client" in names, "the server must start without credentials"
    text = " ".join(getattr(c, "text", "") for c in result.content)
    assert result.is_error
    assert "auth login" in text and "FRESHBOOKS_ACCESS_TOKEN" in text
    assert "Traceback" not in text
