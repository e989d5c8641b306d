"""Expenses (``expenses/expenses``): model, validation, search keys, sorts, includes and seeding."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from .. import query as Q
from .._wire import JSON, acct_fail, fmt_dt, money, parse_bool, pct_str
from ..books import Books
from ..fields import HUNDRED, date_field, int_field, invalid, money_input, names, pct_field, refuse_if_deleted, required
from ..resource import Resource, Seeding
from ..seed_data import CATEGORY_TREE, TAX_BY_CURRENCY, cents, eastern
from .categories import category_spec

EDITABLE = frozenset(
    names(
        "amount categoryid clientid projectid staffid date vendor notes taxName1 taxName2 taxPercent1 taxPercent2"
        " taxAmount1 taxAmount2 markup_percent has_receipt bank_name account_name billable attachment"
    )
)


def build_expense(books: Books, fields: JSON, when: datetime) -> JSON:
    eid = books.next_id("expense", 3000001)
    cat = books.db.categories[fields["categoryid"]]
    rec: JSON = {
        "account_name": "",
        "accountid": None,
        "accounting_systemid": books.account_id,
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
    books.db.expenses[eid] = rec
    return rec


def _reference(books: Books, body: JSON, key: str, table: str, what: str) -> int:
    """An optional id of another record (0 = none); an unknown one is errno 1012."""
    rid = int_field(body[key] or 0, key, "expense")
    if rid and rid not in books.db.tables[table]:
        raise acct_fail(422, 1012, key, f"{what} not found.", what.lower(), rid)
    return rid


def _tax_fields(body: JSON, amount_rec: JSON | None) -> JSON:
    """taxPercentN (taxAmountN computed from the amount unless sent) and taxAmountN as money."""
    out: JSON = {}
    for n in ("1", "2"):
        if f"taxPercent{n}" in body:
            raw = body[f"taxPercent{n}"]
            if raw in (None, ""):
                out[f"taxPercent{n}"] = None
                out[f"taxAmount{n}"] = None
            else:
                pct = pct_field(raw, f"taxPercent{n}", "expense")
                out[f"taxPercent{n}"] = pct_str(pct)
                if amount_rec is not None and f"taxAmount{n}" not in body:
                    base = Decimal(amount_rec["amount"])
                    out[f"taxAmount{n}"] = money(base * pct / HUNDRED, amount_rec["code"])
        if f"taxAmount{n}" in body and body[f"taxAmount{n}"] is not None:
            tax_amt, tax_code = money_input(body[f"taxAmount{n}"], f"taxAmount{n}", "expense")
            out[f"taxAmount{n}"] = money(tax_amt, tax_code or (amount_rec or {}).get("code", "USD"))
    return out


def _fields(books: Books, body: JSON, current: JSON | None) -> JSON:
    out: JSON = {}
    if "amount" in body:
        amount, code = money_input(body["amount"], "amount", "expense")
        base_code = current["amount"]["code"] if current else books.base_currency
        out["amount"] = money(amount, code or base_code)
    if "categoryid" in body:
        cat_id = int_field(body["categoryid"], "categoryid", "expense")
        if cat_id not in books.db.categories:
            raise acct_fail(422, 1012, "categoryid", "Category not found.", "category", body["categoryid"])
        out["categoryid"] = cat_id
        out["is_cogs"] = books.db.categories[cat_id]["is_cogs"]
    if "staffid" in body:
        staff = int_field(body["staffid"], "staffid", "expense")
        if staff <= 0:
            raise invalid("staffid", "expense", staff)
        out["staffid"] = staff
    if "date" in body:
        out["date"] = date_field(body["date"], "date", "expense").isoformat()
    if "clientid" in body:
        out["clientid"] = _reference(books, body, "clientid", "clients", "Client")
    if "projectid" in body:
        out["projectid"] = _reference(books, body, "projectid", "projects", "Project")
    if "has_receipt" in body:
        flag = parse_bool(body["has_receipt"])
        if flag is None:
            raise invalid("has_receipt", "expense", body["has_receipt"], errno=1031)
        out["has_receipt"] = flag
    if "attachment" in body:
        out.update(_receipt(books, body["attachment"]))
    for key in ("vendor", "notes", "bank_name", "account_name", "taxName1", "taxName2"):
        if key in body:
            out[key] = body[key]
    if "markup_percent" in body:
        out["markup_percent"] = pct_str(pct_field(body["markup_percent"], "markup_percent", "expense"))
    out.update(_tax_fields(body, out.get("amount") or (current["amount"] if current else None)))
    return out


def _receipt(books: Books, value: Any) -> JSON:
    """``attachment: {"jwt", "media_type"}`` of an uploaded file (#17); null removes the receipt."""
    if value is None:
        return {"attachment": None, "has_receipt": False}
    jwt = value.get("jwt") if isinstance(value, dict) else None
    upload = books.uploads.get(jwt) if isinstance(jwt, str) else None
    if upload is None:
        raise invalid("attachment", "expense", jwt, "Attachment not found: upload the file first.", 1012)
    aid = books.next_id("attachment", 9000001)
    wire = {"attachmentid": aid, "id": aid, "jwt": jwt, "media_type": upload["media_type"]}
    return {"attachment": wire, "has_receipt": True}


def create_expense(books: Books, body: JSON) -> JSON:
    for req in ("categoryid", "staffid", "date", "amount"):
        if body.get(req) in (None, "", {}):
            raise required(req, "expense")
    return build_expense(books, _fields(books, body, None), books.now())


def update_expense(books: Books, rec: JSON, body: JSON) -> None:
    refuse_if_deleted(rec, "expense")
    rec.update(_fields(books, {k: v for k, v in body.items() if k in EDITABLE}, rec))
    rec["status"] = 1 if rec["clientid"] and rec["status"] == 0 else rec["status"]
    rec["updated"] = fmt_dt(books.now())


# ---------------------------------------------------------------- search, sorts, includes
def _clientid_not(key: str) -> Q.Spec:
    def spec(values: list[str], books: Books) -> Q.Pred:
        targets = {Q.int_value(key, v) for part in values for v in part.split(",") if v.strip()}
        return lambda r: r["clientid"] not in targets

    return spec


SEARCH: dict[str, Q.SearchKey] = {
    "expenseid": Q.eq_int("id"),
    "expenseids": Q.in_int("id"),
    "clientid": Q.eq_int("clientid"),
    "clientids": Q.in_int("clientid"),
    "clientid_not": _clientid_not,
    "staffid": Q.eq_int("staffid"),
    "staffids": Q.in_int("staffid"),
    "profileid": Q.eq_int("profileid"),
    "profileids": Q.in_int("profileid"),
    "categoryid": Q.eq_int("categoryid"),
    "categoryids": Q.in_int("categoryid"),
    "projectid": Q.eq_int("projectid"),
    "projectids": Q.in_int("projectid"),
    "has_receipt": Q.field_bool("has_receipt"),
    "amount_min": Q.num_bound("amount", False),
    "amount_max": Q.num_bound("amount", True),
    "date_min": Q.date_bound("date", False),
    "date_max": Q.date_bound("date", True),
    "vendor_like": Q.like("vendor"),
    "vis_state": Q.vis_state(),
    "updated_min": Q.date_bound("updated", False),
    "updated_max": Q.date_bound("updated", True),
}


def _attachment(_books: Books, rec: JSON) -> JSON | None:
    stored = rec.get("attachment")
    if isinstance(stored, dict):
        return {**stored, "expenseid": rec["id"]}
    if not rec["has_receipt"]:
        return None
    aid = rec["id"] + 11
    jwt = f"sandbox-receipt-{rec['id']}"
    return {"id": aid, "expenseid": rec["id"], "jwt": jwt, "media_type": "image/jpeg", "attachmentid": aid}


INCLUDES: dict[str, Any] = {
    "category": lambda books, r: dict(books.db.categories[r["categoryid"]]),
    "project": lambda books, r: (
        dict(books.db.projects[r["projectid"]]) if r["projectid"] in books.db.projects else None
    ),
    "attachment": _attachment,
}


# ---------------------------------------------------------------- seeding
def seed(s: Seeding) -> None:
    """Expenses over the last 18 months across the category tree, some billable, some taxed."""
    books, rng, today = s.books, s.rng, s.books.today
    client_ids = [cid for cid, c in books.db.clients.items() if c["vis_state"] != 1]
    project_ids = list(books.db.projects)
    cats = list(books.db.categories.values())
    weights = [4 if c["parentid"] is None else 2 for c in cats]
    for _ in range(s.expenses):
        cat = rng.choices(cats, weights)[0]
        spec = category_spec(cat) or CATEGORY_TREE[0]
        d = today - timedelta(days=rng.randint(0, 547))
        roll = rng.random()
        code = "CAD" if roll < 0.05 else "EUR" if roll < 0.10 else books.base_currency
        amount = cents(rng, spec[3][0], spec[3][1])
        fields = {
            "categoryid": cat["id"],
            "staffid": 1,
            "date": d.isoformat(),
            "amount": money(amount, code),
            "vendor": rng.choice(spec[4]),
            "has_receipt": rng.random() < 0.6,
            "notes": rng.choice(["", "", "Q" + str((d.month - 1) // 3 + 1) + " expense", "Reimbursable"]),
        }
        if client_ids and rng.random() < 0.15:
            fields["clientid"] = rng.choice(client_ids)
        if project_ids and rng.random() < 0.10:
            fields["projectid"] = rng.choice(project_ids)
        if rng.random() < 0.2:
            name, pct = TAX_BY_CURRENCY[code]
            fields.update(taxName1=name, taxPercent1=pct, taxAmount1=money(amount * Decimal(pct) / 100, code))
        rec = build_expense(books, fields, eastern(d, rng))
        if rng.random() < 0.01:
            rec["vis_state"] = 1


RESOURCE = Resource(
    name="expense",
    plural="expenses",
    family="accounting",
    table="expenses",
    path="expenses/expenses",
    id_field="expenseid",
    not_found="Expense not found.",
    search=SEARCH,
    sorts={"date": Q.by("date"), "amount": Q.by_amount(), "vendor": Q.by("vendor", lower=True)},
    includes=INCLUDES,
    hidden=("attachment",),
    create=create_expense,
    update=update_expense,
    seed=seed,
    seed_order=70,
    quirks=(
        "staffid is required and any positive int is accepted (the owner's is 1)",
        "taxAmountN is computed from taxPercentN and the amount unless sent",
        "a billable expense (clientid set) gets status 1",
        "a deleted expense refuses edits with 422 errno 1011 (PUT vis_state 0 restores it)",
        "vendor_like and the vendor sort are plausible, not in FreshBooks' docs",
        "attachment {jwt} must name an uploaded file (422 errno 1012 otherwise) and sets has_receipt; "
        "it is served only with include[]=attachment",
    ),
)
