"""Invoice/payment parsing and overdue classification against real FreshBooks payloads (seed 002)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from mcp_server_freshbooks.freshbooks.invoices import (
    LineInput,
    LineTax,
    aging_bucket,
    days_overdue,
    expected_total,
    is_overdue,
    parse_invoice,
    parse_payment,
)

# The two invoices of seed 002 ("Get Single Invoice" example, which is really a list payload),
# copied verbatim except for address/template fields that play no part here.
SEED_002_INVOICES: list[dict[str, Any]] = [
    {
        "accountid": "LJArJ4",
        "amount": {"amount": "110.00", "code": "CAD"},
        "create_date": "2021-12-12",
        "created_at": "2021-12-12 02:10:41",
        "currency_code": "CAD",
        "current_organization": "First1 Last1",
        "customerid": 806,
        "date_paid": None,
        "discount_total": {"amount": "0.00", "code": "CAD"},
        "discount_value": "0",
        "display_status": "sent",
        "due_date": "2022-01-11",
        "due_offset_days": 30,
        "fname": "First1",
        "id": 164410,
        "invoice_number": "0000052",
        "invoiceid": 164410,
        "lname": "Last1",
        "net_paid_amount": {"amount": "0.00", "code": "CAD"},
        "notes": "Recurring invoice",
        "organization": "First1 Last1",
        "outstanding": {"amount": "110.00", "code": "CAD"},
        "paid": {"amount": "0.00", "code": "CAD"},
        "payment_status": "unpaid",
        "po_number": None,
        "status": 2,
        "terms": "Please pay the invoice within 30 days",
        "updated": "2021-12-12 02:10:42",
        "v3_status": "sent",
        "version": "2021-12-12 02:10:42.172917",
        "vis_state": 0,
    },
    {
        "accountid": "LJArJ4",
        "amount": {"amount": "990.00", "code": "CAD"},
        "create_date": "2021-12-12",
        "created_at": "2021-12-12 02:10:41",
        "currency_code": "CAD",
        "current_organization": "First1 Last1",
        "customerid": 806,
        "date_paid": None,
        "discount_total": {"amount": "0.00", "code": "CAD"},
        "discount_value": "0",
        "display_status": "sent",
        "due_date": "2022-01-01",
        "due_offset_days": 20,
        "fname": "First1",
        "id": 164409,
        "invoice_number": "0000051",
        "invoiceid": 164409,
        "lname": "Last1",
        "net_paid_amount": {"amount": "0.00", "code": "CAD"},
        "notes": "",
        "organization": "First1 Last1",
        "outstanding": {"amount": "990.00", "code": "CAD"},
        "paid": {"amount": "0.00", "code": "CAD"},
        "payment_status": "unpaid",
        "po_number": None,
        "status": 2,
        "terms": "Please pay the invoice within 20 days",
        "updated": "2021-12-12 02:10:41",
        "v3_status": "overdue",
        "version": "2022-01-01 19:04:25.476748",
        "vis_state": 0,
    },
]

# A line as the Java SDK fixture shows it (strings for qty and tax percent).
LINE = {
    "amount": {"amount": "4.00", "code": "CAD"},
    "description": "",
    "expenseid": 0,
    "invoiceid": 164410,
    "lineid": 1,
    "name": "Paperclips",
    "qty": "4",
    "taxAmount1": "13",
    "taxAmount2": None,
    "taxName1": "HST",
    "taxName2": None,
    "type": 0,
    "unit_cost": {"amount": "1.00", "code": "CAD"},
}

PAYMENT = {
    "accounting_systemid": "LJArJ4",
    "amount": {"amount": "10.00", "code": "USD"},
    "clientid": 806,
    "creditid": None,
    "date": "2021-12-14",
    "from_credit": False,
    "id": 22,
    "invoiceid": 164410,
    "logid": 22,
    "note": "",
    "overpaymentid": None,
    "type": "Check",
    "updated": "2021-12-14 09:17:39",
    "vis_state": 0,
}


def test_seed_invoices_parse_exactly() -> None:
    newer, older = (parse_invoice(raw) for raw in SEED_002_INVOICES)
    assert newer.id == 164410 and newer.invoice_number == "0000052"
    assert newer.client_id == 806 and newer.client_name == "First1 Last1"
    assert newer.amount.amount == Decimal("110.00") and newer.amount.code == "CAD"
    assert newer.outstanding.amount == Decimal("110.00")
    assert newer.paid.amount == Decimal(0)
    assert newer.create_date == date(2021, 12, 12) and newer.due_date == date(2022, 1, 11)
    assert newer.status == 2 and newer.v3_status == "sent" and not newer.is_draft and not newer.is_paid
    assert newer.notes == "Recurring invoice" and newer.po_number is None and newer.date_paid is None
    assert older.due_date == date(2022, 1, 1) and older.amount.amount == Decimal("990.00")


def test_seed_overdue_classification_as_of_2022_01_05() -> None:
    newer, older = (parse_invoice(raw) for raw in SEED_002_INVOICES)
    as_of = date(2022, 1, 5)
    assert is_overdue(older, as_of) and days_overdue(older, as_of) == 4
    assert not is_overdue(newer, as_of) and days_overdue(newer, as_of) is None
    # Due today is not overdue; the day after is 1 day overdue.
    assert days_overdue(newer, date(2022, 1, 11)) is None
    assert days_overdue(newer, date(2022, 1, 12)) == 1


def test_overdue_ignores_the_lagging_v3_status_flag() -> None:
    stale = dict(SEED_002_INVOICES[0], v3_status="sent")  # job not run yet: still says sent
    assert is_overdue(parse_invoice(stale), date(2022, 2, 1))
    flagged_early = dict(SEED_002_INVOICES[1])  # says overdue, but not as of a date before its due date
    assert not is_overdue(parse_invoice(flagged_early), date(2021, 12, 31))


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"status": 1, "v3_status": "draft", "display_status": "draft"}, "draft"),
        ({"status": 4, "v3_status": "paid", "outstanding": {"amount": "0.00", "code": "CAD"}}, "paid"),
        ({"outstanding": {"amount": "0.00", "code": "CAD"}}, "nothing outstanding"),
        ({"vis_state": 1}, "deleted"),
        ({"due_date": None}, "no due date"),
    ],
)
def test_not_overdue_cases(changes: dict[str, Any], why: str) -> None:
    assert not is_overdue(parse_invoice(dict(SEED_002_INVOICES[1], **changes)), date(2022, 3, 1)), why


def test_partial_and_viewed_can_be_overdue() -> None:
    for status in (3, 8):
        assert is_overdue(parse_invoice(dict(SEED_002_INVOICES[1], status=status)), date(2022, 3, 1))


@pytest.mark.parametrize(
    ("days", "bucket"),
    [(1, "1-30"), (30, "1-30"), (31, "31-60"), (60, "31-60"), (61, "61-90"), (90, "61-90"), (91, "90+")],
)
def test_aging_bucket_boundaries(days: int, bucket: str) -> None:
    assert aging_bucket(days) == bucket


def test_line_and_long_precision_amounts() -> None:
    raw = dict(SEED_002_INVOICES[0], lines=[LINE], net_paid_amount={"amount": "7.60133524082021936099189318"})
    inv = parse_invoice(raw)
    (line,) = inv.lines
    assert line.qty == Decimal(4) and line.unit_cost.amount == Decimal("1.00") and line.amount.code == "CAD"
    assert [(t.name, t.percent) for t in line.taxes] == [("HST", Decimal(13))]


def test_money_must_be_decimal_strings() -> None:
    with pytest.raises(ValueError):
        parse_invoice(dict(SEED_002_INVOICES[0], amount={"amount": 110.0, "code": "CAD"}))


def test_payment_parses() -> None:
    payment = parse_payment(PAYMENT)
    assert payment.id == 22 and payment.invoice_id == 164410 and payment.client_id == 806
    assert payment.amount.amount == Decimal("10.00") and payment.amount.code == "USD"
    assert payment.date == date(2021, 12, 14) and payment.type == "Check" and not payment.from_credit


def test_expected_total_rounds_each_line_and_tax_to_the_cent() -> None:
    lines = [
        LineInput(name="a", qty=Decimal("3"), unit_cost=Decimal("0.33"), taxes=(LineTax("HST", Decimal(13)),)),
        LineInput(name="b", qty=Decimal("2.5"), unit_cost=Decimal("10.01")),
    ]
    # 0.99 + 0.1287 -> 0.13 ; 25.025 -> 25.03 (half up)
    assert expected_total(lines) == Decimal("0.99") + Decimal("0.13") + Decimal("25.03")
