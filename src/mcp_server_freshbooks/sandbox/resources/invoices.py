"""Invoices (``invoices/invoices``): the model and its derived fields (amount, paid, outstanding,
statuses), lines, actions, search keys, sorts, includes and seeding (with their payments)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from .. import query as Q
from .._wire import JSON, acct_fail, fmt_dt, fmt_version, money, parse_bool, parse_date, pct_str, q2
from ..books import Books
from ..fields import HUNDRED, ZERO, date_field, int_field, invalid, names, pct_field, refuse_if_deleted, required
from ..resource import Resource, Seeding
from ..seed_data import SERVICES, TAX_BY_CURRENCY, eastern
from .lines import build_lines, make_line

# status ints of fact sheet §4
DRAFT, SENT, VIEWED, PAID, PARTIAL = 1, 2, 3, 4, 8
BASE_STATUS = {"draft": DRAFT, "sent": SENT, "viewed": VIEWED}
OVERDUE_CAPABLE = frozenset({SENT, VIEWED, PARTIAL})

EDITABLE = frozenset(
    names(
        "customerid create_date due_offset_days notes terms po_number currency_code discount_value"
        " invoice_number lines address street street2 city province country code language template description"
        " fname lname organization vat_name vat_number status presentation"
    )
)
# Fields update_invoice sets itself; the other editable ones are copied as sent.
_COMPUTED_ON_UPDATE = frozenset(
    {"customerid", "create_date", "due_offset_days", "currency_code", "discount_value", "presentation"}
)
# An invoice's look (#17), served with include[]=presentation; stored only once set (seeded invoices
# keep their fields). image_logo_src takes any of the three upload prefixes FreshBooks' examples use.
DEFAULT_PRESENTATION: JSON = {
    "date_format": "mm/dd/yyyy",
    "image_banner_position_y": 0,
    "image_banner_src": None,
    "image_logo_src": None,
    "theme_font_name": "modern",
    "theme_layout": "simple",
    "theme_primary_color": "#1fab13",
}
LOGO_PREFIXES = ("/uploads/images/", "/service/uploads/images/", "/service/api/uploads/images/")
# Every invoice field in wire order; None marks a value build_invoice fills in.
TEMPLATE: JSON = dict.fromkeys(
    names(
        "accountid accounting_systemid address amount auto_bill autobill_status basecampid city code country"
        " create_date created_at currency_code current_organization customerid date_paid deposit_amount"
        " deposit_percentage deposit_status description discount_description discount_total discount_value"
        " display_status dispute_status due_date due_offset_days estimateid ext_archive fname fulfillment_date"
        " generation_date gmail id invoice_number invoiceid language last_order_status lines lname"
        " net_paid_amount notes organization outstanding ownerid paid parent payment_details payment_status"
        " po_number province return_uri sentid show_attachments status street street2 template terms updated"
        " uuid v3_status vat_name vat_number version vis_state"
    )
)
TEMPLATE.update(
    address="", auto_bill=False, basecampid=0, deposit_status="none", description="", discount_value="0",
    estimateid=0, ext_archive=0, gmail=False, notes="", ownerid=1, parent=0, payment_details="",
    payment_status="unpaid", show_attachments=True, template="clean-grouped", vis_state=0,
)  # fmt: skip


def invoice_is_overdue(inv: JSON, as_of: date) -> bool:
    """Fact sheet §4: sent/viewed/partial, something outstanding, due strictly before ``as_of``."""
    if inv.get("status") not in OVERDUE_CAPABLE:
        return False
    if Decimal(inv["outstanding"]["amount"]) <= ZERO:
        return False
    due = parse_date(inv.get("due_date"))
    return due is not None and due < as_of


def due_date_of(create_date: date, offset: int, obj: str = "invoice") -> date:
    """create_date + due_offset_days, refused with a validation error when past the calendar."""
    try:
        return create_date + timedelta(days=offset)
    except OverflowError:
        message = "The due date (create_date plus due_offset_days) must be a valid date before 10000-01-01."
        raise invalid("due_offset_days", obj, offset, message, 1033) from None


# ---------------------------------------------------------------- model
def build_invoice(
    books: Books,
    client: JSON,
    create_date: date,
    due_offset_days: int,
    base: str,
    invoice_number: str | None,
    created_at: datetime,
    extra: JSON | None = None,
) -> JSON:
    """Make an invoice record (lines empty; the caller sets them and calls recompute_invoice)."""
    iid = books.next_id("invoice", 500001)
    code = client["currency_code"] or books.base_currency
    when, day = fmt_dt(created_at), create_date.isoformat()
    org = client["organization"] or f"{client['fname']} {client['lname']}".strip()
    rec = dict(TEMPLATE)
    rec.update(
        accountid=books.account_id, accounting_systemid=books.account_id, amount=zero(code),
        city=client["p_city"], code=client["p_code"], country=client["p_country"], create_date=day,
        created_at=when, currency_code=code, current_organization=org, customerid=client["id"],
        discount_total=zero(code), display_status=base,
        due_date=due_date_of(create_date, due_offset_days).isoformat(), due_offset_days=due_offset_days,
        fname=client["fname"], fulfillment_date=day, generation_date=day, id=iid,
        invoice_number=invoice_number or next_invoice_number(books), invoiceid=iid,
        language=client.get("language") or "en", lines=[], lname=client["lname"],
        net_paid_amount=zero(code), organization=org, outstanding=zero(code),
        paid=zero(code), province=client["p_province"], sentid=0 if base == "draft" else 1,
        status=BASE_STATUS[base], street=client["p_street"], street2=client["p_street2"], updated=when,
        uuid=books.new_uuid(), v3_status=base, vat_name=client.get("vat_name"),
        vat_number=client.get("vat_number") or "", version=fmt_version(created_at),
    )  # fmt: skip
    if extra:
        rec.update(extra)
    books.db.invoices[iid] = rec
    books.db.payments_by_invoice[iid] = []
    return rec


def zero(code: str) -> JSON:
    """money(ZERO, code) without the arithmetic (a new invoice has six of them)."""
    return {"amount": "0.00", "code": code}


def next_invoice_number(books: Books) -> str:
    """Increment the newest invoice's number keeping its width ("0000052" -> "0000053")."""
    best = 0
    width = 7
    for inv in books.db.invoices.values():
        num = inv["invoice_number"]
        if isinstance(num, str) and num.isdigit() and int(num) >= best:
            best, width = int(num), max(len(num), 1)
    return str(best + 1).zfill(width)


