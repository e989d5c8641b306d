"""Time entries (`/timetracking/business/{business_id}/time_entries`): parsing, filters, pages with
FreshBooks' totals, streaming every page, and the writes.

Dates: a person's "day" is in the business's time zone; FreshBooks filters on `started_at` in UTC
with `started_from`/`started_to`, both inclusive, so a local day D is [D 00:00, D 23:59:59] local
converted to UTC. FreshBooks ignores every sort (newest first). `team=true` is always sent: without
it FreshBooks lists only the caller's own entries. A PUT sends only what changes and never a null
(`started_at: null` is refused). See ../shared/reference/freshbooks-api-more.md §1.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from .api import MAX_PER_PAGE, FreshBooksClient, ProgressCallback, _notify
from .business import TIME_ENTRIES, BusinessQuery
from .errors import NotFoundError
from .types import optional_text, to_int, zone
from .writes import Lookup, create_reconciled

log = logging.getLogger(__name__)

MAX_SECONDS = 24 * 3600


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs 3x, and a summary builds 20,000
class TimeEntry:
    id: int
    identity_id: int
    started_at: datetime  # UTC
    day: date  # local date in the business's time zone
    seconds: int
    client_id: int | None
    project_id: int | None
    service_id: int | None
    note: str | None
    billable: bool
    billed: bool
    internal: bool

    @property
    def unbilled_billable(self) -> bool:
        return self.billable and not self.billed and self.client_id is not None


def parse_started(value: Any) -> datetime:
    """FreshBooks' `started_at` (`YYYY-MM-DDTHH:MM:SSZ`) as an aware UTC datetime."""
    if isinstance(value, str) and value.endswith("Z"):  # the wire form: parsed in one C call
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    text = str(value or "").strip().rstrip("Z")
    return datetime.fromisoformat(text).replace(tzinfo=UTC) if text else datetime.min.replace(tzinfo=UTC)


@lru_cache(maxsize=1024)
def _utc_offset(hour: str, tz: str) -> timedelta:
    """The zone's offset during one UTC hour (`YYYY-MM-DDTHH`; zones change offset on the hour):
    one lookup per hour of entries instead of a time-zone conversion per entry (a summary parses
    tens of thousands, in time order, so a small cache holds every hour it is working through)."""
    try:
        return datetime.fromisoformat(hour + ":00:00+00:00").astimezone(zone(tz)).utcoffset() or timedelta(0)
    except (OverflowError, ValueError):
        return timedelta(0)


def _id(value: Any) -> int | None:
    """A link id (client, project, service): None for missing or 0."""
    if value is None:
        return None
    if type(value) is int:  # the wire form; to_int only for strings and junk
        return value or None
    return to_int(value) or None


def parse_time_entry(raw: dict[str, Any], tz: str) -> TimeEntry:
    """One wire row. Plain attribute work only: a summary parses tens of thousands of these."""
    get = raw.get
    wire_started = get("started_at")
    started = parse_started(wire_started)
    # The hour's text, from the wire form (YYYY-MM-DDTHH:MM:SSZ) when it is one.
    hour = wire_started if isinstance(wire_started, str) and len(wire_started) == 20 else started.isoformat()
    offset = _utc_offset(hour[:13], tz)
    try:
        day = (started + offset).date()
    except OverflowError:
        day = started.date()
    entry_id, seconds, note = get("id"), get("duration"), get("note")
    return TimeEntry(
        entry_id if type(entry_id) is int else to_int(entry_id),
        to_int(get("identity_id")),
        started,
        day,
        seconds if type(seconds) is int else to_int(seconds),
        _id(get("client_id")),
        _id(get("project_id")),
        _id(get("service_id")),
        optional_text(note) if note else None,
        bool(get("billable")),
        bool(get("billed")),
        bool(get("internal")),
    )


def utc_bounds(day_from: date | None, day_to: date | None, tz: str) -> tuple[datetime | None, datetime | None]:
    """Local days -> the inclusive UTC instants FreshBooks compares `started_at` with.

    A bound that falls outside what a datetime holds (0001-01-01 east of UTC, 9999-12-31 west of it)
    leaves nothing out, so it is no bound at all (None) rather than an OverflowError.
    """
    z = zone(tz)

    def utc(day: date | None, at: time) -> datetime | None:
        try:
            return datetime.combine(day, at, z).astimezone(UTC) if day else None
        except OverflowError:
            return None

    return utc(day_from, time.min), utc(day_to, time(23, 59, 59))


