"""The catalogue: items (what is sold, unit cost, default taxes by name) and taxes; create and edit them."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from ..freshbooks import ITEMS, TAXES
from ..freshbooks.catalogue import (
    Catalogue,
    CatalogueError,
    Item,
    Tax,
    item_lookup,
    item_wire,
    load_catalogue,
    name_key,
    parse_item,
    parse_tax,
    tax_wire,
)
from ..freshbooks.writes import create_reconciled, exclusive, record_key, update_verified
from ._base import Money, Toolset, fb, respond, tool
from ._inputs import FREE_TEXT, ONE_LINE, PLAIN_AMOUNT, SingleLine
from .invoices import fmt

TOOLSET = Toolset(
    id="catalogue",
    description="The items sold (unit cost, default taxes) and the taxes, to build invoice and estimate lines.",
    default=False,
    instructions=(
        "list_items and list_taxes give the names, unit costs and tax percents to put on lines; a line may "
        "name an item instead. create_item, update_item and create_tax edit the catalogue."
    ),
    resources=(ITEMS, TAXES),
    scope_area="billable_items",
    write_lookup=item_lookup,
)

NOT_FOUND_ITEM = "No item with that item_id; find it with list_items."


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


def item_row(i: Item) -> ItemRow:
    return ItemRow(
        id=i.id,
        name=i.name,
        description=i.description,
        unit_cost=i.unit_cost,
        sku=i.sku,
        taxes=[tax_row(t) for t in i.taxes],
    )


def item_text(r: ItemRow) -> str:
    return f"[id {r.id}] {r.name} @ {fmt(r.unit_cost)}" + "".join(f", {t.name} {t.percent}%" for t in r.taxes)


def tax_text(r: TaxRow) -> str:
    return f"{r.name} {r.percent}%" + (" (compound)" if r.compound else "")


class ListItemsOut(BaseModel):
    items: list[ItemRow]
    total: int


class ListTaxesOut(BaseModel):
    taxes: list[TaxRow]


class ItemOut(BaseModel):
    item: ItemRow


class TaxOut(BaseModel):
    tax: TaxRow


@tool(toolset=TOOLSET, title="List items", read_only=True, idempotent=True)
async def list_items(
    ctx: Context[Any, Any],
    query: Annotated[
        str | None, Field(max_length=100, description="Name, description or SKU contains"), ONE_LINE
    ] = None,
) -> Annotated[CallToolResult, ListItemsOut]:
    """The items sold: name, unit cost, SKU and default taxes (name and percent, as lines carry them).
    Use them for create_invoice or create_estimate lines."""
    items = list((await load_catalogue(fb(ctx))).items)
    if query:
        needle = query.casefold()
        items = [i for i in items if any(needle in (v or "").casefold() for v in (i.name, i.description, i.sku))]
    rows = [item_row(i) for i in items]
    out = ListItemsOut(items=rows, total=len(rows))
    return respond(out, f"{len(rows)} item(s).\n" + "\n".join(item_text(r) for r in rows))


@tool(toolset=TOOLSET, title="List taxes", read_only=True, idempotent=True)
async def list_taxes(ctx: Context[Any, Any]) -> Annotated[CallToolResult, ListTaxesOut]:
    """The taxes set up in FreshBooks: name, percent and whether compound (charged on the first tax)."""
    rows = [tax_row(t) for t in (await load_catalogue(fb(ctx), items=False)).taxes.values()]
    out = ListTaxesOut(taxes=rows)
    return respond(out, f"{len(rows)} tax(es): " + "; ".join(map(tax_text, rows)) if rows else "No taxes are set up.")


# ---------------------------------------------------------------------- writes

ItemName = Annotated[str, Field(min_length=1, max_length=200, description="Name"), ONE_LINE]
UnitCost = Annotated[Decimal, Field(ge=0, le=Decimal("100000000"), decimal_places=2, description="Price"), PLAIN_AMOUNT]
Description = Annotated[str | None, Field(max_length=2000, description="Text"), FREE_TEXT]
TaxNames = Annotated[list[SingleLine] | None, Field(max_length=2, description="Tax names")]


def _taxes(cat: Catalogue, names: list[str]) -> tuple[Tax, ...]:
    try:
        return cat.taxes_by_name(names)
    except CatalogueError as exc:
        raise ToolError(f"{exc.message} Nothing was changed.") from None


def _refuse_duplicate(cat: Catalogue, name: str, item_id: int | None = None) -> None:
    """Lines name items, so a name must pick one item: a second item of the same name is refused."""
    same = [i for i in cat.items_named(name) if i.id != item_id]
    if same:
        raise ToolError(
            f"Nothing was changed: item {same[0].name!r} (id {same[0].id}) already has this name, and lines name "
            "items. Use that item (update_item changes it), or pick another name."
        )


@tool(toolset=TOOLSET, title="Create item", read_only=False, destructive=False, idempotent=False)
async def create_item(
    ctx: Context[Any, Any],
    name: ItemName,
    unit_cost: UnitCost,
    description: Description = None,
    taxes: TaxNames = None,
) -> Annotated[CallToolResult, ItemOut]:
    """Add a catalogue item (price, default taxes by name) for lines to name; its name must be unused."""
    client = fb(ctx)
    async with exclusive(client, name_key(ITEMS, name)) as held:
        cat = await load_catalogue(client)
        _refuse_duplicate(cat, name)
        fields = item_wire(name=name, description=description, unit_cost=unit_cost, taxes=_taxes(cat, taxes or []))
        raw = await create_reconciled(client, ITEMS, fields, outer=held)
    row = item_row(parse_item(raw, cat.taxes))
    return respond(ItemOut(item=row), f"Created item {item_text(row)}.")


@tool(
    toolset=TOOLSET, title="Update item", read_only=False, destructive=False, idempotent=True, not_found=NOT_FOUND_ITEM
)
async def update_item(
    ctx: Context[Any, Any],
    item_id: Annotated[int, Field(ge=1, description="Id")],
    name: Annotated[str | None, Field(min_length=1, max_length=200, description="Name"), ONE_LINE] = None,
    unit_cost: Annotated[
        Decimal | None, Field(ge=0, le=Decimal("100000000"), decimal_places=2, description="Price"), PLAIN_AMOUNT
    ] = None,
    description: Description = None,
    taxes: Annotated[list[SingleLine] | None, Field(max_length=2, description="[] clears")] = None,
) -> Annotated[CallToolResult, ItemOut]:
    """Edit a catalogue item's name (if unused), price, description or default tax names."""
    client = fb(ctx)
    keys = [record_key(ITEMS, item_id)] + ([name_key(ITEMS, name)] if name else [])
    async with exclusive(client, *keys):
        current = await client.get(ITEMS, item_id)
        cat = await load_catalogue(client, items=name is not None)
        if name is not None:
            _refuse_duplicate(cat, name, item_id)
        cost = current.get("unit_cost")
        code = str(cost["code"]) if isinstance(cost, dict) and cost.get("code") else None
        fields = item_wire(
            name=name,
            description=description,
            unit_cost=unit_cost,
            code=code,
            taxes=_taxes(cat, taxes) if taxes is not None else None,
        )
        if not fields:
            raise ToolError("Give at least one field to change; nothing was changed.")
        raw, _ = await update_verified(client, ITEMS, item_id, fields)
    row = item_row(parse_item(raw, cat.taxes))
    return respond(ItemOut(item=row), f"Updated item {item_text(row)}.")