def _totals(inv: JSON) -> tuple[Decimal, Decimal]:
    """(amount, discount): lines - discount (``discount_value`` %) + per-line taxes, rounded per line
    per tax (half up); also the totals of estimates."""
    dv = Decimal(inv.get("discount_value") or "0")
    factor = (HUNDRED - dv) / HUNDRED
    subtotal = ZERO
    tax = ZERO
    for line in inv["lines"]:
        amt = Decimal(line["amount"]["amount"])
        subtotal += amt
        first = q2(amt * factor * Decimal(line.get("taxAmount1") or "0") / HUNDRED)
        # a compounded second tax is charged on the discounted line plus the first tax
        second_on = amt * factor + (first if line.get("compounded_tax") else ZERO)
        tax += first + q2(second_on * Decimal(line.get("taxAmount2") or "0") / HUNDRED)
    discount = q2(subtotal * dv / HUNDRED)
    return subtotal - discount + tax, discount


def _paid(books: Books, inv: JSON) -> tuple[Decimal, str | None]:
    """Sum of live payments and the latest payment date."""
    paid_sum = ZERO
    last_date: str | None = None
    for pid in books.db.payments_by_invoice.get(inv["id"], ()):
        pay = books.db.payments[pid]
        if pay["vis_state"] == 1:
            continue
        paid_sum += Decimal(pay["amount"]["amount"])
        if last_date is None or pay["date"] > last_date:
            last_date = pay["date"]
    return paid_sum, last_date


def recompute_invoice(books: Books, inv: JSON) -> None:
    code = inv["currency_code"]
    amount, discount = _totals(inv)
    paid_sum, last_date = _paid(books, inv)
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
        status, v3, pstatus, date_paid = BASE_STATUS[base], base, "unpaid", None
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
    if invoice_is_overdue(inv, books.today):
        inv["v3_status"] = "overdue"


