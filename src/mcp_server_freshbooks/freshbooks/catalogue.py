"""The catalogue: items (things sold, with a unit cost) and taxes (name, percent, compound).

Items carry default taxes as tax ids (`tax1`/`tax2`, 0 = none) while document lines carry a tax's
name and percent (fact sheet "more" §5), so an item's taxes are resolved here against the taxes list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .lines import LineTax
from .types import Money, to_decimal, to_int

__all__ = ["Item", "Tax", "parse_item", "parse_tax"]


@dataclass(frozen=True)
class Tax:
    id: int
    name: str
    percent: Decimal
    compound: bool
    number: str | None

    def line_tax(self, second: bool = False) -> LineTax:
        """As a document line carries it (a compound tax only counts as compound in second place)."""
        return LineTax(name=self.name, percent=self.percent, compound=self.compound and second)


def parse_tax(raw: Mapping[str, Any]) -> Tax:
    number = raw.get("number")
    return Tax(
        id=to_int(raw.get("id") or raw.get("taxid")),
        name=str(raw.get("name") or ""),
        percent=to_decimal(raw.get("amount") or "0"),
        compound=bool(raw.get("compound")),
        number=str(number) if number not in (None, "") else None,
    )


@dataclass(frozen=True)
class Item:
    id: int
    name: str
    description: str | None
    unit_cost: Money
    sku: str | None
    inventory: Decimal | None
    taxes: tuple[Tax, ...]  # the item's default taxes, resolved from its tax ids
    unknown_tax_ids: tuple[int, ...]  # tax ids not in the taxes list (deleted taxes)
    vis_state: int


def parse_item(raw: Mapping[str, Any], taxes: Mapping[int, Tax]) -> Item:
    ids = [to_int(raw.get(k)) for k in ("tax1", "tax2")]
    unit = Money.parse(raw.get("unit_cost"), default_code="USD") or Money(amount=Decimal(0), code="USD")
    inventory = raw.get("inventory")
    text = raw.get("description")
    sku = raw.get("sku")
    return Item(
        id=to_int(raw.get("id") or raw.get("itemid")),
        name=str(raw.get("name") or ""),
        description=str(text) if text else None,
        unit_cost=unit,
        sku=str(sku) if sku else None,
        inventory=to_decimal(inventory) if inventory not in (None, "") else None,
        taxes=tuple(taxes[i] for i in ids if i and i in taxes),
        unknown_tax_ids=tuple(i for i in ids if i and i not in taxes),
        vis_state=to_int(raw.get("vis_state")),
    )
