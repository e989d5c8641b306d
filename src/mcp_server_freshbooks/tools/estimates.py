"""Estimates (quotes): list, read, create and update drafts, send, accept, and convert one to a draft
invoice with every line, tax and discount (confirmed; totals checked side by side to the cent)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, Elicit, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from ..freshbooks import CLIENTS, INVOICES, AppliedError, FreshBooksClient, FreshBooksError, Query
from ..freshbooks.estimates import (
    ESTIMATE_STATUSES,
    ESTIMATES,
    Estimate,
    EstimateStatus,
    estimate_key,
    estimate_lookup,
    invoice_from_estimate,
    parse_estimate,
)
from ..freshbooks.invoices import Invoice, parse_invoice
from ..freshbooks.lines import as_input, document_totals, line_wire
from ..freshbooks.writes import Action, act, changed_since, create_reconciled, exclusive, update
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
)
from ._inputs import FREE_TEXT, ISO_DATE, ONE_LINE, PLAIN_AMOUNT, WRITE_DATE
from ._lines import LineIn, LineOut, bill_lines, line_out
from ._output import Paged, Row, detailed, paging
from .invoices import ClientRef, EmailAddress, InvoiceRow, fmt, invoice_row

TOOLSET = Toolset(
    id="estimates",
    description="Quotes: list, create, send and accept estimates; convert one to a draft invoice.",
    default=False,
    instructions=(
        "Estimates are quotes: create_estimate drafts one, send_estimate emails it, accept_estimate records the "
        "client's yes, convert_estimate_to_invoice makes the draft invoice with the same lines, taxes and discount."
    ),
    resources=(ESTIMATES,),
    scope_area="estimates",
    write_lookup=estimate_lookup,
)

NOT_FOUND_ESTIMATE = "No estimate with that estimate_id; find it with list_estimates."
SCAN_MAX_ROWS = 1000  # client and date filters are applied here (FreshBooks documents no key for them)
Percent = Annotated[
    Decimal | None, Field(ge=0, le=100, decimal_places=3, description="Discount percent, before tax"), PLAIN_AMOUNT
]


class EstimateRow(Row):
    id: int = Field(description="estimate_id in other tools")
    estimate_number: str
    client: ClientRef
    issue_date: date | None = None
    amount: Money
    status: str = Field(description="draft, sent, viewed, replied, accepted or invoiced")
    discount_percent: str | None = detailed()
    notes: str | None = detailed()
    terms: str | None = detailed()
    po_number: str | None = detailed()


def estimate_row(est: Estimate, detailed: bool = False) -> EstimateRow:
    return EstimateRow.of(
        detailed,
        id=est.id,
        estimate_number=est.estimate_number,
        client=ClientRef(id=est.client_id, name=est.client_name),
        issue_date=est.create_date,
        amount=est.amount,
        status=est.status_name,
        discount_percent=f"{est.discount_percent.normalize():f}",
        notes=est.notes,
        terms=est.terms,
        po_number=est.po_number,
    )


def row_text(r: EstimateRow) -> str:
    return (
        f"estimate #{r.estimate_number} [id {r.id}] {r.client.name} (client {r.client.id}): issued {r.issue_date}, "
        f"{fmt(r.amount)}, {r.status}"
    )


async def load_estimate(client: FreshBooksClient, estimate_id: int) -> Estimate:
    """The estimate with its lines, or a ToolError a model can act on (resolvers are not wrapped by @tool)."""
    try:
        return parse_estimate(await client.get(ESTIMATES, estimate_id, includes=("lines",)))
    except FreshBooksError as exc:
        if exc.status == 404:
            raise ToolError(f"No estimate with estimate_id {estimate_id}; find it with list_estimates.") from None
        raise


# ---------------------------------------------------------------------- list / get


class ListEstimatesOut(Paged):
    estimates: list[EstimateRow]


@tool(toolset=TOOLSET, title="List estimates", read_only=True, idempotent=True)
async def list_estimates(
    ctx: Context[Any, Any],
    status: Annotated[EstimateStatus | None, Field(description="Only this status")] = None,
    client_id: Annotated[int | None, Field(ge=1, description="Only this client's")] = None,
    date_from: Annotated[date | None, Field(description="Issued on or after"), ISO_DATE] = None,
    date_to: Annotated[date | None, Field(description="Issued on or before"), ISO_DATE] = None,
    number: Annotated[str | None, Field(max_length=40, description="Estimate number contains"), ONE_LINE] = None,
    limit: Annotated[int, Field(ge=1, le=100, description="Rows per page")] = 20,
    page: Annotated[int, Field(ge=1, description="Page number")] = 1,
    response_format: Annotated[ResponseFormat, Field(description=RESPONSE_FORMAT_DESCRIPTION)] = "concise",
) -> Annotated[CallToolResult, ListEstimatesOut]:
    """List estimates (quotes), newest first. Rows: id, number, client, issue date, amount, status. Lines and totals:
    get_estimate."""
    if date_from is not None and date_to is not None and date_from > date_to:
        raise ToolError(f"date_from ({date_from}) is after date_to ({date_to}); give date_from <= date_to.")
    query = Query(ESTIMATES)
    if status is not None:
        query.equals("statusid", ESTIMATE_STATUSES[status])
    if number:
        query.like("estimate_number", number)
    client = fb(ctx)
    if client_id is None and date_from is None and date_to is None:
        result = await client.list_page(ESTIMATES, query, page=page, per_page=limit)
        found, total, has_more = [parse_estimate(r) for r in result.rows], result.total, page < result.pages
    else:
        rows = [parse_estimate(r) for r in await client.list_all(ESTIMATES, query, max_rows=SCAN_MAX_ROWS)]
        kept = [
            e
            for e in rows
            if (client_id is None or e.client_id == client_id)
            and (date_from is None or (e.create_date is not None and e.create_date >= date_from))
            and (date_to is None or (e.create_date is not None and e.create_date <= date_to))
        ]
        kept.sort(key=lambda e: (e.create_date or date.min, e.id), reverse=True)
        found, total = kept[(page - 1) * limit : page * limit], len(kept)
        has_more = page * limit < total
    rows_out = [estimate_row(e, response_format == "detailed") for e in found]
    out = ListEstimatesOut(estimates=rows_out, **paging(page, limit, has_more, total))
    head = f"{total} estimate(s) match; page {page} shows {len(rows_out)}." + (
        f" More: page={page + 1}." if has_more else ""
    )
    return respond(out, "\n".join([head, *(row_text(r) for r in rows_out)]))


class EstimateTotals(BaseModel):
    subtotal: Money = Field(description="Sum of line amounts")
    discount: Money
    tax: Money
    total: Money = Field(description="As FreshBooks computed it")
    expected_total: Money = Field(description="Computed here from the lines (README: Money)")
    total_matches: bool


class EstimateDetail(BaseModel):
    estimate: EstimateRow
    lines: list[LineOut]
    totals: EstimateTotals


def _totals(est: Estimate) -> EstimateTotals:
    mine = document_totals((as_input(line) for line in est.lines), est.discount_percent)
    code = est.currency_code

    def m(value: Decimal) -> Money:
        return Money(amount=value, code=code)

    return EstimateTotals(
        subtotal=m(mine.subtotal),
        discount=m(mine.discount),
        tax=m(mine.tax),
        total=est.amount,
        expected_total=m(mine.total),
        total_matches=mine.total == est.amount.amount,
    )


def _detail(est: Estimate, detailed: bool = False) -> EstimateDetail:
    return EstimateDetail(
        estimate=estimate_row(est, detailed),
        lines=[line_out(line, detailed) for line in est.lines],
        totals=_totals(est),
    )


def _detail_text(d: EstimateDetail) -> str:
    t = d.totals
    lines = "\n".join(
        f"  {ln.name} x{ln.qty} @ {fmt(ln.unit_cost)} = {fmt(ln.amount)}"
        + "".join(f", {x.name} {x.percent}%" + (" compound" if x.compound else "") for x in ln.taxes)
        for ln in d.lines
    )
    check = "" if t.total_matches else f" DIFFERS from the {fmt(t.expected_total)} computed here."
    return (
        f"{row_text(d.estimate)}\nLines:\n{lines or '  (none)'}\nSubtotal {fmt(t.subtotal)}, discount "
        f"{fmt(t.discount)}, tax {fmt(t.tax)}, total {fmt(t.total)}.{check}"
    )


@tool(toolset=TOOLSET, title="Get estimate", read_only=True, idempotent=True, not_found=NOT_FOUND_ESTIMATE)
async def get_estimate(
    ctx: Context[Any, Any],
    estimate_id: Annotated[int, Field(ge=1, description="Estimate id")],
    response_format: Annotated[ResponseFormat, Field(description=RESPONSE_FORMAT_DESCRIPTION)] = "concise",
) -> Annotated[CallToolResult, EstimateDetail]:
    """One estimate: status, lines and totals (subtotal, discount, tax, total), re-checked here to the cent. detailed
    adds notes, terms, PO, full line text."""
    d = _detail(await load_estimate(fb(ctx), estimate_id), response_format == "detailed")
    return respond(d, _detail_text(d))


# ---------------------------------------------------------------------- create / update


async def _client_code(client: FreshBooksClient, client_id: int, currency_code: str | None) -> str:
    try:
        raw = await client.get(CLIENTS, client_id)
    except FreshBooksError as exc:
        if exc.status == 404:
            raise ToolError(f"No client with client_id {client_id}; nothing was created. Use find_client.") from None
        raise
    if int(raw.get("vis_state") or 0) == 1:
        raise ToolError(f"Client {client_id} is deleted; nothing was created. Use find_client.")
    return (currency_code or raw.get("currency_code") or "USD").upper()


@tool(toolset=TOOLSET, title="Create draft estimate", read_only=False, destructive=False, idempotent=False)
async def create_estimate(
    ctx: Context[Any, Any],
    client_id: Annotated[int, Field(ge=1, description="From find_client")],
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=100, description="What is quoted")],
    discount_percent: Percent = None,
    currency_code: Annotated[str | None, Field(pattern=r"^[A-Za-z]{3}$", description="Default: the client's")] = None,
    create_date: Annotated[date | None, Field(description="Issue date; default today"), WRITE_DATE] = None,
    notes: Annotated[str | None, Field(max_length=5000, description="Notes"), FREE_TEXT] = None,
    terms: Annotated[str | None, Field(max_length=5000, description="Terms"), FREE_TEXT] = None,
) -> Annotated[CallToolResult, EstimateDetail]:
    """Create a DRAFT estimate (quote); nothing is sent. discount_percent comes off before tax. Returns it with
    FreshBooks' total checked against one computed here."""
    client = fb(ctx)
    code = await _client_code(client, client_id, currency_code)
    body: dict[str, Any] = {
        "customerid": client_id,
        "create_date": (create_date or await client.today()).isoformat(),
        "currency_code": code,
        "lines": [line_wire(line, code) for line in await bill_lines(client, lines, code)],
    }
    if discount_percent:
        body["discount_value"] = f"{discount_percent.normalize():f}"
    for key, value in (("notes", notes), ("terms", terms)):
        if value is not None:
            body[key] = value
    d = _detail(parse_estimate(await create_reconciled(client, ESTIMATES, body, includes=("lines",))))
    return respond(d, "Created draft " + _detail_text(d) + "\nIt is a draft: send_estimate sends it.")


