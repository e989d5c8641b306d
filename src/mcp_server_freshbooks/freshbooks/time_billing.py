"""Unbilled time -> one draft invoice, then those entries marked billed: exactly once across failures.

FreshBooks has no "invoice these time entries" endpoint (../shared/reference/freshbooks-api-more.md
§1): the invoice and each entry's `billed: true` are separate writes. What makes it exactly once:

- The invoice's notes carry a marker naming every entry it bills ("Time entries billed: 9900012-
  9900015, 9900020"). The marker IS the record of the claim: an entry named on any (not deleted)
  invoice of the client is never put on another one, whatever its `billed` flag says.
- Everything for one client runs under one keyed lock (`entry_key`), so concurrent calls serialize.
- A call first RESUMES: entries named on a marker invoice but still unbilled (a failure between
  the invoice and the updates) are marked, and nothing new is invoiced in that call.
- The invoice create is reconciled (writes.create_reconciled: a lost reply is settled by looking
  the invoice up), and marking an entry billed is a pure update (safe to re-send).
- Only the entries read (and shown to the user) are named and marked: entries logged meanwhile
  wait for the next call.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from .api import FreshBooksClient
from .errors import FreshBooksError
from .lines import LineInput, line_amount, line_wire
from .projects import Project
from .query import INVOICES, Query
from .services import Service
from .time_entries import TimeEntry, TimeFilter, all_entries, update_time_entry
from .types import to_int

GroupBy = Literal["service", "project", "entry"]
MARKER = "Time entries billed:"
_MARKER_RE = re.compile(re.escape(MARKER) + r"\s*([0-9,\s\-]+)")
HOUR = Decimal(3600)
CENT = Decimal("0.01")


def hours(seconds: int) -> Decimal:
    """Seconds as hours to 2 decimals, half up (an invoice line's quantity)."""
    return (Decimal(seconds) / HOUR).quantize(CENT, rounding=ROUND_HALF_UP)


def marker_text(ids: Iterable[int]) -> str:
    """The ids as ranges: consecutive ids (one person's day of entries) compress well."""
    out: list[str] = []
    run: list[int] = []
    for i in sorted(set(ids)):
        if run and i == run[-1] + 1:
            run.append(i)
            continue
        if run:
            out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [i]
    if run:
        out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return f"{MARKER} {', '.join(out)}"


def marker_ids(notes: str | None) -> set[int]:
    found: set[int] = set()
    for m in _MARKER_RE.finditer(notes or ""):
        for part in m.group(1).split(","):
            part = part.strip()
            if "-" in part:
                lo, _, hi = part.partition("-")
                if lo.strip().isdigit() and hi.strip().isdigit():
                    found |= set(range(int(lo), int(hi) + 1))
            elif part.isdigit():
                found.add(int(part))
    return found


def rate_for(
    entry: TimeEntry, projects: dict[int, Project], services: dict[int, Service], fallback: Decimal | None
) -> tuple[Decimal | None, str]:
    """The hourly rate of one entry and where it came from, per its project's billing_method:
    project_rate -> the project's rate (else the service's); service_rate -> the service's (else the
    project's); business/team-member/unset -> the project's, else the service's. Else `fallback`."""
    project = projects.get(entry.project_id or 0)
    service = services.get(entry.service_id or 0)
    order = ("service", "project") if project and project.billing_method == "service_rate" else ("project", "service")
    for source in order:
        rate = (project.rate if project else None) if source == "project" else (service.rate if service else None)
        if rate is not None:
            return rate, source
    return (fallback, "given") if fallback is not None else (None, "none")


@dataclass
class Line:
    name: str
    description: str
    seconds: int
    rate: Decimal
    entry_ids: list[int] = field(default_factory=list)

    @property
    def qty(self) -> Decimal:
        return hours(self.seconds)

    @property
    def amount(self) -> Decimal:
        return line_amount(self.as_input())

    def as_input(self) -> LineInput:
        return LineInput(self.name, self.qty, self.rate, self.description)


@dataclass
class Plan:
    client_id: int
    entries: list[TimeEntry]
    lines: list[Line]
    unrated: list[TimeEntry]  # entries no rate applies to (the call is refused while any remain)

    @property
    def seconds(self) -> int:
        return sum(e.seconds for e in self.entries)

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))

    @property
    def entry_ids(self) -> list[int]:
        return sorted(e.id for e in self.entries)


