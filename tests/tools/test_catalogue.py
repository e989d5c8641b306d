"""Catalogue tools through a real MCP client against the sandbox's items and taxes (#15)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from mcp import Client

from conftest import call_ok
from mcp_server_freshbooks.config import Settings, load_settings
from mcp_server_freshbooks.sandbox import Sandbox
from mcp_server_freshbooks.server import build_server

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings() -> Settings:
    return load_settings(environ={"FRESHBOOKS_TOOLSETS": "catalogue"}, use_dotenv=False)


@pytest.fixture
async def mcp(sandbox: Sandbox, settings: Settings, mode: str) -> AsyncIterator[Client]:
    async with Client(build_server(settings, sandbox=sandbox), mode=mode) as client:
        yield client


@pytest.fixture(autouse=True)
def _no_ignored_search_keys(sandbox: Sandbox) -> Iterator[None]:
    yield
    assert not sandbox.ignored_search_keys, f"FreshBooks would ignore: {dict(sandbox.ignored_search_keys)}"


async def test_list_taxes_are_the_sandbox_taxes(mcp: Client, sandbox: Sandbox) -> None:
    out = await call_ok(mcp, "list_taxes")
    got = {(t["id"], t["name"], t["percent"], t["compound"]) for t in out["taxes"]}
    assert got == {(t["id"], t["name"], t["amount"], t["compound"]) for t in sandbox.db.taxes.values()}


async def test_items_show_their_tax_ids_as_names_and_percents(mcp: Client, sandbox: Sandbox) -> None:
    out = await call_ok(mcp, "list_items")
    live = {i["id"]: i for i in sandbox.db.items.values() if i["vis_state"] != 1}
    assert {r["id"] for r in out["items"]} == set(live) and out["total"] == len(live)
    taxed = 0
    for row in out["items"]:
        item = live[row["id"]]
        assert row["unit_cost"] == item["unit_cost"] and row["name"] == item["name"]
        want = [sandbox.db.taxes[t] for t in (item["tax1"], item["tax2"]) if t]
        assert [(t["name"], t["percent"]) for t in row["taxes"]] == [(t["name"], t["amount"]) for t in want]
        taxed += bool(want)
    assert taxed  # the seeded catalogue has taxed items: the resolution was exercised

    name = next(iter(live.values()))["name"]
    found = await call_ok(mcp, "list_items", {"query": name.upper()})
    assert name in {r["name"] for r in found["items"]}
    assert all(name.casefold() in (r["name"] + (r.get("description") or "") + (r.get("sku") or "")).casefold()
               for r in found["items"])  # fmt: skip
