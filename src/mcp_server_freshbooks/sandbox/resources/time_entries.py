"""Time entries (``/timetracking/business/{business_id}/time_entries``): model, bare filters,
list totals, and the entries seeded for each seeded project."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from .. import query as Q
from .._wire import EASTERN, JSON, ApiError, fmt_iso_utc, parse_bool
from ..books import Books
from ..fields import names
from ..resource import Resource

UPDATABLE = names("duration note client_id project_id service_id task_id billable billed internal is_logged")


def _invalid(key: str, what: str) -> ApiError:
    return ApiError(422, {"errno": 2001, "error": {key: what}})


def _record(books: Books, teid: int, started: datetime, created: datetime) -> JSON:
    return {
        "id": teid,
        "identity_id": books.identity_id,
        "is_logged": True,
        "started_at": fmt_iso_utc(started),
        "local_started_at": started.astimezone(EASTERN).strftime("%Y-%m-%dT%H:%M:%S"),
        "local_timezone": "America/Toronto",
        "created_at": fmt_iso_utc(created),
        "duration": 0,
        "client_id": None,
        "project_id": None,
        "service_id": None,
        "task_id": None,
        "note": "",
        "active": True,
        "billable": True,
        "billed": False,
        "internal": False,
        "retainer_id": None,
        "pending_client": None,
        "pending_project": None,
        "pending_task": None,
        "timer": None,
    }


def create_time_entry(books: Books, body: JSON) -> JSON:
    missing = [k for k in ("is_logged", "started_at", "duration") if body.get(k) is None]
    if missing:
        raise ApiError(422, {"errno": 2001, "error": {k: "field required" for k in missing}})
    try:
        duration = int(body["duration"])
        started = datetime.fromisoformat(str(body["started_at"]).rstrip("Z")).replace(tzinfo=UTC)
        started.astimezone(EASTERN)
    except (TypeError, ValueError):
        raise _invalid("started_at", "invalid value") from None
    except OverflowError:  # 0001-01-01T00:00 in Toronto is before year 1
        raise _invalid("started_at", "invalid value") from None
    teid = books.next_id("time_entry", 9900001)
    rec = _record(books, teid, started, datetime.now(UTC))
    rec.update(
        is_logged=bool(parse_bool(body["is_logged"])),
        duration=duration,
        client_id=body.get("client_id"),
        project_id=body.get("project_id"),
        service_id=body.get("service_id"),
        task_id=body.get("task_id"),
        note=body.get("note") or "",
        billable=bool(body.get("billable", True)),
        internal=bool(body.get("internal", False)),
    )
    books.db.time_entries[teid] = rec
    return rec


def update_time_entry(books: Books, rec: JSON, body: JSON) -> None:
    for key in UPDATABLE:
        if key in body:
            rec[key] = body[key]


def _include_deleted(key: str) -> Q.Spec:
    def spec(values: list[str], books: Books) -> Q.Pred:
        flag = parse_bool(values[-1])
        if flag is None:
            raise _invalid(key, "not a valid boolean")
        return lambda r: flag or r["active"]

    return spec


def list_meta(rows: list[JSON]) -> JSON:
    logged = sum(r["duration"] for r in rows if r["is_logged"])
    unbilled = sum(r["duration"] for r in rows if r["is_logged"] and not r["billed"])
    return {"total_logged": logged, "total_unbilled": unbilled}


def seed_project_time_entries(books: Books, rng: random.Random, project: JSON, today: date) -> None:
    """2..6 logged entries over the last 120 days for one seeded project."""
    for _ in range(rng.randint(2, 6)):
        teid = books.next_id("time_entry", 9900001)
        start = datetime.combine(today - timedelta(days=rng.randint(0, 120)), time(rng.randint(13, 21), 0), tzinfo=UTC)
        rec = _record(books, teid, start, start + timedelta(hours=3))
        rec.update(
            duration=rng.choice([900, 1800, 3600, 5400, 7200, 9840]),
            client_id=project["client_id"],
            project_id=project["id"],
            note=rng.choice(["", "Design review", "Calls", "Implementation"]),
            billed=rng.random() < 0.3,
        )
        books.db.time_entries[teid] = rec


RESOURCE = Resource(
    name="time_entry",
    plural="time_entries",
    family="business",
    table="time_entries",
    path="timetracking/business/{business_id}/time_entries",
    item_path="timetracking/business/{business_id}/time_entries",
    search={
        "include_deleted": _include_deleted,
        "billable": Q.bare_bool("billable"),
        "billed": Q.bare_bool("billed"),
        "client_id": Q.bare_int("client_id"),
        "identity_id": Q.bare_int("identity_id"),
        "project_id": Q.bare_int("project_id"),
        "started_from": Q.bare_since("started_at"),
        "started_to": Q.bare_since("started_at", upper=True),
    },
    hide_unless="include_deleted",
    hide=lambda r: not r["active"],
    sorts={"started_at": Q.by("started_at")},
    default_sort="-started_at",
    http_delete=True,
    create=create_time_entry,
    update=update_time_entry,
    list_meta=list_meta,
    quirks=(
        "POSTed to the list path; newest first whatever the sort; started_from/started_to are inclusive",
        "meta adds total_logged and total_unbilled (seconds) over the whole filtered list",
        "DELETE -> 204",
    ),
)
