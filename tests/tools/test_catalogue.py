"""Catalogue tools through a real MCP client against the sandbox's items and taxes (#15)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from mcp import Client

from conftest import call_error, call_ok
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


# ---------------------------------------------------------------------- create_tax / create_item / update_item


def _tax(sb: Sandbox, name: str) -> list[dict[str, Any]]:
    return [t for t in sb.db.taxes.values() if t["name"].casefold() == name.casefold()]


def _items(sb: Sandbox, name: str) -> list[dict[str, Any]]:
    return [i for i in sb.db.items.values() if i["name"].casefold() == name.casefold() and i["vis_state"] == 0]


async def test_create_tax_stores_name_percent_and_compound(mcp: Client, sandbox: Sandbox) -> None:
    out = await call_ok(mcp, "create_tax", {"name": "QST", "percent": "9.975", "compound": True})
    (stored,) = _tax(sandbox, "QST")
    assert (stored["amount"], stored["compound"]) == ("9.975", True)
    assert out["tax"] == {"id": stored["id"], "name": "QST", "percent": "9.975", "compound": True}
    plain = await call_ok(mcp, "create_tax", {"name": "Eco fee", "percent": "2"})
    assert plain["tax"]["compound"] is False and _tax(sandbox, "Eco fee")[0]["compound"] is False


async def test_create_tax_refuses_a_name_in_use_and_a_fourth_decimal(mcp: Client, sandbox: Sandbox) -> None:
    before = dict(sandbox.db.taxes)
    hst = _tax(sandbox, "HST")[0]
    text = await call_error(mcp, "create_tax", {"name": " hst ", "percent": "15"})
    assert f"id {hst['id']}" in text and "already exists" in text
    text = await call_error(mcp, "create_tax", {"name": "New", "percent": "1.2345"})
    assert "percent" in text
    assert sandbox.db.taxes == before


async def test_create_item_stores_default_taxes_as_tax_ids(mcp: Client, sandbox: Sandbox) -> None:
    gst, vat = _tax(sandbox, "GST")[0], _tax(sandbox, "VAT")[0]
    args = {"name": "Design hour", "unit_cost": "97.15", "description": "Senior designer", "taxes": ["gst", "VAT"]}
    out = await call_ok(mcp, "create_item", args)
    (stored,) = _items(sandbox, "Design hour")
    assert (stored["tax1"], stored["tax2"]) == (gst["id"], vat["id"])
    assert stored["unit_cost"] == {"amount": "97.15", "code": sandbox.books.base_currency}
    assert stored["description"] == "Senior designer"
    row = out["item"]
    assert row["id"] == stored["id"] and row["unit_cost"] == stored["unit_cost"]
    assert [(t["name"], t["percent"]) for t in row["taxes"]] == [("GST", "5"), ("VAT", "21")]

    untaxed = await call_ok(mcp, "create_item", {"name": "Parts", "unit_cost": "3"})
    assert untaxed["item"]["taxes"] == [] and (
        _items(sandbox, "Parts")[0]["tax1"],
        _items(sandbox, "Parts")[0]["tax2"],
    ) == (0, 0)


async def test_create_item_refusals_change_nothing(mcp: Client, sandbox: Sandbox) -> None:
    existing = next(i for i in sandbox.db.items.values() if i["vis_state"] == 0)
    before = {k: dict(v) for k, v in sandbox.db.items.items()}
    text = await call_error(mcp, "create_item", {"name": existing["name"].upper(), "unit_cost": "1"})
    assert f"id {existing['id']}" in text and "already has this name" in text
    text = await call_error(mcp, "create_item", {"name": "Fresh", "unit_cost": "1", "taxes": ["HTS"]})
    assert "no tax is named 'HTS'" in text and "HST" in text  # the near name is offered
    text = await call_error(mcp, "create_item", {"name": "Fresh", "unit_cost": "1", "taxes": ["GST", "GST"]})
    assert "same tax twice" in text
    text = await call_error(mcp, "create_item", {"name": "Fresh", "unit_cost": "1.005"})
    assert "unit_cost" in text
    assert sandbox.db.items == before


async def test_a_compound_default_tax_must_come_second(mcp: Client, sandbox: Sandbox) -> None:
    await call_ok(mcp, "create_tax", {"name": "QST", "percent": "9.975", "compound": True})
    text = await call_error(mcp, "create_item", {"name": "X", "unit_cost": "1", "taxes": ["QST", "GST"]})
    assert "must come second" in text and not _items(sandbox, "X")
    out = await call_ok(mcp, "create_item", {"name": "X", "unit_cost": "1", "taxes": ["GST", "QST"]})
    assert [t["compound"] for t in out["item"]["taxes"]] == [False, True]


async def test_update_item_changes_only_what_is_given(mcp: Client, sandbox: Sandbox) -> None:
    made = await call_ok(mcp, "create_item", {"name": "Hosting", "unit_cost": "20", "taxes": ["HST"]})
    iid = made["item"]["id"]
    stored = sandbox.db.items[iid]
    out = await call_ok(mcp, "update_item", {"item_id": iid, "unit_cost": "25.50", "taxes": ["GST", "Sales Tax"]})
    gst, sales = _tax(sandbox, "GST")[0], _tax(sandbox, "Sales Tax")[0]
    assert stored["unit_cost"]["amount"] == "25.50" and (stored["tax1"], stored["tax2"]) == (gst["id"], sales["id"])
    assert stored["name"] == "Hosting" and out["item"]["unit_cost"]["amount"] == "25.50"
    assert [t["name"] for t in out["item"]["taxes"]] == ["GST", "Sales Tax"]

    out = await call_ok(
        mcp, "update_item", {"item_id": iid, "taxes": [], "name": "Web hosting", "description": "Monthly"}
    )
    assert (stored["tax1"], stored["tax2"], stored["name"], stored["description"]) == (0, 0, "Web hosting", "Monthly")
    assert out["item"]["taxes"] == [] and stored["unit_cost"]["amount"] == "25.50"

    other = next(i for i in sandbox.db.items.values() if i["vis_state"] == 0 and i["id"] != iid)
    text = await call_error(mcp, "update_item", {"item_id": iid, "name": other["name"]})
    assert f"id {other['id']}" in text and stored["name"] == "Web hosting"
    assert "Give at least one field" in await call_error(mcp, "update_item", {"item_id": iid})
    assert "list_items" in await call_error(mcp, "update_item", {"item_id": 999999, "unit_cost": "1"})
