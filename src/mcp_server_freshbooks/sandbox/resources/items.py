"""Items (``items/items``): model, search keys, sorts and the seeded catalog of services sold."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from .. import query as Q
from .._wire import JSON, acct_fail, dec, fmt_dt, money, pct_str
from ..books import Books
from ..fields import ZERO, int_field, invalid, money_input, required
from ..resource import Resource, Seeding
from ..seed_data import SERVICES


def _record(books: Books, iid: int, unit_cost: JSON, when: str) -> JSON:
    return {
        "accounting_systemid": books.account_id,
        "description": "",
        "id": iid,
        "inventory": None,
        "itemid": iid,
        "name": "",
        "qty": "1",
        "sku": None,
        "tax1": 0,
        "tax2": 0,
        "unit_cost": unit_cost,
        "updated": when,
        "vis_state": 0,
    }


def create_item(books: Books, body: JSON) -> JSON:
    if not body.get("name"):
        raise required("name", "item")
    iid = books.next_id("item", 80001)
    rec = _record(books, iid, money(ZERO, books.base_currency), fmt_dt(books.now()))
    _apply(books, rec, body)
    books.db.items[iid] = rec
    return rec


def _apply(books: Books, rec: JSON, body: JSON) -> None:
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
                raise invalid(key, "item", body[key])
            rec[key] = pct_str(value)
    if "unit_cost" in body:
        amount, code = money_input(body["unit_cost"], "unit_cost", "item")
        rec["unit_cost"] = money(amount, code or rec["unit_cost"]["code"])
    for key in ("tax1", "tax2"):
        if key in body:
            tid = int_field(body[key] or 0, key, "item")
            if tid and tid not in books.db.taxes:
                raise acct_fail(422, 1012, key, "Tax not found.", "tax", tid)
            rec[key] = tid


def update_item(books: Books, rec: JSON, body: JSON) -> None:
    _apply(books, rec, body)
    rec["updated"] = fmt_dt(books.now())


def seed(s: Seeding) -> None:
    books = s.books
    when = fmt_dt(datetime.combine(books.today - timedelta(days=900), time(10, 0)))
    for n, (name, cost) in enumerate(SERVICES):
        iid = books.next_id("item", 80001)
        rec = _record(books, iid, money(Decimal(cost), books.base_currency), when)
        rec.update(
            description=f"{name} (standard rate)",
            inventory=None if n % 3 else "25",
            name=name,
            sku=f"SKU-{100 + n}" if n % 2 == 0 else None,
            tax1=6001 if n % 4 == 0 else 0,
        )
        books.db.items[iid] = rec


RESOURCE = Resource(
    name="item",
    plural="items",
    family="accounting",
    table="items",
    path="items/items",
    id_field="itemid",
    not_found="Item not found.",
    search={
        "itemid": Q.eq_int("id"),
        "itemids": Q.in_int("id"),
        "sku": Q.eq_str("sku"),
        "description": Q.like("description"),
        "unit_cost_min": Q.num_bound("unit_cost", False),
        "unit_cost_max": Q.num_bound("unit_cost", True),
        "inventory_min": Q.num_bound("inventory", False),
        "inventory_max": Q.num_bound("inventory", True),
        "qty_min": Q.num_bound("qty", False),
        "qty_max": Q.num_bound("qty", True),
        "vis_state": Q.vis_state(),
        "updated_min": Q.date_bound("updated", False),
        "updated_max": Q.date_bound("updated", True),
    },
    sorts={"name": Q.by("name", lower=True)},
    create=create_item,
    update=update_item,
    seed=seed,
    seed_order=30,
    quirks=("qty and inventory are decimal strings without trailing zeros",),
)
