"""What a FreshBooks resource is to the sandbox: named fields, read by the routes and the contract.

One module per resource under ``resources/`` builds one :class:`Resource`; the route modules
serve any of them by these fields alone, and ``contract.describe()`` lists them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ._wire import JSON
from .books import Books
from .query import Pred, SearchKey, SortKey

Family = Literal["accounting", "business"]
Include = Callable[[Books, JSON], Any]  # (books, record) -> value of the included key


@dataclass(frozen=True)
class Seeding:
    """Inputs of seeding: the shared seeded RNG (consumed in ``seed_order``) and the sizes asked."""

    books: Books
    rng: random.Random
    seed: int
    clients: int
    invoices: int
    expenses: int
    time_entries: int = 0

    def stream(self, name: str) -> random.Random:
        """A random stream of its own, so a new resource never shifts the others' records."""
        return random.Random(f"{name}:{self.seed}")


def set_vis_state(books: Books, rec: JSON, vis: int) -> None:
    rec["vis_state"] = vis
    books.touch(rec)


@dataclass(frozen=True)
class Resource:
    name: str  # singular: body key, write-log resource, accounting error "object"
    plural: str  # list key
    family: Family
    table: str  # Db table holding the records
    # accounting: "area/res" under /accounting/account/{account_id}/; business: the list path under
    # the host, e.g. "projects/business/{business_id}/projects"
    path: str
    item_path: str = ""  # business family: ".../project" (+ "/{rid}" for one record)
    # A record that belongs to one record of ``parent`` (a table): served at item_path/{rid}<item_suffix>
    # where {rid} is the parent's id, stored under that id, created by POST there (``create_for``).
    parent: str | None = None
    item_suffix: str = ""
    create_for: Callable[[Books, JSON, JSON], JSON] | None = None  # (books, parent, body) -> record
    extra_tables: tuple[str, ...] = ()  # indexes and side tables this module keeps
    id_field: str = ""  # the legacy id name FreshBooks puts in a 404 body ("invoiceid")
    not_found: str = ""
    search: Mapping[str, SearchKey] = field(default_factory=dict)
    sorts: Mapping[str, SortKey] = field(default_factory=dict)
    default_sort: str | None = None  # business family: applied whatever the query says
    includes: Mapping[str, Include] = field(default_factory=dict)
    hidden: tuple[str, ...] = ()  # stored fields served only when included by the same name
    # Records hidden from lists unless the query names this key (None: always hidden).
    hide_unless: str | None = "vis_state"
    hide: Pred = lambda r: r.get("vis_state", 0) == 1
    create: Callable[[Books, JSON], JSON] | None = None
    update: Callable[[Books, JSON, JSON], None] | None = None
    set_vis_state: Callable[[Books, JSON, int], None] = set_vis_state
    vis_put: bool = True  # PUT {"vis_state": n} supported
    http_delete: bool = False  # DELETE supported (accounting: soft when vis_put, else hard; business: 204)
    per_page: int | None = None  # default page size when not the family's
    paged: bool = True  # False: a list is every row, with no meta (service_rates)
    # business family wire hooks: one record (GET/POST/PUT) and list rows; extra list meta
    wire_one: Callable[[Books, JSON], JSON] = lambda _b, r: r
    wire_row: Callable[[Books, JSON], JSON] = lambda _b, r: r
    item_extras: Callable[[Books, JSON], JSON] = lambda _b, r: {}
    list_meta: Callable[[list[JSON]], JSON] = lambda _rows: {}
    seed: Callable[[Seeding], None] | None = None
    seed_order: int = 100
    quirks: tuple[str, ...] = ()

    @property
    def tables(self) -> tuple[str, ...]:
        return (self.table, *self.extra_tables)


def render(res: Resource, books: Books, rec: JSON, includes: list[str]) -> JSON:
    """An accounting record as served: hidden fields dropped unless included, includes added."""
    out = dict(rec)
    wanted = set(includes)
    for name in res.hidden:
        if name not in wanted:
            out.pop(name, None)
    for name, include in res.includes.items():
        if name in wanted:
            out[name] = include(books, rec)
    return out
