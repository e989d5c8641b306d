"""Streamable HTTP behind a bearer token: 401s never reach a tool, DNS-rebinding protection, binds."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server import MCPServer
from mcp.types import ToolAnnotations
from starlette.types import ASGIApp

from mcp_server_freshbooks import http_transport
from mcp_server_freshbooks.config import ConfigError, Settings, load_settings
from mcp_server_freshbooks.http_transport import (
    HttpTransportError,
    build_http_app,
    is_loopback,
    resolve_token,
    run_http,
)

pytestmark = pytest.mark.anyio

TOKEN = "test-http-token-" + "x" * 24


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def plain_settings(tmp_path: Path) -> Settings:
    return load_settings(environ={"FRESHBOOKS_TOKEN_FILE": str(tmp_path / "tokens.json")}, use_dotenv=False)


def tiny_server(calls: list[str]) -> MCPServer:
    server = MCPServer("tiny")

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def ping() -> str:
        """Answer pong."""
        calls.append("ping")
        return "pong"

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def read_thing(name: str) -> str:
        """Read a thing."""
        calls.append("read_thing")
        return f"thing {name}"

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True))
    def delete_thing(name: str) -> str:
        """Delete a thing."""
        calls.append("delete_thing")
        return f"deleted {name}"

    return server


@asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[str]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        assert server.started, "uvicorn did not start"
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def mcp_client(url: str, token: str | None) -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    http = httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(10.0))
    return Client(streamable_http_client(f"{url}/mcp", http_client=http))


CALL_DELETE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "tools/call",
    "params": {"name": "delete_thing", "arguments": {"name": "x"}},
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@pytest.mark.parametrize("stateless", [False, True])
async def test_right_token_tools_work(plain_settings: Settings, stateless: bool) -> None:
    calls: list[str] = []
    app = build_http_app(tiny_server(calls), plain_settings, host="127.0.0.1", port=0, stateless=stateless, token=TOKEN)
    async with serving(app) as url, mcp_client(url, TOKEN) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert names == {"ping", "read_thing", "delete_thing"}
        result = await client.call_tool("ping", {})
        assert not result.is_error
        assert "pong" in json.dumps([c.model_dump() for c in result.content])
    assert calls == ["ping"]


async def test_missing_or_wrong_token_is_401_and_never_reaches_a_tool(plain_settings: Settings) -> None:
    calls: list[str] = []
    app = build_http_app(tiny_server(calls), plain_settings, host="127.0.0.1", port=0, stateless=True, token=TOKEN)
    async with serving(app) as url, httpx.AsyncClient() as http:
        missing = await http.post(f"{url}/mcp", json=CALL_DELETE, headers=MCP_HEADERS)
        wrong = await http.post(
            f"{url}/mcp", json=CALL_DELETE, headers={**MCP_HEADERS, "Authorization": f"Bearer {TOKEN}-nope"}
        )
        basic = await http.post(f"{url}/mcp", json=CALL_DELETE, headers={**MCP_HEADERS, "Authorization": "Basic eDp5"})
        other_path = await http.get(f"{url}/anything")
        # the real MCP client without the token fails too
        with pytest.raises(Exception):  # noqa: B017 - the SDK raises its own error type for a 401
            async with mcp_client(url, None) as client:
                await client.call_tool("delete_thing", {"name": "x"})
    for response in (missing, wrong, basic, other_path):
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert TOKEN not in response.text
    assert 'error="invalid_token"' in wrong.headers["www-authenticate"]
    assert calls == []


async def test_foreign_host_or_origin_is_refused(plain_settings: Settings) -> None:
    calls: list[str] = []
    app = build_http_app(tiny_server(calls), plain_settings, host="127.0.0.1", port=0, stateless=True, token=TOKEN)
    auth = {**MCP_HEADERS, "Authorization": f"Bearer {TOKEN}"}
    async with serving(app) as url, httpx.AsyncClient() as http:
        port = url.rsplit(":", 1)[1]
        bad_host = await http.post(f"{url}/mcp", json=CALL_DELETE, headers={**auth, "Host": f"evil.example:{port}"})
        bad_origin = await http.post(f"{url}/mcp", json=CALL_DELETE, headers={**auth, "Origin": "http://evil.example"})
        good_origin = await http.post(
            f"{url}/mcp",
            json={"jsonrpc": "2.0", "id": 2, "method": "ping"},
            headers={**auth, "Origin": f"http://localhost:{port}", "Mcp-Protocol-Version": "2025-11-25"},
        )
    assert bad_host.status_code == 421
    assert bad_origin.status_code == 403
    assert good_origin.status_code == 200, good_origin.text
    assert calls == []


def test_non_loopback_without_token_is_refused(plain_settings: Settings) -> None:
    with pytest.raises(HttpTransportError, match="FRESHBOOKS_MCP_HTTP_TOKEN"):
        resolve_token(plain_settings, "0.0.0.0")
    with pytest.raises(HttpTransportError, match="not loopback"):
        build_http_app(tiny_server([]), plain_settings, host="192.168.1.10", port=8765, stateless=False, token=None)
    with pytest.raises(ConfigError):  # the CLI reports ConfigError in one line, exit 2
        run_http(tiny_server([]), plain_settings, host="0.0.0.0", port=8765, stateless=False)
    with_token = plain_settings.with_overrides(mcp_http_token="a-long-configured-secret-value-0123456789")
    assert resolve_token(with_token, "0.0.0.0") == ("a-long-configured-secret-value-0123456789", False)
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.1.2.3")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.com")


def test_loopback_without_token_generates_one_and_prints_it_once(
    plain_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: dict[str, Any] = {}

    def fake_run(self: uvicorn.Server) -> None:
        seen["config"] = self.config

    monkeypatch.setattr(uvicorn.Server, "run", fake_run)
    run_http(tiny_server([]), plain_settings, host="127.0.0.1", port=8765, stateless=False)
    captured = capsys.readouterr()
    assert captured.out == ""  # stdout stays clean
    assert captured.err.count("Authorization: Bearer ") == 1
    generated = captured.err.split("Authorization: Bearer ", 1)[1].split()[0]
    assert len(generated) >= 32
    assert isinstance(seen["config"].app, http_transport.BearerTokenMiddleware)
    assert generated not in repr(seen["config"].app)

    configured = plain_settings.with_overrides(mcp_http_token="configured-token-value-1234567890abcdef")
    run_http(tiny_server([]), configured, host="127.0.0.1", port=8765, stateless=True)
    captured = capsys.readouterr()
    assert "configured-token-value-1234567890abcdef" not in captured.err + captured.out


async def test_read_only_server_over_http_lists_no_write_tools(plain_settings: Settings) -> None:
    from mcp_server_freshbooks.server import build_server, select_specs

    read_only = plain_settings.with_overrides(read_only=True)
    writers = {s.name for s in select_specs(plain_settings) if s.writes}
    app = build_http_app(build_server(read_only), read_only, host="127.0.0.1", port=0, stateless=True, token=TOKEN)
    async with serving(app) as url, mcp_client(url, TOKEN) as client:
        tools = (await client.list_tools()).tools
    names = {t.name for t in tools}
    assert names, "the read-only server should still list its read tools"
    assert not names & writers
    for tool in tools:
        assert tool.annotations is not None and tool.annotations.read_only_hint is True, tool.name


def test_configured_token_never_in_reprs(plain_settings: Settings) -> None:
    configured = plain_settings.with_overrides(mcp_http_token="canary-http-token-value")
    app = build_http_app(tiny_server([]), configured, host="127.0.0.1", port=0, stateless=True, token="canary-x" * 4)
    assert "canary" not in repr(configured) + str(configured.mcp_http_token) + repr(app)


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
@pytest.mark.parametrize("token", ["a", "x" * 31])
def test_short_configured_token_is_refused_in_one_line(plain_settings: Settings, host: str, token: str) -> None:
    short = plain_settings.with_overrides(mcp_http_token=token)
    with pytest.raises(HttpTransportError) as info:
        run_http(tiny_server([]), short, host=host, port=8765, stateless=False)
    text = str(info.value)
    assert len(text.splitlines()) == 1
    assert "FRESHBOOKS_MCP_HTTP_TOKEN" in text and "at least 32" in text and "secrets.token_urlsafe(32)" in text
    assert f"({len(token)} characters" in text
    with pytest.raises(HttpTransportError, match="at least 32"):
        build_http_app(tiny_server([]), short, host=host, port=0, stateless=True, token=token)
    exactly = plain_settings.with_overrides(mcp_http_token="y" * 32)
    assert resolve_token(exactly, host) == ("y" * 32, False)


def test_short_token_through_the_cli_is_one_line_exit_2(
    plain_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from mcp_server_freshbooks.cli import main

    monkeypatch.setenv("FRESHBOOKS_MCP_HTTP_TOKEN", "a")
    monkeypatch.setenv("FRESHBOOKS_TOKEN_FILE", str(plain_settings.token_file))
    monkeypatch.setattr(uvicorn.Server, "run", lambda self: pytest.fail("must not serve with a short token"))
    assert main(["serve", "--transport", "http", "--host", "0.0.0.0", "--demo"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "FRESHBOOKS_MCP_HTTP_TOKEN" in err and "Traceback" not in err


@pytest.mark.parametrize("stateless", [False, True])
async def test_receipt_over_http_comes_as_base64_and_a_path_is_refused(
    plain_settings: Settings, tmp_path: Path, stateless: bool
) -> None:
    # #17: the server's disk is not the user's: over HTTP a path is refused, a data: URI is taken.
    import base64

    from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions
    from mcp_server_freshbooks.server import build_server

    settings = plain_settings.with_overrides(toolsets=("documents", "expenses"))
    sb = Sandbox(SandboxOptions(seed=7))
    eid = next(e["id"] for e in sb.db.expenses.values() if not e["has_receipt"] and e["vis_state"] == 0)
    on_server = tmp_path / "server-side.png"
    png = b"\x89PNG\r\n\x1a\n" + bytes(48)
    on_server.write_bytes(png)
    app = build_http_app(
        build_server(settings, sandbox=sb), settings, host="127.0.0.1", port=0, stateless=stateless, token=TOKEN
    )
    async with serving(app) as url, mcp_client(url, TOKEN) as client:
        refused = await client.call_tool("attach_file", {"file": str(on_server), "expense_id": eid})
        assert refused.is_error
        text = " ".join(getattr(c, "text", "") for c in refused.content)
        assert "runs over HTTP" in text and "data:<type>;base64" in text
        assert sb.books.uploads == {} and "attachment" not in sb.db.expenses[eid]
        uri = "data:image/png;base64," + base64.b64encode(png).decode()
        done = await client.call_tool("attach_file", {"file": uri, "expense_id": eid})
        assert not done.is_error, done.content
        day = sb.db.expenses[eid]["date"]
        listed = await client.call_tool("list_expenses", {"date_from": day, "date_to": day, "limit": 100})
        rows = (listed.structured_content or {})["expenses"]
    assert next(r for r in rows if r["id"] == eid)["has_receipt"] is True
    jwt = sb.db.expenses[eid]["attachment"]["jwt"]
    assert sb.books.uploads[jwt]["content"] == png