def build_lines(
    entries: list[TimeEntry],
    group_by: GroupBy,
    projects: dict[int, Project],
    services: dict[int, Service],
    fallback: Decimal | None,
) -> tuple[list[Line], list[TimeEntry]]:
    """One line per group and rate (a group whose entries have two rates becomes two lines)."""
    lines: dict[tuple[str, Decimal], Line] = {}
    unrated: list[TimeEntry] = []
    for e in sorted(entries, key=lambda x: (x.started_at, x.id)):
        rate, _ = rate_for(e, projects, services, fallback)
        if rate is None:
            unrated.append(e)
            continue
        service = services[e.service_id].name if e.service_id in services else None
        project = projects[e.project_id].title if e.project_id in projects else None
        if group_by == "service":
            name = service or "Time"
        elif group_by == "project":
            name = project or "Time (no project)"
        else:
            name = f"{e.day.isoformat()} {service or project or 'Time'}"
        key = (name if group_by != "entry" else f"{name}#{e.id}", rate)
        line = lines.get(key)
        if line is None:
            note = (e.note or "") if group_by == "entry" else ""
            line = lines[key] = Line(name=name, description=note, seconds=0, rate=rate)
        line.seconds += e.seconds
        line.entry_ids.append(e.id)
    out = list(lines.values())
    if group_by != "entry":
        for line in out:
            days = sorted({e.day for e in entries if e.id in set(line.entry_ids)})
            span = days[0].isoformat() if days[0] == days[-1] else f"{days[0].isoformat()} to {days[-1].isoformat()}"
            line.description = f"{len(line.entry_ids)} time entries, {span}"
    return out, unrated


# ---------------------------------------------------------------------- reading the claims


@dataclass(frozen=True)
class Claim:
    invoice_id: int
    invoice_number: str
    entry_ids: frozenset[int]


async def claims(api: FreshBooksClient, client_id: int) -> list[Claim]:
    """The client's invoices (not deleted) whose notes name the time entries they bill."""
    rows = await api.list_all(INVOICES, Query(INVOICES).equals("customerid", client_id))
    out = []
    for r in rows:
        ids = marker_ids(str(r.get("notes") or ""))
        if ids:
            inv_id = to_int(r.get("id") or r.get("invoiceid"))
            out.append(Claim(inv_id, str(r.get("invoice_number") or inv_id), frozenset(ids)))
    return out


async def unbilled(api: FreshBooksClient, flt: TimeFilter) -> list[TimeEntry]:
    return [e for e in await all_entries(api, flt) if not e.billed]


@dataclass
class Leftover:
    claim: Claim
    entry_ids: list[int]  # named on the invoice, still not marked billed


async def leftovers(api: FreshBooksClient, client_id: int) -> tuple[list[Leftover], frozenset[int]]:
    """Unfinished earlier runs (invoice made, some entries not yet marked), and every claimed id."""
    found = await claims(api, client_id)
    claimed = frozenset(i for c in found for i in c.entry_ids)
    if not found:
        return [], claimed
    open_ids = {e.id for e in await unbilled(api, TimeFilter(client_id=client_id, billed=False))}
    todo = [Leftover(c, sorted(c.entry_ids & open_ids)) for c in found]
    return [t for t in todo if t.entry_ids], claimed


async def plan(
    api: FreshBooksClient,
    client_id: int,
    claimed: frozenset[int],
    *,
    project_id: int | None,
    date_from: date | None,
    date_to: date | None,
    group_by: GroupBy,
    projects: dict[int, Project],
    services: dict[int, Service],
    fallback: Decimal | None,
    only: set[int] | None = None,
) -> Plan:
    flt = TimeFilter(
        client_id=client_id, project_id=project_id, billable=True, billed=False, date_from=date_from, date_to=date_to
    )
    entries = [e for e in await unbilled(api, flt) if e.billable and e.id not in claimed and e.seconds > 0]
    if only is not None:
        entries = [e for e in entries if e.id in only]
    lines, unrated = build_lines(entries, group_by, projects, services, fallback)
    return Plan(client_id, entries, lines, unrated)


