"""Expense categories (``expenses/categories``): a fixed tree, read-only (other verbs are 405)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from .. import query as Q
from .._wire import JSON, fmt_dt
from ..resource import Resource, Seeding
from ..seed_data import CATEGORY_TREE

CategorySpec = tuple[str, bool, tuple[str, ...], tuple[int, int], tuple[str, ...]]


def category_spec(cat: JSON) -> CategorySpec | None:
    """The seed-data row of a category or of its parent (amount range, vendors)."""
    name = cat["category"]
    for spec in CATEGORY_TREE:
        if spec[0] == name or name in spec[2]:
            return spec
    return None  # pragma: no cover


def _category(cid: int, name: str, parent: int | None, is_cogs: bool, created: str) -> JSON:
    return {
        "category": name,
        "categoryid": cid,
        "created_at": created,
        "id": cid,
        "is_cogs": is_cogs,
        "is_editable": parent is not None,
        "parentid": parent,
        "transaction_posted": False,
        "updated_at": created,
        "vis_state": 0,
    }


def seed(s: Seeding) -> None:
    """Fixed ids from 4100001, independent of the seed, so tests and docs can rely on them."""
    created = fmt_dt(datetime.combine(s.books.today - timedelta(days=1000), time(9, 0)))
    cid = 4100001
    for name, is_cogs, children, _, _ in CATEGORY_TREE:
        parent = cid
        s.books.db.categories[cid] = _category(cid, name, None, is_cogs, created)
        cid += 1
        for child in children:
            s.books.db.categories[cid] = _category(cid, child, parent, is_cogs, created)
            cid += 1


RESOURCE = Resource(
    name="category",
    plural="categories",
    family="accounting",
    table="categories",
    path="expenses/categories",
    id_field="categoryid",
    not_found="Category not found.",
    search={
        "categoryid": Q.eq_int("id"),
        "categoryids": Q.in_int("id"),
        "name": Q.like("category"),
        "is_cogs": Q.field_bool("is_cogs"),
        "is_editable": Q.field_bool("is_editable"),
        "parentid": Q.eq_int("parentid"),
        "vis_state": Q.vis_state(),
    },
    sorts={"name": Q.by("category", lower=True)},
    vis_put=False,
    seed=seed,
    seed_order=10,
    quirks=("get and list only; POST, PUT and DELETE -> 405", "the name key matches 'category' as a substring"),
)