@tool(
    toolset=TOOLSET,
    title="Update estimate",
    read_only=False,
    destructive=False,
    idempotent=True,
    not_found=NOT_FOUND_ESTIMATE,
)
async def update_estimate(
    ctx: Context[Any, Any],
    estimate_id: Annotated[int, Field(ge=1, description="Estimate id")],
    lines: Annotated[
        list[LineIn] | None,
        Field(min_length=1, max_length=100, description="Replaces ALL lines"),
    ] = None,
    discount_percent: Percent = None,
    notes: Annotated[str | None, Field(max_length=5000, description="Notes"), FREE_TEXT] = None,
    terms: Annotated[str | None, Field(max_length=5000, description="Terms"), FREE_TEXT] = None,
) -> Annotated[CallToolResult, EstimateDetail]:
    """Change an estimate's lines, discount, notes or terms. lines replaces the whole set: give every line to keep
    (get_estimate shows them). Returns it re-totalled."""
    client = fb(ctx)
    async with exclusive(client, estimate_key(estimate_id)):
        est = await load_estimate(client, estimate_id)
        fields: dict[str, Any] = {}
        if lines is not None:
            code = est.currency_code
            fields["lines"] = [line_wire(x, code) for x in await bill_lines(client, lines, code)]
        if discount_percent is not None:
            fields["discount_value"] = f"{discount_percent.normalize():f}"
        for key, value in (("notes", notes), ("terms", terms)):
            if value is not None:
                fields[key] = value
        if not fields:
            raise ToolError("Nothing to change: give lines, discount_percent, notes or terms.")
        raw = await update(client, ESTIMATES, estimate_id, fields, includes=("lines",))
    d = _detail(parse_estimate(raw))
    return respond(d, "Updated " + _detail_text(d))


