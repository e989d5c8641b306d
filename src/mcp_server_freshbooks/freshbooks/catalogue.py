"""The catalogue: items (things sold, with a unit cost) and taxes (name, percent, compound).

Items carry default taxes as tax ids (`tax1`/`tax2`, 0 = none) while document lines carry a tax's
name and percent (fact sheet "more" §5), so an item's taxes are resolved here against the taxes list.
"""

from __future__ import annotations

import asyncio
import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .api import FreshBooksClient
from .lines import LineInput, LineTax
from .query import ITEMS, TAXES, Query, Resource
from .types import Money, to_decimal, to_int

if TYPE_CHECKING:
    from .writes import Lookup

__all__ = [
    "CATALOGUE_MAX_ROWS",
    "Catalogue",
    "CatalogueError",
    "Item",
    "LineDraft",
    "Tax",
    "bill_lines",
    "item_lookup",
    "item_wire",
    "load_catalogue",
    "name_key",
    "parse_item",
    "parse_tax",
    "resolve_lines",
    "tax_lookup",
    "tax_wire",
]


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


# ---------------------------------------------------------------------- the whole catalogue

CATALOGUE_MAX_ROWS = 1000  # a catalogue, not a ledger: read whole


def _key(name: str) -> str:
    """How two names are compared: case, and spaces around and between words, do not count."""
    return " ".join(name.split()).casefold()


class CatalogueError(ValueError):
    """A name or id that matched no (or several) items or taxes; the message says what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _near(wanted: str, names: Iterable[str]) -> str:
    by_key = {_key(n): n for n in names}
    close = difflib.get_close_matches(_key(wanted), list(by_key), n=5, cutoff=0.5)
    close += [k for k in by_key if _key(wanted) in k and k not in close][: 5 - len(close)]
    return f" Near: {', '.join(by_key[k] for k in close)}." if close else ""


@dataclass(frozen=True)
class Catalogue:
    """Every active item (default taxes resolved) and every tax of the account."""

    items: tuple[Item, ...]
    taxes: Mapping[int, Tax]

    def tax_named(self, name: str) -> list[Tax]:
        return [t for t in self.taxes.values() if _key(t.name) == _key(name)]

    def items_named(self, name: str) -> list[Item]:
        return [i for i in self.items if _key(i.name) == _key(name)]

    def item(self, text: str, where: str) -> Item:
        """By exact name (case and spacing aside), else by id (digits). `where` names the field."""
        named = self.items_named(text)
        if len(named) == 1:
            return named[0]
        if named:
            ids = ", ".join(str(i.id) for i in named)
            raise CatalogueError(f"{where}: {len(named)} items are named {text!r} (ids {ids}); give the id.")
        if text.strip().isdigit():
            by_id = [i for i in self.items if i.id == int(text)]
            if by_id:
                return by_id[0]
        raise CatalogueError(
            f"{where}: no item is named {text!r}.{_near(text, (i.name for i in self.items))} "
            "list_items shows every name and id."
        )

    def taxes_by_name(self, names: Sequence[str], where: str = "taxes") -> tuple[Tax, ...]:
        """Tax names as an item's default taxes (tax1, tax2): each must name exactly one tax."""
        if len(names) > 2:
            raise CatalogueError(f"{where}: an item has at most 2 default taxes; got {len(names)}.")
        found: list[Tax] = []
        for name in names:
            matches = self.tax_named(name)
            if not matches:
                near = _near(name, (t.name for t in self.taxes.values()))
                raise CatalogueError(
                    f"{where}: no tax is named {name!r}.{near} list_taxes shows them (create_tax adds one)."
                )
            if len(matches) > 1:
                raise CatalogueError(f"{where}: {len(matches)} taxes are named {name!r}; rename one in FreshBooks.")
            found.append(matches[0])
        if len(found) == 2 and found[0].id == found[1].id:
            raise CatalogueError(f"{where}: the same tax twice ({found[0].name}).")
        if len(found) == 2 and found[0].compound and not found[1].compound:
            raise CatalogueError(
                f"{where}: {found[0].name} is compound (charged on the first tax), so it must come second."
            )
        return tuple(found)


async def load_catalogue(client: FreshBooksClient, *, items: bool = True) -> Catalogue:
    """Taxes and (unless items=False) active items, read whole."""

    async def none() -> list[dict[str, Any]]:
        return []

    raw_items, raw_taxes = await asyncio.gather(
        client.list_all(ITEMS, max_rows=CATALOGUE_MAX_ROWS) if items else none(),
        client.list_all(TAXES, max_rows=CATALOGUE_MAX_ROWS),
    )
    taxes = {t.id: t for t in map(parse_tax, raw_taxes)}
    parsed = (parse_item(r, taxes) for r in raw_items)
    return Catalogue(items=tuple(i for i in parsed if i.vis_state != 1), taxes=taxes)


# ---------------------------------------------------------------------- lines that name an item


@dataclass(frozen=True)
class LineDraft:
    """A line as a tool takes it: `item` names a catalogue item (name or id) that fills what the line
    leaves out; anything given on the line wins. `taxes` None = not given (the item's default taxes)."""

    qty: Decimal
    item: str | None = None
    name: str | None = None
    unit_cost: Decimal | None = None
    description: str | None = None
    taxes: tuple[LineTax, ...] | None = None


