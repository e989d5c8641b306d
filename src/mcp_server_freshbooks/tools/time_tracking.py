"""Time tracking: list, log, change and summarize time entries; list services; bill unbilled time."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Awaitable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any

from mcp.server.mcpserver import Context, Elicit, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from ..freshbooks import CLIENTS, INVOICES, AppliedError, FreshBooksClient, FreshBooksError, NotFoundError
from ..freshbooks.invoices import parse_invoice
from ..freshbooks.names import client_label, client_names
from ..freshbooks.projects import Project, all_projects, team_names
from ..freshbooks.services import Service, list_services
from ..freshbooks.time_billing import (
    GroupBy,
    Leftover,
    Plan,
    SummaryGroup,
    Tally,
    TimeSummary,
    hours,
    invoice_body,
    leftovers,
    mark_billed,
    plan,
)
from ..freshbooks.time_entries import (
    MAX_SECONDS,
    TimeEntry,
    TimeFilter,
    create_time_entry,
    delete_time_entry,
    entry_key,
    get_time_entry,
    iter_time_pages,
    local_start,
    service_page,
    time_page,
    update_time_entry,
    wire_instant,
)
from ..freshbooks.types import Money, zone
from ..freshbooks.writes import create_reconciled, exclusive, invoice_lookup
from ._base import (
    Confirmation,
    Toolset,
    confirm_gate,
    fb,
    load_once,
    one_line,
    require_confirmation,
    respond,
    tool,
    tool_error,
)
from ._inputs import FREE_TEXT, ISO_DATE, ONE_LINE, PLAIN_AMOUNT, WRITE_DATE
from ._output import Paged, Row, paging

TOOLSET = Toolset(
    id="time",
    description="Time tracking: list, log and summarize hours; services and rates; invoice unbilled time.",
    default=False,
    instructions="log_time records hours; summarize_time answers 'how much time on what'; "
    "invoice_unbilled_time turns a client's unbilled hours into one draft invoice.",
    resources=(INVOICES,),
    paths=("/timetracking/", "/comments/"),
    scope_area="time_entries",
    write_lookup=invoice_lookup,
)

ClientParam = Annotated[int | None, Field(ge=1, description="Client id")]
ProjectIdParam = Annotated[int | None, Field(ge=1, description="Project id")]
DateFrom = Annotated[dt.date | None, Field(description="First day (local)"), ISO_DATE]
DateTo = Annotated[dt.date | None, Field(description="Last day, inclusive"), ISO_DATE]
HOURS_RE = re.compile(r"^(?:[0-9]{1,2}(?:\.[0-9]{1,2})?|[0-9]{1,2}:[0-5][0-9])$")


def _check_range(date_from: dt.date | None, date_to: dt.date | None) -> None:
    if date_from and date_to and date_from > date_to:
        raise ToolError(f"date_from ({date_from}) is after date_to ({date_to}); give date_from <= date_to.")


def _h(seconds: int) -> str:
    return f"{hours(seconds):f}"


class TimeRow(Row):
    id: int
    date: dt.date = Field(description="Local day it started")
    hours: str
    client_id: int | None = None
    project_id: int | None = None
    service_id: int | None = None
    team_member_id: int = Field(description="identity_id of who logged it")
    team_member: str | None = Field(default=None, description="Their name, where FreshBooks shows it")
    note: str | None = None
    billable: bool
    billed: bool


def time_row(e: TimeEntry, names: dict[int, str] | None = None) -> TimeRow:
    return TimeRow(
        id=e.id,
        date=e.day,
        hours=_h(e.seconds),
        client_id=e.client_id,
        project_id=e.project_id,
        service_id=e.service_id,
        team_member_id=e.identity_id,
        team_member=(names or {}).get(e.identity_id),
        note=one_line(e.note),
        billable=e.billable,
        billed=e.billed,
    )


# ---------------------------------------------------------------------- list_time_entries


class ListTimeOut(Paged):
    time_entries: list[TimeRow]
    logged_hours: str = Field(description="All matching entries (FreshBooks' total_logged)")
    unbilled_hours: str = Field(description="Matching entries not billed (FreshBooks' total_unbilled)")


@tool(toolset=TOOLSET, title="List time entries", read_only=True, idempotent=True)
async def list_time_entries(
    ctx: Context[Any, Any],
    client_id: ClientParam = None,
    project_id: ProjectIdParam = None,
    team_member_id: Annotated[int | None, Field(ge=1, description="Member identity_id")] = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    billed: Annotated[bool | None, Field(description="Billed or unbilled")] = None,
    billable: Annotated[bool | None, Field(description="Billable or not")] = None,
    service_id: Annotated[int | None, Field(ge=1, description="Service id (filtered here, all pages)")] = None,
    limit: Annotated[int, Field(ge=1, le=100, description="Rows per page")] = 30,
    page: Annotated[int, Field(ge=1, description="Page number")] = 1,
) -> Annotated[CallToolResult, ListTimeOut]:
    """Time entries of the whole team, newest first. Rows: id, date, hours, client/project/service,
    note, billed. logged_hours/unbilled_hours total all matches; summarize_time groups them."""
    _check_range(date_from, date_to)
    flt = TimeFilter(client_id, project_id, team_member_id, billable, billed, date_from, date_to)
    client = fb(ctx)
    if service_id is None:
        result = await time_page(client, flt, page=page, per_page=limit)
    else:  # FreshBooks has no service filter: every page is read and filtered (exact)

        async def progress(done: int, pages: int) -> None:
            await ctx.report_progress(done, pages, f"Read {done} of {pages} pages of time entries")

        result = await service_page(client, flt, service_id, page=page, per_page=limit, on_progress=progress)
    ids = {e.identity_id for e in result.entries}
    names = await team_names(client, ids, [e.project_id for e in result.entries if e.project_id]) if ids else {}
    rows = [time_row(e, names) for e in result.entries]
    has_more = page < result.pages
    out = ListTimeOut(
        time_entries=rows,
        logged_hours=_h(result.logged_seconds),
        unbilled_hours=_h(result.unbilled_seconds),
        **paging(page, limit, has_more, result.total),
    )
    head = (
        f"{result.total} entries match: {out.logged_hours} h logged, {out.unbilled_hours} h unbilled. Page {page} "
        f"of {max(result.pages, 1)}." + (f" More: page={page + 1}." if has_more else "")
    )
    lines = [
        f"[id {r.id}] {r.date} {r.hours} h {r.team_member or f'member {r.team_member_id}'} client {r.client_id} "
        f"project {r.project_id} service {r.service_id} "
        f"{'billed' if r.billed else 'unbilled' if r.billable else 'non-billable'} {r.note or ''}".rstrip()
        for r in rows
    ]
    return respond(out, "\n".join([head, *lines]))


# ---------------------------------------------------------------------- names and rates


async def _projects(client: FreshBooksClient) -> dict[int, Project]:
    return {p.id: p for p in await all_projects(client)}


async def _services(client: FreshBooksClient) -> dict[int, Service]:
    return {s.id: s for s in await list_services(client)}


def _pick(kind: str, value: str, named: dict[int, str]) -> int:
    """An id given as digits, or the one name equal to (else containing) the text."""
    if value.strip().isdigit():
        if int(value) not in named:
            raise ToolError(f"No {kind} with id {value}; nothing was changed. See list_{kind}s.")
        return int(value)
    want = value.strip().casefold()
    exact = [i for i, n in named.items() if n.casefold() == want]
    found = exact or [i for i, n in named.items() if want in n.casefold()]
    if len(found) != 1:
        what = "matches several" if found else "matches none"
        raise ToolError(f"{kind} {value!r} {what} of the {kind}s; give its id (list_{kind}s). Nothing was changed.")
    return found[0]


# ---------------------------------------------------------------------- log_time


def parse_hours(text: str) -> int:
    """'1.5' or '1:30' -> seconds; refuses zero and more than 24 h."""
    if not HOURS_RE.match(text.strip()):
        raise ToolError(f"hours {text!r} must be decimal hours like 1.5 or h:mm like 1:30. Nothing was logged.")
    if ":" in text:
        h, m = text.strip().split(":")
        seconds = int(h) * 3600 + int(m) * 60
    else:
        seconds = int(Decimal(text.strip()) * 3600)
    if not 0 < seconds <= MAX_SECONDS:
        raise ToolError(f"hours {text!r} must be more than 0 and at most 24. Nothing was logged.")
    return seconds


class LogTimeOut(BaseModel):
    time_entry: TimeRow


TimeText = Annotated[str, Field(description="Hours: 1.5 or 1:30 (max 24)"), ONE_LINE]
StartText = Annotated[
    str | None, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="Start HH:MM, default 09:00")
]


@tool(toolset=TOOLSET, title="Log time", read_only=False, destructive=False, idempotent=False)
async def log_time(
    ctx: Context[Any, Any],
    hours: TimeText,
    date: Annotated[dt.date | None, Field(description="Day worked; default today"), WRITE_DATE] = None,
    start_time: StartText = None,
    client_id: ClientParam = None,
    project: Annotated[str | None, Field(max_length=100, description="Project id or title"), ONE_LINE] = None,
    service: Annotated[str | None, Field(max_length=100, description="Service id or name"), ONE_LINE] = None,
    note: Annotated[str | None, Field(max_length=2000, description="What was done"), FREE_TEXT] = None,
    billable: Annotated[bool, Field(description="Can be invoiced")] = True,
) -> Annotated[CallToolResult, LogTimeOut]:
    """Log time for yourself: hours, day, client and/or project (its client is used), service, note.
    Refuses over 24 h, days after tomorrow, a project of another client. Returns the entry."""
    seconds = parse_hours(hours)
    client = fb(ctx)
    today = await client.today()
    day = date or today
    if day > today + dt.timedelta(days=1):
        raise ToolError(
            f"date {day} is in the future (after tomorrow, {today + dt.timedelta(days=1)}). Nothing was logged."
        )
    project_id: int | None = None
    if project is not None:
        projects = await _projects(client)
        project_id = _pick("project", project, {p.id: p.title for p in projects.values()})
        owner = projects[project_id].client_id
        if client_id is not None and owner not in (None, client_id):
            raise ToolError(
                f"Project {project_id} ({projects[project_id].title}) belongs to client {owner}, not {client_id}. "
                "Nothing was logged."
            )
        client_id = client_id or owner
    elif client_id is not None:
        try:
            if int((await client.get(CLIENTS, client_id)).get("vis_state") or 0) == 1:
                raise ToolError(f"Client {client_id} is deleted. Nothing was logged.")
        except NotFoundError:
            raise ToolError(f"No client with id {client_id}. Nothing was logged; use find_client.") from None
    service_id = None
    if service is not None:
        service_id = _pick("service", service, {s.id: s.name for s in (await _services(client)).values()})
    tz = (await client.business()).timezone
    at = dt.time.fromisoformat(start_time) if start_time else None
    fields: dict[str, Any] = {
        "is_logged": True,
        "started_at": wire_instant(local_start(day, tz, at)),
        "duration": seconds,
        "billable": billable,
        "internal": client_id is None,
        "note": note or "",
    }
    for key, value in (("client_id", client_id), ("project_id", project_id), ("service_id", service_id)):
        if value is not None:
            fields[key] = value
    entry = await create_time_entry(client, fields)
    row = time_row(entry)
    return respond(
        LogTimeOut(time_entry=row), f"Logged [id {row.id}] {row.hours} h on {row.date} for client {client_id}."
    )


# ---------------------------------------------------------------------- update / delete


class TimeEntryOut(BaseModel):
    time_entry: TimeRow


@tool(
    toolset=TOOLSET,
    title="Update time entry",
    read_only=False,
    destructive=False,
    idempotent=True,
    name="update_time_entry",
)
async def update_time_entry_tool(
    ctx: Context[Any, Any],
    entry_id: Annotated[int, Field(ge=1, description="Time entry id")],
    hours: Annotated[str | None, Field(description="New hours: 1.5 or 1:30"), ONE_LINE] = None,
    date: Annotated[dt.date | None, Field(description="New day (keeps the start time)"), WRITE_DATE] = None,
    note: Annotated[str | None, Field(max_length=2000, description="New note"), FREE_TEXT] = None,
    billable: Annotated[bool | None, Field(description="New billable flag")] = None,
    allow_billed: Annotated[bool, Field(description="Allow a billed entry")] = False,
) -> Annotated[CallToolResult, TimeEntryOut]:
    """Change a time entry's hours, day, note or billable flag (only those given). Billed entries
    need allow_billed. Returns the entry."""
    client = fb(ctx)
    current = await get_time_entry(client, entry_id)
    if current.billed and not allow_billed:
        raise ToolError(
            f"Time entry {entry_id} is already billed; changing it makes its invoice disagree. Nothing was changed; "
            "pass allow_billed=true if that is intended."
        )
    fields: dict[str, Any] = {}
    if hours is not None:
        fields["duration"] = parse_hours(hours)
    if date is not None:
        tz = (await client.business()).timezone
        at = current.started_at.astimezone(zone(tz)).time().replace(microsecond=0)
        fields["started_at"] = wire_instant(local_start(date, tz, at))
    if note is not None:
        fields["note"] = note
    if billable is not None:
        fields["billable"] = billable
    if not fields:
        raise ToolError("Give at least one of hours, date, note, billable. Nothing was changed.")
    entry = await update_time_entry(client, entry_id, fields)
    return respond(TimeEntryOut(time_entry=time_row(entry)), f"Updated time entry {entry_id}.")


async def _mapped(
    gate: Awaitable[Confirmation | Elicit[Confirmation]], not_found: str | None = None
) -> Confirmation | Elicit[Confirmation]:
    """A resolver runs before the tool body (outside @tool): map FreshBooks errors the same way."""
    try:
        return await gate
    except FreshBooksError as exc:
        raise tool_error(exc, not_found=not_found) from None


async def _confirm_delete(
    entry_id: int, allow_billed: bool, confirm: bool, ctx: Context[Any, Any]
) -> Confirmation | Elicit[Confirmation]:
    def question(e: TimeEntry) -> str:
        if e.billed and not allow_billed:
            raise ToolError(
                f"Time entry {e.id} is billed (it is on an invoice); deleting it makes the invoice disagree. Nothing "
                "was deleted; pass allow_billed=true if that is intended."
            )
        return f"Delete time entry {e.id}: {_h(e.seconds)} h on {e.day} (client {e.client_id}, {e.note or 'no note'})?"

    return await _mapped(
        confirm_gate(
            ctx,
            confirm,
            key=f"time_entry:{entry_id}",
            load=lambda: get_time_entry(fb(ctx), entry_id),
            question=question,
            retry_hint="call delete_time_entry again with confirm=true",
        ),
        not_found=f"No time entry with id {entry_id}; nothing was deleted.",
    )


class DeletedOut(BaseModel):
    deleted_id: int


@tool(
    toolset=TOOLSET,
    title="Delete time entry",
    read_only=False,
    destructive=True,
    idempotent=True,
    name="delete_time_entry",
)
async def delete_time_entry_tool(
    ctx: Context[Any, Any],
    entry_id: Annotated[int, Field(ge=1, description="Time entry id")],
    approval: Annotated[Confirmation, Resolve(_confirm_delete)],
    allow_billed: Annotated[bool, Field(description="Allow a billed entry")] = False,
    confirm: Annotated[bool, Field(description="true only once the user agreed")] = False,
) -> Annotated[CallToolResult, DeletedOut]:
    """Delete one time entry after the user confirms (hours, day, client shown). A billed entry is
    refused unless allow_billed."""
    require_confirmation(approval, "deleting the time entry")
    entry = await load_once(ctx, f"time_entry:{entry_id}", lambda: get_time_entry(fb(ctx), entry_id))
    async with exclusive(fb(ctx), entry_key(entry.client_id)):
        await delete_time_entry(fb(ctx), entry_id)
    return respond(DeletedOut(deleted_id=entry_id), f"Deleted time entry {entry_id}.")


# ---------------------------------------------------------------------- summarize_time


class TimeGroup(BaseModel):
    key: str = Field(description="An id, 'none', YYYY-MM or the Monday of the week")
    label: str
    hours: str
    billable_hours: str
    non_billable_hours: str
    billed_hours: str
    unbilled_billable_hours: str
    value: str = Field(description="Billable hours x rate (business currency)")


class SummarizeTimeOut(BaseModel):
    group_by: str
    groups: list[TimeGroup]
    total: TimeGroup
    entries: int
    unrated_hours: str = Field(description="Billable hours with no rate (not in value)")


def _group_out(tally: Tally, key: str, label: str) -> TimeGroup:
    return TimeGroup(
        key=key,
        label=label,
        hours=_h(tally.seconds),
        billable_hours=_h(tally.billable),
        non_billable_hours=_h(tally.seconds - tally.billable),
        billed_hours=_h(tally.billed),
        unbilled_billable_hours=_h(tally.unbilled),
        value=f"{tally.value:f}",
    )


@tool(toolset=TOOLSET, title="Summarize time", read_only=True, idempotent=True)
async def summarize_time(
    ctx: Context[Any, Any],
    group_by: Annotated[SummaryGroup, Field(description="How to group the hours")] = "client",
    date_from: DateFrom = None,
    date_to: DateTo = None,
    client_id: ClientParam = None,
    project_id: ProjectIdParam = None,
) -> Annotated[CallToolResult, SummarizeTimeOut]:
    """Team hours grouped by client, project, service, team_member, week or month: billable, billed,
    unbilled, value at rate. Reads every entry, so totals are exact."""
    _check_range(date_from, date_to)
    client = fb(ctx)
    projects, services = await asyncio.gather(_projects(client), _services(client))
    summary = TimeSummary(group_by, projects, services)

    async def progress(done: int, pages: int) -> None:
        await ctx.report_progress(done, pages, f"Read {done} of {pages} pages of time entries")

    flt = TimeFilter(client_id=client_id, project_id=project_id, date_from=date_from, date_to=date_to)
    async for page in iter_time_pages(client, flt, on_progress=progress):
        summary.add(page.entries)
    groups = summary.groups
    labels: dict[str, str] = {}
    if group_by == "client":
        ids = [int(k) for k in groups if k != "none"]
        labels = {str(k): v for k, v in (await client_names(client, ids)).items()} if ids else {}
    elif group_by == "project":
        labels = {str(p.id): p.title for p in projects.values()}
    elif group_by == "service":
        labels = {str(s.id): s.name for s in services.values()}
    elif group_by == "team_member":
        named = await team_names(client, [int(k) for k in groups if k != "none"], list(projects))
        labels = {str(k): named.get(int(k), f"team member {k}") for k in groups if k != "none"}
    ordered = sorted(groups.items(), key=lambda kv: (-kv[1].seconds, kv[0]))
    if group_by in ("week", "month"):
        ordered = sorted(groups.items())
    out = SummarizeTimeOut(
        group_by=group_by,
        groups=[_group_out(acc, k, labels.get(k, k if k != "none" else f"no {group_by}")) for k, acc in ordered],
        total=_group_out(summary.total, "total", "All entries"),
        entries=summary.count,
        unrated_hours=_h(summary.unrated_seconds),
    )
    lines = [f"{g.label}: {g.hours} h ({g.unbilled_billable_hours} h unbilled), value {g.value}" for g in out.groups]
    total = out.total
    head = f"{summary.count} entries, {total.hours} h ({total.billable_hours} h billable), value {total.value}."
    return respond(out, "\n".join([head, *lines]))


# ---------------------------------------------------------------------- list_services


class ServiceRow(BaseModel):
    id: int
    name: str
    billable: bool
    rate: str | None = Field(default=None, description="Hourly rate (business currency)")


class ListServicesOut(BaseModel):
    services: list[ServiceRow]


@tool(toolset=TOOLSET, title="List services", read_only=True, idempotent=True, name="list_services")
async def list_services_tool(ctx: Context[Any, Any]) -> Annotated[CallToolResult, ListServicesOut]:
    """List the services time is logged against, with their hourly rates (ids for log_time)."""
    services = await list_services(fb(ctx))
    rows = [
        ServiceRow(id=s.id, name=s.name, billable=s.billable, rate=f"{s.rate:f}" if s.rate is not None else None)
        for s in services
    ]
    text = "\n".join(
        f"[id {r.id}] {r.name} {r.rate or 'no rate'}{'' if r.billable else ' (non-billable)'}" for r in rows
    )
    return respond(ListServicesOut(services=rows), text or "No services.")


# ---------------------------------------------------------------------- invoice_unbilled_time


@dataclass
class Preview:
    """What one call would do, read before asking (and re-checked under the client's lock)."""

    client_name: str
    currency: str
    leftover: list[Leftover] = field(default_factory=list)
    plan: Plan | None = None


async def _preview(
    client: FreshBooksClient,
    client_id: int,
    project_id: int | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
    group_by: GroupBy,
    rate: Decimal | None,
    only: set[int] | None = None,
) -> Preview:
    try:
        raw = await client.get(CLIENTS, client_id)
    except NotFoundError:
        raise ToolError(f"No client with id {client_id}; nothing was invoiced. Use find_client.") from None
    name, code = client_label(raw), str(raw.get("currency_code") or "USD").upper()
    todo, claimed = await leftovers(client, client_id)
    if todo:
        return Preview(client_name=name, currency=code, leftover=todo)
    projects, services = await _projects(client), await _services(client)
    p = await plan(
        client,
        client_id,
        claimed,
        project_id=project_id,
        date_from=date_from,
        date_to=date_to,
        group_by=group_by,
        projects=projects,
        services=services,
        fallback=rate,
        only=only,
    )
    return Preview(client_name=name, currency=code, plan=p)


def _lines_text(p: Plan, code: str) -> str:
    return "; ".join(f"{ln.name}: {ln.qty:f} h x {ln.rate:f} = {ln.amount:f} {code}" for ln in p.lines)


def _question(pv: Preview) -> str | None:
    if pv.leftover:
        left = sum(len(t.entry_ids) for t in pv.leftover)
        invs = ", ".join(f"#{t.claim.invoice_number}" for t in pv.leftover)
        return f"Finish an earlier billing of {pv.client_name}: mark {left} entries billed that invoice {invs} lists?"
    p = pv.plan
    assert p is not None
    if p.unrated:
        ids = ", ".join(str(e.id) for e in p.unrated[:20])
        raise ToolError(
            f"{len(p.unrated)} unbilled entries of {pv.client_name} have no rate (no project or service rate): ids "
            f"{ids}. Pass rate= (hourly) or give them a service with a rate. Nothing was invoiced."
        )
    if not p.entries:
        return None
    return (
        f"Create a draft invoice for {pv.client_name}: {_h(p.seconds)} h from {len(p.entries)} unbilled entries, "
        f"{_lines_text(p, pv.currency)}; total {p.total:f} {pv.currency} before tax; then mark those entries billed?"
    )


class InvoiceTimeOut(BaseModel):
    invoice_id: int | None = None
    invoice_number: str | None = None
    status: str = Field(description="invoiced, resumed or nothing_to_bill")
    hours: str
    total: Money | None = None
    lines: int = 0
    entries_marked: list[int] = Field(default_factory=list)


_ARGS = "client_id, project_id, date_from, date_to, group_by, rate"


async def _confirm_billing(
    client_id: int,
    project_id: int | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
    group_by: GroupBy,
    rate: Decimal | None,
    confirm: bool,
    ctx: Context[Any, Any],
) -> Confirmation | Elicit[Confirmation]:
    _check_range(date_from, date_to)
    return await _mapped(
        confirm_gate(
            ctx,
            confirm,
            key=entry_key(client_id),
            load=lambda: _preview(fb(ctx), client_id, project_id, date_from, date_to, group_by, rate),
            question=_question,
        )
    )


@tool(toolset=TOOLSET, title="Invoice unbilled time", read_only=False, destructive=False, idempotent=False)
async def invoice_unbilled_time(
    ctx: Context[Any, Any],
    client_id: Annotated[int, Field(ge=1, description="Client to bill")],
    approval: Annotated[Confirmation, Resolve(_confirm_billing)],
    project_id: ProjectIdParam = None,
    date_from: Annotated[dt.date | None, Field(description="First day (local)"), WRITE_DATE] = None,
    date_to: Annotated[dt.date | None, Field(description="Last day, inclusive"), WRITE_DATE] = None,
    group_by: Annotated[GroupBy, Field(description="One line per service, project or entry")] = "service",
    rate: Annotated[
        Decimal | None,
        Field(gt=0, decimal_places=2, description="Rate where none applies"),
        PLAIN_AMOUNT,
    ] = None,
    confirm: Annotated[bool, Field(description="true only once the user agreed")] = False,
) -> Annotated[CallToolResult, InvoiceTimeOut]:
    """Bill a client's unbilled billable time as one draft invoice (qty = hours at the project or service rate) and
    mark those entries billed; user confirms. After a failure call again: it resumes, never invoicing twice."""
    require_confirmation(approval, "invoicing the time")
    client = fb(ctx)
    key = entry_key(client_id)
    shown = await load_once(
        ctx, key, lambda: _preview(client, client_id, project_id, date_from, date_to, group_by, rate)
    )
    async with exclusive(client, key) as held:
        if not held.may_adopt():
            raise ToolError(
                f"An earlier invoice_unbilled_time for client {client_id} has an unknown outcome and may still land. "
                f"Nothing was done; in a minute, check list_invoices client_id={client_id}, then call again."
            )
        # Bill exactly the entries the user saw: entries logged since wait for the next call.
        agreed = {e.id for e in shown.plan.entries} if shown.plan else None
        now = await _preview(client, client_id, project_id, date_from, date_to, group_by, rate, only=agreed)
        if now.leftover:
            return await _resume(client, now)
        assert now.plan is not None
        p = now.plan
        if not p.entries:
            out = InvoiceTimeOut(status="nothing_to_bill", hours="0.00")
            return respond(out, f"{now.client_name} has no unbilled billable time in that range. Nothing was done.")
        if agreed is not None and set(p.entry_ids) != agreed:
            raise ToolError(
                f"Entries {sorted(agreed - set(p.entry_ids))[:10]} were billed or changed since the question. Nothing "
                "was done; call invoice_unbilled_time again to see the new figures."
            )
        if p.unrated:
            raise ToolError(f"{len(p.unrated)} entries have no rate; pass rate=. Nothing was invoiced.")
        body = invoice_body(p, now.currency, await client.today(), None)
        raw = await create_reconciled(client, INVOICES, body, includes=("lines",), outer=held)
        inv = parse_invoice(raw)
        done, failed = await mark_billed(client, p.entry_ids)
    out = InvoiceTimeOut(
        invoice_id=inv.id,
        invoice_number=inv.invoice_number,
        status="invoiced",
        hours=_h(p.seconds),
        total=inv.amount,
        lines=len(p.lines),
        entries_marked=done,
    )
    if failed:
        raise AppliedError(
            f"Created draft invoice #{inv.invoice_number} (id {inv.id}) for {now.client_name}, {inv.amount.amount:f} "
            f"{inv.amount.code}, and marked {len(done)} of {len(p.entry_ids)} entries billed; not yet marked: "
            f"{sorted(failed)} ({next(iter(failed.values()))}). Calling invoice_unbilled_time for "
            f"client_id={client_id} again only marks those (it finds this invoice by its notes and makes no "
            "other invoice)"
        )
    text = (
        f"Created draft invoice #{inv.invoice_number} (id {inv.id}) for {now.client_name}: {out.hours} h on "
        f"{out.lines} line(s), {inv.amount.amount:f} {inv.amount.code}; marked {len(done)} entries billed. "
        "Review it, then send it with send_invoice."
    )
    return respond(out, text)


async def _resume(client: FreshBooksClient, pv: Preview) -> CallToolResult:
    ids = [i for t in pv.leftover for i in t.entry_ids]
    done, failed = await mark_billed(client, ids)
    numbers = ", ".join(f"#{t.claim.invoice_number} (id {t.claim.invoice_id})" for t in pv.leftover)
    if failed:
        raise AppliedError(
            f"Finishing invoice {numbers}: marked {len(done)} more entries billed; still not marked: {sorted(failed)}. "
            "Calling invoice_unbilled_time again for this client only marks those"
        )
    first = pv.leftover[0].claim
    out = InvoiceTimeOut(
        invoice_id=first.invoice_id,
        invoice_number=first.invoice_number,
        status="resumed",
        hours="0.00",
        entries_marked=done,
    )
    return respond(
        out,
        f"Finished an earlier billing: marked {len(done)} entries billed that invoice {numbers} lists. No new invoice "
        "was made; call again to bill time logged since.",
    )


TOOLS = (
    list_time_entries,
    summarize_time,
    log_time,
    update_time_entry_tool,
    delete_time_entry_tool,
    list_services_tool,
    invoice_unbilled_time,
)
