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
    for n in range(1, MAX_TAXES + 1):
        percent = _decimal(raw.get(f"taxAmount{n}"))
        name = _text(raw.get(f"taxName{n}"))
        if percent or name:
            taxes.append(LineTax(name=name or f"tax {n}", percent=percent))
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


def expected_total(lines: Iterable[LineInput]) -> Decimal:
    """Our own document total: line amounts (qty x unit cost, to the cent) plus each line's taxes
    (percent of the line amount, to the cent). No discount: the create tools do not set one."""
    total = ZERO
    for line in lines:
        amount = line_amount(line)
        total += amount
        for tax in line.taxes:
            total += q2(amount * tax.percent / HUNDRED)
    return total


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
    return out