def presentation_of(books: Books, inv: JSON, value: Any) -> JSON:
    """The invoice's presentation with ``value``'s keys applied; a logo must be an uploaded image."""
    if not isinstance(value, dict):
        raise invalid("presentation", "invoice", value)
    out = dict(inv.get("presentation") or DEFAULT_PRESENTATION)
    for key, item in value.items():
        if key not in DEFAULT_PRESENTATION and not key.endswith("_heading"):
            continue  # unknown keys are dropped, as FreshBooks drops unknown fields
        out[key] = item
    for key in ("image_logo_src", "image_banner_src"):
        src = out.get(key)
        if src in (None, ""):
            out[key] = None
            continue
        prefix = next((p for p in LOGO_PREFIXES if isinstance(src, str) and src.startswith(p)), None)
        upload = books.uploads.get(src[len(prefix) :]) if prefix else None
        if upload is None or upload["kind"] != "images":
            raise invalid(key, "invoice", src, f"{key} must be /service/uploads/images/<jwt> of an uploaded image.")
    return out


def client_for(books: Books, customerid: Any, obj: str) -> JSON:
    cid = int_field(customerid, "customerid", obj)
    client: JSON | None = books.db.clients.get(cid)
    if client is None or client["vis_state"] == 1:
        raise acct_fail(422, 1012, "customerid", "Client not found.", "client", customerid)
    return client


def create_invoice(books: Books, body: JSON) -> JSON:
    for key in ("customerid", "create_date"):
        if body.get(key) in (None, ""):
            raise required(key, "invoice")
    client = client_for(books, body["customerid"], "invoice")
    create_date = date_field(body["create_date"], "create_date", "invoice")
    offset = int_field(body.get("due_offset_days", 0) or 0, "due_offset_days", "invoice")
    if offset < 0:
        raise invalid("due_offset_days", "invoice", offset, errno=1025)
    due_date_of(create_date, offset)  # refuse before allocating an id
    number = body.get("invoice_number")
    if number is not None and not isinstance(number, str | int):
        raise invalid("invoice_number", "invoice", number)
    code = body.get("currency_code") or client["currency_code"] or books.base_currency
    if not isinstance(code, str) or len(code) != 3:
        raise invalid("currency_code", "invoice", code)
    now = books.now()
    # Validate lines before allocating an id so a rejected create leaves no trace.
    lines = build_lines(body.get("lines", []), 0, code, fmt_dt(now))
    dv = pct_field(body.get("discount_value"), "discount_value", "invoice")
    extra: JSON = {k: body[k] for k in ("notes", "terms", "po_number", "description", "template") if k in body}
    if "presentation" in body:
        extra["presentation"] = presentation_of(books, {}, body["presentation"])
    inv = build_invoice(books, client, create_date, offset, "draft", str(number) if number else None, now, extra)
    inv["currency_code"] = code
    for line in lines:
        line["invoiceid"] = inv["id"]
    inv["lines"] = lines
    inv["discount_value"] = pct_str(dv)
    if body.get("estimateid"):
        inv["estimateid"] = int_field(body["estimateid"], "estimateid", "invoice")
    if body.get("status") == SENT or parse_bool(body.get("action_mark_as_sent")):
        _sent(books, inv)
    recompute_invoice(books, inv)
    return inv


def _sent(books: Books, inv: JSON) -> None:
    """Out of draft, however it was sent (email, mark as sent, status 2); its estimate becomes invoiced."""
    if inv["display_status"] == "draft":
        inv["display_status"] = "sent"
        inv["sentid"] = 1
    if inv.get("estimateid"):
        from .estimates import mark_invoiced  # estimates build on invoices, not the reverse

        mark_invoiced(books, inv["estimateid"])


def mark_sent(books: Books, inv: JSON) -> None:
    _sent(books, inv)
    recompute_invoice(books, inv)
    books.touch(inv)


