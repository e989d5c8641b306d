"""Corrections to invoices, expenses and payments: the wire bodies of an edit, and what it changed.

FreshBooks facts (fact sheet "vis_state and delete"; more §5):
- a PUT of an invoice's `lines` replaces the whole set: the body carries every line that remains;
- an invoice's `due_date` is read-only: it is `create_date + due_offset_days`, so a due date is set
  through `due_offset_days` (`offset_for_due_date`);
- a PUT whose body holds `vis_state` applies only that and silently discards every other field, so
  an edit body never carries one (`no_vis_state`), and deletes/archives are bodies of their own;
- invoices are deleted by HTTP DELETE, expenses and payments by PUT `vis_state: 1` (`Resource.delete_style`).
The write itself goes through writes.py (`update_verified`, `delete_verified`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from .expenses import Expense
from .invoices import Invoice
from .lines import InvoiceLine, LineInput, line_wire
from .payments import Payment
from .types import Money, format_amount

__all__ = [
    "Change",
    "changes",
    "expense_update_wire",
    "expense_view",
    "invoice_update_wire",
    "invoice_view",
    "no_vis_state",
    "offset_for_due_date",
    "payment_update_wire",
    "payment_view",
]

ZERO = Decimal(0)


@dataclass(frozen=True)
class Change:
    """One field of a record before and after a correction, as text a person reads."""

    field: str
    old: str | None
    new: str | None


def changes(before: Mapping[str, str | None], after: Mapping[str, str | None]) -> list[Change]:
    """The fields whose text differs between two views of one record (views from the *_view functions)."""
    keys = [*before, *(k for k in after if k not in before)]
    return [Change(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


def _m(money: Money | None) -> str | None:
    return f"{format_amount(money.amount)} {money.code}" if money is not None else None


def _s(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _line_text(line: InvoiceLine) -> str:
    taxes = "".join(f" +{t.name} {t.percent.normalize():f}%" for t in line.taxes)
    return f"{line.name} {line.qty.normalize():f} x {format_amount(line.unit_cost.amount)}{taxes}"


def invoice_view(inv: Invoice) -> dict[str, str | None]:
    """The fields of an invoice a correction may change (lines only when they were read)."""
    discount = inv.raw.get("discount_value")
    view = {
        "client_id": _s(inv.client_id),
        "create_date": _s(inv.create_date),
        "due_date": _s(inv.due_date),
        "due_offset_days": _s(inv.due_offset_days),
        "notes": _s(inv.notes),
        "terms": _s(inv.terms),
        "po_number": _s(inv.po_number),
        "discount_percent": f"{Decimal(str(discount or '0')).normalize():f}",
        "total": _m(inv.amount),
        "outstanding": _m(inv.outstanding),
        "status": _s(inv.v3_status),
    }
    if inv.lines or "lines" in inv.raw:
        view["lines"] = "; ".join(_line_text(x) for x in inv.lines) or "(none)"
    return view


def expense_view(exp: Expense, category_name: str | None = None) -> dict[str, str | None]:
    taxes = "; ".join(f"{t.name or 'tax'} {t.percent or ''}%".strip() for t in exp.taxes) or None
    return {
        "amount": _m(exp.amount),
        "date": _s(exp.date),
        "category": category_name or _s(exp.category_id),
        "vendor": exp.vendor,
        "notes": exp.notes,
        "client_id": _s(exp.client_id),
        "project_id": _s(exp.project_id),
        "taxes": taxes,
    }


def payment_view(pay: Payment) -> dict[str, str | None]:
    return {"amount": _m(pay.amount), "date": _s(pay.date), "method": pay.type, "note": pay.note}


def no_vis_state(fields: Mapping[str, Any]) -> dict[str, Any]:
    """An edit body, refused if it carries vis_state (FreshBooks would drop every other field)."""
    if "vis_state" in fields or "ext_vis_state" in fields:
        raise ValueError("an edit body must not carry vis_state: FreshBooks would discard the other fields")
    return dict(fields)


def offset_for_due_date(create_date: date, due_date: date) -> int:
    """The due_offset_days that gives this due date (FreshBooks ignores a due_date sent in a body)."""
    return (due_date - create_date).days


def invoice_update_wire(
    *,
    code: str,
    client_id: int | None = None,
    create_date: date | None = None,
    due_offset_days: int | None = None,
    lines: Iterable[LineInput] | None = None,
    notes: str | None = None,
    terms: str | None = None,
    po_number: str | None = None,
    discount_percent: Decimal | None = None,
) -> dict[str, Any]:
    """The PUT body of an invoice edit: only what changes; `lines` is the full intended set."""
    body: dict[str, Any] = {}
    if client_id is not None:
        body["customerid"] = client_id
    if create_date is not None:
        body["create_date"] = create_date.isoformat()
    if due_offset_days is not None:
        body["due_offset_days"] = due_offset_days
    if lines is not None:
        body["lines"] = [line_wire(x, code) for x in lines]
    for key, value in (("notes", notes), ("terms", terms), ("po_number", po_number)):
        if value is not None:
            body[key] = value
    if discount_percent is not None:
        body["discount_value"] = f"{discount_percent.normalize():f}"
    return no_vis_state(body)


@dataclass(frozen=True)
class ExpenseTax:
    name: str
    percent: Decimal


def expense_update_wire(
    *,
    code: str,
    amount: Decimal | None = None,
    day: date | None = None,
    category_id: int | None = None,
    vendor: str | None = None,
    notes: str | None = None,
    client_id: int | None = None,
    project_id: int | None = None,
    taxes: Iterable[ExpenseTax] | None = None,
) -> dict[str, Any]:
    """The PUT body of an expense edit. Taxes are name + percent (`taxPercentN`); FreshBooks computes
    `taxAmountN`; an empty list clears both taxes. client_id/project_id 0 mean none."""
    body: dict[str, Any] = {}
    if amount is not None:
        body["amount"] = {"amount": format_amount(amount), "code": code}
    if day is not None:
        body["date"] = day.isoformat()
    if category_id is not None:
        body["categoryid"] = category_id
    if vendor is not None:
        body["vendor"] = vendor.strip()
    if notes is not None:
        body["notes"] = notes
    if client_id is not None:
        body["clientid"] = client_id
    if project_id is not None:
        body["projectid"] = project_id
    if taxes is not None:
        given = list(taxes)
        for n in (1, 2):
            tax = given[n - 1] if len(given) >= n else None
            body[f"taxName{n}"] = tax.name if tax else None
            body[f"taxPercent{n}"] = f"{tax.percent.normalize():f}" if tax else None
    return no_vis_state(body)


def payment_update_wire(
    *,
    code: str,
    amount: Decimal | None = None,
    day: date | None = None,
    method: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if amount is not None:
        body["amount"] = {"amount": format_amount(amount), "code": code}
    if day is not None:
        body["date"] = day.isoformat()
    if method is not None:
        body["type"] = method
    if note is not None:
        body["note"] = note
    return no_vis_state(body)
