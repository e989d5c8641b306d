"""Payments as FreshBooks sends them: the payment type vocabulary and the parsed record.

Recording one is a write with a side effect (it moves money): it goes through writes.py under the
invoice's lock (`writes.invoice_key`), never re-sent blindly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, get_args

from .types import Money, parse_date, to_int

__all__ = ["PAYMENT_TYPES", "Payment", "PaymentType", "parse_payment"]

PaymentType = Literal[
    "Check",
    "Credit",
    "Cash",
    "Bank Transfer",
    "Credit Card",
    "Debit",
    "PayPal",
    "2Checkout",
    "VISA",
    "MASTERCARD",
    "DISCOVER",
    "AMEX",
    "DINERS",
    "JCB",
    "ACH",
    "Other",
]
PAYMENT_TYPES: tuple[str, ...] = get_args(PaymentType)


def _str(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text.strip() else None


@dataclass(frozen=True)
class Payment:
    id: int
    invoice_id: int | None
    client_id: int | None
    date: date | None
    amount: Money
    type: str | None
    note: str | None
    from_credit: bool
    overpayment_id: int | None
    vis_state: int
    invoice_number: str | None = None


def parse_payment(raw: dict[str, Any], default_code: str | None = None) -> Payment:
    amount = Money.parse(raw.get("amount"), default_code=default_code)
    if amount is None:
        raise ValueError(f"payment {raw.get('id')} has no amount")
    invoice = raw.get("invoice")
    number = _str(invoice.get("invoice_number")) if isinstance(invoice, dict) else None
    return Payment(
        id=to_int(raw.get("id") or raw.get("logid")),
        invoice_id=to_int(raw.get("invoiceid")) or None,
        client_id=to_int(raw.get("clientid")) or None,
        date=parse_date(raw.get("date")),
        amount=amount,
        type=_str(raw.get("type")),
        note=_str(raw.get("note")),
        from_credit=bool(raw.get("from_credit")),
        overpayment_id=to_int(raw.get("overpaymentid")) or None,
        vis_state=to_int(raw.get("vis_state")),
        invoice_number=number,
    )
