"""Estimates (``estimates/estimates``): quotes with invoice-shaped lines, statuses 1-6, the email and
accept actions, and the link to the invoice made from one (fact sheet "more" §4).

Totals use the invoices' own arithmetic (``invoices._totals``): the sandbox computes them itself.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from .. import query as Q
from .._wire import JSON, fmt_dt, money, parse_bool, pct_str
from ..books import Books
from ..fields import date_field, invalid, names, pct_field, required
from ..resource import Resource, Seeding
from ..seed_data import SERVICES, TAX_BY_CURRENCY, eastern
from .invoices import _totals, client_for
from .lines import build_lines, make_line

DRAFT, SENT, VIEWED, REPLIED, ACCEPTED, INVOICED = 1, 2, 3, 4, 5, 6
UI_STATUS = {DRAFT: "draft", SENT: "sent", VIEWED: "viewed", REPLIED: "replied", ACCEPTED: "accepted",
             INVOICED: "invoiced"}  # fmt: skip
FIRST_ID = 700001
EDITABLE = frozenset(
    names("customerid create_date notes terms po_number currency_code discount_value estimate_number lines description")
)


def _next_id(books: Books) -> int:
    # Not books.next_id: a new counter would change the seeded books' fingerprint (next_ids).
    return max(books.db.estimates, default=FIRST_ID - 1) + 1


def _next_number(books: Books) -> str:
    best = max((int(e["estimate_number"]) for e in books.db.estimates.values() if e["estimate_number"].isdigit()),
               default=0)  # fmt: skip
    return str(best + 1).zfill(7)


def set_status(rec: JSON, status: int) -> None:
    """status and the fields FreshBooks computes from it (read-only on the wire)."""
    rec.update(status=status, ui_status=UI_STATUS[status], display_status=UI_STATUS[status],
               accepted=status == ACCEPTED or (status == INVOICED and bool(rec.get("accepted"))),
               invoiced=status == INVOICED, sentid=0 if status == DRAFT else 1)  # fmt: skip


def recompute(rec: JSON) -> None:
    amount, discount = _totals(rec)
    code = rec["currency_code"]
    rec["amount"] = money(amount, code)
    rec["discount_total"] = money(-discount, code)


def build_estimate(books: Books, eid: int, client: JSON, create_date: date, code: str, when: str) -> JSON:
    org = client["organization"] or f"{client['fname']} {client['lname']}".strip()
    rec: JSON = {
        "accepted": False, "accounting_systemid": books.account_id, "address": "", "amount": money(Decimal(0), code),
        "city": client["p_city"], "code": client["p_code"], "country": client["p_country"],
        "create_date": create_date.isoformat(), "created_at": when, "currency_code": code,
        "current_organization": org, "customerid": client["id"], "description": "",
        "discount_total": money(Decimal(0), code), "discount_value": "0", "estimate_number": "",
        "estimateid": eid, "ext_archive": 0, "fname": client["fname"], "id": eid,
        "language": client.get("language") or "en", "lines": [], "lname": client["lname"], "notes": "",
        "organization": org, "ownerid": 1, "po_number": None, "province": client["p_province"],
        "reply_status": None, "require_client_signature": False, "street": client["p_street"],
        "street2": client["p_street2"], "template": "clean-grouped", "terms": "", "updated": when,
        "vat_name": client.get("vat_name"), "vat_number": client.get("vat_number") or "", "vis_state": 0,
    }  # fmt: skip
    set_status(rec, DRAFT)
    return rec


def _apply_fields(books: Books, rec: JSON, fields: JSON) -> None:
    if "customerid" in fields:
        rec["customerid"] = client_for(books, fields["customerid"], "estimate")["id"]
    if "create_date" in fields:
        rec["create_date"] = date_field(fields["create_date"], "create_date", "estimate").isoformat()
    if "currency_code" in fields:
        code = fields["currency_code"]
        if not isinstance(code, str) or len(code) != 3:
            raise invalid("currency_code", "estimate", code)
        rec["currency_code"] = code
    if "discount_value" in fields:
        rec["discount_value"] = pct_str(pct_field(fields["discount_value"], "discount_value", "estimate"))
    if "lines" in fields:  # replaces the whole set, as for invoices
        rec["lines"] = build_lines(fields["lines"], rec["id"], rec["currency_code"], fmt_dt(books.now()))
        for line in rec["lines"]:
            line.pop("invoiceid", None)
            line["estimateid"] = rec["id"]
    for key in ("notes", "terms", "po_number", "description"):
        if key in fields:
            rec[key] = fields[key]
    if fields.get("estimate_number"):
        rec["estimate_number"] = str(fields["estimate_number"])
    recompute(rec)


def create_estimate(books: Books, body: JSON) -> JSON:
    for key in ("customerid", "create_date"):
        if body.get(key) in (None, ""):
            raise required(key, "estimate")
    client = client_for(books, body["customerid"], "estimate")
    create_date = date_field(body["create_date"], "create_date", "estimate")
    code = body.get("currency_code") or client["currency_code"] or books.base_currency
    eid = _next_id(books)
    rec = build_estimate(books, eid, client, create_date, code, fmt_dt(books.now()))
    fields = {k: v for k, v in body.items() if k in EDITABLE and k not in ("customerid", "create_date")}
    _apply_fields(books, rec, fields)  # validates everything before the record is stored
    if not rec["estimate_number"]:
        rec["estimate_number"] = _next_number(books)
    books.db.estimates[eid] = rec
    return rec


def update_estimate(books: Books, rec: JSON, body: JSON) -> None:
    """Actions (accept, email) apply alone, as on invoices; otherwise the ordinary fields."""
    if parse_bool(body.get("action_accept")):
        set_status(rec, ACCEPTED)
        rec["accepted"] = True
    elif parse_bool(body.get("action_email")):
        if rec["status"] == DRAFT:
            set_status(rec, SENT)
        books.send_email("estimate", rec["id"])
    else:
        _apply_fields(books, rec, {k: v for k, v in body.items() if k in EDITABLE})
    books.touch(rec)


def mark_invoiced(books: Books, estimateid: int) -> None:
    """An invoice made from this estimate was sent: status 6 (fact sheet: "converted ... and sent")."""
    rec = books.db.estimates.get(int(estimateid))
    if rec is not None and rec["status"] != INVOICED:
        set_status(rec, INVOICED)
        books.touch(rec)


SEARCH: dict[str, Q.SearchKey] = {
    "estimateid": Q.eq_int("id"),
    "estimateids": Q.in_int("id"),
    "estimate_number": Q.eq_str("estimate_number"),
    "estimate_number_like": Q.like("estimate_number"),
    "notes": Q.like("notes"),
    "statusid": Q.eq_int("status"),
    "statusids": Q.in_int("status"),
    "vis_state": Q.vis_state(),
}


def seed(s: Seeding) -> None:
    """Two estimates in each status 1-6, from a stream of their own (the other tables stay as they were)."""
    books, rng = s.books, s.stream("estimates")
    client_ids = sorted(cid for cid, c in books.db.clients.items() if c["vis_state"] != 1)
    if not client_ids:
        return
    for n in range(12):
        status = n % 6 + 1
        client = books.db.clients[client_ids[rng.randrange(len(client_ids))]]
        code = client["currency_code"] or books.base_currency
        created = books.today - timedelta(days=rng.randint(1, 120))
        when = fmt_dt(eastern(created, rng))
        eid = FIRST_ID + n
        rec = build_estimate(books, eid, client, created, code, when)
        rec["estimate_number"] = str(n + 1).zfill(7)
        for ln in range(1, rng.randint(1, 3) + 1):
            name, cost = SERVICES[rng.randrange(len(SERVICES))]
            raw: JSON = {"name": name, "description": f"{name} (quoted)"}
            if rng.random() < 0.5:
                raw["taxName1"], raw["taxAmount1"] = TAX_BY_CURRENCY[code]
            line = make_line(eid, ln, raw, Decimal(rng.choice((1, 2, 5, 10, 20))), Decimal(cost), code, when)
            line.pop("invoiceid", None)
            line["estimateid"] = eid
            rec["lines"].append(line)
        if rng.random() < 0.3:
            rec["discount_value"] = "10"
        rec["notes"] = "Valid for 30 days."
        set_status(rec, status)
        rec["accepted"] = status in (ACCEPTED, INVOICED)
        recompute(rec)
        books.db.estimates[eid] = rec


RESOURCE = Resource(
    name="estimate",
    plural="estimates",
    family="accounting",
    table="estimates",
    path="estimates/estimates",
    id_field="estimateid",
    not_found="Estimate not found.",
    search=SEARCH,
    includes={"lines": lambda _b, r: [dict(line) for line in r["lines"]]},
    hidden=("lines",),
    create=create_estimate,
    update=update_estimate,
    http_delete=True,
    seed=seed,
    seed_order=70,
    quirks=(
        "status 1 draft, 2 sent, 3 viewed, 4 replied, 5 accepted, 6 invoiced; ui_status/display_status name it",
        "amount = lines - discount_value % + per-line taxes, as invoices (the same code)",
        "PUT action_accept -> status 5; action_email -> status 2 from draft, logged in emails; actions apply alone",
        "an invoice created with estimateid, once sent, makes the estimate status 6",
        "a lines update replaces the whole set; DELETE is soft (vis_state 1)",
    ),
)
