"""Accounting resources and the query builder for their `search[...]`, `include[]` and `sort` params.

FreshBooks silently ignores search keys it does not know and returns *unfiltered* results. A typo
in a filter would therefore show a bookkeeper every invoice as if it matched. The builder only
accepts the keys documented for each resource (see ../shared/reference/freshbooks-api.md) and
raises on anything else, so an unsupported filter fails loudly in development instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal

SearchKind = Literal["eq", "like", "in", "min", "max", "flag"]


@dataclass(frozen=True)
class Resource:
    """An accounting resource: its path under /accounting/account/{account_id}/ and its JSON keys."""

    path: str
    singular: str
    plural: str
    search_keys: frozenset[str] = frozenset()  # plain keys: search[x], search[x_like], search[x_min]...
    list_keys: frozenset[str] = frozenset()  # search[xs][] keys, given as the plural name
    flag_keys: frozenset[str] = frozenset()  # search[has_x]=true style booleans
    includes: frozenset[str] = frozenset()
    sorts: frozenset[str] = frozenset()
    delete_style: Literal["vis_state", "http"] = "vis_state"


def _keys(*names: str) -> frozenset[str]:
    return frozenset(names)


CLIENTS = Resource(
    path="users/clients",
    singular="client",
    plural="clients",
    search_keys=_keys(
        "email",
        "userid",
        "address_like",
        "fname_like",
        "lname_like",
        "note_like",
        "organization_like",
        "phone_like",
        "user_like",
        "updated_min",
        "updated_max",
        "vis_state",
    ),
    list_keys=_keys("userids"),
    flag_keys=_keys("has_credit", "has_draft", "has_outstanding", "has_overdue"),
    includes=_keys(
        "outstanding_balance",
        "credit_balance",
        "draft_balance",
        "overdue_balance",
        "grand_total_balance",
        "last_activity",
        "late_reminders",
        "late_fee",
        "contacts",  # secondary contacts (the create/update body's `contacts[]`), returned on request
    ),
    sorts=_keys(
        "client_id",
        "organization_name",
        "email",
        "bus_phone",
        "updated",
        "fullname",
        "primarycontact",
        "outstanding",
        "overdue",
        "credit",
    ),
)

INVOICES = Resource(
    path="invoices/invoices",
    singular="invoice",
    plural="invoices",
    search_keys=_keys(
        "customerid",
        "invoiceid",
        "invoice_number",
        "invoice_number_like",
        "date_min",
        "date_max",
        "updated_min",
        "updated_max",
        "v3_status",
        "vis_state",
    ),
    list_keys=_keys("customerids", "invoiceids"),
    includes=_keys(
        "lines",
        "presentation",
        "allowed_gateways",
        "contacts",
        "invoice_view_history",
        "invoice_send_history",
        "invoice_payment_history",
    ),
    sorts=_keys("invoice_date", "invoice_number"),
    delete_style="http",
)

PAYMENTS = Resource(
    path="payments/payments",
    singular="payment",
    plural="payments",
    search_keys=_keys(
        "logid",
        "date_min",
        "date_max",
        "updated_min",
        "updated_max",
        "amount_min",
        "amount_max",
        "type",
        "customerid",
        "clientid",
        "currency",
        "invoiceid",
        "notes",
        "client_name",
        "number",
        "payment_or_credit",
        "from_credit",
    ),
    list_keys=_keys("logids", "customerids", "clientids"),
    includes=_keys("client", "invoice", "credit_note", "order", "gateway"),
)

EXPENSES = Resource(
    path="expenses/expenses",
    singular="expense",
    plural="expenses",
    search_keys=_keys(
        "expenseid",
        "clientid",
        "clientid_not",
        "staffid",
        "profileid",
        "categoryid",
        "projectid",
        "amount_min",
        "amount_max",
        "date_min",
        "date_max",
        "updated_min",
        "updated_max",
    ),
    list_keys=_keys("expenseids", "clientids", "staffids", "profileids", "categoryids", "projectids"),
    flag_keys=_keys("has_receipt"),
    includes=_keys("attachment", "category", "expense_profile", "project", "account"),
    sorts=_keys("date", "amount", "vendor"),
)

EXPENSE_CATEGORIES = Resource(
    path="expenses/categories",
    singular="category",
    plural="categories",
    search_keys=_keys("name", "is_cogs", "is_editable", "parentid"),
    list_keys=_keys("categoryids"),
    includes=_keys("expense_usage_all_time", "expense_usage_this_year"),
)

ITEMS = Resource(
    path="items/items",
    singular="item",
    plural="items",
    search_keys=_keys(
        "itemid",
        "sku",
        "description",
        "unit_cost_min",
        "unit_cost_max",
        "inventory_min",
        "inventory_max",
        "qty_min",
        "qty_max",
        "updated_min",
        "updated_max",
    ),
    list_keys=_keys("itemids"),
)

TAXES = Resource(
    path="taxes/taxes",
    singular="tax",
    plural="taxes",
    search_keys=_keys("taxid", "name", "number", "compound", "updated_min", "updated_max"),
    list_keys=_keys("taxids"),
    delete_style="http",
)

SearchValue = str | int | Decimal | date | datetime | bool
CENT = Decimal("0.01")


def _format(value: SearchValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(value)


@dataclass
class Query:
    """Filters, includes and sort for one accounting resource; builds the query-string pairs.

    Between semantics (FreshBooks docs): `_min` is inclusive and `_max` is exclusive.
    """

    resource: Resource
    _params: list[tuple[str, str]] = field(default_factory=list)

    def _check(self, key: str, allowed: Iterable[str], kind: str) -> None:
        if key not in allowed:
            raise ValueError(
                f"{self.resource.plural}: search key {key!r} ({kind}) is not documented by FreshBooks; "
                f"it would be silently ignored. Allowed: {', '.join(sorted(allowed))}"
            )

    def equals(self, key: str, value: SearchValue) -> Query:
        self._check(key, self.resource.search_keys, "equals")
        self._params.append((f"search[{key}]", _format(value)))
        return self

    def like(self, key: str, value: str) -> Query:
        like_key = f"{key}_like"
        self._check(like_key, self.resource.search_keys, "like")
        self._params.append((f"search[{like_key}]", value))
        return self

    def in_list(self, plural_key: str, values: Iterable[SearchValue]) -> Query:
        self._check(plural_key, self.resource.list_keys, "in-list")
        for value in values:
            self._params.append((f"search[{plural_key}][]", _format(value)))
        return self

    def between(self, key: str, minimum: SearchValue | None = None, maximum: SearchValue | None = None) -> Query:
        """`minimum` inclusive, `maximum` exclusive (FreshBooks' own semantics)."""
        if minimum is not None:
            self._check(f"{key}_min", self.resource.search_keys, "between")
            self._params.append((f"search[{key}_min]", _format(minimum)))
        if maximum is not None:
            self._check(f"{key}_max", self.resource.search_keys, "between")
            self._params.append((f"search[{key}_max]", _format(maximum)))
        return self

    def between_dates(self, key: str, first: date | None = None, last: date | None = None) -> Query:
        """Both ends inclusive, as people say ranges: the exclusive `_max` becomes the day after `last`."""
        after_last = last + timedelta(days=1) if last is not None and last < date.max else None
        return self.between(key, first, after_last)

    def between_amounts(self, key: str, lowest: Decimal | None = None, highest: Decimal | None = None) -> Query:
        """Both ends inclusive, to the cent: the exclusive `_max` becomes one cent above `highest`."""
        return self.between(key, lowest, highest + CENT if highest is not None else None)

    def flag(self, key: str, value: bool = True) -> Query:
        self._check(key, self.resource.flag_keys, "flag")
        self._params.append((f"search[{key}]", _format(value)))
        return self

    def include(self, *names: str) -> Query:
        for name in names:
            self._check(name, self.resource.includes, "include")
            self._params.append(("include[]", name))
        return self

    def sort(self, key: str, direction: Literal["asc", "desc"] = "asc") -> Query:
        self._check(key, self.resource.sorts, "sort")
        self._params = [p for p in self._params if p[0] != "sort"]
        self._params.append(("sort", f"{key}_{direction}"))
        return self

    def params(self) -> list[tuple[str, str]]:
        return list(self._params)

    def copy(self) -> Query:
        return Query(self.resource, list(self._params))
