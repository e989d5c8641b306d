"""Document lines on the tools side: the input a create tool takes and the row a read tool returns.

Shared by every domain with `lines[]` (invoices now; estimates, credit notes, bills and recurring
profiles later), beside freshbooks/lines.py, which parses and writes them on the wire.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field, model_validator

from ..freshbooks import FreshBooksClient
from ..freshbooks.catalogue import CatalogueError, LineDraft
from ..freshbooks.catalogue import bill_lines as resolve_bill_lines
from ..freshbooks.lines import InvoiceLine, LineInput, LineTax
from ._base import Money, one_line
from ._inputs import FREE_TEXT, ONE_LINE, PLAIN_AMOUNT, InputModel


class TaxIn(InputModel):
    # Nested fields named for what they hold carry no description: the schema is repeated in every
    # tool that takes lines, and the parameter's own description says what the list is.
    name: Annotated[str, Field(min_length=1, max_length=40), ONE_LINE]
    percent: Annotated[Decimal, Field(ge=0, le=100, decimal_places=3), PLAIN_AMOUNT]
    compound: bool = Field(default=False, description="2nd tax, on line + 1st tax")


class LineIn(InputModel):
    item: Annotated[str | None, Field(min_length=1, max_length=200, description="Item name or id"), ONE_LINE] = None
    name: Annotated[str | None, Field(min_length=1, max_length=200), ONE_LINE] = None
    description: Annotated[str | None, Field(max_length=2000), FREE_TEXT] = None
    qty: Annotated[
        Decimal,
        Field(gt=0, decimal_places=4, le=Decimal("1000000")),
        PLAIN_AMOUNT,
    ]
    unit_cost: Annotated[
        Decimal | None,
        Field(ge=0, decimal_places=2, le=Decimal("100000000")),
        PLAIN_AMOUNT,
    ] = None
    taxes: list[TaxIn] = Field(default_factory=list, max_length=2, description="Up to 2")

    @model_validator(mode="before")
    @classmethod
    def _item_id_as_text(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("item"), int) and not isinstance(data["item"], bool):
            return {**data, "item": str(data["item"])}  # an item id given as a number
        return data

    @model_validator(mode="after")
    def _compound_is_second(self) -> LineIn:
        if self.taxes and self.taxes[0].compound:
            raise ValueError("taxes: only the second tax of a line can be compound (charged on the first)")
        if self.item is None and (self.name is None or self.unit_cost is None):
            missing = "name" if self.name is None else "unit_cost"
            raise ValueError(f"{missing}: required unless the line names an item (list_items)")
        return self


class LineTaxOut(BaseModel):
    name: str
    percent: str = Field(description="Tax rate in percent, e.g. '13'")
    compound: bool | None = None


class LineOut(BaseModel):
    line_id: int
    name: str
    description: str | None = None
    qty: str = Field(description="Quantity as a decimal string")
    unit_cost: Money
    amount: Money = Field(description="qty x unit cost, before tax")
    taxes: list[LineTaxOut] = Field(default_factory=list)


def line_drafts(lines: list[LineIn]) -> tuple[LineDraft, ...]:
    """The validated input lines as the FreshBooks layer takes them (items still named, not resolved)."""
    return tuple(
        LineDraft(
            qty=line.qty,
            item=line.item,
            name=line.name,
            unit_cost=line.unit_cost,
            description=line.description,
            # taxes given (even none) win over the item's; left out, the item's apply
            taxes=tuple(LineTax(name=t.name, percent=t.percent, compound=t.compound) for t in line.taxes)
            if "taxes" in line.model_fields_set or line.item is None
            else None,
        )
        for line in lines
    )


async def bill_lines(client: FreshBooksClient, lines: list[LineIn], code: str) -> tuple[LineInput, ...]:
    """The lines to write: items named on a line are resolved (catalogue.resolve_lines); an unknown item
    is a ToolError naming the line and the nearest names."""
    try:
        return await resolve_bill_lines(client, line_drafts(lines), code)
    except CatalogueError as exc:
        raise ToolError(f"{exc.message} Nothing was changed.") from None


def line_out(line: InvoiceLine, detailed: bool) -> LineOut:
    """One stored line for a result (a concise result cuts long descriptions to one line)."""
    return LineOut(
        line_id=line.line_id,
        name=line.name,
        description=line.description if detailed else one_line(line.description),
        qty=f"{line.qty.normalize():f}",
        unit_cost=line.unit_cost,
        amount=line.amount,
        taxes=[
            LineTaxOut(name=t.name, percent=f"{t.percent.normalize():f}", compound=t.compound or None)
            for t in line.taxes
        ],
    )
