"""Projects (``/projects/business/{business_id}/projects|project[/{id}]``): model, bare filters,
sorts, the wire forms of one project and of list rows, and seeding (with their time entries)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from .. import query as Q
from .._wire import JSON, ApiError
from ..books import Books
from ..fields import names
from ..resource import Resource, Seeding
from .time_entries import TEAM, seed_project_time_entries

WRITABLE = names(
    "title description due_date client_id internal budget fixed_price rate billing_method project_type"
    " project_manager_id active complete expense_markup"
)
TITLES = (
    "Website Redesign",
    "Brand Refresh",
    "Q3 Audit",
    "Mobile App",
    "SEO Campaign",
    "Office Move",
    "Annual Report",
    "Data Migration",
)
BILLING_METHODS = ("business_rate", "project_rate", "service_rate", "team_member_rate")
ABILITIES = ("can_edit", "can_archive", "can_delete", "can_track_time", "can_view_invoices_tab")


def _record(pid: int, created: str) -> JSON:
    return {
        "id": pid,
        "title": "",
        "description": "",
        "due_date": None,
        "client_id": None,
        "internal": False,
        "budget": None,
        "fixed_price": None,
        "rate": None,
        "billing_method": None,
        "project_type": "fixed_price",
        "project_manager_id": None,
        "active": True,
        "complete": False,
        "sample": False,
        "created_at": created,
        "updated_at": created,
        "logged_duration": None,
        "services": [],
        "billed_amount": "0.00",
        "billed_status": "unbilled",
        "retainer_id": None,
        "expense_markup": "0",
        "group_id": 800000 + pid % 100000,
    }


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def update_project(books: Books, rec: JSON, body: JSON) -> None:
    cid = body.get("client_id")
    if cid not in (None, 0) and cid not in books.db.clients:
        raise ApiError(422, {"errno": 2001, "error": {"client_id": "client does not exist"}})
    if "project_type" in body and body["project_type"] not in ("fixed_price", "hourly_rate"):
        raise ApiError(422, {"errno": 2001, "error": {"project_type": "invalid choice"}})
    for key in WRITABLE:
        if key in body:
            rec[key] = body[key]
    rec["updated_at"] = _now()


def put_project(books: Books, rec: JSON, body: JSON) -> None:
    """PUT without ``title`` fails at FreshBooks (live: "An internal error has occurred.")."""
    if not isinstance(body.get("title"), str) or not body["title"].strip():
        raise ApiError(422, {"errno": 2001, "error": {"title": "field required"}})
    if "billing_method" in body and body["billing_method"] not in (None, *BILLING_METHODS):
        raise ApiError(422, {"errno": 2001, "error": {"billing_method": "invalid choice"}})
    update_project(books, rec, body)


def create_project(books: Books, body: JSON) -> JSON:
    if not body.get("title"):
        raise ApiError(422, {"errno": 2001, "error": {"title": "field required"}})
    pid = books.next_id("project", 7700001)
    rec = _record(pid, _now())
    update_project(books, rec, body)
    books.db.projects[pid] = rec
    return rec


def wire_one(books: Books, rec: JSON) -> JSON:
    """GET/POST/PUT replies carry the group with its members; list rows only ``group_id``."""
    out = dict(rec)
    owner = {
        "id": 4652287,
        "identity_id": books.identity_id,
        "role": "owner",
        "first_name": "Morgan",
        "last_name": "Reyes",
        "email": "morgan@northbeam.example.com",
        "company": books.business_name,
        "active": True,
    }
    members = [owner]
    logged = {e["identity_id"] for e in books.db.time_entries.values() if e["project_id"] == rec["id"]}
    for n, (identity_id, first, last, email) in enumerate(TEAM, start=1):
        if identity_id in logged:
            member = {"id": 4652287 + n, "identity_id": identity_id, "role": "employee", "first_name": first}
            member |= {"last_name": last, "email": email, "company": books.business_name, "active": True}
            members.append(member)
    out["group"] = {"id": out.pop("group_id"), "members": members, "pending_invitations": []}
    return out


def wire_row(books: Books, rec: JSON) -> JSON:
    out = dict(rec)
    out["group_id"] = out.pop("group_id")  # moved last, as FreshBooks lists it
    return out


def seed(s: Seeding) -> None:
    """A project for every fifth client (at least 3), 60% hourly, every fifth one complete."""
    books, rng, today = s.books, s.rng, s.books.today
    client_ids = [cid for cid, c in books.db.clients.items() if c["vis_state"] != 1]
    for n in range(min(len(client_ids), max(3, len(client_ids) // 5))):
        pid = books.next_id("project", 7700001)
        created = datetime.combine(today - timedelta(days=rng.randint(30, 500)), time(rng.randint(12, 20), 5))
        hourly = rng.random() < 0.6
        rec = _record(pid, created.strftime("%Y-%m-%dT%H:%M:%S"))
        rec.update(
            title=f"{TITLES[n % len(TITLES)]}" + (f" {n // len(TITLES) + 1}" if n >= len(TITLES) else ""),
            due_date=(created.date() + timedelta(days=rng.randint(30, 200))).isoformat(),
            client_id=client_ids[(n * 3) % len(client_ids)],
            budget=rng.choice([None, 40, 120]),
            fixed_price=None if hourly else f"{rng.randint(20, 200) * 50}.00",
            rate=f"{rng.choice([85, 95, 120, 150])}.00" if hourly else None,
            billing_method="project_rate" if hourly else None,
            project_type="hourly_rate" if hourly else "fixed_price",
            active=n % 5 != 4,
            complete=n % 5 == 4,
        )
        books.db.projects[pid] = rec
        seed_project_time_entries(books, rng, rec, today)


RESOURCE = Resource(
    name="project",
    plural="projects",
    family="business",
    table="projects",
    path="projects/business/{business_id}/projects",
    item_path="projects/business/{business_id}/project",
    search={
        "active": Q.bare_bool("active"),
        "complete": Q.bare_bool("complete"),
        "client_id": Q.bare_int("client_id"),
        "updated_since": Q.bare_since("updated_at"),
    },
    sorts={"created_at": Q.by("created_at"), "due_date": Q.by("due_date"), "title": Q.by("title")},
    http_delete=True,
    create=create_project,
    update=put_project,
    wire_one=wire_one,
    wire_row=wire_row,
    item_extras=lambda _b, r: {"abilities": [{"name": n, "value": True} for n in ABILITIES]},
    list_meta=lambda _rows: {"sort": []},
    seed=seed,
    seed_order=50,
    quirks=(
        "created at .../project (singular), listed at .../projects; sort=field or -field (descending)",
        "one project carries group{id, members, pending_invitations}; list rows carry group_id",
        "DELETE -> 204; PUT without title -> 422 (FreshBooks: an internal error)",
    ),
)
