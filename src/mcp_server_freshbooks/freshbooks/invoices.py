"""Typed invoices, invoice lines and payments parsed from FreshBooks wire dicts, plus receivables aging.

Everything money is `Money` (Decimal, one currency). Parsing is tolerant of the fields FreshBooks
sometimes leaves out or nulls (a listing must not break on one odd record) but strict about money:
an amount that is not a decimal string raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal, get_args

from .api import FreshBooksClient
from .errors import FreshBooksError

# Lines live in lines.py (shared with estimates, credit notes...); re-exported for older imports.
from .lines import InvoiceLine as InvoiceLine
from .lines import LineInput as LineInput
from .lines import LineTax as LineTax
from .lines import expected_total as expected_total
from .lines import line_amount as line_amount
from .lines import line_wire as line_wire
from .lines import parse_line as parse_line
from .lines import parse_lines

# Payments live in payments.py; re-exported so older imports keep working.
from .payments import PAYMENT_TYPES as PAYMENT_TYPES
from .payments import Payment as Payment
from .payments import PaymentType as PaymentType
from .payments import parse_payment as parse_payment
from .query import INVOICES
from .types import Money, parse_date, to_int

ZERO = Decimal(0)

# Fact sheet §4: `status` ints. Only these can be overdue (sent, viewed, partially paid).
STATUS_DRAFT, STATUS_SENT, STATUS_VIEWED, STATUS_PAID, STATUS_AUTOPAID, STATUS_PARTIAL = 1, 2, 3, 4, 5, 8
OVERDUE_CAPABLE_STATUSES = frozenset({STATUS_SENT, STATUS_VIEWED, STATUS_PARTIAL})
PAID_STATUSES = frozenset({STATUS_PAID, STATUS_AUTOPAID})

V3Status = Literal[
    "created",
    "draft",
    "sent",
    "viewed",
    "failed",
    "retry",
    "success",
    "autopaid",
    "paid",
    "partial",
    "disputed",
    "resolved",
    "overdue",
    "deposit-partial",
    "deposit-paid",
    "declined",
    "pending",
]
V3_STATUSES: tuple[str, ...] = get_args(V3Status)
# v3_status values an open (overdue-capable) invoice can carry. The flip to "overdue" is done by a
# FreshBooks background job some time after the due date, so a just-due invoice may still say sent/
# viewed/partial; a part-paid overdue invoice may say "partial" or "overdue".
OPEN_V3_STATUSES = ("overdue", "sent", "viewed", "partial")


AgingBucket = Literal["1-30", "31-60", "61-90", "90+"]
AGING_BUCKETS: tuple[AgingBucket, ...] = ("1-30", "31-60", "61-90", "90+")


def _str(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text.strip() else None


def _money(raw: Any, code: str) -> Money:
    parsed = Money.parse(raw, default_code=code)
    return parsed if parsed is not None else Money(amount=ZERO, code=code)


@dataclass(frozen=True)
class Invoice:
    id: int
    invoice_number: str
    client_id: int
    client_name: str
    currency_code: str
    create_date: date | None
    due_date: date | None
    amount: Money
    outstanding: Money
    paid: Money
    discount_total: Money
    status: int
    v3_status: str
    display_status: str | None
    payment_status: str | None
    date_paid: date | None
    vis_state: int
    notes: str | None = None
    terms: str | None = None
    po_number: str | None = None
    created_at: str | None = None
    updated: str | None = None
    due_offset_days: int | None = None
    lines: tuple[InvoiceLine, ...] = field(default_factory=tuple)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_draft(self) -> bool:
        return self.status == STATUS_DRAFT or self.v3_status in ("draft", "created")

    @property
    def is_paid(self) -> bool:
        return self.status in PAID_STATUSES or self.v3_status in ("paid", "autopaid")


def client_display_name(raw: dict[str, Any]) -> str:
    """An invoice's client as people know it: organization, else the contact's name."""
    for key in ("current_organization", "organization"):
        value = _str(raw.get(key))
        if value:
            return value.strip()
    name = " ".join(p for p in (_str(raw.get("fname")), _str(raw.get("lname"))) if p)
    return name.strip() or f"client {raw.get('customerid')}"


def parse_invoice(raw: dict[str, Any]) -> Invoice:
    """An invoice as FreshBooks sends it (`result.invoice`, or one row of `result.invoices`)."""
    amount_raw = raw.get("amount")
    code = str(
        raw.get("currency_code") or (amount_raw.get("code") if isinstance(amount_raw, dict) else None) or "USD"
    ).upper()
    lines = parse_lines(raw.get("lines"), code)
    return Invoice(
        id=to_int(raw.get("id") or raw.get("invoiceid")),
        invoice_number=str(raw.get("invoice_number") or ""),
        client_id=to_int(raw.get("customerid")),
        client_name=client_display_name(raw),
        currency_code=code,
        create_date=parse_date(raw.get("create_date")),
        due_date=parse_date(raw.get("due_date")),
        amount=_money(amount_raw, code),
        outstanding=_money(raw.get("outstanding"), code),
        paid=_money(raw.get("paid"), code),
        discount_total=_money(raw.get("discount_total"), code),
        status=to_int(raw.get("status")),
        v3_status=str(raw.get("v3_status") or ""),
        display_status=_str(raw.get("display_status")),
        payment_status=_str(raw.get("payment_status")),
        date_paid=parse_date(raw.get("date_paid")),
        vis_state=to_int(raw.get("vis_state")),
        notes=_str(raw.get("notes")),
        terms=_str(raw.get("terms")),
        po_number=_str(raw.get("po_number")),
        created_at=_str(raw.get("created_at")),
        updated=_str(raw.get("updated")),
        due_offset_days=to_int(raw.get("due_offset_days")) if raw.get("due_offset_days") is not None else None,
        lines=lines,
        raw=raw,
    )


# ---------------------------------------------------------------------- receivables


def days_overdue(invoice: Invoice, as_of: date) -> int | None:
    """Days past due as of `as_of`, or None when the invoice is not overdue then.

    Overdue (fact sheet §4): sent, viewed or partially paid; something outstanding; due strictly
    before `as_of`. `v3_status` is deliberately not trusted: FreshBooks flips it to "overdue" with a
    background job, so it lags the due date; drafts, paid and deleted invoices are never overdue.
    """
    if invoice.vis_state == 1 or invoice.status not in OVERDUE_CAPABLE_STATUSES:
        return None
    if invoice.outstanding.amount <= ZERO or invoice.due_date is None:
        return None
    days = (as_of - invoice.due_date).days
    return days if days > 0 else None


def is_overdue(invoice: Invoice, as_of: date) -> bool:
    return days_overdue(invoice, as_of) is not None


def aging_bucket(days: int) -> AgingBucket:
    """The receivables aging bucket of an invoice `days` past due (days >= 1)."""
    if days <= 30:
        return "1-30"
    if days <= 60:
        return "31-60"
    if days <= 90:
        return "61-90"
    return "90+"


# ---------------------------------------------------------------------- share link (#17)

SHARE_METHOD = "share_link"  # FreshBooks' share_method for a link (others: email, sms, pdf)


async def invoice_share_link(client: FreshBooksClient, invoice_id: int) -> str:
    """The link a client can open to view (and pay) a sent invoice.

    `GET .../invoices/invoices/{id}/share_link?share_method=share_link` answers
    `{"share_link": {"share_link": "https://my.freshbooks.com/#/link/<jwt>?...", ...}}`. FreshBooks
    shares only sent invoices: a draft is refused (422), so callers check the status first.
    """
    path = await client._accounting_path(INVOICES, invoice_id, "/share_link")
    body = await client.request("GET", path, params={"share_method": SHARE_METHOD})
    result = client._result(body).get("share_link")
    link = result.get("share_link") if isinstance(result, dict) else None
    if not isinstance(link, str) or not link.startswith("http"):
        raise FreshBooksError(f"FreshBooks returned no share link for invoice id {invoice_id}.")
    return link
