"""response_format asks FreshBooks for exactly the includes its view shows (#17), observed at the sandbox.

The sandbox's ASGI app is wrapped to record each request's include[] values: the stand-in for
FreshBooks is observed, none of our code is replaced.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
from mcp import Client
from tests.conftest import call_ok

from mcp_server_freshbooks.config import DEFAULT_TOOLSETS, Settings, load_settings
from mcp_server_freshbooks.sandbox import Sandbox
from mcp_server_freshbooks.server import build_server

pytestmark = pytest.mark.anyio

BALANCES = {"outstanding_balance", "overdue_balance", "credit_balance", "draft_balance"}


@pytest.fixture
def settings() -> Settings:
    toolsets = ",".join((*DEFAULT_TOOLSETS, "client_directory"))
    return load_settings(environ={"FRESHBOOKS_TOOLSETS": toolsets}, use_dotenv=False)


@pytest.fixture
async def watched(sandbox: Sandbox, settings: Settings) -> AsyncIterator[tuple[Client, list[tuple[str, set[str]]]]]:
    seen: list[tuple[str, set[str]]] = []
    inner = sandbox.app

    async def spy(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            query = parse_qsl(scope["query_string"].decode())
            seen.append((scope["path"], {v for k, v in query if k == "include[]"}))
        await inner(scope, receive, send)

    sandbox.app = spy  # type: ignore[assignment]
    async with Client(build_server(settings, sandbox=sandbox)) as client:
        yield client, seen


def includes_of(seen: list[tuple[str, set[str]]], fragment: str) -> list[set[str]]:
    return [inc for path, inc in seen if fragment in path]


async def test_get_client_includes_follow_the_view(watched: tuple[Client, list[Any]], sandbox: Sandbox) -> None:
    mcp, seen = watched
    cid = next(c["id"] for c in sandbox.db.clients.values() if c["vis_state"] == 0)
    concise = await call_ok(mcp, "get_client", {"client_id": cid})
    assert includes_of(seen, f"/users/clients/{cid}") == [{"outstanding_balance", "overdue_balance"}]
    assert "credit" not in concise["client"] and "contacts" not in concise["client"]
    seen.clear()
    await call_ok(mcp, "get_client", {"client_id": cid, "response_format": "detailed"})
    assert includes_of(seen, f"/users/clients/{cid}") == [BALANCES | {"contacts"}]


@pytest.mark.parametrize(("tool", "args"), [("find_client", {"query": "a"}), ("list_clients", {})])
async def test_client_lists_include_only_what_rows_show(
    watched: tuple[Client, list[Any]], tool: str, args: dict[str, Any]
) -> None:
    mcp, seen = watched
    await call_ok(mcp, tool, args)
    assert set(map(frozenset, includes_of(seen, "/users/clients"))) == {frozenset({"outstanding_balance"})}
    seen.clear()
    rows = (await call_ok(mcp, tool, {**args, "response_format": "detailed"}))["clients"]
    assert set(map(frozenset, includes_of(seen, "/users/clients"))) == {
        frozenset({"outstanding_balance", "overdue_balance", "credit_balance"})
    }
    assert rows


async def test_get_invoice_asks_for_what_each_view_shows(watched: tuple[Client, list[Any]], sandbox: Sandbox) -> None:
    # concise: the lines; detailed: the lines and the presentation (its logo). Payments come from the
    # payments list, not an include; no other include (histories, contacts, gateways) is asked for.
    mcp, seen = watched
    iid = next(i["id"] for i in sandbox.db.invoices.values() if i["vis_state"] == 0)
    for fmt, wanted in (("concise", {"lines"}), ("detailed", {"lines", "presentation"})):
        seen.clear()
        out = await call_ok(mcp, "get_invoice", {"invoice_id": iid, "response_format": fmt})
        assert includes_of(seen, f"/invoices/invoices/{iid}") == [wanted]
        assert out["lines"]
        assert ("logo" in out) is False  # no logo set on a seeded invoice: left out, not null
