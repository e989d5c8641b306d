"""Payments (``payments/payments``) and the overpayment credits they leave: model, search keys,
sorts, includes and the payments seeded for seeded invoices."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from .. import query as Q
from .._wire import JSON, ApiError, acct_error, acct_fail, fmt_dt, money, q2
from ..books import Books
from ..fields import ZERO, date_field, int_field, invalid, money_input, refuse_if_deleted, required
from ..resource import Resource
from ..seed_data import eastern
from .invoices import recompute_invoice

PAYMENT_TYPES = (
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
)


def build_payment(books: Books, inv: JSON, amount: Decimal, on: date, ptype: str, note: str, when: datetime) -> JSON:
    pid = books.next_id("payment", 700001)
    rec: JSON = {
        "accounting_systemid": books.account_id,
        "amount": money(amount, inv["currency_code"]),
        "bulk_paymentid": None,
        "clientid": inv["customerid"],
        "creditid": None,
        "date": on.isoformat(),
        "from_credit": False,
        "gateway": None,
        "id": pid,
        "invoiceid": inv["id"],
        "logid": pid,
        "note": note,
        "orderid": None,
        "overpaymentid": None,
        "send_client_notification": None,
        "transactionid": None,
        "type": ptype,
        "updated": fmt_dt(when),
        "vis_state": 0,
    }
    books.db.payments[pid] = rec
    books.db.payments_by_invoice.setdefault(inv["id"], []).append(pid)
    return rec


def _invoice_to_pay(books: Books, body: JSON) -> JSON:
    for req in ("invoiceid", "amount", "date"):
        if body.get(req) in (None, "", {}):
            raise required(req, "payment")
    iid = int_field(body["invoiceid"], "invoiceid", "payment")
    inv: JSON | None = books.db.invoices.get(iid)
    if inv is None or inv["vis_state"] == 1:
        raise acct_fail(422, 1012, "invoiceid", "Invoice not found.", "invoice", body["invoiceid"])
    return inv


def create_payment(books: Books, body: JSON) -> JSON:
    inv = _invoice_to_pay(books, body)
    amount, code = money_input(body["amount"], "amount", "payment")
    if amount <= ZERO:
        raise invalid("amount", "payment", body["amount"], "Payment amount must be greater than zero.", 1028)
    if code and code != inv["currency_code"]:
        raise invalid("amount", "payment", code, "Payment currency must match the invoice currency.")
    on = date_field(body["date"], "date", "payment")
    ptype = body.get("type") or "Check"
    if ptype not in PAYMENT_TYPES:
        raise invalid("type", "payment", ptype)
    before = Decimal(inv["outstanding"]["amount"])
    pay = build_payment(books, inv, q2(amount), on, ptype, str(body.get("note") or ""), books.now())
    pay["send_client_notification"] = body.get("send_client_notification")
    excess = q2(amount) - max(before, ZERO)
    if excess > ZERO:
        # The surplus becomes a client credit (fact sheet §2 Payments, PM "Make Payment").
        crid = books.next_id("credit", 900001)
        books.db.credits[crid] = {
            "creditid": crid,
            "clientid": inv["customerid"],
            "amount": money(excess, inv["currency_code"]),
            "paymentid": pay["id"],
            "vis_state": 0,
        }
        pay["overpaymentid"] = crid
    recompute_invoice(books, inv)
    books.touch(inv)
    return pay


def set_payment_vis_state(books: Books, pay: JSON, vis: int) -> None:
    """Deleting a payment re-opens the invoice and hides its overpayment credit."""
    pay["vis_state"] = vis
    if pay["overpaymentid"] and pay["overpaymentid"] in books.db.credits:
        books.db.credits[pay["overpaymentid"]]["vis_state"] = 1 if vis == 1 else 0
    pay["updated"] = fmt_dt(books.now())
    inv = books.db.invoices.get(pay["invoiceid"])
    if inv is not None:
        recompute_invoice(books, inv)
        books.touch(inv)


def update_payment(books: Books, pay: JSON, body: JSON) -> None:
    refuse_if_deleted(pay, "payment")
    if "amount" in body:
        amount, code = money_input(body["amount"], "amount", "payment")
        if amount <= ZERO:
            raise invalid("amount", "payment", body["amount"], errno=1028)
        if code and code != pay["amount"]["code"]:
            raise invalid("amount", "payment", code, "Payment currency must match the invoice currency.")
        pay["amount"] = money(amount, pay["amount"]["code"])
    if "date" in body:
        pay["date"] = date_field(body["date"], "date", "payment").isoformat()
    if "type" in body:
        if body["type"] not in PAYMENT_TYPES:
            raise invalid("type", "payment", body["type"])
        pay["type"] = body["type"]
    if "note" in body:
        pay["note"] = str(body["note"] or "")
    set_payment_vis_state(books, pay, pay["vis_state"])


# ---------------------------------------------------------------- search, sorts, includes
def _client_name(books: Books, r: JSON) -> list[str]:
    c = books.db.clients.get(int(r.get("clientid") or 0))
    return [] if c is None else [c["organization"], f"{c['fname']} {c['lname']}"]


def _invoice_number(books: Books, r: JSON) -> list[str]:
    inv = books.db.invoices.get(int(r.get("invoiceid") or 0))
    return [] if inv is None else [inv["invoice_number"]]


def _payment_or_credit(key: str) -> Q.Spec:
    def spec(values: list[str], books: Books) -> Q.Pred:
        want = values[-1].strip().lower()
        if want not in ("invoice", "credit"):
            raise ApiError(400, acct_error(1037, key, "Expected 'invoice' or 'credit'.", "search", want))
        return lambda r: bool(r["from_credit"]) == (want == "credit")

    return spec


SEARCH: dict[str, Q.SearchKey] = {
    "logid": Q.eq_int("id"),
    "logids": Q.in_int("id"),
    "date_min": Q.date_bound("date", False),
    "date_max": Q.date_bound("date", True),
    "amount_min": Q.num_bound("amount", False),
    "amount_max": Q.num_bound("amount", True),
    "type": Q.eq_str("type"),
    "customerid": Q.eq_int("clientid"),
    "customerids": Q.in_int("clientid"),
    "clientid": Q.eq_int("clientid"),
    "clientids": Q.in_int("clientid"),
    "currency": Q.eq_str("amount.code"),
    "invoiceid": Q.eq_int("invoiceid"),
    "notes": Q.like("note"),
    "from_credit": Q.field_bool("from_credit"),
    "client_name": Q.like(extra=_client_name),
    "number": Q.like(extra=_invoice_number),
    "payment_or_credit": _payment_or_credit,
    "vis_state": Q.vis_state(),
    "updated_min": Q.date_bound("updated", False),
    "updated_max": Q.date_bound("updated", True),
}


def _include_invoice(books: Books, rec: JSON) -> JSON | None:
    inv = dict(books.db.invoices.get(rec["invoiceid"], {}))
    inv.pop("lines", None)
    return inv or None


def _include_client(books: Books, rec: JSON) -> JSON | None:
    return dict(books.db.clients[rec["clientid"]]) if rec["clientid"] in books.db.clients else None


# ---------------------------------------------------------------- seeding (called by invoices.seed)
def seed_invoice_payments(books: Books, rng: random.Random, inv: JSON, kind: str, create: date, offset: int) -> None:
    """Paid invoices in one payment or two; partial ones a deposit."""
    today, total = books.today, Decimal(inv["amount"]["amount"])
    if kind == "paid":
        pay_day = min(today, create + timedelta(days=rng.randint(0, max(offset, 1) + 10)))
        if rng.random() < 0.25 and total > 1:
            first = (total * Decimal(rng.randint(30, 70)) / 100).quantize(Decimal("0.01"))
            mid = create + (pay_day - create) / 2
            build_payment(books, inv, first, mid, "Check", "", eastern(mid, rng))
            build_payment(books, inv, total - first, pay_day, "Bank Transfer", "", eastern(pay_day, rng))
        else:
            ptype = rng.choice(("Credit Card", "Check", "Bank Transfer", "Cash", "VISA", "ACH"))
            build_payment(books, inv, total, pay_day, ptype, "", eastern(pay_day, rng))
    elif kind in ("partial", "partial_overdue") and total > 1:
        part = (total * Decimal(rng.randint(20, 80)) / 100).quantize(Decimal("0.01"))
        pay_day = min(today, create + timedelta(days=rng.randint(0, max(offset, 1))))
        build_payment(books, inv, part, pay_day, "Check", "Deposit", eastern(pay_day, rng))
    paid = books.db.payments_by_invoice[inv["id"]]
    if paid:
        recompute_invoice(books, inv)
        inv["updated"] = books.db.payments[paid[-1]]["updated"]


RESOURCE = Resource(
    name="payment",
    plural="payments",
    family="accounting",
    table="payments",
    path="payments/payments",
    extra_tables=("credits", "payments_by_invoice"),
    id_field="logid",
    not_found="Payment not found.",
    search=SEARCH,
    sorts={"date": Q.by("date"), "amount": Q.by_amount()},
    includes={"invoice": _include_invoice, "client": _include_client},
    create=create_payment,
    update=update_payment,
    set_vis_state=set_payment_vis_state,
    quirks=(
        "paid = min(sum of live payments, amount); a payment above the outstanding amount records an "
        "overpayment credit (overpaymentid; shows in the client's credit_balance)",
        "deleting a payment (PUT vis_state 1) re-opens the amount; editing its amount recomputes the invoice",
        "a deleted payment refuses edits with 422 errno 1011",
        "payment currency must match the invoice's",
    ),
)
