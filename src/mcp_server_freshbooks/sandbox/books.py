"""The sandbox's books: live data in wire form plus the domain rules that keep it consistent.

Records are the exact dicts served over HTTP (``db.invoices[id]`` always carries
``lines``; the HTTP layer strips them unless ``include[]=lines``). Derived invoice
fields (amount, paid, outstanding, statuses, date_paid) are recomputed on every
write, so tests can treat ``db`` as ground truth.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from ._wire import EASTERN, JSON, ApiError, acct_fail, dec, fmt_dt, money, parse_bool, parse_date, pct_str, q2

ZERO = Decimal("0")
HUNDRED = Decimal("100")

# status ints of fact sheet §4
DRAFT, SENT, VIEWED, PAID, PARTIAL = 1, 2, 3, 4, 8
_BASE_STATUS = {"draft": DRAFT, "sent": SENT, "viewed": VIEWED}
OVERDUE_CAPABLE = frozenset({SENT, VIEWED, PARTIAL})


def invoice_is_overdue(inv: JSON, as_of: date) -> bool:
    """Fact sheet §4: sent/viewed/partial, something outstanding, due strictly before ``as_of``."""
    if inv.get("status") not in OVERDUE_CAPABLE:
        return False
    if Decimal(inv["outstanding"]["amount"]) <= ZERO:
        return False
    due = parse_date(inv.get("due_date"))
    return due is not None and due < as_of


@dataclass
class Db:
    clients: dict[int, JSON] = field(default_factory=dict)
    invoices: dict[int, JSON] = field(default_factory=dict)
    payments: dict[int, JSON] = field(default_factory=dict)
    credits: dict[int, JSON] = field(default_factory=dict)  # overpayment credits
    expenses: dict[int, JSON] = field(default_factory=dict)
    categories: dict[int, JSON] = field(default_factory=dict)
    items: dict[int, JSON] = field(default_factory=dict)
    taxes: dict[int, JSON] = field(default_factory=dict)
    projects: dict[int, JSON] = field(default_factory=dict)
    time_entries: dict[int, JSON] = field(default_factory=dict)
    client_contacts: dict[int, list[JSON]] = field(default_factory=dict)
    payments_by_invoice: dict[int, list[int]] = field(default_factory=dict)
    next_ids: dict[str, int] = field(default_factory=dict)


CLIENT_TEMPLATE: JSON = {
    "accounting_systemid": "",
    "allow_email_include_pdf": False,
    "allow_late_fees": True,
    "allow_late_notifications": True,
    "bus_phone": "",
    "company_industry": None,
    "company_size": None,
    "currency_code": "USD",
    "direct_link_token": None,
    "email": "",
    "exceeds_client_limit": 0,
    "fax": "",
    "fname": "",
    "has_retainer": None,
    "home_phone": None,
    "id": 0,
    "language": "en",
    "last_activity": None,
    "last_login": None,
    "level": 0,
    "lname": "",
    "mob_phone": "",
    "note": None,
    "notified": False,
    "num_logins": 0,
    "organization": "",
    "p_city": "",
    "p_code": "",
    "p_country": "",
    "p_province": "",
    "p_street": "",
    "p_street2": "",
    "pref_email": True,
    "pref_gmail": False,
    "retainer_id": None,
    "role": "client",
    "s_city": "",
    "s_code": "",
    "s_country": "",
    "s_province": "",
    "s_street": "",
    "s_street2": "",
    "signup_date": "",
    "statement_token": None,
    "subdomain": None,
    "updated": "",
    "userid": 0,
    "username": "",
    "uuid": "",
    "vat_name": None,
    "vat_number": None,
    "vis_state": 0,
}
CLIENT_WRITABLE = frozenset(
    k
    for k in CLIENT_TEMPLATE
    if k not in {"accounting_systemid", "id", "userid", "signup_date", "updated", "uuid", "role", "vis_state"}
)
# Empty-string defaults: a JSON null sent for these is stored as "" (as the seed 000 reply shows).
_CLIENT_STR_FIELDS = frozenset(k for k, v in CLIENT_TEMPLATE.items() if v == "")

INVOICE_EDITABLE = frozenset(
    {
        "customerid",
        "create_date",
        "due_offset_days",
        "notes",
        "terms",
        "po_number",
        "currency_code",
        "discount_value",
        "invoice_number",
        "lines",
        "address",
        "street",
        "street2",
        "city",
        "province",
        "country",
        "code",
        "language",
        "template",
        "description",
        "fname",
        "lname",
        "organization",
        "vat_name",
        "vat_number",
        "status",
    }
)
EXPENSE_EDITABLE = frozenset(
    {
        "amount",
        "categoryid",
        "clientid",
        "projectid",
        "staffid",
        "date",
        "vendor",
        "notes",
        "taxName1",
        "taxName2",
        "taxPercent1",
        "taxPercent2",
        "taxAmount1",
        "taxAmount2",
        "markup_percent",
        "has_receipt",
        "bank_name",
        "account_name",
        "billable",
    }
)
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


def _invalid(field_name: str, obj: str, value: Any, message: str | None = None, errno: int = 1004) -> ApiError:
    return acct_fail(422, errno, field_name, message or f"Invalid value for field {field_name}.", obj, value)


def _required(field_name: str, obj: str) -> ApiError:
    return acct_fail(422, 1001, field_name, f"Field {field_name} is required.", obj, None)


def parse_money_input(value: Any, field_name: str, obj: str) -> tuple[Decimal, str | None]:
    """Money arrives as {"amount": "1.00", "code": "USD"}; tolerate a bare decimal string too."""
    code: str | None = None
    raw = value
    if isinstance(value, dict):
        raw = value.get("amount")
        c = value.get("code")
        code = c if isinstance(c, str) and c else None
    amount = dec(raw)
    if amount is None:
        raise _invalid(field_name, obj, raw)
    return amount, code


def _int_field(value: Any, field_name: str, obj: str) -> int:
    if isinstance(value, bool):
        raise _invalid(field_name, obj, value, errno=1015)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise _invalid(field_name, obj, value, errno=1015)


def _date_field(value: Any, field_name: str, obj: str) -> date:
    parsed = parse_date(value)
    if parsed is None:
        raise _invalid(field_name, obj, value, errno=1033)
    return parsed


def due_date_of(create_date: date, offset: int, obj: str = "invoice") -> date:
    """create_date + due_offset_days, refused with a validation error when past the calendar."""
    try:
        return create_date + timedelta(days=offset)
    except OverflowError:
        raise _invalid(
            "due_offset_days",
            obj,
            offset,
            "The due date (create_date plus due_offset_days) must be a valid date before 10000-01-01.",
            1033,
        ) from None


def _pct_field(value: Any, field_name: str, obj: str) -> Decimal:
    if value is None or value == "":
        return ZERO
    parsed = dec(value)
    if parsed is None:
        raise acct_fail(422, 1018, field_name, "Percent values should be strings formatted as decimals.", obj, value)
    return parsed


class Books:
    """Domain operations over :class:`Db`. Raises :class:`ApiError` with accounting bodies."""

    def __init__(
        self,
        account_id: str,
        base_currency: str,
        today: date,
        now: Callable[[], datetime],
        rng: random.Random,
    ) -> None:
        self.db = Db()
        self.account_id = account_id
        self.base_currency = base_currency
        self.today = today
        self.now = now  # naive US/Eastern "now" on the sandbox's calendar
        self.rng = rng  # for uuids etc. of records created at run time

    # ---------------------------------------------------------------- ids / misc
    def next_id(self, kind: str, start: int) -> int:
        value = self.db.next_ids.get(kind, start)
        self.db.next_ids[kind] = value + 1
        return value

    def new_uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    # ---------------------------------------------------------------- clients
    def build_client(self, fields: JSON, signup_utc: datetime, updated_et: datetime) -> JSON:
        cid = self.next_id("client", 100001)
        rec = dict(CLIENT_TEMPLATE)
        for key, value in fields.items():
            if key in CLIENT_WRITABLE:
                rec[key] = "" if value is None and key in _CLIENT_STR_FIELDS else value
        if not rec["organization"]:
            # Server-side fill (PY SDK fixture create_client_response): org := email, else the name.
            rec["organization"] = rec["email"] or f"{rec['fname']} {rec['lname']}".strip()
        if not rec["username"]:
            base = f"{rec['fname']}{rec['lname']}".lower().replace(" ", "") or "client"
            rec["username"] = f"{base}{cid % 100}"
        rec.update(
            id=cid,
            userid=cid,
            accounting_systemid=self.account_id,
            signup_date=fmt_dt(signup_utc),
            updated=fmt_dt(updated_et),
            uuid=self.new_uuid(),
            vis_state=int(fields.get("vis_state", 0) or 0),
        )
        self.db.clients[cid] = rec
        return rec

    def create_client(self, body: JSON) -> JSON:
        cur = body.get("currency_code")
        if cur is not None and (not isinstance(cur, str) or len(cur) != 3):
            raise _invalid("currency_code", "client", cur)
        email = body.get("email")
        if email is not None and not isinstance(email, str):
            raise _invalid("email", "client", email)
        now = self.now()
        signup = now.replace(tzinfo=EASTERN)
        fields = {k: v for k, v in body.items() if k in CLIENT_WRITABLE}
        if not fields.get("currency_code"):
            fields["currency_code"] = self.base_currency
        rec = self.build_client(fields, signup.astimezone(UTC).replace(tzinfo=None), now)
        contacts = body.get("contacts")
        if isinstance(contacts, list):
            self.db.client_contacts[rec["id"]] = [c for c in contacts if isinstance(c, dict)]
        return rec

    def update_client(self, rec: JSON, body: JSON) -> None:
        cur = body.get("currency_code")
        if "currency_code" in body and (not isinstance(cur, str) or len(cur) != 3):
            raise _invalid("currency_code", "client", cur)
        for key, value in body.items():
            if key in CLIENT_WRITABLE:
                rec[key] = "" if value is None and key in _CLIENT_STR_FIELDS else value
        if isinstance(body.get("contacts"), list):
            self.db.client_contacts[rec["id"]] = [c for c in body["contacts"] if isinstance(c, dict)]
        rec["updated"] = fmt_dt(self.now())

    # ---------------------------------------------------------------- invoices
    def _client_for(self, customerid: Any, obj: str) -> JSON:
        cid = _int_field(customerid, "customerid", obj)
        client = self.db.clients.get(cid)
        if client is None or client["vis_state"] == 1:
            raise acct_fail(422, 1012, "customerid", "Client not found.", "client", customerid)
        return client

    def _build_lines(self, raw_lines: Any, invoiceid: int, code: str, when: str) -> list[JSON]:
        if not isinstance(raw_lines, list):
            raise _invalid("lines", "invoice", raw_lines)
        lines: list[JSON] = []
        for n, raw in enumerate(raw_lines, start=1):
            if not isinstance(raw, dict):
                raise _invalid("lines", "invoice", raw)
            qty = dec(raw.get("qty", "1"))
            if qty is None:
                raise _invalid("qty", "line", raw.get("qty"))
            unit, _ = parse_money_input(raw.get("unit_cost", "0"), "unit_cost", "line")
            lines.append(self.make_line(invoiceid, n, raw, qty, unit, code, when))
        return lines

    def make_line(self, invoiceid: int, n: int, raw: JSON, qty: Decimal, unit: Decimal, code: str, when: str) -> JSON:
        t1 = _pct_field(raw.get("taxAmount1"), "taxAmount1", "line")
        t2 = _pct_field(raw.get("taxAmount2"), "taxAmount2", "line")
        return {
            "amount": money(qty * unit, code),
            "basecampid": 0,
            "compounded_tax": False,
            "date": None,
            "description": raw.get("description") or "",
            "expenseid": int(raw.get("expenseid") or 0),
            "invoiceid": invoiceid,
            "lineid": n,
            "modern_project_id": None,
            "modern_time_entries": [],
            "name": raw.get("name") or "",
            "qty": pct_str(qty),
            "retainer_id": None,
            "retainer_period_id": None,
            "taskno": n,
            "taxAmount1": pct_str(t1),
            "taxAmount2": pct_str(t2),
            "taxName1": raw.get("taxName1") or ("" if not t1 else None),
            "taxName2": raw.get("taxName2") or ("" if not t2 else None),
            "taxNumber1": raw.get("taxNumber1"),
            "taxNumber2": raw.get("taxNumber2"),
            "type": int(raw.get("type") or 0),
            "unit_cost": money(unit, code),
            "updated": when,
        }

    def build_invoice(
        self,
        client: JSON,
        create_date: date,
        due_offset_days: int,
        base: str,
        invoice_number: str | None,
        created_at: datetime,
        extra: JSON | None = None,
    ) -> JSON:
        """Make an invoice record (lines empty; caller sets them and calls recompute_invoice)."""
        iid = self.next_id("invoice", 500001)
        code = client["currency_code"] or self.base_currency
        when = fmt_dt(created_at)
        org = client["organization"] or f"{client['fname']} {client['lname']}".strip()
        rec: JSON = {
            "accountid": self.account_id,
            "accounting_systemid": self.account_id,
            "address": "",
            "amount": money(ZERO, code),
            "auto_bill": False,
            "autobill_status": None,
            "basecampid": 0,
            "city": client["p_city"],
            "code": client["p_code"],
            "country": client["p_country"],
            "create_date": create_date.isoformat(),
            "created_at": when,
            "currency_code": code,
            "current_organization": org,
            "customerid": client["id"],
            "date_paid": None,
            "deposit_amount": None,
            "deposit_percentage": None,
            "deposit_status": "none",
            "description": "",
            "discount_description": None,
            "discount_total": money(ZERO, code),
            "discount_value": "0",
            "display_status": base,
            "dispute_status": None,
            "due_date": due_date_of(create_date, due_offset_days).isoformat(),
            "due_offset_days": due_offset_days,
            "estimateid": 0,
            "ext_archive": 0,
            "fname": client["fname"],
            "fulfillment_date": create_date.isoformat(),
            "generation_date": create_date.isoformat(),
            "gmail": False,
            "id": iid,
            "invoice_number": invoice_number or self.next_invoice_number(),
            "invoiceid": iid,
            "language": client.get("language") or "en",
            "last_order_status": None,
            "lines": [],
            "lname": client["lname"],
            "net_paid_amount": money(ZERO, code),
            "notes": "",
            "organization": org,
            "outstanding": money(ZERO, code),
            "ownerid": 1,
            "paid": money(ZERO, code),
            "parent": 0,
            "payment_details": "",
            "payment_status": "unpaid",
            "po_number": None,
            "province": client["p_province"],
            "return_uri": None,
            "sentid": 0 if base == "draft" else 1,
            "show_attachments": True,
            "status": _BASE_STATUS[base],
            "street": client["p_street"],
            "street2": client["p_street2"],
            "template": "clean-grouped",
            "terms": None,
            "updated": when,
            "uuid": self.new_uuid(),
            "v3_status": base,
            "vat_name": client.get("vat_name"),
            "vat_number": client.get("vat_number") or "",
            "version": created_at.strftime("%Y-%m-%d %H:%M:%S.%f"),
            "vis_state": 0,
        }
        if extra:
            rec.update(extra)
        self.db.invoices[iid] = rec
        self.db.payments_by_invoice[iid] = []
        return rec

    def next_invoice_number(self) -> str:
        """Increment the newest invoice's number keeping its width ("0000052" -> "0000053")."""
        best = 0
        width = 7
        for inv in self.db.invoices.values():
            num = inv["invoice_number"]
            if isinstance(num, str) and num.isdigit() and int(num) >= best:
                best, width = int(num), max(len(num), 1)
        return str(best + 1).zfill(width)

    def recompute_invoice(self, inv: JSON) -> None:
        code = inv["currency_code"]
        dv = Decimal(inv.get("discount_value") or "0")
        factor = (HUNDRED - dv) / HUNDRED
        subtotal = ZERO
        tax = ZERO
        for line in inv["lines"]:
            amt = Decimal(line["amount"]["amount"])
            subtotal += amt
            for key in ("taxAmount1", "taxAmount2"):
                pct = Decimal(line.get(key) or "0")
                if pct:
                    tax += q2(amt * factor * pct / HUNDRED)
        discount = q2(subtotal * dv / HUNDRED)
        amount = subtotal - discount + tax
        paid_sum = ZERO
        last_date: str | None = None
        for pid in self.db.payments_by_invoice.get(inv["id"], ()):
            pay = self.db.payments[pid]
            if pay["vis_state"] == 1:
                continue
            paid_sum += Decimal(pay["amount"]["amount"])
            if last_date is None or pay["date"] > last_date:
                last_date = pay["date"]
        paid = min(paid_sum, amount)
        outstanding = amount - paid
        base = inv["display_status"]
        if paid > ZERO and base == "draft":
            base = inv["display_status"] = "sent"  # recording a payment takes it out of draft
        if paid > ZERO and outstanding <= ZERO:
            status, v3, pstatus, date_paid = PAID, "paid", "paid", last_date
        elif paid > ZERO:
            status, v3, pstatus, date_paid = PARTIAL, "partial", "partial", None
        else:
            status, v3, pstatus, date_paid = _BASE_STATUS[base], base, "unpaid", None
        inv.update(
            amount=money(amount, code),
            paid=money(paid, code),
            net_paid_amount=money(paid, code),
            outstanding=money(outstanding, code),
            discount_total=money(-discount, code),
            status=status,
            v3_status=v3,
            payment_status=pstatus,
            date_paid=date_paid,
        )
        if invoice_is_overdue(inv, self.today):
            inv["v3_status"] = "overdue"

    def create_invoice(self, body: JSON) -> JSON:
        if body.get("customerid") in (None, ""):
            raise _required("customerid", "invoice")
        if body.get("create_date") in (None, ""):
            raise _required("create_date", "invoice")
        client = self._client_for(body["customerid"], "invoice")
        create_date = _date_field(body["create_date"], "create_date", "invoice")
        offset = _int_field(body.get("due_offset_days", 0) or 0, "due_offset_days", "invoice")
        if offset < 0:
            raise _invalid("due_offset_days", "invoice", offset, errno=1025)
        due_date_of(create_date, offset)  # refuse before allocating an id
        number = body.get("invoice_number")
        if number is not None and not isinstance(number, str | int):
            raise _invalid("invoice_number", "invoice", number)
        code = body.get("currency_code") or client["currency_code"] or self.base_currency
        if not isinstance(code, str) or len(code) != 3:
            raise _invalid("currency_code", "invoice", code)
        now = self.now()
        # Validate lines before allocating an id so a rejected create leaves no trace.
        lines = self._build_lines(body.get("lines", []), 0, code, fmt_dt(now))
        dv = _pct_field(body.get("discount_value"), "discount_value", "invoice")
        extra: JSON = {k: body[k] for k in ("notes", "terms", "po_number", "description", "template") if k in body}
        inv = self.build_invoice(client, create_date, offset, "draft", str(number) if number else None, now, extra)
        inv["currency_code"] = code
        for line in lines:
            line["invoiceid"] = inv["id"]
        inv["lines"] = lines
        inv["discount_value"] = pct_str(dv)
        if body.get("status") == SENT or parse_bool(body.get("action_mark_as_sent")):
            inv["display_status"] = "sent"
            inv["sentid"] = 1
        self.recompute_invoice(inv)
        return inv

    def mark_sent(self, inv: JSON) -> None:
        if inv["display_status"] == "draft":
            inv["display_status"] = "sent"
            inv["sentid"] = 1
        self.recompute_invoice(inv)
        self._touch(inv)

    def update_invoice(self, inv: JSON, body: JSON) -> None:
        fields = {k: v for k, v in body.items() if k in INVOICE_EDITABLE}
        create_date = date.fromisoformat(inv["create_date"])
        if "create_date" in fields:
            create_date = _date_field(fields["create_date"], "create_date", "invoice")
        offset = inv["due_offset_days"]
        if "due_offset_days" in fields:
            offset = _int_field(fields["due_offset_days"], "due_offset_days", "invoice")
        due = due_date_of(create_date, offset)  # before anything changes
        if "customerid" in fields:
            client = self._client_for(fields["customerid"], "invoice")
            inv["customerid"] = client["id"]
        inv["create_date"], inv["due_offset_days"], inv["due_date"] = create_date.isoformat(), offset, due.isoformat()
        if "currency_code" in fields:
            inv["currency_code"] = fields["currency_code"]
        if "discount_value" in fields:
            inv["discount_value"] = pct_str(_pct_field(fields["discount_value"], "discount_value", "invoice"))
        if "lines" in fields:
            inv["lines"] = self._build_lines(fields["lines"], inv["id"], inv["currency_code"], fmt_dt(self.now()))
        for key, value in fields.items():
            if key not in {
                "customerid",
                "create_date",
                "due_offset_days",
                "currency_code",
                "discount_value",
                "lines",
                "status",
            }:
                inv[key] = str(value) if key == "invoice_number" and value is not None else value
        if fields.get("status") == SENT and inv["display_status"] == "draft":
            inv["display_status"] = "sent"
            inv["sentid"] = 1
        self.recompute_invoice(inv)
        self._touch(inv)

    def _touch(self, rec: JSON) -> None:
        now = self.now()
        rec["updated"] = fmt_dt(now)
        if "version" in rec:
            rec["version"] = now.strftime("%Y-%m-%d %H:%M:%S.%f")

    # ---------------------------------------------------------------- payments
    def build_payment(self, inv: JSON, amount: Decimal, on: date, ptype: str, note: str, when: datetime) -> JSON:
        pid = self.next_id("payment", 700001)
        rec: JSON = {
            "accounting_systemid": self.account_id,
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
        self.db.payments[pid] = rec
        self.db.payments_by_invoice.setdefault(inv["id"], []).append(pid)
        return rec

    def create_payment(self, body: JSON) -> JSON:
        for req in ("invoiceid", "amount", "date"):
            if body.get(req) in (None, "", {}):
                raise _required(req, "payment")
        iid = _int_field(body["invoiceid"], "invoiceid", "payment")
        inv = self.db.invoices.get(iid)
        if inv is None or inv["vis_state"] == 1:
            raise acct_fail(422, 1012, "invoiceid", "Invoice not found.", "invoice", body["invoiceid"])
        amount, code = parse_money_input(body["amount"], "amount", "payment")
        if amount <= ZERO:
            raise _invalid("amount", "payment", body["amount"], "Payment amount must be greater than zero.", 1028)
        if code and code != inv["currency_code"]:
            raise _invalid("amount", "payment", code, "Payment currency must match the invoice currency.")
        on = _date_field(body["date"], "date", "payment")
        ptype = body.get("type") or "Check"
        if ptype not in PAYMENT_TYPES:
            raise _invalid("type", "payment", ptype)
        before = Decimal(inv["outstanding"]["amount"])
        pay = self.build_payment(inv, q2(amount), on, ptype, str(body.get("note") or ""), self.now())
        pay["send_client_notification"] = body.get("send_client_notification")
        excess = q2(amount) - max(before, ZERO)
        if excess > ZERO:
            # The surplus becomes a client credit (fact sheet §2 Payments, PM "Make Payment").
            crid = self.next_id("credit", 900001)
            self.db.credits[crid] = {
                "creditid": crid,
                "clientid": inv["customerid"],
                "amount": money(excess, inv["currency_code"]),
                "paymentid": pay["id"],
                "vis_state": 0,
            }
            pay["overpaymentid"] = crid
        self.recompute_invoice(inv)
        self._touch(inv)
        return pay

    def set_payment_vis_state(self, pay: JSON, vis: int) -> None:
        pay["vis_state"] = vis
        if pay["overpaymentid"] and pay["overpaymentid"] in self.db.credits:
            self.db.credits[pay["overpaymentid"]]["vis_state"] = 1 if vis == 1 else 0
        pay["updated"] = fmt_dt(self.now())
        inv = self.db.invoices.get(pay["invoiceid"])
        if inv is not None:
            self.recompute_invoice(inv)
            self._touch(inv)

    def update_payment(self, pay: JSON, body: JSON) -> None:
        if "amount" in body:
            amount, _ = parse_money_input(body["amount"], "amount", "payment")
            if amount <= ZERO:
                raise _invalid("amount", "payment", body["amount"], errno=1028)
            pay["amount"] = money(amount, pay["amount"]["code"])
        if "date" in body:
            pay["date"] = _date_field(body["date"], "date", "payment").isoformat()
        if "type" in body:
            if body["type"] not in PAYMENT_TYPES:
                raise _invalid("type", "payment", body["type"])
            pay["type"] = body["type"]
        if "note" in body:
            pay["note"] = str(body["note"] or "")
        self.set_payment_vis_state(pay, pay["vis_state"])

    # ---------------------------------------------------------------- expenses
    def build_expense(self, fields: JSON, when: datetime) -> JSON:
        eid = self.next_id("expense", 3000001)
        cat = self.db.categories[fields["categoryid"]]
        rec: JSON = {
            "account_name": "",
            "accountid": None,
            "accounting_systemid": self.account_id,
            "amount": fields["amount"],
            "background_jobid": None,
            "bank_name": "",
            "bill_matches": [],
            "billable": False,
            "categoryid": cat["id"],
            "clientid": 0,
            "compounded_tax": False,
            "converse_projectid": None,
            "date": fields["date"],
            "expenseid": eid,
            "ext_accountid": None,
            "ext_invoiceid": 0,
            "ext_systemid": 0,
            "from_bulk_import": False,
            "has_receipt": False,
            "id": eid,
            "include_receipt": False,
            "invoiceid": None,
            "is_cogs": cat["is_cogs"],
            "isduplicate": False,
            "markup_percent": "0",
            "modern_projectid": None,
            "notes": "",
            "potential_bill_payment": False,
            "profileid": None,
            "projectid": 0,
            "staffid": fields["staffid"],
            "status": 0,
            "taxAmount1": None,
            "taxAmount2": None,
            "taxName1": None,
            "taxName2": None,
            "taxPercent1": None,
            "taxPercent2": None,
            "transactionid": None,
            "updated": fmt_dt(when),
            "vendor": None,
            "vis_state": 0,
        }
        for key, value in fields.items():
            if key not in ("categoryid", "amount", "date", "staffid"):
                rec[key] = value
        if rec["clientid"]:
            rec["status"] = 1  # billable to a client and not yet invoiced -> "outstanding"
        self.db.expenses[eid] = rec
        return rec

    def _expense_fields(self, body: JSON, current: JSON | None) -> JSON:
        out: JSON = {}
        if "amount" in body:
            amount, code = parse_money_input(body["amount"], "amount", "expense")
            base_code = current["amount"]["code"] if current else self.base_currency
            out["amount"] = money(amount, code or base_code)
        if "categoryid" in body:
            cat_id = _int_field(body["categoryid"], "categoryid", "expense")
            if cat_id not in self.db.categories:
                raise acct_fail(422, 1012, "categoryid", "Category not found.", "category", body["categoryid"])
            out["categoryid"] = cat_id
            out["is_cogs"] = self.db.categories[cat_id]["is_cogs"]
        if "staffid" in body:
            staff = _int_field(body["staffid"], "staffid", "expense")
            if staff <= 0:
                raise _invalid("staffid", "expense", staff)
            out["staffid"] = staff
        if "date" in body:
            out["date"] = _date_field(body["date"], "date", "expense").isoformat()
        if "clientid" in body:
            cid = _int_field(body["clientid"] or 0, "clientid", "expense")
            if cid and cid not in self.db.clients:
                raise acct_fail(422, 1012, "clientid", "Client not found.", "client", cid)
            out["clientid"] = cid
        if "projectid" in body:
            pid = _int_field(body["projectid"] or 0, "projectid", "expense")
            if pid and pid not in self.db.projects:
                raise acct_fail(422, 1012, "projectid", "Project not found.", "project", pid)
            out["projectid"] = pid
        if "has_receipt" in body:
            flag = parse_bool(body["has_receipt"])
            if flag is None:
                raise _invalid("has_receipt", "expense", body["has_receipt"], errno=1031)
            out["has_receipt"] = flag
        for key in ("vendor", "notes", "bank_name", "account_name", "taxName1", "taxName2"):
            if key in body:
                out[key] = body[key]
        if "markup_percent" in body:
            out["markup_percent"] = pct_str(_pct_field(body["markup_percent"], "markup_percent", "expense"))
        amount_rec = out.get("amount") or (current["amount"] if current else None)
        for n in ("1", "2"):
            if f"taxPercent{n}" in body:
                raw = body[f"taxPercent{n}"]
                if raw in (None, ""):
                    out[f"taxPercent{n}"] = None
                    out[f"taxAmount{n}"] = None
                else:
                    pct = _pct_field(raw, f"taxPercent{n}", "expense")
                    out[f"taxPercent{n}"] = pct_str(pct)
                    if amount_rec is not None and f"taxAmount{n}" not in body:
                        base = Decimal(amount_rec["amount"])
                        out[f"taxAmount{n}"] = money(base * pct / HUNDRED, amount_rec["code"])
            if f"taxAmount{n}" in body and body[f"taxAmount{n}"] is not None:
                tax_amt, tax_code = parse_money_input(body[f"taxAmount{n}"], f"taxAmount{n}", "expense")
                out[f"taxAmount{n}"] = money(tax_amt, tax_code or (amount_rec or {}).get("code", "USD"))
        return out

    def create_expense(self, body: JSON) -> JSON:
        for req in ("categoryid", "staffid", "date", "amount"):
            if body.get(req) in (None, "", {}):
                raise _required(req, "expense")
        fields = self._expense_fields(body, None)
        return self.build_expense(fields, self.now())

    def update_expense(self, rec: JSON, body: JSON) -> None:
        fields = self._expense_fields({k: v for k, v in body.items() if k in EXPENSE_EDITABLE}, rec)
        rec.update(fields)
        rec["status"] = 1 if rec["clientid"] and rec["status"] == 0 else rec["status"]
        rec["updated"] = fmt_dt(self.now())

    # ---------------------------------------------------------------- items / taxes
    def create_item(self, body: JSON) -> JSON:
        if not body.get("name"):
            raise _required("name", "item")
        iid = self.next_id("item", 80001)
        rec: JSON = {
            "accounting_systemid": self.account_id,
            "description": "",
            "id": iid,
            "inventory": None,
            "itemid": iid,
            "name": "",
            "qty": "1",
            "sku": None,
            "tax1": 0,
            "tax2": 0,
            "unit_cost": money(ZERO, self.base_currency),
            "updated": fmt_dt(self.now()),
            "vis_state": 0,
        }
        self._apply_item(rec, body)
        self.db.items[iid] = rec
        return rec

    def _apply_item(self, rec: JSON, body: JSON) -> None:
        for key in ("name", "description", "sku"):
            if key in body:
                rec[key] = body[key]
        for key in ("qty", "inventory"):
            if key in body:
                if body[key] is None and key == "inventory":
                    rec[key] = None
                    continue
                value = dec(body[key])
                if value is None:
                    raise _invalid(key, "item", body[key])
                rec[key] = pct_str(value)
        if "unit_cost" in body:
            amount, code = parse_money_input(body["unit_cost"], "unit_cost", "item")
            rec["unit_cost"] = money(amount, code or rec["unit_cost"]["code"])
        for key in ("tax1", "tax2"):
            if key in body:
                tid = _int_field(body[key] or 0, key, "item")
                if tid and tid not in self.db.taxes:
                    raise acct_fail(422, 1012, key, "Tax not found.", "tax", tid)
                rec[key] = tid

    def update_item(self, rec: JSON, body: JSON) -> None:
        self._apply_item(rec, body)
        rec["updated"] = fmt_dt(self.now())

    def create_tax(self, body: JSON) -> JSON:
        name = body.get("name")
        if not name:
            raise _required("name", "tax")
        if any(t["name"].lower() == str(name).lower() for t in self.db.taxes.values()):
            raise acct_fail(422, 1026, "name", "The tax in the request already exists.", "tax", name)
        tid = self.next_id("tax", 6001)
        rec: JSON = {
            "accounting_systemid": self.account_id,
            "amount": "0",
            "compound": False,
            "id": tid,
            "name": str(name),
            "number": None,
            "taxid": tid,
            "updated": fmt_dt(self.now()),
        }
        self.update_tax(rec, {k: v for k, v in body.items() if k != "name"})
        self.db.taxes[tid] = rec
        return rec

    def update_tax(self, rec: JSON, body: JSON) -> None:
        if "amount" in body:
            rec["amount"] = pct_str(_pct_field(body["amount"], "amount", "tax"))
        if body.get("name"):
            rec["name"] = str(body["name"])
        if "number" in body:
            rec["number"] = body["number"]
        if "compound" in body:
            flag = parse_bool(body["compound"])
            if flag is None:
                raise _invalid("compound", "tax", body["compound"], errno=1031)
            rec["compound"] = flag
        rec["updated"] = fmt_dt(self.now())

    # ---------------------------------------------------------------- client balances
    def client_balances(self, client_ids: Iterable[int] | None = None) -> dict[int, dict[str, dict[str, Decimal]]]:
        """Per client, per balance kind, per currency. One pass over invoices and credits."""
        wanted = None if client_ids is None else set(client_ids)
        out: dict[int, dict[str, dict[str, Decimal]]] = {}

        def bucket(cid: int, kind: str, code: str, value: Decimal) -> None:
            kinds = out.setdefault(cid, {})
            per = kinds.setdefault(kind, {})
            per[code] = per.get(code, ZERO) + value

        for inv in self.db.invoices.values():
            cid = inv["customerid"]
            if inv["vis_state"] == 1 or (wanted is not None and cid not in wanted):
                continue
            code = inv["currency_code"]
            if inv["status"] == DRAFT:
                bucket(cid, "draft", code, Decimal(inv["amount"]["amount"]))
                continue
            outstanding = Decimal(inv["outstanding"]["amount"])
            bucket(cid, "grand_total", code, Decimal(inv["amount"]["amount"]))
            if outstanding > ZERO:
                bucket(cid, "outstanding", code, outstanding)
                if invoice_is_overdue(inv, self.today):
                    bucket(cid, "overdue", code, outstanding)
        for credit in self.db.credits.values():
            cid = credit["clientid"]
            if credit["vis_state"] == 1 or (wanted is not None and cid not in wanted):
                continue
            bucket(cid, "credit", credit["amount"]["code"], Decimal(credit["amount"]["amount"]))
        return out
