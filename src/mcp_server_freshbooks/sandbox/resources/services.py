"""Services (``/comments/business/{business_id}/services``, one at ``.../service/{id}``): the
billable kinds of work time is tracked against. Fields per the docs: business_id, id, name,
billable, project_default, vis_state. "There are no filters for services"; lists default to 50."""

from __future__ import annotations

from .._wire import JSON, ApiError, parse_bool
from ..books import Books
from ..resource import Resource, Seeding
from ..seed_data import SERVICES

FIRST_ID = 4054001


def _invalid(key: str, what: str) -> ApiError:
    return ApiError(422, {"errno": 2001, "error": {key: what}})


def _record(books: Books, sid: int, name: str) -> JSON:
    return {
        "business_id": books.business_id,
        "id": sid,
        "name": name,
        "billable": False,  # the docs' create example; whether FreshBooks defaults to true is disputed
        "project_default": False,
        "vis_state": 0,
    }


def update_service(books: Books, rec: JSON, body: JSON) -> None:
    if "name" in body:
        if not isinstance(body["name"], str) or not body["name"].strip():
            raise _invalid("name", "field required")
        rec["name"] = body["name"]
    for key in ("billable", "project_default"):
        if key in body:
            flag = parse_bool(body[key])
            if flag is None:
                raise _invalid(key, "not a valid boolean")
            rec[key] = flag
    if "vis_state" in body:
        if body["vis_state"] not in (0, 1):
            raise _invalid("vis_state", "invalid choice")
        rec["vis_state"] = body["vis_state"]


def create_service(books: Books, body: JSON) -> JSON:
    if not isinstance(body.get("name"), str) or not body["name"].strip():
        raise _invalid("name", "field required")
    # Ids continue after the seeded ones without a counter at seed time (next_ids is fingerprinted).
    sid = books.next_id("service", max(books.db.services, default=FIRST_ID - 1) + 1)
    rec = _record(books, sid, body["name"])
    update_service(books, rec, {k: v for k, v in body.items() if k != "name"})
    books.db.services[sid] = rec
    return rec


def seed(s: Seeding) -> None:
    """One billable service per seeded item name, fixed ids; uses no random numbers at all, so the
    books seeded before services existed are unchanged."""
    for n, (name, _) in enumerate(SERVICES):
        rec = _record(s.books, FIRST_ID + n, name)
        rec["billable"] = n != len(SERVICES) - 1  # one non-billable service (travel)
        s.books.db.services[rec["id"]] = rec


RESOURCE = Resource(
    name="service",
    plural="services",
    family="business",
    table="services",
    path="comments/business/{business_id}/services",
    item_path="comments/business/{business_id}/service",
    per_page=50,
    hide_unless=None,
    create=create_service,
    update=update_service,
    seed=seed,
    seed_order=80,
    quirks=(
        "no filters (every query key is ignored); per_page defaults to 50",
        "created at .../service (singular); billable defaults to false (docs example)",
        "deleted services (vis_state 1) are hidden from lists; DELETE is not served (undocumented)",
    ),
)