# ---------------------------------------------------------------------- send / accept


async def _confirm_send(
    estimate_id: int, email_to: list[str], confirm: bool, ctx: Context[Any, Any]
) -> Confirmation | Elicit[Confirmation]:
    def question(est: Estimate) -> str:
        return (
            f"Email estimate #{est.estimate_number} (id {est.id}) for {est.client_name}, {fmt(est.amount)}, "
            f"to {', '.join(email_to)}?"
        )

    return await confirm_gate(
        ctx,
        confirm,
        key=estimate_key(estimate_id),
        load=lambda: load_estimate(fb(ctx), estimate_id),
        question=question,
    )


async def _confirm_accept(
    estimate_id: int, confirm: bool, ctx: Context[Any, Any]
) -> Confirmation | Elicit[Confirmation]:
    def question(est: Estimate) -> str | None:
        if est.status_name in ("accepted", "invoiced"):
            return None  # nothing to change; the body says so
        return f"Record that {est.client_name} accepted estimate #{est.estimate_number} ({fmt(est.amount)})?"

    return await confirm_gate(
        ctx,
        confirm,
        key=estimate_key(estimate_id),
        load=lambda: load_estimate(fb(ctx), estimate_id),
        question=question,
    )


class EstimateActionOut(BaseModel):
    estimate: EstimateRow
    action: Literal["emailed", "accepted", "already_accepted"]
    emailed_to: list[str] = Field(default_factory=list)


