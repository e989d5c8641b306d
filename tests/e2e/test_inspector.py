"""The real MCP Inspector CLI (pinned 2.12.0) drives the installed console script over stdio and HTTP.

What a user's host sees: the server starts from its console script, every tool schema passes the
Inspector's portability check (`--strict`), tools answer with data from the demo books, a bad call is
a tool error (exit 5) not a crash, and the prompts list and render. Over streamable HTTP the same
works with the bearer token and nothing works without it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from mcp_server_freshbooks.config import load_settings
from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions
from mcp_server_freshbooks.server import DEMO_SEED, build_server

from .conftest import EVERYDAY, STRICT_SCHEMA_EXIT, TOOL_ERROR_EXIT, HttpServer, start_http_server, stop

pytestmark = pytest.mark.slow

PROMPTS = {
    "month_end_close",
    "chase_overdue_invoices",
    "expense_review",
    "new_client_onboarding",
    "cash_position_snapshot",
}


@pytest.fixture(scope="module")
def demo_books() -> Sandbox:
    """The same books `serve --demo` builds (fixed seed, today), read directly as ground truth."""
    return Sandbox(SandboxOptions(seed=DEMO_SEED, today=date.today()))


@pytest.fixture(scope="module")
def acme(demo_books: Sandbox) -> dict[str, Any]:
    matches = [c for c in demo_books.db.clients.values() if c["organization"] == "Acme Widgets" and c["vis_state"] == 0]
    assert len(matches) == 1
    return matches[0]


@pytest.fixture(scope="module")
def expected_tools() -> dict[str, bool]:
    """Tool name -> read-only, from an in-process client on the same configuration."""
    import anyio

    async def listing() -> dict[str, bool]:
        settings = load_settings(environ={"FRESHBOOKS_TOOLSETS": EVERYDAY}, use_dotenv=False)
        async with Client(build_server(settings, demo=True)) as client:
            tools = (await client.list_tools()).tools
        return {t.name: bool(t.annotations and t.annotations.read_only_hint) for t in tools}

    return anyio.run(listing)


@pytest.fixture(scope="module")
def stdio(server_bin: Path) -> list[str]:
    return [str(server_bin), "serve", "--demo", "--toolsets", EVERYDAY]


# ------------------------------------------------------------------------------------------ stdio


def test_stdio_tools_list_is_strictly_portable(
    inspector: Any, stdio: list[str], expected_tools: dict[str, bool]
) -> None:
    run = inspector("--method", "tools/list", "--strict", target=stdio)
    assert run.returncode != STRICT_SCHEMA_EXIT, f"schema portability errors:\n{run.stderr}"
    assert run.returncode == 0, run.describe()
    tools = {t["name"]: t for t in run.result["tools"]}
    assert set(tools) == set(expected_tools)
    for name, read_only in expected_tools.items():
        assert tools[name]["annotations"]["readOnlyHint"] is read_only, name
        assert tools[name]["title"] and tools[name]["description"], name
        assert "outputSchema" in tools[name], f"{name} has no outputSchema"


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_stdio_read_tools_answer_from_the_books(
    inspector: Any, stdio: list[str], demo_books: Sandbox, acme: dict[str, Any], era: str
) -> None:
    run = inspector("--protocol-era", era, "--method", "tools/call", "--tool-name", "whoami", target=stdio)
    assert run.returncode == 0, run.describe()
    assert run.result["isError"] is False
    assert run.result["structuredContent"]["business"]["name"] == demo_books.business_name
    assert run.result["structuredContent"]["business"]["account_id"] == demo_books.account_id

    run = inspector(
        "--protocol-era",
        era,
        "--method",
        "tools/call",
        "--tool-name",
        "find_client",
        "--tool-args-json",
        '{"query": "acme widgets"}',
        target=stdio,
    )
    assert run.returncode == 0, run.describe()
    found = {c["id"]: c["organization"] for c in run.result["structuredContent"]["clients"]}
    assert found.get(acme["id"]) == "Acme Widgets"
    for client_id, organization in found.items():
        assert demo_books.db.clients[client_id]["organization"] == organization


def test_stdio_bad_arguments_are_a_tool_error(inspector: Any, stdio: list[str]) -> None:
    run = inspector(
        "--method",
        "tools/call",
        "--tool-name",
        "find_client",
        "--tool-args-json",
        '{"query": "a", "limit": 0}',
        target=stdio,
    )
    assert run.returncode == TOOL_ERROR_EXIT, run.describe()
    assert run.result["isError"] is True
    text = run.result["content"][0]["text"]
    assert "limit" in text and "Traceback" not in text
    assert run.error["code"] == "tool_is_error"


def test_stdio_unknown_record_is_an_actionable_tool_error(
    inspector: Any, stdio: list[str], demo_books: Sandbox
) -> None:
    missing = max(demo_books.db.clients) + 1000
    run = inspector(
        "--method",
        "tools/call",
        "--tool-name",
        "get_client",
        "--tool-args-json",
        f'{{"client_id": {missing}}}',
        target=stdio,
    )
    assert run.returncode == TOOL_ERROR_EXIT, run.describe()
    assert "find_client" in run.result["content"][0]["text"]  # says what to do next


def test_stdio_prompts_list_and_get(inspector: Any, stdio: list[str]) -> None:
    run = inspector("--method", "prompts/list", target=stdio)
    assert run.returncode == 0, run.describe()
    prompts = {p["name"]: p for p in run.result["prompts"]}
    assert set(prompts) == PROMPTS
    assert [a["name"] for a in prompts["month_end_close"]["arguments"]] == ["month"]

    run = inspector(
        "--method", "prompts/get", "--prompt-name", "month_end_close", "--prompt-args", "month=2024-02", target=stdio
    )
    assert run.returncode == 0, run.describe()
    text = run.result["messages"][0]["content"]["text"]
    assert 'list_overdue_invoices(as_of="2024-02-29")' in text

    run = inspector(
        "--method", "prompts/get", "--prompt-name", "month_end_close", "--prompt-args", "month=2024-13", target=stdio
    )
    assert run.returncode not in (0, TOOL_ERROR_EXIT), run.describe()
    assert "month='2024-13'" in run.error["message"] and "YYYY-MM" in run.error["message"]


def test_stdio_read_only_mode_lists_no_write_tool(
    inspector: Any, server_bin: Path, expected_tools: dict[str, bool]
) -> None:
    target = [str(server_bin), "serve", "--demo", "--read-only", "--toolsets", EVERYDAY]
    run = inspector("--method", "tools/list", target=target)
    assert run.returncode == 0, run.describe()
    names = {t["name"] for t in run.result["tools"]}
    assert names == {name for name, read_only in expected_tools.items() if read_only}


# ------------------------------------------------------------------------------------------- HTTP


def _auth(server: HttpServer) -> list[str]:
    return ["--header", f"Authorization: Bearer {server.token}"]


def test_http_with_token(
    inspector: Any, http_server: HttpServer, demo_books: Sandbox, expected_tools: dict[str, bool]
) -> None:
    run = inspector(http_server.url, *_auth(http_server), "--method", "tools/list", "--strict")
    assert run.returncode == 0, run.describe()
    assert {t["name"] for t in run.result["tools"]} == set(expected_tools)

    for era in ("legacy", "modern"):
        run = inspector(
            http_server.url,
            *_auth(http_server),
            "--protocol-era",
            era,
            "--method",
            "tools/call",
            "--tool-name",
            "whoami",
        )
        assert run.returncode == 0, f"{era}: {run.describe()}"
        assert run.result["structuredContent"]["business"]["name"] == demo_books.business_name

    run = inspector(
        http_server.url,
        *_auth(http_server),
        "--method",
        "tools/call",
        "--tool-name",
        "find_client",
        "--tool-args-json",
        '{"query": "a", "limit": 0}',
    )
    assert run.returncode == TOOL_ERROR_EXIT, run.describe()

    run = inspector(
        http_server.url,
        *_auth(http_server),
        "--method",
        "prompts/get",
        "--prompt-name",
        "expense_review",
        "--prompt-args",
        "date_from=2024-01-01",
        "date_to=2024-03-31",
    )
    assert run.returncode == 0, run.describe()
    assert (
        'summarize_expenses(date_from="2024-01-01", date_to="2024-03-31"'
        in run.result["messages"][0]["content"]["text"]
    )


@pytest.mark.parametrize("header", [None, "Authorization: Bearer wrong-token", "Authorization: Basic abc"])
def test_http_without_the_token_gets_nothing(inspector: Any, http_server: HttpServer, header: str | None) -> None:
    args = ["--header", header] if header else []
    run = inspector(
        http_server.url, *args, "--stored-auth-only", "--connect-timeout", "10000", "--method", "tools/list", timeout=60
    )
    assert run.returncode != 0, run.describe()
    assert '"tools"' not in run.stdout
    # the bearer gate answered 401 and said how to authenticate; the Inspector reports auth_required
    assert run.error["code"] == "auth_required", run.describe()
    assert "FRESHBOOKS_MCP_HTTP_TOKEN" in run.error["message"]
    assert ("invalid_token" if header else "unauthorized") in run.error["message"]


def test_http_stateless(inspector: Any, server_bin: Path, tmp_path: Path) -> None:
    server = start_http_server(server_bin, tmp_path, "--stateless")
    try:
        run = inspector(
            server.url,
            *_auth(server),
            "--method",
            "tools/call",
            "--tool-name",
            "find_client",
            "--tool-args-json",
            '{"query": "acme"}',
        )
        assert run.returncode == 0, run.describe() + server.log.read_text()[-2000:]
        assert run.result["structuredContent"]["clients"]
    finally:
        stop(server.process)
