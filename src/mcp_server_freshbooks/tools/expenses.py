"""Expenses: list, summarize (streaming, with progress), create, and the expense categories."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal, cast

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from ..freshbooks import EXPENSE_CATEGORIES, EXPENSES, FreshBooksClient, Page, Query
from ..freshbooks.api import ProgressCallback
from ..freshbooks.expenses import (
    NO_VALUE_KEY,
    Category,
    CategoryIndex,
    CategoryLookupError,
    Expense,
    ExpenseAggregator,
    GroupBy,
    GroupTotal,
    fetch_staff_id,
    new_expense_wire,
    parse_expense,
    vendor_matches,
)
from ..freshbooks.names import client_names, project_titles
from ..freshbooks.types import MoneyTotals, format_amount
from ..freshbooks.uploads import RECEIPT_TYPES, attachment_wire, upload
from ..freshbooks.writes import create_reconciled, expense_lookup
from ._base import RESPONSE_FORMAT_DESCRIPTION, Money, ResponseFormat, Toolset, app_state, fb, one_line, respond, tool
from ._files import ReceiptParam, read_file
from ._inputs import FREE_TEXT, ISO_DATE, ONE_LINE, PLAIN_AMOUNT, WRITE_DATE
from ._output import Paged, Row, detailed, paging

log = logging.getLogger(__name__)

TOOLSET = Toolset(
    id="expenses",
    description="List, summarize and record expenses; the expense categories.",
    default=False,  # opt-in: with it the default catalog would pass 12 KB (#12)
    instructions='summarize_expenses answers "what did we spend on what"; list_expense_categories gives the '
    "category names the expense tools take.",
    resources=(
        EXPENSES,
        EXPENSE_CATEGORIES,
    ),
    scope_area="expenses",
    write_lookup=expense_lookup,
)
CATEGORIES_CACHE = "expenses.categories"
STAFF_CACHE = "expenses.staff_id"
MAX_RANGE_YEARS = 10

ExpenseSort = Literal["date_desc", "date_asc", "amount_desc", "amount_asc", "vendor_asc", "vendor_desc"]

DateFrom = Annotated[date | None, Field(description="First day"), ISO_DATE]
DateTo = Annotated[date | None, Field(description="Last day (inclusive)"), ISO_DATE]
CategoryParam = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=100,
        description="Category name, unique fragment or id",
    ),
    ONE_LINE,
]
VendorParam = Annotated[
    str | None,
    Field(min_length=1, max_length=100, description="Part of the vendor name"),
    ONE_LINE,
]
ClientIdParam = Annotated[int | None, Field(ge=1, description="Only this client's")]
ProjectIdParam = Annotated[int | None, Field(ge=1, description="Only this project's")]


# ---------------------------------------------------------------------- output models


class ExpenseOut(Row):
    id: int
    date: str | None = Field(default=None, description="YYYY-MM-DD")
    vendor: str | None = None
    category: str | None = Field(default=None, description="Category name")
    category_id: int | None = None
    amount: Money
    client_id: int | None = None
    client: str | None = Field(default=None, description="Client name, when the expense is billed to one")
    project_id: int | None = None
    project: str | None = Field(default=None, description="Project title, when assigned")
    has_receipt: bool
    notes: str | None = detailed()
    status: str | None = detailed("internal, outstanding, invoiced or recouped")
    taxes: list[dict[str, Any]] | None = detailed()
    is_cogs: bool | None = detailed()
    invoice_id: int | None = detailed()
    markup_percent: str | None = detailed()
    staff_id: int | None = detailed()
    bank_name: str | None = detailed()
    account_name: str | None = detailed()
    updated: str | None = detailed()


class ListExpensesOut(Paged):
    expenses: list[ExpenseOut]
    page_totals: list[Money] = Field(description="Sum of the expenses on this page, one entry per currency")
    filters: list[str] = Field(default_factory=list, description="The filters applied, in words")
    note: str | None = None


class GroupOut(BaseModel):
    key: str = Field(description="Stable key: an id, a vendor, YYYY-MM, YYYY-Qn, 'none' or 'other'")
    label: str = Field(description="Human name of the group")
    count: int
    totals: list[Money] = Field(description="One total per currency; currencies are never added together")


class SummarizeExpensesOut(BaseModel):
    date_from: str
    date_to: str
    group_by: str
    groups: list[GroupOut]
    other: GroupOut | None = Field(
        default=None, description="Everything beyond the top groups, so the groups plus other add up to the totals"
    )
    totals: list[Money] = Field(description="Overall totals, one per currency")
    expense_count: int
    main_currency: str | None = Field(default=None, description="The currency most of these expenses are in")
    ordered_by: str
    filters: list[str] = Field(default_factory=list)
    pages_read: int
    warning: str | None = None


class CategoryOut(BaseModel):
    id: int
    name: str
    parent_id: int | None = None
    parent: str | None = None
    is_cogs: bool = Field(description="true: a cost of goods sold category")


class ListCategoriesOut(BaseModel):
    categories: list[CategoryOut]
    count: int
    from_cache: bool = Field(description="true: served from this server's cache (refresh=true re-reads)")


class CreateExpenseOut(BaseModel):
    expense: ExpenseOut
    created: bool = True


# ---------------------------------------------------------------------- helpers


def _money_text(items: list[Money]) -> str:
    return "; ".join(f"{format_amount(m.amount)} {m.code}" for m in items) or "0.00"


async def _categories(ctx: Context[Any, Any], *, refresh: bool = False) -> tuple[CategoryIndex, bool]:
    """The account's categories, cached for the server's lifetime. Returns (index, from_cache)."""
    cache = app_state(ctx).cache
    cached = cache.get(CATEGORIES_CACHE)
    if isinstance(cached, CategoryIndex) and not refresh:
        return cached, True
    rows = await fb(ctx).list_all(EXPENSE_CATEGORIES)
    index = CategoryIndex.from_rows(rows)
    cache[CATEGORIES_CACHE] = index
    return index, False


async def _resolve_category(ctx: Context[Any, Any], text: str) -> tuple[Category, CategoryIndex]:
    index, from_cache = await _categories(ctx)
    try:
        return index.resolve(text), index
    except CategoryLookupError as exc:
        if from_cache and not exc.suggestions:
            # Unknown to the cache: maybe created since. Re-read once before giving up.
            index, _ = await _categories(ctx, refresh=True)
            try:
                return index.resolve(text), index
            except CategoryLookupError as again:
                raise ToolError(again.message) from None
        raise ToolError(exc.message) from None


async def _labels_for_categories(ctx: Context[Any, Any], ids: set[int]) -> CategoryIndex:
    index, from_cache = await _categories(ctx)
    if from_cache and any(i not in index.categories for i in ids):
        index, _ = await _categories(ctx, refresh=True)
    return index


def _category_filter(query: Query, index: CategoryIndex, cat: Category) -> str:
    ids = [cat.id] + [c.id for c in index.children_of(cat.id)]
    if len(ids) == 1:
        query.equals("categoryid", cat.id)
        return f"category: {cat.name} (id {cat.id})"
    query.in_list("categoryids", ids)
    return f"category: {cat.name} (id {cat.id}) and its {len(ids) - 1} subcategories"


def _check_range(date_from: date | None, date_to: date | None, *, max_years: int | None = None) -> None:
    if date_from and date_to and date_to < date_from:
        raise ToolError(
            f"date_to ({date_to}) is before date_from ({date_from}): the range is backwards. "
            "Give date_from <= date_to (both inclusive)."
        )
    if max_years and date_from and date_to:
        year = date_from.year + max_years
        if year > date.max.year:
            return  # every date there is lies within ten years of date_from
        try:
            limit = date_from.replace(year=year)
        except ValueError:  # 29 February
            limit = date_from.replace(year=year, day=28)
        if date_to >= limit:
            raise ToolError(
                f"The range {date_from}..{date_to} is longer than {max_years} years; the longest allowed "
                f"ends before {limit}. Split it into shorter ranges (e.g. one call per year)."
            )


def _base_query(
    date_from: date | None,
    date_to: date | None,
    client_id: int | None,
    project_id: int | None,
) -> tuple[Query, list[str]]:
    query = Query(EXPENSES)
    filters: list[str] = []
    if date_from or date_to:
        query.between_dates("date", date_from, date_to)
        filters.append(f"date: {date_from or 'any'}..{date_to or 'any'}")
    if client_id is not None:
        query.equals("clientid", client_id)
        filters.append(f"client_id: {client_id}")
    if project_id is not None:
        query.equals("projectid", project_id)
        filters.append(f"project_id: {project_id}")
    return query, filters


def _expense_out(
    e: Expense,
    index: CategoryIndex,
    clients: dict[int, str],
    projects: dict[int, str],
    detailed: bool,
) -> ExpenseOut:
    return ExpenseOut.of(
        detailed,
        id=e.id,
        date=e.date.isoformat() if e.date else None,
        vendor=e.vendor,
        category=index.name_of(e.category_id) or (f"category {e.category_id}" if e.category_id else None),
        category_id=e.category_id,
        amount=e.amount,
        client_id=e.client_id,
        client=clients.get(e.client_id) if e.client_id else None,
        project_id=e.project_id,
        project=projects.get(e.project_id) if e.project_id else None,
        has_receipt=e.has_receipt,
        notes=e.notes,
        status=e.status,
        taxes=[
            {
                k: v
                for k, v in {
                    "name": t.name,
                    "percent": t.percent,
                    "amount": t.amount.wire() if t.amount else None,
                }.items()
                if v is not None
            }
            for t in e.taxes
        ],
        is_cogs=e.is_cogs,
        invoice_id=e.invoice_id,
        markup_percent=e.markup_percent,
        staff_id=e.staff_id,
        bank_name=e.bank_name,
        account_name=e.account_name,
        updated=e.updated,
    )


def _expense_line(x: ExpenseOut, detailed: bool) -> str:
    parts = [f"#{x.id}", x.date or "no date", x.vendor or "(no vendor)", x.category or "(no category)"]
    parts.append(f"{format_amount(x.amount.amount)} {x.amount.code}")
    if x.client:
        parts.append(f"client {x.client} ({x.client_id})")
    if x.project:
        parts.append(f"project {x.project} ({x.project_id})")
    parts.append("receipt" if x.has_receipt else "no receipt")
    if detailed and x.notes:
        parts.append(f"notes: {one_line(x.notes)}")
    return " · ".join(parts)


async def _rows_out(ctx: Context[Any, Any], expenses: list[Expense], detailed: bool) -> list[ExpenseOut]:
    client = fb(ctx)
    index = await _labels_for_categories(ctx, {e.category_id for e in expenses if e.category_id})
    client_ids = {e.client_id for e in expenses if e.client_id}
    project_ids = {e.project_id for e in expenses if e.project_id}
    clients, projects = await asyncio.gather(
        client_names(client, client_ids) if client_ids else _empty(),
        project_titles(client, project_ids) if project_ids else _empty(),
    )
    return [_expense_out(e, index, clients, projects, detailed) for e in expenses]


async def _empty() -> dict[int, str]:
    return {}


def _pages(client: FreshBooksClient, query: Query, progress: ProgressCallback | None = None) -> AsyncGenerator[Page]:
    """The expense pages in order (see FreshBooksClient.iter_pages), closable early (aclosing)."""
    return cast(AsyncGenerator[Page], client.iter_pages(EXPENSES, query, on_progress=progress))


# ---------------------------------------------------------------------- tools


@tool(toolset=TOOLSET, title="List expenses", read_only=True, idempotent=True)
async def list_expenses(
    ctx: Context[Any, Any],
    date_from: DateFrom = None,
    date_to: DateTo = None,
    category: CategoryParam = None,
    vendor: VendorParam = None,
    client_id: ClientIdParam = None,
    project_id: ProjectIdParam = None,
    amount_min: Annotated[Decimal | None, Field(ge=0, description="Smallest amount"), PLAIN_AMOUNT] = None,
    amount_max: Annotated[Decimal | None, Field(ge=0, description="Largest amount (inclusive)"), PLAIN_AMOUNT] = None,
    sort: Annotated[ExpenseSort, Field(description="Row order")] = "date_desc",
    limit: Annotated[int, Field(ge=1, le=100, description="Expenses per page")] = 20,
    page: Annotated[int, Field(ge=1, description="Page number")] = 1,
    response_format: Annotated[ResponseFormat, Field(description=RESPONSE_FORMAT_DESCRIPTION)] = "concise",
) -> Annotated[CallToolResult, ListExpensesOut]:
    """List expenses, newest first (category includes subcategories). Rows: id, date, vendor, category, amount, client,
    project, has_receipt. Totals: summarize_expenses."""
    _check_range(date_from, date_to)
    if amount_min is not None and amount_max is not None and amount_max < amount_min:
        raise ToolError(f"amount_max ({amount_max}) is below amount_min ({amount_min}); give amount_min <= amount_max.")
    client = fb(ctx)
    query, filters = _base_query(date_from, date_to, client_id, project_id)
    if category is not None:
        cat, index = await _resolve_category(ctx, category)
        filters.append(_category_filter(query, index, cat))
    if amount_min is not None or amount_max is not None:
        # amount_max is exclusive at FreshBooks: one cent above the inclusive maximum.
        query.between_amounts("amount", amount_min, amount_max)
        filters.append(f"amount: {amount_min if amount_min is not None else 'any'}..{amount_max or 'any'}")
    field, direction = sort.rsplit("_", 1)
    query.sort(field, "asc" if direction == "asc" else "desc")

    note: str | None = None
    total: int | None
    if vendor is None:
        result = await client.list_page(EXPENSES, query, page=page, per_page=limit)
        raw_rows = result.rows
        total = result.total
        has_more = page < result.pages
    else:
        # FreshBooks documents no vendor search key (an unknown key would be silently ignored), so
        # the vendor fragment is matched here while reading the server-filtered pages in order.
        filters.append(f"vendor contains {vendor!r}")
        skip = (page - 1) * limit
        matched: list[dict[str, Any]] = []
        seen = 0
        async with aclosing(_pages(client, query)) as pages:
            async for result in pages:
                for row in result.rows:
                    if vendor_matches(row.get("vendor"), vendor):
                        seen += 1
                        if seen > skip:
                            matched.append(row)
                if len(matched) > limit:
                    break
        raw_rows = matched[:limit]
        has_more = len(matched) > limit
        total = None if has_more else seen
        note = (
            "The vendor filter is applied by this server after FreshBooks' own filters "
            "(FreshBooks has no vendor search)."
        )
    expenses = [parse_expense(r) for r in raw_rows]
    detailed = response_format == "detailed"
    rows = await _rows_out(ctx, expenses, detailed)
    page_totals = MoneyTotals(e.amount for e in expenses)
    out = ListExpensesOut(
        expenses=rows,
        **paging(page, limit, has_more, total),
        page_totals=page_totals.as_list(),
        filters=filters,
        note=note,
    )
    head = f"{len(rows)} expense(s) on page {page}" + (f" of {total} matching" if total is not None else "")
    if filters:
        head += f" [{'; '.join(filters)}]"
    lines = [head + f". Page total: {_money_text(out.page_totals)}."]
    lines += [_expense_line(r, detailed) for r in rows]
    if has_more:
        lines.append(f"More expenses match: call list_expenses again with page={page + 1}.")
    if note:
        lines.append(note)
    return respond(out, "\n".join(lines))


@tool(toolset=TOOLSET, title="Summarize expenses", read_only=True, idempotent=True)
async def summarize_expenses(
    ctx: Context[Any, Any],
    date_from: Annotated[date, Field(description="First day"), ISO_DATE],
    date_to: Annotated[
        date,
        Field(description="Last day (inclusive)"),
        ISO_DATE,
    ],
    group_by: Annotated[GroupBy, Field(description="Grouping")] = "category",
    category: CategoryParam = None,
    vendor: VendorParam = None,
    client_id: ClientIdParam = None,
    project_id: ProjectIdParam = None,
    top: Annotated[int, Field(ge=1, le=50, description="Groups listed before 'other'")] = 10,
) -> Annotated[CallToolResult, SummarizeExpensesOut]:
    """Total the expenses of a date range (up to 10 years) by group: count and total per currency (never added across),
    largest first, the rest in other, plus overall totals."""
    _check_range(date_from, date_to, max_years=MAX_RANGE_YEARS)
    client = fb(ctx)
    query, filters = _base_query(date_from, date_to, client_id, project_id)
    index: CategoryIndex | None = None
    if category is not None:
        cat, index = await _resolve_category(ctx, category)
        filters.append(_category_filter(query, index, cat))
    if vendor is not None:
        filters.append(f"vendor contains {vendor!r} (matched by this server; FreshBooks has no vendor search)")

    async def progress(done: int, total: int) -> None:
        await ctx.report_progress(done, total, f"Read {done} of {total} pages of expenses")

    async def read_all() -> tuple[ExpenseAggregator, int, bool]:
        agg = ExpenseAggregator(group_by, vendor=vendor)
        totals_seen: set[int] = set()
        pages_read = 0
        async with aclosing(_pages(client, query, progress)) as pages:
            async for result in pages:
                pages_read += 1
                totals_seen.add(result.total)
                agg.add_rows(result.rows)  # aggregated as the page arrives; the rows are then dropped
        # Pages are read concurrently: if expenses were added or deleted meanwhile, rows can shift
        # between pages. The row count then disagrees with FreshBooks' total: read once more.
        consistent = len(totals_seen) <= 1 and agg.rows_seen == (max(totals_seen) if totals_seen else 0)
        return agg, pages_read, consistent

    warning: str | None = None
    agg, pages_read, consistent = await read_all()
    if not consistent:
        log.info("expenses changed while summarizing; reading again")
        agg, pages_read, consistent = await read_all()
        if not consistent:
            warning = (
                "The expenses changed while they were being read (added or deleted meanwhile); the totals may "
                "be off by those changes. Run the summary again for a settled figure."
            )

    labels: dict[str, str] = {}
    if group_by == "category":
        ids = {int(k) for k in agg.group_keys() if k.isdigit()}
        index = await _labels_for_categories(ctx, ids)
        labels = {str(i): index.name_of(i) or f"category {i}" for i in ids}
    res = agg.result(top=top, labels=labels)
    kept_ids = {int(g.key) for g in res.groups if g.key.isdigit()}
    if group_by == "client" and kept_ids:
        labels = {str(k): v for k, v in (await client_names(client, kept_ids)).items()}
    elif group_by == "project" and kept_ids:
        labels = {str(k): v for k, v in (await project_titles(client, kept_ids)).items()}

    none_label = {
        "category": "(no category)",
        "vendor": "(no vendor)",
        "client": "(no client)",
        "project": "(no project)",
        "month": "(no date)",
        "quarter": "(no date)",
    }[group_by]

    def group_out(g: GroupTotal) -> GroupOut:
        label = none_label if g.key == NO_VALUE_KEY else labels.get(g.key) or g.label or g.key
        return GroupOut(key=g.key, label=label, count=g.count, totals=g.totals)

    ordered_by = (
        "chronological"
        if group_by in ("month", "quarter")
        else f"total in {res.main_currency or 'the main currency'} (largest first), then count"
    )
    out = SummarizeExpensesOut(
        date_from=date_from.isoformat(),
        date_to=date_to.isoformat(),
        group_by=group_by,
        groups=[group_out(g) for g in res.groups],
        other=GroupOut(key="other", label=res.other.label or "other", count=res.other.count, totals=res.other.totals)
        if res.other
        else None,
        totals=res.totals,
        expense_count=res.count,
        main_currency=res.main_currency,
        ordered_by=ordered_by,
        filters=filters,
        pages_read=pages_read,
        warning=warning,
    )
    lines = [
        f"Expenses {out.date_from}..{out.date_to} by {group_by}: {out.expense_count} expense(s), "
        f"total {_money_text(out.totals)}" + (f" [{'; '.join(filters)}]" if filters else "") + "."
    ]
    for n, g in enumerate(out.groups, 1):
        lines.append(f"{n}. {g.label} [{g.key}]: {g.count} · {_money_text(g.totals)}")
    if out.other:
        lines.append(f"Other ({out.other.label}): {out.other.count} · {_money_text(out.other.totals)}")
    lines.append("Groups in chronological order." if group_by in ("month", "quarter") else f"Ordered by {ordered_by}.")
    if warning:
        lines.append(warning)
    return respond(out, "\n".join(lines))


async def _staff_id(ctx: Context[Any, Any]) -> int:
    """The expense staffid of the signed-in user (cached): `/me` roles[].userid for this account."""
    cache = app_state(ctx).cache
    cached = cache.get(STAFF_CACHE)
    if isinstance(cached, int):
        return cached
    api = fb(ctx)
    business = await api.business()
    staff = await fetch_staff_id(api)
    if staff is None:
        if business.role in ("owner", "admin"):
            staff = 1  # FreshBooks' business owner is staff 1 on the account
        else:
            raise ToolError(
                "Cannot tell which FreshBooks staff member you are on this account (no user id in the "
                "identity), so the expense was not created."
            )
    cache[STAFF_CACHE] = staff
    return staff


@tool(toolset=TOOLSET, title="Create expense", read_only=False, destructive=False, idempotent=False)
async def create_expense(
    ctx: Context[Any, Any],
    amount: Annotated[
        Decimal,
        Field(gt=0, max_digits=14, decimal_places=2, description="Amount spent"),
        PLAIN_AMOUNT,
    ],
    date: Annotated[date, Field(description="Date (1970-2100)"), WRITE_DATE],
    category: Annotated[
        str,
        Field(
            min_length=1,
            max_length=100,
            description="Category name or id",
        ),
        ONE_LINE,
    ],
    vendor: Annotated[str | None, Field(min_length=1, max_length=200, description="Who was paid"), ONE_LINE] = None,
    notes: Annotated[str | None, Field(max_length=2000, description="Notes"), FREE_TEXT] = None,
    client_id: Annotated[int | None, Field(ge=1, description="Client to bill it to")] = None,
    project_id: Annotated[int | None, Field(ge=1, description="Project to assign it to")] = None,
    currency_code: Annotated[
        str | None,
        Field(pattern=r"^[A-Za-z]{3}$", description="Default: the business's"),
    ] = None,
    receipt: ReceiptParam = None,
) -> Annotated[CallToolResult, CreateExpenseOut]:
    """Record one expense; an unknown or ambiguous category is refused with suggestions. Returns its id. After an
    error, check list_expenses before retrying."""
    receipt_file = read_file(ctx, receipt, allowed=RECEIPT_TYPES, what="receipt", param="receipt") if receipt else None
    cat, _ = await _resolve_category(ctx, category)
    staff = await _staff_id(ctx)
    fields = new_expense_wire(
        amount=amount,
        day=date,
        category_id=cat.id,
        staff_id=staff,
        currency_code=currency_code,
        vendor=vendor,
        notes=notes,
        client_id=client_id,
        project_id=project_id,
    )
    if receipt_file is not None:
        # Uploaded first: a failed upload creates nothing; the expense is created with its receipt.
        up = await upload(fb(ctx), "attachments", receipt_file.name, receipt_file.content, receipt_file.media_type)
        fields["attachment"] = attachment_wire(up)
    raw = await create_reconciled(fb(ctx), EXPENSES, fields)
    created = parse_expense(raw)
    row = (await _rows_out(ctx, [created], True))[0]
    out = CreateExpenseOut(expense=row)
    return respond(out, f"Created expense {_expense_line(row, True)}.")


@tool(toolset=TOOLSET, title="List expense categories", read_only=True, idempotent=True)
async def list_expense_categories(
    ctx: Context[Any, Any],
    refresh: Annotated[bool, Field(description="Re-read from FreshBooks")] = False,
) -> Annotated[CallToolResult, ListCategoriesOut]:
    """The expense categories (name, id, parent, cost-of-goods flag) the expense tools take. Cached: refresh=true
    after the user adds one in FreshBooks."""
    index, from_cache = await _categories(ctx, refresh=refresh)
    cats = index.categories
    parents = sorted((c for c in cats.values() if c.parent_id is None or c.parent_id not in cats), key=_cat_sort)
    ordered: list[Category] = []
    for parent in parents:
        ordered.append(parent)
        ordered.extend(sorted(index.children_of(parent.id), key=_cat_sort))
    out = ListCategoriesOut(
        categories=[
            CategoryOut(
                id=c.id,
                name=c.name,
                parent_id=c.parent_id,
                parent=index.name_of(c.parent_id),
                is_cogs=c.is_cogs,
            )
            for c in ordered
        ],
        count=len(ordered),
        from_cache=from_cache,
    )
    lines = [f"{out.count} expense categories" + (" (cached)" if from_cache else "") + ":"]
    for c in ordered:
        indent = "  " if c.parent_id is not None and c.parent_id in cats else ""
        lines.append(f"{indent}{c.name} ({c.id})" + (" · COGS" if c.is_cogs else ""))
    return respond(out, "\n".join(lines))


def _cat_sort(c: Category) -> tuple[str, int]:
    return (c.name.casefold(), c.id)


TOOLS = (list_expenses, summarize_expenses, create_expense, list_expense_categories)
