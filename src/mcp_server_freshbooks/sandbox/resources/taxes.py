"""Taxes (``taxes/taxes``): model, search keys, sorts and the four seeded taxes."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from .. import query as Q
from .._wire import JSON, acct_fail, fmt_dt, parse_bool, pct_str
from ..books import Books
from ..fields import invalid, pct_field, required
from ..resource import Resource, Seeding

SEEDED = (("HST", "13", "RT0001"), ("Sales Tax", "8.875", None), ("VAT", "21", "DE123"), ("GST", "5", None))


def _record(books: Books, tid: int, name: str, when: str) -> JSON:
    return {
        "accounting_systemid": books.account_id,
        "amount": "0",
        "compound": False,
        "id": tid,
        "name": name,
        "number": None,
        "taxid": tid,
        "updated": when,
    }


def create_tax(books: Books, body: JSON) -> JSON:
    name = body.get("name")
    if not name:
        raise required("name", "tax")
    if any(t["name"].lower() == str(name).lower() for t in books.db.taxes.values()):
        raise acct_fail(422, 1026, "name", "The tax in the request already exists.", "tax", name)
    tid = books.next_id("tax", 6001)
    rec = _record(books, tid, str(name), fmt_dt(books.now()))
    update_tax(books, rec, {k: v for k, v in body.items() if k != "name"})
    books.db.taxes[tid] = rec
    return rec


def update_tax(books: Books, rec: JSON, body: JSON) -> None:
    if "amount" in body:
        rec["amount"] = pct_str(pct_field(body["amount"], "amount", "tax"))
    if body.get("name"):
        rec["name"] = str(body["name"])
    if "number" in body:
        rec["number"] = body["number"]
    if "compound" in body:
        flag = parse_bool(body["compound"])
        if flag is None:
            raise invalid("compound", "tax", body["compound"], errno=1031)
        rec["compound"] = flag
    rec["updated"] = fmt_dt(books.now())


def seed(s: Seeding) -> None:
    when = fmt_dt(datetime.combine(s.books.today - timedelta(days=900), time(10, 0)))
    for name, pct, number in SEEDED:
        tid = s.books.next_id("tax", 6001)
        s.books.db.taxes[tid] = {**_record(s.books, tid, name, when), "amount": pct, "number": number}


RESOURCE = Resource(
    name="tax",
    plural="taxes",
    family="accounting",
    table="taxes",
    path="taxes/taxes",
    id_field="taxid",
    not_found="Tax not found.",
    search={
        "taxid": Q.eq_int("id"),
        "taxids": Q.in_int("id"),
        "name": Q.like("name"),
        "number": Q.like("number"),
        "compound": Q.field_bool("compound"),
        "updated_min": Q.date_bound("updated", False),
        "updated_max": Q.date_bound("updated", True),
    },
    sorts={"name": Q.by("name", lower=True)},
    create=create_tax,
    update=update_tax,
    vis_put=False,
    http_delete=True,
    seed=seed,
    seed_order=20,
    quirks=("DELETE removes the tax (hard delete)", "a second tax with the same name -> 422 errno 1026"),
)
