"""The catalogue, read-only: items (what is sold, unit cost, default taxes by name) and taxes."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from ..freshbooks import ITEMS, TAXES
from ..freshbooks.catalogue import Item, Tax, parse_item, parse_tax
from ._base import Money, Toolset, fb, respond, tool
from ._inputs import ONE_LINE
from .invoices import fmt

TOOLSET = Toolset(
    id="catalogue",
    description="The items sold (unit cost, default taxes) and the taxes, to build invoice and estimate lines.",
    default=False,
    instructions="list_items and list_taxes give the names, unit costs and tax percents to put on lines.",
    resources=(ITEMS, TAXES),
    scope_area="billable_items",
)

MAX_ROWS = 1000  # a catalogue, not a ledger: read whole


class TaxRow(BaseModel):
    id: int
    name: str
    percent: str = Field(description="Rate in percent")
    compound: bool = Field(description="Charged on top of the first tax when second on a line")


def tax_row(t: Tax) -> TaxRow:
    return TaxRow(id=t.id, name=t.name, percent=f"{t.percent.normalize():f}", compound=t.compound)


class ItemRow(BaseModel):
    id: int
    name: str
    description: str | None = None
    unit_cost: Money
    sku: str | None = None
    taxes: list[TaxRow] = Field(default_factory=list, description="Default taxes, by name and percent")


class ListItemsOut(BaseModel):
    items: list[ItemRow]
    total: int


class ListTaxesOut(BaseModel):
    taxes: list[TaxRow]


async def _taxes(ctx: Context[Any, Any]) -> dict[int, Tax]:
    return {t.id: t for t in (parse_tax(r) for r in await fb(ctx).list_all(TAXES, max_rows=MAX_ROWS))}


@tool(toolset=TOOLSET, title="List items", read_only=True, idempotent=True)
async def list_items(
    ctx: Context[Any, Any],
    query: Annotated[
        str | None, Field(max_length=100, description="Name, description or SKU contains"), ONE_LINE
    ] = None,
) -> Annotated[CallToolResult, ListItemsOut]:
    """The items sold: name, unit cost, SKU and default taxes (name and percent, as lines carry them).
    Use them for create_invoice or create_estimate lines."""
    raw_items, taxes = await asyncio.gather(fb(ctx).list_all(ITEMS, max_rows=MAX_ROWS), _taxes(ctx))
    items: list[Item] = [parse_item(r, taxes) for r in raw_items]
    if query:
        needle = query.casefold()
        items = [i for i in items if any(needle in (v or "").casefold() for v in (i.name, i.description, i.sku))]
    rows = [
        ItemRow(
            id=i.id,
            name=i.name,
            description=i.description,
            unit_cost=i.unit_cost,
            sku=i.sku,
            taxes=[tax_row(t) for t in i.taxes],
        )
        for i in items
    ]
    out = ListItemsOut(items=rows, total=len(rows))
    text = "\n".join(
        f"[id {r.id}] {r.name} @ {fmt(r.unit_cost)}" + "".join(f", {t.name} {t.percent}%" for t in r.taxes)
        for r in rows
    )
    return respond(out, f"{len(rows)} item(s).\n{text}".rstrip())


@tool(toolset=TOOLSET, title="List taxes", read_only=True, idempotent=True)
async def list_taxes(ctx: Context[Any, Any]) -> Annotated[CallToolResult, ListTaxesOut]:
    """The taxes set up in FreshBooks: name, percent and whether compound (charged on the first tax)."""
    rows = [tax_row(t) for t in (await _taxes(ctx)).values()]
    out = ListTaxesOut(taxes=rows)
    text = "; ".join(f"{r.name} {r.percent}%" + (" (compound)" if r.compound else "") for r in rows)
    return respond(out, f"{len(rows)} tax(es): {text}" if rows else "No taxes are set up.")


TOOLS = (list_items, list_taxes)