def _line_from_item(n: int, draft: LineDraft, cat: Catalogue, code: str) -> LineInput:
    where = f"lines[{n}].item"
    assert draft.item is not None
    item = cat.item(draft.item, where)
    taxes = draft.taxes
    if taxes is None:
        if item.unknown_tax_ids:
            ids = ", ".join(map(str, item.unknown_tax_ids))
            raise CatalogueError(
                f"{where}: item {item.name!r} has default tax id(s) {ids} that no longer exist; give taxes on the line "
                "or fix the item (update_item)."
            )
        taxes = tuple(t.line_tax(second=k == 1) for k, t in enumerate(item.taxes))
    unit_cost = draft.unit_cost
    if unit_cost is None:
        if item.unit_cost.code.upper() != code.upper():
            raise CatalogueError(
                f"{where}: item {item.name!r} costs {item.unit_cost.amount:f} {item.unit_cost.code} but the document "
                f"is in {code.upper()}; give unit_cost on the line."
            )
        unit_cost = item.unit_cost.amount
    return LineInput(
        name=draft.name or item.name,
        qty=draft.qty,
        unit_cost=unit_cost,
        description=draft.description if draft.description is not None else item.description,
        taxes=taxes,
    )


def resolve_lines(drafts: Sequence[LineDraft], cat: Catalogue | None, code: str) -> tuple[LineInput, ...]:
    """The lines to bill: a line naming an item takes its name, unit cost (same currency only),
    description and default taxes (tax ids -> name, percent, compound in second place) unless the line
    gives them. Raises CatalogueError naming the line (`lines[i]`) and the nearest item names."""
    out: list[LineInput] = []
    for n, draft in enumerate(drafts):
        if draft.item is not None:
            if cat is None:
                raise ValueError("resolve_lines: a line names an item but no catalogue was loaded")
            out.append(_line_from_item(n, draft, cat, code))
            continue
        if draft.name is None or draft.unit_cost is None:
            missing = "name" if draft.name is None else "unit_cost"
            raise CatalogueError(f"lines[{n}].{missing}: required unless the line names an item.")
        out.append(LineInput(draft.name, draft.qty, draft.unit_cost, draft.description, draft.taxes or ()))
    return tuple(out)


async def bill_lines(client: FreshBooksClient, drafts: Sequence[LineDraft], code: str) -> tuple[LineInput, ...]:
    """resolve_lines, reading the catalogue only when a line names an item."""
    cat = await load_catalogue(client) if any(d.item is not None for d in drafts) else None
    return resolve_lines(drafts, cat, code)


# ---------------------------------------------------------------------- creating items and taxes


def name_key(resource: Resource, name: str) -> str:
    """Lock key for a duplicate-name check and the create or rename it guards."""
    return f"{resource.singular}-name:{_key(name)}"


def item_wire(
    *,
    name: str | None = None,
    description: str | None = None,
    unit_cost: Decimal | None = None,
    code: str | None = None,
    taxes: Sequence[Tax] | None = None,
) -> dict[str, Any]:
    """An item's create/update body: default taxes go as tax ids (`tax1`/`tax2`, 0 = none)."""
    body: dict[str, Any] = {}
    if name is not None:
        body["name"] = name
    if description is not None:
        body["description"] = description
    if unit_cost is not None:
        body["unit_cost"] = {"amount": f"{unit_cost:f}", **({"code": code.upper()} if code else {})}
    if taxes is not None:
        ids = [t.id for t in taxes] + [0, 0]
        body["tax1"], body["tax2"] = ids[0], ids[1]
    return body


def tax_wire(name: str, percent: Decimal, compound: bool) -> dict[str, Any]:
    """A tax's create body: `amount` is the rate in percent, as a decimal string."""
    return {"name": name, "amount": f"{percent.normalize():f}", "compound": compound}


def _same_money(sent: Any, got: Any) -> bool:
    a = sent.get("amount") if isinstance(sent, Mapping) else sent
    b = got.get("amount") if isinstance(got, Mapping) else got
    try:
        return a is not None and b is not None and to_decimal(a) == to_decimal(b)
    except (ArithmeticError, ValueError):
        return False


def item_lookup(fields: Mapping[str, Any]) -> Lookup:
    """How create_reconciled finds an item whose create reply was lost: items have no name search key,
    so narrow by unit cost (documented min/max) and match name, description and tax ids exactly."""
    from .writes import Lookup  # writes registers this lookup, so it cannot be imported at the top

    name = str(fields.get("name") or "")
    q = Query(ITEMS)
    cost = fields.get("unit_cost")
    amount = cost.get("amount") if isinstance(cost, Mapping) else cost
    if amount is not None:
        q.between_amounts("unit_cost", to_decimal(amount), to_decimal(amount))

    def matches(rec: Mapping[str, Any]) -> bool:
        if _key(str(rec.get("name") or "")) != _key(name):
            return False
        if "unit_cost" in fields and not _same_money(fields["unit_cost"], rec.get("unit_cost")):
            return False
        if "description" in fields and _key(str(fields["description"] or "")) != _key(
            str(rec.get("description") or "")
        ):
            return False
        return all(to_int(fields[k]) == to_int(rec.get(k)) for k in ("tax1", "tax2") if k in fields)

    return Lookup(q, matches, f"an item named {name!r}", f"list_items with query={name!r}")


def tax_lookup(fields: Mapping[str, Any]) -> Lookup:
    """How create_reconciled finds a tax whose create reply was lost: by name (a like search), then
    name, percent and compound flag exactly."""
    from .writes import Lookup

    name = str(fields.get("name") or "")
    q = Query(TAXES).equals("name", name)

    def matches(rec: Mapping[str, Any]) -> bool:
        if _key(str(rec.get("name") or "")) != _key(name):
            return False
        if "amount" in fields and to_decimal(fields["amount"]) != to_decimal(rec.get("amount") or "0"):
            return False
        return "compound" not in fields or bool(fields["compound"]) == bool(rec.get("compound"))

    return Lookup(q, matches, f"a tax named {name!r}", "list_taxes")