def update_fields(books: Books, inv: JSON, body: JSON) -> None:
    fields = {k: v for k, v in body.items() if k in EDITABLE}
    create_date = date.fromisoformat(inv["create_date"])
    if "create_date" in fields:
        create_date = date_field(fields["create_date"], "create_date", "invoice")
    offset = inv["due_offset_days"]
    if "due_offset_days" in fields:
        offset = int_field(fields["due_offset_days"], "due_offset_days", "invoice")
        if offset < 0:
            raise invalid("due_offset_days", "invoice", offset, errno=1025)
    due = due_date_of(create_date, offset)  # before anything changes (a due_date sent is ignored: read-only)
    presentation = presentation_of(books, inv, fields["presentation"]) if "presentation" in fields else None
    if "customerid" in fields:
        inv["customerid"] = client_for(books, fields["customerid"], "invoice")["id"]
    if presentation is not None:
        inv["presentation"] = presentation
    inv["create_date"], inv["due_offset_days"], inv["due_date"] = create_date.isoformat(), offset, due.isoformat()
    if "currency_code" in fields:
        inv["currency_code"] = fields["currency_code"]
    if "discount_value" in fields:
        inv["discount_value"] = pct_str(pct_field(fields["discount_value"], "discount_value", "invoice"))
    if "lines" in fields:
        inv["lines"] = build_lines(fields["lines"], inv["id"], inv["currency_code"], fmt_dt(books.now()))
    for key, value in fields.items():
        if key not in _COMPUTED_ON_UPDATE and key not in ("lines", "status"):
            inv[key] = str(value) if key == "invoice_number" and value is not None else value
    if fields.get("status") == SENT:
        _sent(books, inv)
    recompute_invoice(books, inv)
    books.touch(inv)


def update_invoice(books: Books, inv: JSON, body: JSON) -> None:
    """Phase order of the real API: vis_state (handled by the route) > actions > ordinary fields."""
    refuse_if_deleted(inv, "invoice")
    emailed = parse_bool(body.get("action_email"))
    if parse_bool(body.get("action_mark_as_sent")) or emailed:
        mark_sent(books, inv)
        if emailed:
            books.send_email("invoice", inv["id"])
        return
    update_fields(books, inv, body)


SEARCH: dict[str, Q.SearchKey] = {
    "customerid": Q.eq_int("customerid"),
    "customerids": Q.in_int("customerid"),
    "invoiceid": Q.eq_int("id"),
    "invoiceids": Q.in_int("id"),
    "invoice_number": Q.eq_str("invoice_number"),
    "invoice_number_like": Q.like("invoice_number"),
    "date_min": Q.date_bound("create_date", False),
    "date_max": Q.date_bound("create_date", True),
    "v3_status": Q.eq_str("v3_status"),
    "currency_code": Q.eq_str("currency_code"),
    "vis_state": Q.vis_state(),
    "updated_min": Q.date_bound("updated", False),
    "updated_max": Q.date_bound("updated", True),
}
SORTS: dict[str, Q.SortKey] = {"invoice_date": Q.by("create_date"), "invoice_number": Q.by("invoice_number")}


# ---------------------------------------------------------------- seeding
# Seeded invoice kinds and their weights (per 100 invoices).
_KINDS = names("draft sent viewed due_today overdue partial partial_overdue paid")
_WEIGHTS = (8, 10, 5, 2, 20, 6, 4, 45)
_FIXED_AGES = (1, 2, 7, 30, 31, 90, 180, 365, 400)  # the first overdue invoices cover these ages exactly


def _plans(rng: random.Random, n: int, today: date) -> list[tuple[date, int, str]]:
    """(create_date, due_offset_days, kind) per invoice, oldest first so numbers follow dates."""
    plans: list[tuple[date, int, str]] = []
    n_overdue = 0
    for _ in range(n):
        kind = rng.choices(_KINDS, _WEIGHTS)[0]
        offset = rng.choice((0, 7, 14, 15, 30, 30, 30, 45, 60))
        if kind in ("overdue", "partial_overdue"):
            age = _FIXED_AGES[n_overdue] if n_overdue < len(_FIXED_AGES) else rng.randint(1, 400)
            n_overdue += 1
            due = today - timedelta(days=age)
        elif kind == "due_today":
            due = today
        elif kind in ("sent", "viewed", "partial", "draft"):
            due = today + timedelta(days=rng.randint(1, 45))
            offset = max(offset, (due - today).days)
        else:  # paid
            due = today - timedelta(days=rng.randint(-20, 520))
        create = due - timedelta(days=offset)
        if create > today:
            create = today
            offset = (due - create).days
        plans.append((create, offset, kind))
    plans.sort(key=lambda p: p[0])
    return plans


