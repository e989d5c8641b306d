"""Property (#15): for generated invoices and estimates, the total the tools compute (freshbooks/lines.py)
equals, to the cent, the total the sandbox computes with its own code.

1-20 lines, quantities to 4 decimals, unit costs to the cent, up to two taxes per line with 3-decimal
percents (the second compound or not), a document discount to 3 decimals. Each example goes through
the real protocol: create_estimate, convert_estimate_to_invoice (which carries the discount onto an
invoice) and create_invoice (no discount parameter), each compared with the sandbox's stored amount.
Some lines name a catalogue item instead (its price and default taxes, one of them compound, filled in
by the tools; the line's own unit cost or taxes, when drawn, win).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import anyio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client

from mcp_server_freshbooks.config import load_settings
from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions
from mcp_server_freshbooks.server import build_server

D = Decimal


def decimals(places: int, low: str, high: str) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=D(low), max_value=D(high), places=places, allow_nan=False, allow_infinity=False)


# Round numbers make exact half cents (1.00 x 0.5% = 0.005), where half-up and half-even part ways.
NICE_PERCENTS = [D("0.5"), D("2.5"), D("5"), D("7.5"), D("8.875"), D("9.975"), D("13"), D("12.5")]


@st.composite
def taxes(draw: st.DrawFn) -> list[dict[str, Any]]:
    n = draw(st.integers(0, 2))
    out: list[dict[str, Any]] = []
    for i in range(n):
        percent = draw(st.one_of(st.sampled_from(NICE_PERCENTS), decimals(3, "0", "30")))
        tax: dict[str, Any] = {"name": f"T{i + 1}", "percent": str(percent)}
        if i == 1:
            tax["compound"] = draw(st.booleans())
        out.append(tax)
    return out


QTY = st.one_of(st.sampled_from(["1", "2", "3", "0.5", "1.5"]), decimals(4, "0.0001", "5000").map(str))
COST = st.one_of(st.sampled_from(["1.00", "0.10", "0.30", "2.50", "10.00"]), decimals(2, "0", "9999.99").map(str))
# The catalogue the item lines name (created once through create_tax / create_item): price, default taxes.
CATALOGUE_TAXES = {"P7.5": ("7.5", False), "C9.975": ("9.975", True), "S8.875": ("8.875", False)}
CATALOGUE_ITEMS = {
    "Item A": ("12.34", ["P7.5", "C9.975"]),
    "Item B": ("0.30", ["S8.875"]),
    "Item C": ("1000.00", []),
    "Item D": ("2.50", ["S8.875", "C9.975"]),
}


@st.composite
def item_line(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {"item": draw(st.sampled_from(sorted(CATALOGUE_ITEMS))), "qty": draw(QTY)}
    if draw(st.integers(0, 3)) == 0:
        out["unit_cost"] = draw(COST)
    if draw(st.integers(0, 3)) == 0:
        out["taxes"] = draw(taxes())
    return out


plain_line = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["Design", "Hosting", "Travel", "Parts"]),
        "qty": QTY,
        "unit_cost": COST,
        "taxes": taxes(),
    }
)
line = st.one_of(plain_line, item_line())
documents = st.tuples(
    st.lists(line, min_size=1, max_size=20),
    st.one_of(st.sampled_from([D(0), D(10), D("12.5"), D("33.333")]), decimals(3, "0", "60")),
)

BOOKS = Sandbox(SandboxOptions(seed=11))
SETTINGS = load_settings(environ={"FRESHBOOKS_TOOLSETS": "clients,invoices,estimates,catalogue"}, use_dotenv=False)
CLIENTS = [c["id"] for c in BOOKS.db.clients.values() if c["vis_state"] == 0][:5]
# Items are priced in the business's currency: documents with item lines go to those clients.
HOME_CLIENTS = [
    c["id"]
    for c in BOOKS.db.clients.values()
    if c["vis_state"] == 0 and c["currency_code"] == BOOKS.books.base_currency
][:3]


async def _call(client: Client, name: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(name, args)
    assert not result.is_error, " ".join(getattr(c, "text", "") for c in result.content)
    assert result.structured_content is not None
    return dict(result.structured_content)


def _stored(table: dict[int, Any], rid: int) -> Decimal:
    return D(table[rid]["amount"]["amount"])


async def _catalogue(mcp: Client) -> None:
    have = {i["name"] for i in BOOKS.db.items.values()}
    if set(CATALOGUE_ITEMS) <= have:
        return
    for name, (percent, compound) in CATALOGUE_TAXES.items():
        await _call(mcp, "create_tax", {"name": name, "percent": percent, "compound": compound})
    for name, (cost, tax_names) in CATALOGUE_ITEMS.items():
        await _call(mcp, "create_item", {"name": name, "unit_cost": cost, "taxes": tax_names})


async def _check(lines: list[dict[str, Any]], discount: Decimal, client_id: int) -> None:
    async with Client(build_server(SETTINGS, sandbox=BOOKS)) as mcp:
        await _catalogue(mcp)
        if any("item" in line for line in lines):
            client_id = HOME_CLIENTS[client_id % len(HOME_CLIENTS)]
        est = await _call(
            mcp, "create_estimate", {"client_id": client_id, "lines": lines, "discount_percent": str(discount)}
        )
        eid = est["estimate"]["id"]
        ours = D(est["totals"]["expected_total"]["amount"])
        assert ours == _stored(BOOKS.db.estimates, eid), (ours, BOOKS.db.estimates[eid]["amount"])
        assert est["totals"]["total_matches"] is True

        conv = await _call(mcp, "convert_estimate_to_invoice", {"estimate_id": eid, "confirm": True})
        assert _stored(BOOKS.db.invoices, conv["invoice"]["id"]) == ours and conv["totals_equal"] is True

        inv = await _call(mcp, "create_invoice", {"client_id": client_id, "lines": lines})
        stored = _stored(BOOKS.db.invoices, inv["invoice"]["id"])
        assert D(inv["expected_total"]["amount"]) == stored and inv["total_matches"] is True


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=documents, which=st.integers(0, len(CLIENTS) - 1))
def test_tools_totals_equal_the_sandbox_totals_to_the_cent(
    doc: tuple[list[dict[str, Any]], Decimal], which: int
) -> None:
    lines, discount = doc
    anyio.run(_check, lines, discount, CLIENTS[which])
    assert not BOOKS.ignored_search_keys