def invoice_body(plan: Plan, code: str, today: date, notes: str | None) -> dict[str, Any]:
    text = marker_text(plan.entry_ids)
    return {
        "customerid": plan.client_id,
        "create_date": today.isoformat(),
        "currency_code": code,
        "lines": [line_wire(line.as_input(), code) for line in plan.lines],
        "notes": f"{notes.strip()}\n\n{text}" if notes and notes.strip() else text,
    }


async def mark_billed(api: FreshBooksClient, ids: Iterable[int]) -> tuple[list[int], dict[int, str]]:
    """PUT billed=true on each (pure updates, re-sent by the client on failure); what failed, why."""
    done: list[int] = []
    failed: dict[int, str] = {}

    async def one(entry_id: int) -> None:
        try:
            await update_time_entry(api, entry_id, {"billed": True})
            done.append(entry_id)
        except FreshBooksError as exc:
            failed[entry_id] = exc.message

    await asyncio.gather(*(one(i) for i in sorted(set(ids))))
    return sorted(done), failed


# ---------------------------------------------------------------------- summaries

SummaryGroup = Literal["client", "project", "service", "team_member", "week", "month"]


class Tally:
    """Seconds of one group: all, billable, billed, unbilled billable; value = sum(seconds x rate).

    Billable seconds are summed per rate as integers and multiplied once, at the end: exact, and
    no Decimal arithmetic per entry (a summary adds tens of thousands)."""

    __slots__ = ("billable", "billed", "by_rate", "seconds", "unbilled")

    def __init__(self) -> None:
        self.seconds = self.billable = self.billed = self.unbilled = 0
        self.by_rate: dict[Decimal | None, int] = {}  # billable seconds per hourly rate

    def add(self, e: TimeEntry, rate: Decimal | None) -> None:
        seconds = e.seconds
        self.seconds += seconds
        if e.billable:
            self.billable += seconds
            self.by_rate[rate] = self.by_rate.get(rate, 0) + seconds
            if not e.billed:
                self.unbilled += seconds
        if e.billed:
            self.billed += seconds

    @property
    def value_seconds(self) -> Decimal:
        return sum((rate * seconds for rate, seconds in self.by_rate.items() if rate), Decimal(0))

    @property
    def value(self) -> Decimal:
        return (self.value_seconds / HOUR).quantize(CENT, rounding=ROUND_HALF_UP)


def group_key(e: TimeEntry, group_by: SummaryGroup) -> str:
    if group_by == "week":
        return (e.day - timedelta(days=e.day.weekday())).isoformat()
    if group_by == "month":
        return e.day.isoformat()[:7]
    value = {"client": e.client_id, "project": e.project_id, "service": e.service_id, "team_member": e.identity_id}[
        group_by
    ]
    return str(value) if value else "none"


class TimeSummary:
    """Hours per group, fed page by page: memory grows with the groups, never with the entries."""

    def __init__(self, group_by: SummaryGroup, projects: dict[int, Project], services: dict[int, Service]) -> None:
        self.group_by = group_by
        self.projects, self.services = projects, services
        self.groups: dict[str, Tally] = {}
        self.total = Tally()
        self.count = 0
        self.unrated_seconds = 0  # billable time no rate applies to (left out of value)
        self._rates: dict[tuple[int | None, int | None], Decimal | None] = {}

    def add(self, entries: Iterable[TimeEntry]) -> None:
        rates = self._rates
        for e in entries:
            self.count += 1
            pair = (e.project_id, e.service_id)  # an entry's rate depends on these two only
            if pair in rates:
                rate = rates[pair]
            else:
                rate = rates[pair] = rate_for(e, self.projects, self.services, None)[0]
            if e.billable and rate is None:
                self.unrated_seconds += e.seconds
            key = group_key(e, self.group_by)
            tally = self.groups.get(key)
            if tally is None:
                tally = self.groups[key] = Tally()
            tally.add(e, rate)
            self.total.add(e, rate)