async def _act_on(
    ctx: Context[Any, Any], estimate_id: int, fields: dict[str, Any], what: str, accept: bool
) -> tuple[Estimate, bool]:
    client = fb(ctx)
    key = estimate_key(estimate_id)
    async with exclusive(client, key) as held:
        est = await load_once(ctx, key, lambda: load_estimate(client, estimate_id), fresh=True)

        def landed(before: dict[str, Any], after: dict[str, Any]) -> bool | None:
            if accept:
                return bool(after.get("accepted")) or int(after.get("status") or 0) == ESTIMATE_STATUSES["accepted"]
            return changed_since(before, after)

        name = f"estimate #{est.estimate_number} (id {est.id})"
        action = Action(
            ESTIMATES, estimate_id, fields, landed, f"{name} {what}",
            f"Check it with get_estimate estimate_id={est.id} before doing it again.",
        )  # fmt: skip
        _, settled = await act(client, action, await client.get(ESTIMATES, estimate_id), held)
        try:
            after = await load_estimate(client, estimate_id)
        except FreshBooksError as exc:
            raise AppliedError(
                f"Done: {name} {what.replace('may have been', 'was')}; could not re-read it "
                f"({exc.message.rstrip('.')}). Do not repeat it: see it with get_estimate"
            ) from None
    return after, settled


