"""Document lines: parsed from and written to FreshBooks' wire form, and their totals.

Invoices use them now; estimates, credit notes, bills and recurring profiles carry the same `lines[]`
shape (name, description, qty, unit_cost, taxName1/taxAmount1, taxName2/taxAmount2), so each of
those domains parses and writes its lines here instead of again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .types import Money, to_decimal, to_int

ZERO = Decimal(0)
CENT = Decimal("0.01")
HUNDRED = Decimal(100)
MAX_TAXES = 2  # taxName1/taxAmount1 and taxName2/taxAmount2


def q2(value: Decimal) -> Decimal:
    """Round to cents, half up (how line amounts and taxes are rounded)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text.strip() else None


def _decimal(value: Any) -> Decimal:
    return ZERO if value in (None, "") else to_decimal(value)


def _money(raw: Any, code: str) -> Money:
    parsed = Money.parse(raw, default_code=code)
    return parsed if parsed is not None else Money(amount=ZERO, code=code)


@dataclass(frozen=True)
class LineTax:
    name: str
    percent: Decimal  # FreshBooks' taxAmountN is the rate in percent, not an amount
    compound: bool = False  # second tax only: charged on the line plus the first tax (`compounded_tax`)


@dataclass(frozen=True)
class InvoiceLine:
    """A line as FreshBooks stores it (an invoice's today; the same shape on estimates and credit notes)."""

    line_id: int
    name: str
    description: str | None
    qty: Decimal
    unit_cost: Money
    amount: Money
    taxes: tuple[LineTax, ...]
    type: int = 0
    expense_id: int | None = None


def parse_line(raw: dict[str, Any], code: str) -> InvoiceLine:
    taxes: list[LineTax] = []
    compounded = raw.get("compounded_tax") in (True, "true", "True", 1, "1")
    for n in range(1, MAX_TAXES + 1):
        percent = _decimal(raw.get(f"taxAmount{n}"))
        name = _text(raw.get(f"taxName{n}"))
        if percent or name:
            taxes.append(LineTax(name=name or f"tax {n}", percent=percent, compound=compounded and n == 2))
    expense_id = to_int(raw.get("expenseid"))
    return InvoiceLine(
        line_id=to_int(raw.get("lineid")),
        name=str(raw.get("name") or ""),
        description=_text(raw.get("description")),
        qty=_decimal(raw.get("qty", "1")),
        unit_cost=_money(raw.get("unit_cost"), code),
        amount=_money(raw.get("amount"), code),
        taxes=tuple(taxes),
        type=to_int(raw.get("type")),
        expense_id=expense_id or None,
    )


def parse_lines(raw: Any, code: str) -> tuple[InvoiceLine, ...]:
    """The `lines` list of a document (empty when it was not included)."""
    return tuple(parse_line(line, code) for line in raw if isinstance(line, dict)) if raw else ()


@dataclass(frozen=True)
class LineInput:
    """A line to bill, as a create tool takes it (validated by the tool's schema)."""

    name: str
    qty: Decimal
    unit_cost: Decimal
    description: str | None = None
    taxes: tuple[LineTax, ...] = ()


def line_amount(line: LineInput) -> Decimal:
    return q2(line.qty * line.unit_cost)


def as_input(line: InvoiceLine) -> LineInput:
    """A stored line as a line to bill (to copy it onto another document, or to re-check its total)."""
    return LineInput(line.name, line.qty, line.unit_cost.amount, line.description, line.taxes)


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal  # sum of line amounts
    discount: Decimal  # positive; FreshBooks shows it as a negative `discount_total`
    tax: Decimal
    total: Decimal  # subtotal - discount + tax: FreshBooks' `amount`


def document_totals(lines: Iterable[LineInput], discount_percent: Decimal = ZERO) -> Totals:
    """Our own totals of an invoice or estimate, the arithmetic stated once (README, "Money"):

    - line amount = qty x unit cost, half-up to the cent, before discount and tax;
    - the document discount (percent) comes off before tax: discount = subtotal x percent, to the cent,
      and each line is taxed on its amount x (100 - percent) / 100;
    - each tax is a percent of that discounted line, half-up to the cent per line per tax; a compound
      second tax is charged on the discounted line plus the first tax as rounded.
    FreshBooks' fixture: lines 20.00 (13% HST) + 24.00, 10% discount -> 44.00 - 4.40 + 2.34 = 41.94.
    """
    factor = (HUNDRED - discount_percent) / HUNDRED
    subtotal = tax = ZERO
    for line in lines:
        amount = line_amount(line)
        subtotal += amount
        base = amount * factor
        first = ZERO
        for n, line_tax in enumerate(line.taxes):
            on = base + first if line_tax.compound and n == 1 else base
            charged = q2(on * line_tax.percent / HUNDRED)
            first = charged if n == 0 else first
            tax += charged
    discount = q2(subtotal * discount_percent / HUNDRED)
    return Totals(subtotal=subtotal, discount=discount, tax=tax, total=subtotal - discount + tax)


def expected_total(lines: Iterable[LineInput], discount_percent: Decimal = ZERO) -> Decimal:
    """The document total computed here (see document_totals), to compare with FreshBooks' `amount`."""
    return document_totals(lines, discount_percent).total


def line_wire(line: LineInput, code: str) -> dict[str, Any]:
    """The wire form of a new line (taxNameN/taxAmountN carry name and percent)."""
    out: dict[str, Any] = {
        "type": 0,
        "name": line.name,
        "qty": f"{line.qty.normalize():f}",
        "unit_cost": {"amount": f"{line.unit_cost:f}", "code": code},
    }
    if line.description:
        out["description"] = line.description
    for n, tax in enumerate(line.taxes, start=1):
        out[f"taxName{n}"] = tax.name
        out[f"taxAmount{n}"] = f"{tax.percent.normalize():f}"
        if tax.compound and n == 2:
            out["compounded_tax"] = True
    return out
