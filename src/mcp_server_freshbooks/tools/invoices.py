"""Invoices and receivables: list, read, the aged overdue list, create drafts, send."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, Elicit, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from ..freshbooks import CLIENTS, INVOICES, PAYMENTS, AppliedError, FreshBooksClient, FreshBooksError, Query
from ..freshbooks.invoices import (
    AGING_BUCKETS,
    OPEN_V3_STATUSES,
    OVERDUE_CAPABLE_STATUSES,
    Invoice,
    V3Status,
    aging_bucket,
    days_overdue,
    expected_total,
    line_wire,
    parse_invoice,
    parse_payment,
)
from ..freshbooks.types import MoneyTotals, shift_days
from ..freshbooks.uploads import invoice_logo
from ..freshbooks.writes import Action, act, changed_since, create_reconciled, exclusive, invoice_key, invoice_lookup
from ._base import (
    RESPONSE_FORMAT_DESCRIPTION,
    Confirmation,
    Money,
    ResponseFormat,
    Toolset,
    confirm_gate,
    fb,
    load_once,
    require_confirmation,
    respond,
    tool,
    tool_error,
)
from ._inputs import FREE_TEXT, ISO_DATE, ONE_LINE, WRITE_DATE
from ._lines import LineIn, LineOut, bill_lines, line_out
from ._output import Paged, Row, detailed, paging

TOOLSET = Toolset(
    id="invoices",
    description="List, read, create and send invoices; overdue receivables with aging.",
    default=True,
    instructions='list_overdue_invoices answers "who owes us what, and since when" with totals per currency '
    "and aging bucket; list_invoices and get_invoice show the rest.",
    resources=(INVOICES,),
    scope_area="invoices",
    write_lookup=invoice_lookup,
)

log = logging.getLogger(__name__)

NOT_FOUND_INVOICE = (
    "No invoice with that invoice_id in this business. Find it with list_invoices "
    "(filter by client_id or invoice_number)."
)
SCAN_PAGE_SIZE = 100
MAX_SCAN_PAGES = 20  # per call when filtering client-side: at most 2,000 invoices read, then a cursor


InvoiceSort = Literal["issue_date_desc", "issue_date_asc", "invoice_number_desc", "invoice_number_asc"]
_SORTS: dict[str, tuple[str, Literal["asc", "desc"]]] = {
    "issue_date_desc": ("invoice_date", "desc"),
    "issue_date_asc": ("invoice_date", "asc"),
    "invoice_number_desc": ("invoice_number", "desc"),
    "invoice_number_asc": ("invoice_number", "asc"),
}


def fmt(money: Money) -> str:
    return f"{money.wire()['amount']} {money.code}"


def fmt_totals(items: list[Money]) -> str:
    return " + ".join(fmt(m) for m in items) if items else "0"


# ---------------------------------------------------------------------- output models


class ClientRef(BaseModel):
    id: int = Field(description="FreshBooks client id (client_id in other tools)")
    name: str


class InvoiceRow(Row):
    id: int = Field(description="FreshBooks invoice id (invoice_id in other tools)")
    invoice_number: str
    client: ClientRef
    issue_date: date | None = None
    due_date: date | None = None
    amount: Money
    outstanding: Money
    status: str = Field(description="FreshBooks v3_status (draft, sent, viewed, partial, paid, overdue, ...)")
    paid: Money | None = detailed()
    payment_status: str | None = detailed()
    display_status: str | None = detailed()
    date_paid: date | None = detailed()
    po_number: str | None = detailed()
    notes: str | None = detailed()
    terms: str | None = detailed()
    created_at: str | None = detailed()
    updated: str | None = detailed()
    archived: bool | None = detailed()


def invoice_row(inv: Invoice, detailed: bool = False) -> InvoiceRow:
    return InvoiceRow.of(
        detailed,
        id=inv.id,
        invoice_number=inv.invoice_number,
        client=ClientRef(id=inv.client_id, name=inv.client_name),
        issue_date=inv.create_date,
        due_date=inv.due_date,
        amount=inv.amount,
        outstanding=inv.outstanding,
        status=inv.v3_status,
        paid=inv.paid,
        payment_status=inv.payment_status,
        display_status=inv.display_status,
        date_paid=inv.date_paid,
        po_number=inv.po_number,
        notes=inv.notes,
        terms=inv.terms,
        created_at=inv.created_at,
        updated=inv.updated,
        archived=inv.vis_state == 2,
    )


def row_text(row: InvoiceRow) -> str:
    due = f" due {row.due_date}" if row.due_date else ""
    return (
        f"#{row.invoice_number} [id {row.id}] {row.client.name} (client {row.client.id}): issued {row.issue_date}"
        f"{due}, {fmt(row.amount)}, outstanding {fmt(row.outstanding)}, {row.status}"
    )


class ListInvoicesOut(Paged):
    invoices: list[InvoiceRow]
    next_cursor: str | None = Field(
        default=None, description="With due-date/currency filters: pass as cursor to continue the scan"
    )
    filtered_client_side: list[str] = Field(
        default_factory=list, description="Filters FreshBooks cannot apply, applied here over the pages read"
    )
    invoices_scanned: int | None = None


# ---------------------------------------------------------------------- helpers


async def load_invoice(client: FreshBooksClient, invoice_id: int, *, lines: bool = False) -> Invoice:
    """The invoice, or a ToolError a model can act on (for resolvers, which @tool does not wrap)."""
    try:
        raw = await client.get(INVOICES, invoice_id, includes=("lines",) if lines else ())
    except FreshBooksError as exc:
        raise tool_error(exc, not_found=NOT_FOUND_INVOICE) from None
    inv = parse_invoice(raw)
    if inv.vis_state == 1:
        raise ToolError(f"Invoice {invoice_id} (#{inv.invoice_number}) is deleted; nothing can be done with it.")
    return inv


def _check_range(lo: date | None, hi: date | None, lo_name: str, hi_name: str) -> None:
    if lo is not None and hi is not None and lo > hi:
        raise ToolError(f"{lo_name} ({lo}) is after {hi_name} ({hi}); give {lo_name} <= {hi_name}.")


_CURSOR = re.compile(r"^(\d{1,6}):(\d{1,3})$")


def _parse_cursor(cursor: str) -> tuple[int, int]:
    m = _CURSOR.match(cursor.strip())
    if not m or int(m.group(1)) < 1 or int(m.group(2)) >= SCAN_PAGE_SIZE:
        raise ToolError(
            f"cursor {cursor[:40]!r} is not valid: pass the next_cursor value of a previous list_invoices "
            "result unchanged, with the same filters."
        )
    return int(m.group(1)), int(m.group(2))


# ---------------------------------------------------------------------- list_invoices


@tool(toolset=TOOLSET, title="List invoices", read_only=True, idempotent=True)
async def list_invoices(
    ctx: Context[Any, Any],
    client_id: Annotated[int | None, Field(ge=1, description="Only this client's")] = None,
    status: Annotated[
        V3Status | None,
        Field(description="'overdue' lags a day"),
    ] = None,
    issue_date_from: Annotated[date | None, Field(description="Issued on or after"), ISO_DATE] = None,
    issue_date_to: Annotated[date | None, Field(description="Issued on or before"), ISO_DATE] = None,
    due_date_from: Annotated[date | None, Field(description="Due on or after"), ISO_DATE] = None,
    due_date_to: Annotated[date | None, Field(description="Due on or before"), ISO_DATE] = None,
    currency: Annotated[str | None, Field(pattern=r"^[A-Za-z]{3}$", description="Currency code")] = None,
    invoice_number: Annotated[
        str | None,
        Field(min_length=1, max_length=40, description="Part of the invoice number"),
        ONE_LINE,
    ] = None,
    sort: Annotated[
        InvoiceSort,
        Field(description="Row order"),
    ] = "issue_date_desc",
    limit: Annotated[int, Field(ge=1, le=100, description="Rows per page")] = 20,
    page: Annotated[int, Field(ge=1, description="Page number; not with cursor")] = 1,
    cursor: Annotated[
        str | None,
        Field(max_length=20, description="The last next_cursor"),
        ONE_LINE,
    ] = None,
    response_format: Annotated[ResponseFormat, Field(description=RESPONSE_FORMAT_DESCRIPTION)] = "concise",
) -> Annotated[CallToolResult, ListInvoicesOut]:
    """List invoices, newest first. Rows: id, number, client, dates, amount, outstanding, status. More: page=next_page,
    or cursor=next_cursor with due-date/currency filters. Lines: get_invoice."""
    _check_range(issue_date_from, issue_date_to, "issue_date_from", "issue_date_to")
    _check_range(due_date_from, due_date_to, "due_date_from", "due_date_to")
    client = fb(ctx)
    query = Query(INVOICES)
    if client_id is not None:
        query.equals("customerid", client_id)
    if status is not None:
        query.equals("v3_status", status)
    if invoice_number is not None:
        query.like("invoice_number", invoice_number.strip())
    query.between_dates("date", issue_date_from, issue_date_to)
    key, direction = _SORTS[sort]
    query.sort(key, direction)
    detailed = response_format == "detailed"
    code = currency.upper() if currency else None
    client_side = [
        name
        for name, value in (("due_date_from", due_date_from), ("due_date_to", due_date_to), ("currency", code))
        if value is not None
    ]

    if not client_side:
        if cursor is not None:
            raise ToolError("cursor is only for due_date/currency filtered listings; use page here.")
        result = await client.list_page(INVOICES, query, page=page, per_page=limit)
        rows = [invoice_row(parse_invoice(r), detailed) for r in result.rows]
        has_more = page < result.pages
        out = ListInvoicesOut(invoices=rows, **paging(page, limit, has_more, result.total))
        hint = f" More: call again with page={page + 1}." if has_more else ""
        head = f"{result.total} invoice(s) match; page {page} of {max(result.pages, 1)} shows {len(rows)}.{hint}"
    else:
        if page != 1:
            raise ToolError(
                "page cannot be used with due_date_from/due_date_to/currency (filtered here, not by FreshBooks): "
                "leave page at 1 and continue with the next_cursor value of the previous result."
            )
        start_page, start_offset = _parse_cursor(cursor) if cursor else (1, 0)

        def keep(inv: Invoice) -> bool:
            if code is not None and inv.currency_code != code:
                return False
            if due_date_from is not None and (inv.due_date is None or inv.due_date < due_date_from):
                return False
            return not (due_date_to is not None and (inv.due_date is None or inv.due_date > due_date_to))

        rows, next_cursor, scanned = await _scan(client, query, start_page, start_offset, limit, keep, detailed)
        out = ListInvoicesOut(
            invoices=rows,
            page=1,
            limit=limit,
            has_more=next_cursor is not None,
            next_cursor=next_cursor,
            filtered_client_side=client_side,
            invoices_scanned=scanned,
        )
        hint = f" More may match: call again with the same filters and cursor={next_cursor!r}." if next_cursor else ""
        head = f"{len(rows)} invoice(s) found after reading {scanned} ({', '.join(client_side)} filtered here).{hint}"
    body = "\n".join(row_text(r) for r in out.invoices)
    return respond(out, f"{head}\n{body}" if body else head)


async def _scan(
    client: FreshBooksClient,
    query: Query,
    start_page: int,
    start_offset: int,
    limit: int,
    keep: Any,
    detailed: bool,
) -> tuple[list[InvoiceRow], str | None, int]:
    """Read server pages from (page, offset) on, concurrently in small batches, until `limit` rows match.

    Returns the rows, the cursor of the first unread row (None at the end) and how many were read.
    """
    rows: list[InvoiceRow] = []
    scanned = 0
    first = await client.list_page(INVOICES, query, page=start_page, per_page=SCAN_PAGE_SIZE)
    last_page = first.pages
    batch = [first]
    next_fetch = start_page + 1
    pages_read = 1
    while True:
        for result in batch:
            offset = start_offset if result.page == start_page else 0
            for index in range(offset, len(result.rows)):
                scanned += 1
                inv = parse_invoice(result.rows[index])
                if keep(inv):
                    rows.append(invoice_row(inv, detailed))
                    if len(rows) == limit:
                        more_here = index + 1 < len(result.rows)
                        if more_here:
                            return rows, f"{result.page}:{index + 1}", scanned
                        return rows, (f"{result.page + 1}:0" if result.page < last_page else None), scanned
        if next_fetch > last_page:
            return rows, None, scanned
        if pages_read >= MAX_SCAN_PAGES:
            return rows, f"{next_fetch}:0", scanned
        count = min(client.max_concurrency, last_page - next_fetch + 1, MAX_SCAN_PAGES - pages_read)
        batch = list(
            await asyncio.gather(
                *(
                    client.list_page(INVOICES, query, page=p, per_page=SCAN_PAGE_SIZE)
                    for p in range(next_fetch, next_fetch + count)
                )
            )
        )
        next_fetch += count
        pages_read += count
        last_page = max([last_page, *(b.pages for b in batch)])


# ---------------------------------------------------------------------- get_invoice


class AppliedPayment(BaseModel):
    id: int = Field(description="FreshBooks payment id")
    date: dt.date | None = None
    amount: Money
    type: str | None = None
    note: str | None = None


class InvoiceTotals(BaseModel):
    subtotal: Money = Field(description="Sum of line amounts, before tax and discount")
    discount: Money = Field(description="Discount given (positive number)")
    tax: Money = Field(description="Tax: total - subtotal + discount")
    total: Money
    paid: Money
    outstanding: Money


class InvoiceDetail(BaseModel):
    invoice: InvoiceRow
    lines: list[LineOut]
    payments: list[AppliedPayment]
    totals: InvoiceTotals
    logo: str | None = detailed("The invoice's logo image, when one is set")


def _detail(inv: Invoice, payments: list[AppliedPayment], detailed: bool) -> InvoiceDetail:
    code = inv.currency_code
    subtotal = sum((line.amount.amount for line in inv.lines), Decimal(0))
    discount = abs(inv.discount_total.amount)
    lines = [line_out(line, detailed) for line in inv.lines]
    return InvoiceDetail(
        invoice=invoice_row(inv, detailed),
        lines=lines,
        payments=payments,
        totals=InvoiceTotals(
            subtotal=Money(amount=subtotal, code=code),
            discount=Money(amount=discount, code=code),
            tax=Money(amount=inv.amount.amount - subtotal + discount, code=code),
            total=inv.amount,
            paid=inv.paid,
            outstanding=inv.outstanding,
        ),
    )


@tool(toolset=TOOLSET, title="Get invoice", read_only=True, idempotent=True, not_found=NOT_FOUND_INVOICE)
async def get_invoice(
    ctx: Context[Any, Any],
    invoice_id: Annotated[int, Field(ge=1, description="Invoice id")],
    response_format: Annotated[ResponseFormat, Field(description=RESPONSE_FORMAT_DESCRIPTION)] = "concise",
) -> Annotated[CallToolResult, InvoiceDetail]:
    """One invoice: lines, payments applied and totals (subtotal, discount, tax, total, paid, outstanding). detailed
    adds notes, terms, PO number, full line text."""
    client = fb(ctx)
    # Exactly what the view shows (#17): lines always; the logo (presentation) only in detailed.
    includes = ("lines", "presentation") if response_format == "detailed" else ("lines",)
    raw, pays = await asyncio.gather(
        client.get(INVOICES, invoice_id, includes=includes),
        client.list_all(PAYMENTS, Query(PAYMENTS).equals("invoiceid", invoice_id)),
    )
    inv = parse_invoice(raw)
    payments = [
        AppliedPayment(id=p.id, date=p.date, amount=p.amount, type=p.type, note=p.note)
        for p in (parse_payment(r, inv.currency_code) for r in pays)
        if p.vis_state != 1 and p.invoice_id == inv.id
    ]
    payments.sort(key=lambda p: (p.date or date.min, p.id))
    out = _detail(inv, payments, response_format == "detailed")
    if response_format == "detailed":
        out.logo = invoice_logo(raw)
    t = out.totals
    lines = "\n".join(
        f"  {ln.name} x{ln.qty} @ {fmt(ln.unit_cost)} = {fmt(ln.amount)}"
        + (" + " + ", ".join(f"{x.name} {x.percent}%" for x in ln.taxes) if ln.taxes else "")
        for ln in out.lines
    )
    paid = "; ".join(f"{p.date} {fmt(p.amount)} {p.type or ''}".rstrip() for p in payments) or "none"
    text = (
        f"{row_text(out.invoice)}\nLines:\n{lines or '  (none)'}\nSubtotal {fmt(t.subtotal)}, discount "
        f"{fmt(t.discount)}, tax {fmt(t.tax)}, total {fmt(t.total)}, paid {fmt(t.paid)}, outstanding "
        f"{fmt(t.outstanding)}.\nPayments: {paid}."
    )
    return respond(out, text)


# ---------------------------------------------------------------------- list_overdue_invoices


class OverdueRow(BaseModel):
    id: int = Field(description="FreshBooks invoice id")
    invoice_number: str
    client: ClientRef
    due_date: date
    days_overdue: int
    outstanding: Money
    aging_bucket: str = Field(description="1-30, 31-60, 61-90 or 90+ days overdue")


class BucketTotal(BaseModel):
    bucket: str
    count: int
    outstanding: list[Money] = Field(description="One amount per currency; currencies are never added")


class OverdueOut(BaseModel):
    as_of: date
    overdue_count: int = Field(description="All overdue invoices, including rows left out by limit")
    invoices: list[OverdueRow] = Field(description="Most days overdue first")
    left_out: int = Field(description="Overdue invoices not listed because of limit (still in the totals)")
    totals: list[Money] = Field(description="Outstanding per currency over ALL overdue invoices")
    buckets: list[BucketTotal] = Field(description="Aging buckets over ALL overdue invoices")
    invoices_read: int = Field(description="Open invoices read from FreshBooks to answer")


def _may_be_overdue(raw: dict[str, Any], as_of_text: str) -> bool:
    """Necessary conditions, on the raw row (ISO dates compare as text): overdue-capable status, due before."""
    due = raw.get("due_date")
    return raw.get("status") in OVERDUE_CAPABLE_STATUSES and isinstance(due, str) and "" < due < as_of_text


@tool(toolset=TOOLSET, title="List overdue invoices", read_only=True, idempotent=True)
async def list_overdue_invoices(
    ctx: Context[Any, Any],
    as_of: Annotated[
        date | None,
        Field(description="Default: today"),
        ISO_DATE,
    ] = None,
    client_id: Annotated[int | None, Field(ge=1, description="Only this client's")] = None,
    min_days_overdue: Annotated[int, Field(ge=1, le=3650, description="Minimum days past due")] = 1,
    limit: Annotated[int, Field(ge=1, le=500, description="Rows (totals cover all)")] = 50,
) -> Annotated[CallToolResult, OverdueOut]:
    """Who owes what since when: invoices past due on as_of, most overdue first, with days overdue and aging bucket.
    Totals per currency and bucket cover every match, even rows cut by limit."""
    client = fb(ctx)
    as_of = as_of or await client.today()
    # Overdue by `min_days` means due on or before as_of - min_days, so (due_offset_days >= 0) created
    # before as_of - min_days + 1: FreshBooks' date_max (exclusive, on the issue date) narrows the read.
    created_before = shift_days(as_of, -(min_days_overdue - 1))  # held at 0001-01-01: nothing is that overdue
    queries = []
    for v3 in OPEN_V3_STATUSES:
        query = Query(INVOICES).equals("v3_status", v3).between("date", maximum=created_before)
        if client_id is not None:
            query.equals("customerid", client_id)
        queries.append(query)

    as_of_text = as_of.isoformat()
    found: dict[int, tuple[Invoice, int]] = {}
    read = 0
    done = 0

    async def progress(_: int, __: int) -> None:
        nonlocal done
        done += 1
        await ctx.report_progress(done, None, f"{done} page(s) of open invoices read")

    async def walk(query: Query) -> None:
        nonlocal read
        async for page in client.iter_pages(INVOICES, query, on_progress=progress):
            for raw in page.rows:
                read += 1
                if not _may_be_overdue(raw, as_of_text):
                    continue  # cheap pre-check on the wire dict; the full parse below decides
                inv = parse_invoice(raw)
                days = days_overdue(inv, as_of)
                if days is not None and days >= min_days_overdue and (client_id is None or inv.client_id == client_id):
                    found[inv.id] = (inv, days)

    await asyncio.gather(*(walk(q) for q in queries))

    ordered = sorted(found.values(), key=lambda item: (-item[1], item[0].invoice_number, item[0].id))
    totals = MoneyTotals()
    per_bucket: dict[str, tuple[int, MoneyTotals]] = {b: (0, MoneyTotals()) for b in AGING_BUCKETS}
    for inv, days in ordered:
        totals.add(inv.outstanding)
        count, sums = per_bucket[aging_bucket(days)]
        sums.add(inv.outstanding)
        per_bucket[aging_bucket(days)] = (count + 1, sums)
    rows = [
        OverdueRow(
            id=inv.id,
            invoice_number=inv.invoice_number,
            client=ClientRef(id=inv.client_id, name=inv.client_name),
            due_date=inv.due_date or as_of,
            days_overdue=days,
            outstanding=inv.outstanding,
            aging_bucket=aging_bucket(days),
        )
        for inv, days in ordered[:limit]
    ]
    out = OverdueOut(
        as_of=as_of,
        overdue_count=len(ordered),
        invoices=rows,
        left_out=max(0, len(ordered) - limit),
        totals=totals.as_list(),
        buckets=[BucketTotal(bucket=b, count=c, outstanding=s.as_list()) for b, (c, s) in per_bucket.items()],
        invoices_read=read,
    )
    if not ordered:
        return respond(out, f"No invoices overdue as of {as_of}.")
    bucket_text = "; ".join(f"{b.bucket}: {b.count} ({fmt_totals(b.outstanding)})" for b in out.buckets if b.count)
    lines = "\n".join(
        f"#{r.invoice_number} [id {r.id}] {r.client.name} (client {r.client.id}): due {r.due_date}, "
        f"{r.days_overdue} days overdue, {fmt(r.outstanding)} outstanding"
        for r in rows
    )
    more = (
        f"\n{out.left_out} more overdue invoice(s) not listed (included in the totals); raise limit to see them."
        if out.left_out
        else ""
    )
    text = (
        f"{len(ordered)} invoice(s) overdue as of {as_of}, outstanding {fmt_totals(out.totals)}.\n"
        f"By age: {bucket_text}.\n{lines}{more}"
    )
    return respond(out, text)


# ---------------------------------------------------------------------- create_invoice


class CreatedInvoiceOut(BaseModel):
    invoice: InvoiceRow
    lines: list[LineOut]
    total: Money = Field(description="Total as FreshBooks computed it")
    expected_total: Money = Field(description="Total computed here from the lines, to the cent")
    total_matches: bool


@tool(toolset=TOOLSET, title="Create draft invoice", read_only=False, destructive=False, idempotent=False)
async def create_invoice(
    ctx: Context[Any, Any],
    client_id: Annotated[int, Field(ge=1, description="From find_client")],
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=100, description="What is billed")],
    currency_code: Annotated[str | None, Field(pattern=r"^[A-Za-z]{3}$", description="Default: the client's")] = None,
    create_date: Annotated[date | None, Field(description="Issue date (1970-2100); default today"), WRITE_DATE] = None,
    due_offset_days: Annotated[int, Field(ge=0, le=365, description="Days from issue to due date")] = 30,
    notes: Annotated[str | None, Field(max_length=5000, description="Notes"), FREE_TEXT] = None,
    terms: Annotated[str | None, Field(max_length=5000, description="Terms"), FREE_TEXT] = None,
    po_number: Annotated[str | None, Field(max_length=40, description="Client's PO number"), ONE_LINE] = None,
) -> Annotated[CallToolResult, CreatedInvoiceOut]:
    """Create a DRAFT invoice; nothing is sent (send_invoice, after the user reviews it). A line names an item or
    gives name and unit_cost. Returns its lines and total, checked against one computed here."""
    client = fb(ctx)
    try:
        client_raw = await client.get(CLIENTS, client_id)
    except FreshBooksError as exc:
        raise tool_error(
            exc, not_found=f"No client with client_id {client_id}; nothing was created. Use find_client."
        ) from None
    if int(client_raw.get("vis_state") or 0) == 1:
        raise ToolError(f"Client {client_id} is deleted; nothing was created. Use find_client.")
    code = (currency_code or client_raw.get("currency_code") or "USD").upper()
    inputs = await bill_lines(client, lines, code)  # items resolved; compound flags kept for wire and total
    body: dict[str, Any] = {
        "customerid": client_id,
        "create_date": (create_date or await client.today()).isoformat(),
        "due_offset_days": due_offset_days,
        "currency_code": code,
        "lines": [line_wire(line, code) for line in inputs],
    }
    for key, value in (("notes", notes), ("terms", terms), ("po_number", po_number)):
        if value is not None:
            body[key] = value
    raw = await create_reconciled(client, INVOICES, body, includes=("lines",))
    inv = parse_invoice(raw)
    expected = Money(amount=expected_total(inputs), code=code)
    matches = inv.amount.amount == expected.amount and inv.amount.code == expected.code
    if not matches:
        log.warning("invoice %s total %s differs from computed %s", inv.id, inv.amount, expected)
    detail = _detail(inv, [], detailed=False)
    out = CreatedInvoiceOut(
        invoice=invoice_row(inv),
        lines=detail.lines,
        total=inv.amount,
        expected_total=expected,
        total_matches=matches,
    )
    check = (
        "matches the total computed here"
        if matches
        else f"DIFFERS from the {fmt(expected)} computed here: review it with get_invoice before sending"
    )
    text = (
        f"Created draft invoice #{inv.invoice_number} [id {inv.id}] for {inv.client_name} (client {client_id}), "
        f"issued {inv.create_date}, due {inv.due_date}: total {fmt(inv.amount)} ({check}). "
        "It is a draft; send it with send_invoice once the user approves."
    )
    return respond(out, text)


# ---------------------------------------------------------------------- send_invoice

EmailAddress = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254), ONE_LINE]


def _send_question(inv: Invoice, email_to: list[str] | None) -> str:
    what = f"invoice #{inv.invoice_number} (id {inv.id}) for {inv.client_name}, {fmt(inv.amount)}"
    if email_to:
        return f"Email {what} to {', '.join(email_to)}?"
    return f"Mark {what} as sent (no email goes out)?"


async def _confirm_send(
    invoice_id: int, email_to: list[str] | None, confirm: bool, ctx: Context[Any, Any]
) -> Confirmation | Elicit[Confirmation]:
    def question(inv: Invoice) -> str | None:
        if not email_to and not inv.is_draft:
            return None  # nothing to change: the body reports it, no question needed
        return _send_question(inv, email_to)

    return await confirm_gate(
        ctx,
        confirm,
        key=invoice_key(invoice_id),
        load=lambda: load_invoice(fb(ctx), invoice_id),
        question=question,
    )


def _sent_since(email: bool) -> Callable[[dict[str, Any], dict[str, Any]], bool | None]:
    """Whether a send landed, judged from the invoice before and after (FreshBooks' own stamps)."""

    def landed(before: dict[str, Any], after: dict[str, Any]) -> bool | None:
        if parse_invoice(before).is_draft and not parse_invoice(after).is_draft:
            return True
        if not email:
            return False if parse_invoice(after).is_draft else None
        return changed_since(before, after)

    return landed


class SendInvoiceOut(BaseModel):
    invoice: InvoiceRow
    action: Literal["marked_as_sent", "emailed", "already_sent"]
    emailed_to: list[str] = Field(default_factory=list)


@tool(
    toolset=TOOLSET,
    title="Send invoice",
    read_only=False,
    destructive=False,
    idempotent=False,
    not_found=NOT_FOUND_INVOICE,
)
async def send_invoice(
    ctx: Context[Any, Any],
    invoice_id: Annotated[int, Field(ge=1, description="Invoice id")],
    approval: Annotated[Confirmation, Resolve(_confirm_send)],
    email_to: Annotated[
        list[EmailAddress] | None,
        Field(
            min_length=1,
            max_length=10,
            description="Omit to only mark as sent",
        ),
    ] = None,
    confirm: Annotated[bool, Field(description="true only once the user agreed")] = False,
) -> Annotated[CallToolResult, SendInvoiceOut]:
    """Email an invoice (email_to), or without it mark a draft as sent; either way it counts as billed. User
    confirms."""
    require_confirmation(approval, "sending the invoice")
    client = fb(ctx)
    key = invoice_key(invoice_id)
    # Under the invoice's lock: no other send or payment of this process changes it meanwhile, so a
    # lost reply is settled by re-reading the invoice (status, version stamp) instead of re-sending.
    async with exclusive(client, key) as held:
        inv = await load_once(ctx, key, lambda: load_invoice(client, invoice_id), fresh=True)
        if not email_to and not inv.is_draft:
            out = SendInvoiceOut(invoice=invoice_row(inv), action="already_sent")
            return respond(out, f"Invoice #{inv.invoice_number} is already {inv.v3_status}; nothing was changed.")
        fields: dict[str, Any] = (
            {"action_email": True, "email_recipients": list(email_to)} if email_to else {"action_mark_as_sent": True}
        )
        name = f"invoice #{inv.invoice_number} (id {inv.id})"
        action = Action(
            INVOICES,
            invoice_id,
            fields,
            landed=_sent_since(bool(email_to)),
            what=(
                f"{name} may have been emailed to {', '.join(email_to)}"
                if email_to
                else f"{name} may have been marked as sent"
            ),
            check=(
                f"Check its status with get_invoice invoice_id={inv.id} (and ask the client whether the email "
                "arrived) before sending again."
            ),
        )
        _, settled = await act(client, action, inv.raw, held)
        try:
            after = parse_invoice(await client.get(INVOICES, invoice_id))
        except FreshBooksError as exc:
            done = f"emailed to {', '.join(email_to)}" if email_to else "marked as sent"
            raise AppliedError(
                f"Invoice #{inv.invoice_number} (id {inv.id}) was {done}; could not re-read it afterwards "
                f"({exc.message.rstrip('.')}). Do not send it again: see its status with get_invoice"
            ) from None
    out = SendInvoiceOut(
        invoice=invoice_row(after),
        action="emailed" if email_to else "marked_as_sent",
        emailed_to=list(email_to or []),
    )
    how = f"emailed once to {', '.join(email_to)}" if email_to else "marked as sent"
    note = (
        " FreshBooks' reply was lost; re-reading the invoice showed the send had gone through, so it was not "
        "sent again."
        if settled
        else ""
    )
    return respond(
        out,
        f"Invoice #{after.invoice_number} [id {after.id}] {how}; status now {after.v3_status}, due {after.due_date}."
        + note,
    )


TOOLS = (list_invoices, get_invoice, list_overdue_invoices, create_invoice, send_invoice)
