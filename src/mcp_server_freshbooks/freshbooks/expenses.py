"""Expenses and expense categories as typed values, and the streaming expense aggregator.

Knows nothing of MCP. `parse_expense` turns one wire record into an `Expense` (Decimal money,
`None` for FreshBooks' "0 means no client/project"); `ExpenseAggregator` folds pages of wire
records into per-group counts and per-currency totals as the pages arrive, keeping only one
small bucket per group, so its memory does not grow with the number of expenses.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from .types import Money, MoneyTotals, format_amount, optional_text, parse_accounting_datetime, parse_date

if TYPE_CHECKING:
    from .api import FreshBooksClient

GroupBy = Literal["category", "vendor", "month", "quarter", "client", "project"]
GROUP_BY_VALUES: tuple[GroupBy, ...] = ("category", "vendor", "month", "quarter", "client", "project")
TIME_GROUPINGS: frozenset[str] = frozenset({"month", "quarter"})

NO_VALUE_KEY = "none"

EXPENSE_STATUS = {0: "internal", 1: "outstanding", 2: "invoiced", 4: "recouped"}


def _opt_id(value: Any) -> int | None:
    """FreshBooks ids; 0, null and junk mean "none"."""
    if value in (None, "", 0, "0") or isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


# ---------------------------------------------------------------------- categories


@dataclass(frozen=True)
class Category:
    id: int
    name: str
    parent_id: int | None = None
    is_cogs: bool = False
    is_editable: bool = False


def parse_category(raw: dict[str, Any]) -> Category:
    cid = _opt_id(raw.get("id")) or _opt_id(raw.get("categoryid"))
    if cid is None:
        raise ValueError("expense category without an id")
    return Category(
        id=cid,
        name=optional_text(raw.get("category")) or f"category {cid}",
        parent_id=_opt_id(raw.get("parentid")),
        is_cogs=bool(raw.get("is_cogs")),
        is_editable=bool(raw.get("is_editable")),
    )


class CategoryLookupError(ValueError):
    """A category name that matched none or several categories; `suggestions` are names to offer."""

    def __init__(self, message: str, suggestions: list[str]) -> None:
        super().__init__(message)
        self.message = message
        self.suggestions = suggestions


@dataclass
class CategoryIndex:
    """All categories of the account, looked up by id or by name."""

    categories: dict[int, Category] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: Iterable[dict[str, Any]]) -> CategoryIndex:
        index = cls()
        for row in rows:
            cat = parse_category(row)
            index.categories[cat.id] = cat
        return index

    def name_of(self, category_id: int | None) -> str | None:
        if category_id is None:
            return None
        cat = self.categories.get(category_id)
        return cat.name if cat else None

    def qualified(self, cat: Category) -> str:
        parent = self.categories.get(cat.parent_id) if cat.parent_id else None
        return f"{cat.name} (under {parent.name}, id {cat.id})" if parent else f"{cat.name} (id {cat.id})"

    def children_of(self, category_id: int) -> list[Category]:
        return [c for c in self.categories.values() if c.parent_id == category_id]

    def resolve(self, text: str) -> Category:
        """By id (digits), then exact name (case-insensitive), then a unique name fragment.

        Raises `CategoryLookupError` naming the candidates when the text is ambiguous, and the
        closest names (difflib) when nothing matches.
        """
        wanted = text.strip()
        if not wanted:
            raise CategoryLookupError("category is empty: give a category name or id.", [])
        if wanted.isdigit():
            cat = self.categories.get(int(wanted))
            if cat is None:
                raise CategoryLookupError(
                    f"category: no expense category has id {wanted}. Use list_expense_categories for names and ids.", []
                )
            return cat
        folded = wanted.casefold()
        exact = [c for c in self.categories.values() if c.name.casefold() == folded]
        if len(exact) == 1:
            return exact[0]
        candidates = exact or [c for c in self.categories.values() if folded in c.name.casefold()]
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            ordered = sorted(candidates, key=lambda c: (c.name.casefold(), c.id))
            listing = "; ".join(self.qualified(c) for c in ordered[:10])
            raise CategoryLookupError(
                f"category {wanted!r} is ambiguous, it matches {len(ordered)} categories: {listing}. "
                "Pass the exact name or the id.",
                [c.name for c in ordered[:10]],
            )
        names = sorted({c.name for c in self.categories.values()}, key=str.casefold)
        by_folded: dict[str, str] = {n.casefold(): n for n in names}
        close = difflib.get_close_matches(folded, list(by_folded), n=5, cutoff=0.5)
        suggestions = [by_folded[n] for n in close]
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        raise CategoryLookupError(
            f"category: no expense category is named {wanted!r}.{hint} "
            "Use list_expense_categories for every name and id.",
            suggestions,
        )


# ---------------------------------------------------------------------- expenses


@dataclass(frozen=True)
class TaxLine:
    name: str | None
    percent: str | None
    amount: Money | None


@dataclass(frozen=True)
class Expense:
    id: int
    date: date | None
    amount: Money
    category_id: int | None
    vendor: str | None
    notes: str | None
    client_id: int | None
    project_id: int | None
    staff_id: int | None
    has_receipt: bool
    status: str | None
    is_cogs: bool
    invoice_id: int | None
    markup_percent: str | None
    taxes: tuple[TaxLine, ...]
    bank_name: str | None
    account_name: str | None
    updated: str | None
    vis_state: int


def parse_expense(raw: dict[str, Any]) -> Expense:
    """One wire expense (`response.result.expenses[]` or `.expense`) as typed values, exact to the cent."""
    eid = _opt_id(raw.get("id")) or _opt_id(raw.get("expenseid"))
    if eid is None:
        raise ValueError("expense without an id")
    amount = Money.parse(raw.get("amount"))
    if amount is None:
        raise ValueError(f"expense {eid} has no amount")
    taxes = []
    for n in ("1", "2"):
        name = optional_text(raw.get(f"taxName{n}"))
        tax_amount = Money.parse(raw.get(f"taxAmount{n}"), amount.code)
        percent = raw.get(f"taxPercent{n}")
        if name or tax_amount is not None or percent not in (None, ""):
            taxes.append(TaxLine(name=name, percent=optional_text(percent), amount=tax_amount))
    status = raw.get("status")
    updated = parse_accounting_datetime(raw.get("updated"))
    return Expense(
        id=eid,
        date=parse_date(raw.get("date")),
        amount=amount,
        category_id=_opt_id(raw.get("categoryid")),
        vendor=optional_text(raw.get("vendor")),
        notes=optional_text(raw.get("notes")),
        client_id=_opt_id(raw.get("clientid")),
        project_id=_opt_id(raw.get("projectid")),
        staff_id=_opt_id(raw.get("staffid")),
        has_receipt=bool(raw.get("has_receipt")),
        status=EXPENSE_STATUS.get(status) if isinstance(status, int) else None,
        is_cogs=bool(raw.get("is_cogs")),
        invoice_id=_opt_id(raw.get("invoiceid")),
        markup_percent=optional_text(raw.get("markup_percent")),
        taxes=tuple(taxes),
        bank_name=optional_text(raw.get("bank_name")),
        account_name=optional_text(raw.get("account_name")),
        updated=updated.isoformat() if updated else None,
        vis_state=int(raw.get("vis_state") or 0),
    )


def vendor_matches(vendor: Any, fragment: str | None) -> bool:
    """Case-insensitive substring match; no fragment matches everything."""
    if not fragment:
        return True
    return isinstance(vendor, str) and fragment.casefold() in vendor.casefold()


def quarter_key(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def month_key(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


# ---------------------------------------------------------------------- aggregation


class _Bucket:
    __slots__ = ("count", "label", "totals")

    def __init__(self, label: str | None) -> None:
        self.count = 0
        self.label = label
        self.totals = MoneyTotals()


@dataclass
class GroupTotal:
    key: str
    label: str | None
    count: int
    totals: list[Money]


@dataclass
class AggregateResult:
    groups: list[GroupTotal]
    other: GroupTotal | None
    other_group_count: int
    totals: list[Money]
    count: int
    main_currency: str | None
    rows_seen: int


class ExpenseAggregator:
    """Folds wire expense rows into groups as pages arrive; holds one bucket per group, never the rows.

    Exact: Decimal amounts, one sum per currency (`MoneyTotals`), never two currencies added.
    `vendor` is an optional case-insensitive fragment applied here (FreshBooks has no documented
    vendor search key). Group labels for vendor are the first spelling seen; category, client and
    project labels are filled in afterwards by the caller (`set_labels`).
    """

    def __init__(self, group_by: GroupBy, *, vendor: str | None = None) -> None:
        if group_by not in GROUP_BY_VALUES:
            raise ValueError(f"group_by must be one of {', '.join(GROUP_BY_VALUES)}")
        self.group_by = group_by
        self.vendor = vendor
        self._buckets: dict[str, _Bucket] = {}
        self._totals = MoneyTotals()
        self._currency_counts: dict[str, int] = {}
        self.count = 0
        self.rows_seen = 0

    def _key(self, raw: dict[str, Any]) -> tuple[str, str | None]:
        g = self.group_by
        if g == "category":
            cid = _opt_id(raw.get("categoryid"))
            return (str(cid) if cid else NO_VALUE_KEY), None
        if g == "client":
            cid = _opt_id(raw.get("clientid"))
            return (str(cid) if cid else NO_VALUE_KEY), None
        if g == "project":
            pid = _opt_id(raw.get("projectid"))
            return (str(pid) if pid else NO_VALUE_KEY), None
        if g == "vendor":
            vendor = optional_text(raw.get("vendor"))
            return (" ".join(vendor.casefold().split()) if vendor else NO_VALUE_KEY), vendor
        day = parse_date(raw.get("date"))
        if day is None:
            return NO_VALUE_KEY, None
        return (month_key(day) if g == "month" else quarter_key(day)), None

    def add(self, raw: dict[str, Any]) -> None:
        self.rows_seen += 1
        if self.vendor and not vendor_matches(raw.get("vendor"), self.vendor):
            return
        money = Money.parse(raw.get("amount"))
        if money is None:
            raise ValueError(f"expense {raw.get('id')} has no amount")
        key, label = self._key(raw)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(label)
        bucket.count += 1
        bucket.totals.add(money)
        self._totals.add(money)
        self._currency_counts[money.code] = self._currency_counts.get(money.code, 0) + 1
        self.count += 1

    def add_rows(self, rows: Iterable[dict[str, Any]]) -> None:
        for raw in rows:
            self.add(raw)

    def group_keys(self) -> list[str]:
        return list(self._buckets)

    @property
    def main_currency(self) -> str | None:
        """The currency most of the counted expenses are in (ties: alphabetical)."""
        if not self._currency_counts:
            return None
        return min(self._currency_counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]

    def result(self, *, top: int, labels: dict[str, str] | None = None) -> AggregateResult:
        """Groups in order, the first `top` kept and the rest folded into `other`.

        Order: for month/quarter, chronological and never folded (a range is at most 10 years).
        Otherwise by the group's total in the main currency (largest first), then by count, then
        by label/key; groups without any main-currency amount come after those that have one.
        """
        labels = labels or {}
        main = self.main_currency
        items = list(self._buckets.items())

        def label_of(key: str, bucket: _Bucket) -> str | None:
            return labels.get(key) or bucket.label

        if self.group_by in TIME_GROUPINGS:
            items.sort(key=lambda kv: (kv[0] == NO_VALUE_KEY, kv[0]))
            kept, rest = items, []
        else:

            def order(kv: tuple[str, _Bucket]) -> tuple[Decimal, int, str, str]:
                key, bucket = kv
                in_main = bucket.totals.get(main) if main else Decimal(0)
                return (-in_main, -bucket.count, (label_of(key, bucket) or "").casefold(), key)

            items.sort(key=order)
            kept, rest = items[:top], items[top:]
        groups = [GroupTotal(key=k, label=label_of(k, b), count=b.count, totals=b.totals.as_list()) for k, b in kept]
        other: GroupTotal | None = None
        if rest:
            folded = MoneyTotals()
            count = 0
            for _, bucket in rest:
                folded.merge(bucket.totals)
                count += bucket.count
            other = GroupTotal(key="other", label=f"{len(rest)} other groups", count=count, totals=folded.as_list())
        return AggregateResult(
            groups=groups,
            other=other,
            other_group_count=len(rest),
            totals=self._totals.as_list(),
            count=self.count,
            main_currency=main,
            rows_seen=self.rows_seen,
        )


# ---------------------------------------------------------------------- staff id


def new_expense_wire(
    *,
    amount: Decimal,
    day: date,
    category_id: int,
    staff_id: int,
    currency_code: str | None = None,
    vendor: str | None = None,
    notes: str | None = None,
    client_id: int | None = None,
    project_id: int | None = None,
) -> dict[str, Any]:
    """The create body of one expense (no currency: FreshBooks uses the business's own)."""
    money: dict[str, str] = {"amount": format_amount(amount)}
    if currency_code:
        money["code"] = currency_code.upper()
    fields: dict[str, Any] = {"amount": money, "date": day.isoformat(), "categoryid": category_id, "staffid": staff_id}
    if vendor is not None:
        fields["vendor"] = vendor.strip()
    if notes is not None:
        fields["notes"] = notes
    if client_id is not None:
        fields["clientid"] = client_id
    if project_id is not None:
        fields["projectid"] = project_id
    return fields


async def fetch_staff_id(api: FreshBooksClient) -> int | None:
    """The signed-in user's expense staffid on the selected business's account (None: `/me` names none)."""
    business = await api.business()
    return staff_id_from_me(await api.request("GET", "/auth/api/v1/users/me"), business.account_id)


def staff_id_from_me(body: Any, account_id: str | None) -> int | None:
    """The staff id FreshBooks expects on an expense: `/me` roles[].userid for this account.

    The identity id is a different number; the legacy `roles` list (deprecated but still sent)
    carries the account-level user id, which is the expense `staffid` (1 for the owner).
    """
    data = body.get("response") if isinstance(body, dict) else None
    roles = data.get("roles") if isinstance(data, dict) else None
    if not isinstance(roles, list):
        return None
    matches = [r for r in roles if isinstance(r, dict) and (account_id is None or r.get("accountid") == account_id)]
    for role in matches:
        userid = _opt_id(role.get("userid"))
        if userid is not None:
            return userid
    return None