@tool(toolset=TOOLSET, title="Send estimate", read_only=False, idempotent=False, not_found=NOT_FOUND_ESTIMATE)
async def send_estimate(
    ctx: Context[Any, Any],
    estimate_id: Annotated[int, Field(ge=1, description="Estimate id")],
    email_to: Annotated[list[EmailAddress], Field(min_length=1, max_length=10, description="Recipients")],
    approval: Annotated[Confirmation, Resolve(_confirm_send)],
    subject: Annotated[str | None, Field(max_length=200, description="Email subject"), ONE_LINE] = None,
    message: Annotated[str | None, Field(max_length=5000, description="Email body"), FREE_TEXT] = None,
    confirm: Annotated[bool, Field(description="true only once the user agreed")] = False,
) -> Annotated[CallToolResult, EstimateActionOut]:
    """Email an estimate to the client (a draft becomes sent); user confirms. Returns the estimate as sent."""
    require_confirmation(approval, "sending the estimate")
    fields: dict[str, Any] = {"action_email": True, "email_recipients": list(email_to)}
    if subject or message:
        fields["estimate_customized_email"] = {k: v for k, v in (("subject", subject), ("body", message)) if v}
    after, settled = await _act_on(
        ctx, estimate_id, fields, f"may have been emailed to {', '.join(email_to)}", accept=False
    )
    out = EstimateActionOut(estimate=estimate_row(after), action="emailed", emailed_to=list(email_to))
    note = " (the reply was lost; re-reading showed it went through, so it was not sent again)" if settled else ""
    return respond(out, f"Emailed {row_text(out.estimate)} once to {', '.join(email_to)}{note}.")


@tool(toolset=TOOLSET, title="Accept estimate", read_only=False, idempotent=False, not_found=NOT_FOUND_ESTIMATE)
async def accept_estimate(
    ctx: Context[Any, Any],
    estimate_id: Annotated[int, Field(ge=1, description="Estimate id")],
    approval: Annotated[Confirmation, Resolve(_confirm_accept)],
    confirm: Annotated[bool, Field(description="true only once the user agreed")] = False,
) -> Annotated[CallToolResult, EstimateActionOut]:
    """Record that the client accepted an estimate; user confirms. Then convert_estimate_to_invoice bills it."""
    require_confirmation(approval, "accepting the estimate")
    est = await load_once(ctx, estimate_key(estimate_id), lambda: load_estimate(fb(ctx), estimate_id))
    if est.status_name in ("accepted", "invoiced"):
        out = EstimateActionOut(estimate=estimate_row(est), action="already_accepted")
        return respond(out, f"{row_text(out.estimate)}: already {est.status_name}; nothing was changed.")
    after, _ = await _act_on(ctx, estimate_id, {"action_accept": True}, "may have been accepted", accept=True)
    out = EstimateActionOut(estimate=estimate_row(after), action="accepted")
    return respond(out, f"Accepted {row_text(out.estimate)}. convert_estimate_to_invoice bills it.")


# ---------------------------------------------------------------------- convert


async def _invoices_from(client: FreshBooksClient, est: Estimate) -> list[Invoice]:
    """Invoices already made from this estimate (no estimateid search key is documented: read the
    client's invoices and match the field)."""
    rows = await client.list_all(INVOICES, Query(INVOICES).equals("customerid", est.client_id), max_rows=2000)
    return [parse_invoice(r) for r in rows if int(r.get("estimateid") or 0) == est.id]


async def _load_for_convert(client: FreshBooksClient, estimate_id: int) -> tuple[Estimate, list[Invoice]]:
    est = await load_estimate(client, estimate_id)
    return est, await _invoices_from(client, est)


