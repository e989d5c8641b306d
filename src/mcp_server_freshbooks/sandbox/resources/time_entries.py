"""Time entries (``/timetracking/business/{business_id}/time_entries``): model, bare filters,
list totals, and the entries seeded for each seeded project."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from .. import query as Q
from .._wire import EASTERN, JSON, ApiError, fmt_iso_utc, parse_bool
from ..books import Books
from ..fields import names
from ..resource import Resource, Seeding

UPDATABLE = names(
    "duration note client_id project_id service_id task_id billable billed internal is_logged identity_id"
)
# Team members who log time besides the owner (seeded with --time-entries): identity id, name, email.
TEAM = (
    (5100001, "Priya", "Natarajan", "priya@northbeam.example.com"),
    (5100002, "Tomas", "Lindqvist", "tomas@northbeam.example.com"),
    (5100003, "Ada", "Okafor", "ada@northbeam.example.com"),
)


def _invalid(key: str, what: str) -> ApiError:
    return ApiError(422, {"errno": 2001, "error": {key: what}})


def _started(value: object) -> datetime:
    try:
        started = datetime.fromisoformat(str(value).rstrip("Z")).replace(tzinfo=UTC)
        started.astimezone(EASTERN)
    except (TypeError, ValueError, OverflowError):  # OverflowError: before year 1 in Toronto time
        raise _invalid("started_at", "invalid value") from None
    return started


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
    except (TypeError, ValueError):
        raise _invalid("duration", "not a valid integer") from None
    started = _started(body["started_at"])
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
        identity_id=body.get("identity_id") or books.identity_id,
        internal=bool(body.get("internal", False)),
    )
    books.db.time_entries[teid] = rec
    return rec


def update_time_entry(books: Books, rec: JSON, body: JSON) -> None:
    # FreshBooks (live): `"started_at": null` -> "none is not an allowed value"; omitted keys stay.
    for key in ("started_at", "duration", "is_logged"):
        if key in body and body[key] is None:
            raise _invalid(key, "none is not an allowed value")
    if "started_at" in body:
        started = _started(body["started_at"])
        rec["started_at"] = fmt_iso_utc(started)
        rec["local_started_at"] = started.astimezone(EASTERN).strftime("%Y-%m-%dT%H:%M:%S")
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


def _team(key: str) -> Q.Spec:
    """``team=true``: every member's entries; ``team=false``: the caller's own."""

    def spec(values: list[str], books: Books) -> Q.Pred:
        flag = parse_bool(values[-1])
        if flag is None:
            raise _invalid(key, "not a valid boolean")
        return lambda r: flag or r["identity_id"] == books.identity_id

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


def _support_project(pid: int, created: str, client_id: int) -> JSON:
    from .projects import _record as project_record  # imported here: projects imports this module

    rec = project_record(pid, created)
    rec.update(title="Support Retainer", client_id=client_id, billing_method="service_rate", project_type="hourly_rate")
    return rec


def seed_team_time(s: Seeding) -> None:
    """``--time-entries N``: N more entries over the last year by the owner and the team, on the
    seeded projects and on client work billed by service (service_id set), older ones mostly billed.
    Its own random stream, and nothing at all when N is 0, so the seeded books stay as they were."""
    if s.time_entries <= 0:
        return
    books, rng, today = s.books, s.stream("time_entries"), s.books.today
    clients = [cid for cid, c in books.db.clients.items() if c["vis_state"] != 1]
    if clients:  # one project billed at each service's rate, so every kind of rate is seeded
        pid = books.next_id("project", 7700001)
        created = (today - timedelta(days=400)).isoformat() + "T15:05:00"
        books.db.projects[pid] = _support_project(pid, created, clients[len(clients) // 2])
    projects = [p for p in books.db.projects.values() if p["client_id"]]
    services = sorted(books.db.services)
    people = [books.identity_id, *(member[0] for member in TEAM)]
    for _ in range(s.time_entries):
        teid = books.next_id("time_entry", 9900001)
        age = rng.randint(0, 364)
        start = datetime.combine(today - timedelta(days=age), time(rng.randint(13, 22), rng.choice((0, 15, 30, 45))))
        rec = _record(books, teid, start.replace(tzinfo=UTC), start.replace(tzinfo=UTC) + timedelta(hours=1))
        project = rng.choice(projects) if projects and rng.random() < 0.6 else None
        client_id = project["client_id"] if project else (rng.choice(clients) if clients else None)
        internal = client_id is None or rng.random() < 0.05
        rec.update(
            identity_id=rng.choice(people),
            duration=rng.choice((900, 1800, 2700, 3600, 5400, 7200, 10800, 14400)),
            client_id=None if internal else client_id,
            project_id=None if internal or project is None else project["id"],
            service_id=rng.choice(services) if services and rng.random() < 0.8 else None,
            note=rng.choice(("", "Design review", "Calls", "Implementation", "Planning", "Support")),
            billable=not internal and rng.random() < 0.85,
            internal=internal,
        )
        rec["billed"] = rec["billable"] and rng.random() < (0.8 if age > 60 else 0.2)
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
        "team": _team,
    },
    hide_unless="include_deleted",
    hide=lambda r: not r["active"],
    sorts={"started_at": Q.by("started_at")},
    default_sort="-started_at",
    http_delete=True,
    create=create_time_entry,
    update=update_time_entry,
    list_meta=list_meta,
    seed=seed_team_time,
    seed_order=90,
    quirks=(
        "POSTed to the list path; newest first whatever the sort; started_from/started_to are inclusive",
        "meta adds total_logged and total_unbilled (seconds) over the whole filtered list",
        "DELETE -> 204; PUT with started_at (or duration) null -> 422, omitted keys unchanged",
        "team=true: every member's entries, team=false: the caller's own (the sandbox lists all when absent)",
    ),
)