def _seeded_lines(books: Books, rng: random.Random, inv: JSON, client: JSON) -> list[JSON]:
    code, when = client["currency_code"], inv["created_at"]
    lines = []
    for ln in range(1, rng.randint(1, 4) + 1):
        name, cost = SERVICES[rng.randrange(len(SERVICES))]
        qty = Decimal(rng.choice((1, 1, 2, 3, 5, 10, 40)))
        raw: JSON = {"name": name, "description": f"{name} for {client['organization']}"}
        if rng.random() < 0.35:
            tname, pct = TAX_BY_CURRENCY[code]
            raw["taxName1"] = tname
            raw["taxAmount1"] = pct
        lines.append(make_line(inv["id"], ln, raw, qty, Decimal(cost), code, when))
    return lines


def seed(s: Seeding) -> None:
    """Invoices across every status, overdue ages 1..400 days, some due today; their payments."""
    from .payments import seed_invoice_payments  # payments build on invoices, not the reverse

    books, rng, today = s.books, s.rng, s.books.today
    client_ids = [cid for cid, c in books.db.clients.items() if c["vis_state"] != 1]
    if not client_ids:
        return
    for number, (create, offset, kind) in enumerate(_plans(rng, s.invoices, today), start=1):
        client = books.db.clients[client_ids[rng.randrange(len(client_ids))]]
        base = "draft" if kind == "draft" else "viewed" if kind == "viewed" or rng.random() < 0.3 else "sent"
        inv = build_invoice(books, client, create, offset, base, str(number).zfill(7), eastern(create, rng))
        inv["lines"] = _seeded_lines(books, rng, inv, client)
        if rng.random() < 0.4:
            inv["notes"] = "Thank you for your business."
            inv["terms"] = f"Please pay the invoice within {offset} days" if offset else "Due on receipt"
        recompute_invoice(books, inv)
        seed_invoice_payments(books, rng, inv, kind, create, offset)
        if number % 97 == 0 and kind == "paid":
            inv["vis_state"] = 2  # a few archived invoices
        if number % 151 == 0 and kind == "draft":
            inv["vis_state"] = 1  # a deleted draft


RESOURCE = Resource(
    name="invoice",
    plural="invoices",
    family="accounting",
    table="invoices",
    path="invoices/invoices",
    id_field="invoiceid",
    not_found="Invoice not found.",
    search=SEARCH,
    sorts=SORTS,
    includes={
        "lines": lambda _b, r: [dict(line) for line in r["lines"]],
        "presentation": lambda _b, r: dict(r.get("presentation") or DEFAULT_PRESENTATION),
    },
    hidden=("lines", "presentation"),
    create=create_invoice,
    update=update_invoice,
    http_delete=True,
    seed=seed,
    seed_order=60,
    quirks=(
        "amount = lines - discount_value % + per-line taxes (percent of the discounted line, rounded per line)",
        "v3_status 'overdue' iff status in {2,3,8}, outstanding > 0 and due_date < today",
        "a PUT with action_mark_as_sent or action_email applies only the action; action_email is logged in emails",
        "a compounded_tax line charges taxAmount2 on the discounted line plus its first tax",
        "sending an invoice that carries an estimateid makes that estimate status 6 (invoiced)",
        "status: 2 with ordinary fields also marks sent; recording a payment takes a draft out of draft",
        "DELETE is soft (vis_state 1); numbers auto-increment keeping width ('0000052' -> '0000053')",
        "PUT lines replaces the whole set; due_date in a PUT is ignored (set due_offset_days); a deleted "
        "invoice refuses edits and actions with 422 errno 1011",
        "create_date + due_offset_days past 9999-12-31 -> 422 errno 1033 on due_offset_days",
        "date_min/date_max filter create_date; v3_status is the only status filter",
        "presentation is served only with include[]=presentation; a PUT merges its keys; image_logo_src must "
        "be /uploads/images/, /service/uploads/images/ or /service/api/uploads/images/ + an uploaded image's jwt",
    ),
)