@dataclass(frozen=True)
class TimeFilter:
    client_id: int | None = None
    project_id: int | None = None
    identity_id: int | None = None
    billable: bool | None = None
    billed: bool | None = None
    date_from: date | None = None
    date_to: date | None = None

    def query(self, tz: str) -> BusinessQuery:
        q = BusinessQuery(TIME_ENTRIES).equals("team", True)
        for key in ("client_id", "project_id", "identity_id", "billable", "billed"):
            value = getattr(self, key)
            if value is not None:
                q.equals(key, value)
        lo, hi = utc_bounds(self.date_from, self.date_to, tz)
        if lo is not None:
            q.equals("started_from", lo)
        if hi is not None:
            q.equals("started_to", hi)
        return q


@dataclass
class TimePage:
    entries: list[TimeEntry]
    page: int
    pages: int
    total: int
    logged_seconds: int  # FreshBooks' meta.total_logged over every matching entry
    unbilled_seconds: int  # meta.total_unbilled


async def time_page(api: FreshBooksClient, flt: TimeFilter, *, page: int = 1, per_page: int = MAX_PER_PAGE) -> TimePage:
    tz = (await api.business()).timezone
    params = [*flt.query(tz).params(), ("page", str(page)), ("per_page", str(min(per_page, MAX_PER_PAGE)))]
    body = await api.business_request("GET", "timetracking", "time_entries", params=params)
    body = body if isinstance(body, dict) else {}
    meta: dict[str, Any] = body["meta"] if isinstance(body.get("meta"), dict) else {}
    return TimePage(
        entries=[parse_time_entry(r, tz) for r in body.get("time_entries") or [] if isinstance(r, dict)],
        page=to_int(meta.get("page"), page),
        pages=to_int(meta.get("pages")),
        total=to_int(meta.get("total")),
        logged_seconds=to_int(meta.get("total_logged")),
        unbilled_seconds=to_int(meta.get("total_unbilled")),
    )


async def iter_time_pages(
    api: FreshBooksClient, flt: TimeFilter, *, on_progress: ProgressCallback | None = None
) -> AsyncIterator[TimePage]:
    """Every page: page 1, then the rest concurrently (at most 2 x max_concurrency held), in order."""
    first = await time_page(api, flt)
    last = max(first.pages, 1)
    await _notify(on_progress, 1, last)
    yield first
    pending: deque[asyncio.Task[TimePage]] = deque()
    next_page, done = 2, 1
    try:
        while next_page <= last or pending:
            while next_page <= last and len(pending) < api.max_concurrency * 2:
                pending.append(asyncio.create_task(time_page(api, flt, page=next_page)))
                next_page += 1
            page = await pending.popleft()
            done += 1
            await _notify(on_progress, done, last)
            yield page
    finally:
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


