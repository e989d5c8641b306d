"""Invoice and estimate lines that name a catalogue item (#15), through a real MCP client against the
sandbox: the item fills name, unit cost, description and default taxes (tax ids resolved to name,
percent and compound flag), anything on the line wins, and the totals equal the sandbox's to the cent."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import pytest
from mcp import Client

from conftest import call_error, call_ok
from mcp_server_freshbooks.config import Settings, load_settings
from mcp_server_freshbooks.freshbooks.lines import LineInput, LineTax, document_totals
from mcp_server_freshbooks.sandbox import Sandbox
from mcp_server_freshbooks.server import build_server

pytestmark = pytest.mark.anyio

D = Decimal
LINE_KEYS = ("name", "description", "qty", "unit_cost", "taxName1", "taxAmount1", "taxName2", "taxAmount2")


@pytest.fixture
def settings() -> Settings:
    toolsets = "clients,invoices,estimates,corrections,catalogue"
    return load_settings(environ={"FRESHBOOKS_TOOLSETS": toolsets}, use_dotenv=False)


@pytest.fixture
async def mcp(sandbox: Sandbox, settings: Settings, mode: str) -> AsyncIterator[Client]:
    async with Client(build_server(settings, sandbox=sandbox), mode=mode) as client:
        yield client


@pytest.fixture(autouse=True)
def _no_ignored_search_keys(sandbox: Sandbox) -> Iterator[None]:
    yield
    assert not sandbox.ignored_search_keys, f"FreshBooks would ignore: {dict(sandbox.ignored_search_keys)}"


def client_in(sb: Sandbox, code: str) -> int:
    return int(next(c["id"] for c in sb.db.clients.values() if c["vis_state"] == 0 and c["currency_code"] == code))


async def design_hour(mcp: Client) -> dict[str, Any]:
    """An item with two default taxes, the second compound: GST 5% then QST 9.975% on top."""
    await call_ok(mcp, "create_tax", {"name": "QST", "percent": "9.975", "compound": True})
    args = {"name": "Design hour", "unit_cost": "97.15", "description": "Senior designer", "taxes": ["GST", "QST"]}
    return (await call_ok(mcp, "create_item", args))["item"]


def wire(line: dict[str, Any]) -> dict[str, Any]:
    return {k: line.get(k) for k in LINE_KEYS} | {"compound": line.get("compounded_tax")}


async def test_item_lines_take_the_item_and_give_way_to_the_line(mcp: Client, sandbox: Sandbox) -> None:
    item = await design_hour(mcp)
    lines = [
        {"item": "design HOUR", "qty": "2.3333"},  # name, case and spacing aside
        {"item": str(item["id"]), "qty": "1", "unit_cost": "80.00", "description": "Discounted"},  # by id
        {"item": item["id"], "qty": "3", "name": "Rush hour", "taxes": [{"name": "HST", "percent": "13"}]},
        {"item": "Design hour", "qty": "0.5", "taxes": []},  # no tax, on purpose
        {"name": "Parking", "qty": "1", "unit_cost": "12.00"},  # an ordinary line beside them
    ]
    out = await call_ok(mcp, "create_invoice", {"client_id": client_in(sandbox, "USD"), "lines": lines})
    stored = sandbox.db.invoices[out["invoice"]["id"]]
    got = [wire(x) for x in stored["lines"]]
    usd = lambda a: {"amount": a, "code": "USD"}  # noqa: E731
    gst_qst = {"taxName1": "GST", "taxAmount1": "5", "taxName2": "QST", "taxAmount2": "9.975", "compound": True}
    assert (
        got[0]
        == {"name": "Design hour", "description": "Senior designer", "qty": "2.3333", "unit_cost": usd("97.15")}
        | gst_qst
    )
    assert (
        got[1] == {"name": "Design hour", "description": "Discounted", "qty": "1", "unit_cost": usd("80.00")} | gst_qst
    )
    assert got[2]["name"] == "Rush hour" and got[2]["unit_cost"] == usd("97.15")
    assert (got[2]["taxName1"], got[2]["taxAmount1"], got[2]["taxName2"], got[2]["compound"]) == (
        "HST",
        "13",
        "",
        False,
    )
    assert not got[3]["taxName1"] and not got[3]["taxName2"] and got[3]["unit_cost"] == usd("97.15")
    assert got[4]["name"] == "Parking" and not got[4]["taxName1"]

    # our arithmetic on the resolved lines, by hand: equal to the sandbox's own total to the cent
    gst, qst = LineTax("GST", D(5)), LineTax("QST", D("9.975"), compound=True)
    mine = document_totals([
        LineInput("Design hour", D("2.3333"), D("97.15"), taxes=(gst, qst)),
        LineInput("Design hour", D(1), D("80.00"), taxes=(gst, qst)),
        LineInput("Rush hour", D(3), D("97.15"), taxes=(LineTax("HST", D(13)),)),
        LineInput("Design hour", D("0.5"), D("97.15")),
        LineInput("Parking", D(1), D("12.00")),
    ]).total  # fmt: skip
    assert D(stored["amount"]["amount"]) == mine == D(out["expected_total"]["amount"])
    assert out["total_matches"] is True


async def test_an_unknown_item_names_the_line_and_near_items(mcp: Client, sandbox: Sandbox) -> None:
    await design_hour(mcp)
    before = set(sandbox.db.invoices), set(sandbox.db.estimates)
    c = client_in(sandbox, "USD")
    lines = [{"item": "Design hour", "qty": "1"}, {"item": "Desing hour", "qty": "1"}]
    text = await call_error(mcp, "create_invoice", {"client_id": c, "lines": lines})
    assert "lines[1].item" in text and "'Desing hour'" in text and "Design hour" in text and "list_items" in text
    text = await call_error(mcp, "create_estimate", {"client_id": c, "lines": [{"item": "99999999", "qty": "1"}]})
    assert "lines[0].item" in text
    text = await call_error(mcp, "create_invoice", {"client_id": c, "lines": [{"qty": "1", "unit_cost": "5"}]})
    assert "name" in text and "item" in text
    text = await call_error(mcp, "create_invoice", {"client_id": c, "lines": [{"name": "x", "qty": "1"}]})
    assert "unit_cost" in text
    assert (set(sandbox.db.invoices), set(sandbox.db.estimates)) == before


async def test_an_item_in_another_currency_needs_the_lines_unit_cost(mcp: Client, sandbox: Sandbox) -> None:
    await design_hour(mcp)
    eur = client_in(sandbox, "EUR")
    before = set(sandbox.db.invoices)
    text = await call_error(mcp, "create_invoice", {"client_id": eur, "lines": [{"item": "Design hour", "qty": "1"}]})
    assert "USD" in text and "EUR" in text and "unit_cost" in text and set(sandbox.db.invoices) == before
    out = await call_ok(
        mcp, "create_invoice", {"client_id": eur, "lines": [{"item": "Design hour", "qty": "1", "unit_cost": "90"}]}
    )
    (line,) = sandbox.db.invoices[out["invoice"]["id"]]["lines"]
    assert line["unit_cost"] == {"amount": "90.00", "code": "EUR"} and line["taxName2"] == "QST"
    assert out["total_matches"] is True


async def test_estimates_and_invoice_edits_take_item_lines(mcp: Client, sandbox: Sandbox) -> None:
    await design_hour(mcp)
    c = client_in(sandbox, "USD")
    est = await call_ok(
        mcp,
        "create_estimate",
        {"client_id": c, "lines": [{"item": "Design hour", "qty": "4"}], "discount_percent": "12.5"},
    )
    stored = sandbox.db.estimates[est["estimate"]["id"]]
    assert wire(stored["lines"][0])["taxName2"] == "QST" and stored["lines"][0]["compounded_tax"] is True
    assert est["totals"]["total_matches"] is True and est["totals"]["total"] == stored["amount"]

    upd = await call_ok(
        mcp, "update_estimate", {"estimate_id": stored["id"], "lines": [{"item": "Design hour", "qty": "1.25"}]}
    )
    assert [ln["qty"] for ln in stored["lines"]] == ["1.25"] and upd["totals"]["total_matches"] is True

    draft = await call_ok(
        mcp, "create_invoice", {"client_id": c, "lines": [{"name": "x", "qty": "1", "unit_cost": "1"}]}
    )
    iid = draft["invoice"]["id"]
    out = await call_ok(mcp, "update_invoice", {"invoice_id": iid, "lines": [{"item": "Design hour", "qty": "2"}]})
    inv = sandbox.db.invoices[iid]
    assert [ln["name"] for ln in inv["lines"]] == ["Design hour"] and inv["lines"][0]["taxName1"] == "GST"
    assert out["total_matches"] is True and D(out["expected_total"]["amount"]) == D(inv["amount"]["amount"])


async def test_quote_to_invoice_prompt_uses_items_when_the_catalogue_is_on(mcp: Client, sandbox: Sandbox) -> None:
    from test_prompts import check_text

    tools = {t.name: t.input_schema for t in (await mcp.list_tools()).tools}
    text = (await mcp.get_prompt("quote_to_invoice", {})).messages[0].content.text  # type: ignore[union-attr]
    problems, called = check_text(text, tools)
    assert not problems and "list_items" in called and '"item"' in text
    async with Client(
        build_server(
            load_settings(environ={"FRESHBOOKS_TOOLSETS": "clients,estimates"}, use_dotenv=False), sandbox=sandbox
        )
    ) as bare:
        plain = (await bare.get_prompt("quote_to_invoice", {})).messages[0].content.text  # type: ignore[union-attr]
    assert "list_items" not in plain
