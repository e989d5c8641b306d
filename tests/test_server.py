"""The assembled server: read-only mode, toolsets, instructions, tool metadata, error hygiene, missing credentials."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client, types
from mcp.shared.subscriptions import ToolsListChanged

from mcp_server_freshbooks.config import DEFAULT_TOOLSETS, KNOWN_TOOLSETS, Settings
from mcp_server_freshbooks.freshbooks import StaticTokenSource
from mcp_server_freshbooks.sandbox import Sandbox
from mcp_server_freshbooks.server import build_server
from mcp_server_freshbooks.tools._base import all_specs

pytestmark = pytest.mark.anyio

CLIENT_WRITES = {"create_client", "update_client", "archive_client", "restore_client"}
CLIENT_READS = {"find_client", "get_client"}
TOOLSET_TOOLS = {"list_toolsets", "enable_toolset"}


async def tool_map(settings: Settings, sandbox: Sandbox, mode: str = "auto") -> dict[str, Any]:
    async with Client(build_server(settings, sandbox=sandbox), mode=mode) as client:  # type: ignore[arg-type]
        return {t.name: t for t in (await client.list_tools()).tools}


async def test_read_only_mode_hides_every_write_tool(settings: Settings, sandbox: Sandbox, mode: str) -> None:
    settings = settings.with_overrides(toolsets="all")  # client_admin is opt-in (#12)
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
        ("clients,client_admin", CLIENT_READS | CLIENT_WRITES, {"whoami"}),
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
    tools = await tool_map(settings.with_overrides(toolsets="all"), sandbox)
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
    # A read says so: "whether a write happened" would send the user checking books nothing touched.
    assert "only reads: nothing was changed" in text and "whether a write happened" not in text
    async with Client(server) as client:
        result = await client.call_tool("create_client", {"organization": "Acme"})
    text = " ".join(getattr(c, "text", "") for c in result.content)
    assert result.is_error and "create_client" in text and "secret internal detail" not in text
    assert "whether a write happened: check before retrying" in text  # a write tool cannot promise that


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


# ---------------------------------------------------------------------- default and dynamic toolsets


async def test_default_toolsets_are_the_everyday_set_and_all_means_every_tool(
    settings: Settings, sandbox: Sandbox
) -> None:
    default = set(await tool_map(settings, sandbox))
    everything = set(await tool_map(settings.with_overrides(toolsets="all"), sandbox))
    assert default == {spec.name for spec in all_specs() if spec.toolset.id in DEFAULT_TOOLSETS}
    assert everything == {spec.name for spec in all_specs()}
    assert len(default) <= 20, "the default catalog is the everyday set: at most about 20 tools"
    assert not TOOLSET_TOOLS & everything, "list_toolsets/enable_toolset exist only in dynamic mode"


def _dynamic(settings: Settings, **changes: Any) -> Settings:
    return settings.with_overrides(dynamic_toolsets=True, **changes)


async def test_dynamic_mode_starts_tiny_and_lists_the_toolsets(settings: Settings, sandbox: Sandbox, mode: str) -> None:
    async with Client(build_server(_dynamic(settings), sandbox=sandbox), mode=mode) as client:  # type: ignore[arg-type]
        names = {t.name for t in (await client.list_tools()).tools}
        listed = (await client.call_tool("list_toolsets", {})).structured_content
        instructions = client.instructions
    assert names == TOOLSET_TOOLS
    assert listed is not None
    assert [row["id"] for row in listed["toolsets"]] == list(KNOWN_TOOLSETS)
    assert not any(row["enabled"] for row in listed["toolsets"])
    assert instructions and "enable_toolset" in instructions


async def test_dynamic_enable_sends_tools_list_changed_in_the_handshake_era(
    settings: Settings, sandbox: Sandbox
) -> None:
    received: list[types.ServerNotification] = []
    changed = anyio.Event()

    async def on_message(message: Any) -> None:
        if not isinstance(message, Exception):
            received.append(message)
            if isinstance(message, types.ToolListChangedNotification):
                changed.set()

    server = build_server(_dynamic(settings), sandbox=sandbox)
    async with Client(server, mode="legacy", message_handler=on_message) as client:
        tools_capability = client.server_capabilities.tools
        before = {t.name for t in (await client.list_tools()).tools}
        enabled = await client.call_tool("enable_toolset", {"toolset": "clients"})
        with anyio.fail_after(5):  # the notification may be handled just after the call's result
            await changed.wait()
        after = {t.name for t in (await client.list_tools()).tools}
        again = await client.call_tool("enable_toolset", {"toolset": "clients"})
        found = await client.call_tool("find_client", {"query": "a"})
    assert tools_capability is not None and tools_capability.list_changed is True
    assert before == TOOLSET_TOOLS
    clients_toolset = CLIENT_READS | {"create_client"}  # update/archive/restore are in client_admin (#12)
    assert after == TOOLSET_TOOLS | clients_toolset
    assert enabled.structured_content is not None
    assert set(enabled.structured_content["added"]) == clients_toolset
    assert again.structured_content is not None and again.structured_content["added"] == []
    assert not found.is_error
    notified = [m for m in received if isinstance(m, types.ToolListChangedNotification)]
    assert len(notified) == 1, f"expected one notifications/tools/list_changed, got {received}"


async def test_dynamic_enable_reaches_a_listen_stream_in_the_2026_era(settings: Settings, sandbox: Sandbox) -> None:
    server = build_server(_dynamic(settings), sandbox=sandbox)
    async with Client(server) as client:
        assert client.protocol_version == "2026-07-28"
        assert client.server_capabilities.tools is not None and client.server_capabilities.tools.list_changed
        before = {t.name for t in (await client.list_tools()).tools}
        async with client.listen(tools_list_changed=True) as stream:
            await client.call_tool("enable_toolset", {"toolset": "invoices"})
            with anyio.fail_after(5):
                event = await stream.__anext__()
        after = {t.name for t in (await client.list_tools()).tools}
    assert isinstance(event, ToolsListChanged)
    assert before == TOOLSET_TOOLS
    invoice_tools = {spec.name for spec in all_specs() if spec.toolset.id == "invoices"}
    assert invoice_tools and after == TOOLSET_TOOLS | invoice_tools


async def test_dynamic_mode_keeps_read_only_and_chosen_toolsets(
    settings: Settings, sandbox: Sandbox, mode: str
) -> None:
    server = build_server(_dynamic(settings, read_only=True, toolsets="identity"), sandbox=sandbox)
    async with Client(server, mode=mode) as client:  # type: ignore[arg-type]
        before = {t.name for t in (await client.list_tools()).tools}
        await client.call_tool("enable_toolset", {"toolset": "clients"})
        after = {t.name for t in (await client.list_tools()).tools}
        refused = await client.call_tool("enable_toolset", {"toolset": "bogus"})
    assert before == TOOLSET_TOOLS | {"whoami"}
    assert after == before | CLIENT_READS, "read-only wins: enable_toolset adds no write tool"
    assert refused.is_error


class _Forbidding(httpx.AsyncBaseTransport):
    """The sandbox, except that FreshBooks refuses (403) every request whose path contains `fragment`."""

    def __init__(self, sandbox: Sandbox, fragment: str) -> None:
        self._inner = httpx.ASGITransport(app=sandbox.app)
        self._fragment = fragment

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._fragment in request.url.path:
            body = {"response": {"errors": [{"errno": 1003, "message": "The user does not have access."}]}}
            return httpx.Response(403, json=body, request=request)
        return await self._inner.handle_async_request(request)


@pytest.mark.parametrize(
    ("tool", "arguments", "fragment", "scope"),
    [
        ("find_client", {"query": "a"}, "/users/clients", "user:clients:read"),
        ("list_invoices", {}, "/invoices/invoices", "user:invoices:read"),
        ("list_payments", {}, "/payments/payments", "user:payments:read"),
        ("list_expenses", {}, "/expenses/expenses", "user:expenses:read"),
        ("whoami", {}, "/users/me", "user:profile:read"),
    ],
)
async def test_a_refusal_names_the_scope_its_toolset_declares(
    settings: Settings, sandbox: Sandbox, tool: str, arguments: dict[str, Any], fragment: str, scope: str
) -> None:
    server = build_server(
        settings.with_overrides(toolsets="all"),  # expenses is opt-in (#12)
        transport=_Forbidding(sandbox, fragment),
        token_source=StaticTokenSource(sandbox.access_token),
    )
    async with Client(server) as client:
        result = await client.call_tool(tool, arguments)
    text = " ".join(getattr(c, "text", "") for c in result.content)
    assert result.is_error and scope in text, text