async def service_page(
    api: FreshBooksClient,
    flt: TimeFilter,
    service_id: int,
    *,
    page: int = 1,
    per_page: int = MAX_PER_PAGE,
    on_progress: ProgressCallback | None = None,
) -> TimePage:
    """One page of the entries of one service, with totals over all of them.

    FreshBooks documents no service filter on time entries (§1: `service_id` is undocumented and
    unverified, and an ignored key would list everything), so none is sent: every page of `flt` is
    read and filtered here. Exact: each entry counted once (by id), totals summed over every match
    as FreshBooks' meta would (a list holds logged entries only); memory holds one page of matches.
    """
    seen: set[int] = set()
    rows: list[TimeEntry] = []
    total = logged = unbilled = 0
    start = (page - 1) * per_page
    async for got in iter_time_pages(api, flt, on_progress=on_progress):
        for entry in got.entries:
            if entry.service_id != service_id or entry.id in seen:
                continue
            seen.add(entry.id)
            if start <= total < start + per_page:
                rows.append(entry)
            total += 1
            logged += entry.seconds
            unbilled += 0 if entry.billed else entry.seconds
    return TimePage(rows, page, -(-total // per_page), total, logged, unbilled)


async def all_entries(api: FreshBooksClient, flt: TimeFilter) -> list[TimeEntry]:
    """Every matching entry, de-duplicated by id (pages may shift while entries are logged)."""
    seen: dict[int, TimeEntry] = {}
    async for page in iter_time_pages(api, flt):
        for entry in page.entries:
            seen.setdefault(entry.id, entry)
    return list(seen.values())


async def get_time_entry(api: FreshBooksClient, entry_id: int) -> TimeEntry:
    tz = (await api.business()).timezone
    body = await api.business_request("GET", "timetracking", f"time_entries/{entry_id}")
    raw = body.get("time_entry") if isinstance(body, dict) else None
    if not isinstance(raw, dict):
        raise NotFoundError(f"No time entry with id {entry_id}.")
    return parse_time_entry(raw, tz)


# ---------------------------------------------------------------------- writes


def entry_key(client_id: int | None) -> str:
    """Lock key for checks-then-writes on one client's time (logging, billing)."""
    return f"time:client:{client_id or 0}"


def time_entry_lookup(fields: dict[str, Any], tz: str) -> Lookup:
    """How the write primitive finds the entry one create made: the entries starting at that very
    second (for that client), with the same duration, links and note."""
    started = parse_started(fields["started_at"])
    q = BusinessQuery(TIME_ENTRIES).equals("team", True).equals("started_from", started).equals("started_to", started)
    if fields.get("client_id"):
        q.equals("client_id", fields["client_id"])

    def matches(rec: dict[str, Any]) -> bool:
        return all(rec.get(k) == fields.get(k) for k in ("duration", "client_id", "project_id", "service_id")) and (
            (rec.get("note") or "") == (fields.get("note") or "")
        )

    what = f"a {fields['duration'] / 3600:g} h time entry starting {fields['started_at']}"
    return Lookup(q, matches, what, f"list_time_entries for {started.astimezone(zone(tz)).date()}")


async def create_time_entry(api: FreshBooksClient, fields: dict[str, Any]) -> TimeEntry:
    """Log one entry. `fields` is the wire form (started_at as `YYYY-MM-DDTHH:MM:SSZ`, duration seconds).
    Created through the write primitive (a lost reply is settled by looking the entry up), under
    the client's time lock so it never interleaves with billing that client's time."""
    tz = (await api.business()).timezone
    lookup = time_entry_lookup(fields, tz)
    key = entry_key(fields.get("client_id"))
    return parse_time_entry(await create_reconciled(api, TIME_ENTRIES, fields, lookup=lookup, keys=(key,)), tz)


def entry_wire(fields: dict[str, Any]) -> dict[str, Any]:
    """An update's body: only the fields that change, and never a null (FreshBooks refuses
    `started_at: null`; clearing a link is sent as 0... only where FreshBooks accepts it)."""
    return {"time_entry": {k: v for k, v in fields.items() if v is not None}}


async def update_time_entry(api: FreshBooksClient, entry_id: int, fields: dict[str, Any]) -> TimeEntry:
    """A pure update (sets values): the client may re-send it after a lost reply."""
    tz = (await api.business()).timezone
    body = await api.business_request("PUT", "timetracking", f"time_entries/{entry_id}", json=entry_wire(fields))
    return parse_time_entry(dict(body.get("time_entry") or {}), tz)


async def delete_time_entry(api: FreshBooksClient, entry_id: int) -> None:
    """DELETE (204). Re-sent after a lost reply; a 404 on a re-send means the first one landed
    (the caller read the entry just before, under the client's lock)."""
    try:
        await api.business_request("DELETE", "timetracking", f"time_entries/{entry_id}")
    except NotFoundError:
        log.info("time entry %s already gone: an earlier DELETE whose reply was lost landed", entry_id)


def local_start(day: date, tz: str, at: time | None = None) -> datetime:
    """When an entry logged for `day` starts, in UTC: at `at` local time (default 09:00)."""
    return datetime.combine(day, at or time(9, 0), zone(tz)).astimezone(UTC)


def wire_instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())