def _convert_refusal(est: Estimate, made: list[Invoice], allow_again: bool) -> str | None:
    if allow_again:
        return None
    if made:
        listed = ", ".join(f"#{i.invoice_number} (id {i.id})" for i in made)
        return (
            f"Estimate #{est.estimate_number} (id {est.id}) was already converted: invoice {listed}. Nothing was "
            "created. To bill it again on purpose, call with allow_again=true."
        )
    if est.status_name == "invoiced":
        return (
            f"Estimate #{est.estimate_number} (id {est.id}) is already invoiced. Nothing was created. To bill it "
            "again on purpose, call with allow_again=true."
        )
    if not est.lines:
        return f"Estimate #{est.estimate_number} (id {est.id}) has no lines; nothing to invoice."
    return None


async def _confirm_convert(
    estimate_id: int, allow_again: bool, confirm: bool, ctx: Context[Any, Any]
) -> Confirmation | Elicit[Confirmation]:
    def question(loaded: tuple[Estimate, list[Invoice]]) -> str:
        est, made = loaded
        reason = _convert_refusal(est, made, allow_again)
        if reason:
            raise ToolError(reason)
        return (
            f"Create a draft invoice from estimate #{est.estimate_number} (id {est.id}) for {est.client_name}: "
            f"{len(est.lines)} line(s), {fmt(est.amount)}?"
        )

    return await confirm_gate(
        ctx,
        confirm,
        key=estimate_key(estimate_id),
        load=lambda: _load_for_convert(fb(ctx), estimate_id),
        question=question,
    )


class ConvertOut(BaseModel):
    estimate: EstimateRow
    invoice: InvoiceRow
    estimate_total: Money
    invoice_total: Money = Field(description="As FreshBooks computed it")
    totals_equal: bool = Field(description="Equal to the cent, same currency")


@tool(
    toolset=TOOLSET,
    title="Convert estimate to invoice",
    read_only=False,
    idempotent=False,
    not_found=NOT_FOUND_ESTIMATE,
)
async def convert_estimate_to_invoice(
    ctx: Context[Any, Any],
    estimate_id: Annotated[int, Field(ge=1, description="Estimate id")],
    approval: Annotated[Confirmation, Resolve(_confirm_convert)],
    allow_again: Annotated[bool, Field(description="Convert again")] = False,
    confirm: Annotated[bool, Field(description="true only once the user agreed")] = False,
) -> Annotated[CallToolResult, ConvertOut]:
    """Make a DRAFT invoice from an estimate (lines, taxes, discount, currency, notes, terms), linked to it; user
    confirms. Refused if already converted unless allow_again. Returns both totals."""
    require_confirmation(approval, "converting the estimate")
    client = fb(ctx)
    key = estimate_key(estimate_id)
    # The check (no invoice made from it yet) and the create run under the estimate's lock.
    async with exclusive(client, key) as held:
        est, made = await load_once(ctx, key, lambda: _load_for_convert(client, estimate_id), fresh=True)
        reason = _convert_refusal(est, made, allow_again)
        if reason:
            raise ToolError(reason)
        body = invoice_from_estimate(est, await client.today())
        inv = parse_invoice(await create_reconciled(client, INVOICES, body, includes=("lines",), outer=held))
    same = inv.amount == est.amount
    out = ConvertOut(
        estimate=estimate_row(est),
        invoice=invoice_row(inv),
        estimate_total=est.amount,
        invoice_total=inv.amount,
        totals_equal=same,
    )
    check = "equal to the cent" if same else "DIFFERENT: review with get_invoice before sending"
    text = (
        f"Created draft invoice #{inv.invoice_number} [id {inv.id}] from estimate #{est.estimate_number} "
        f"(id {est.id}) for {inv.client_name}: {len(inv.lines)} line(s). Estimate {fmt(est.amount)}, invoice "
        f"{fmt(inv.amount)} ({check}). It is a draft: send it with send_invoice once the user approves."
    )
    return respond(out, text)


TOOLS = (
    list_estimates,
    get_estimate,
    create_estimate,
    update_estimate,
    send_estimate,
    accept_estimate,
    convert_estimate_to_invoice,
)