@tool(toolset=TOOLSET, title="Create tax", read_only=False, destructive=False, idempotent=False)
async def create_tax(
    ctx: Context[Any, Any],
    name: Annotated[str, Field(min_length=1, max_length=40, description="Tax name, e.g. HST"), ONE_LINE],
    percent: Annotated[Decimal, Field(ge=0, le=100, decimal_places=3, description="Rate in percent"), PLAIN_AMOUNT],
    compound: Annotated[bool, Field(description="Charged on line + first tax")] = False,
) -> Annotated[CallToolResult, TaxOut]:
    """Add a tax (name, percent to 3 decimals, compound or not). Lines name taxes, so a name already in use
    is refused. Created once even if the reply is lost."""
    client = fb(ctx)
    async with exclusive(client, name_key(TAXES, name)) as held:
        same = (await load_catalogue(client, items=False)).tax_named(name)
        if same:
            t = same[0]
            raise ToolError(
                f"Not created: tax {t.name!r} (id {t.id}, {t.percent.normalize():f}%) already exists. Lines name "
                "taxes, so names must differ: use it, or pick another name."
            )
        raw = await create_reconciled(client, TAXES, tax_wire(name, percent, compound), outer=held)
    row = tax_row(parse_tax(raw))
    return respond(TaxOut(tax=row), f"Created tax {tax_text(row)} [id {row.id}].")


TOOLS = (list_items, list_taxes, create_item, update_item, create_tax)
