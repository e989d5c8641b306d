"""Service rates (``/comments/business/{business_id}/service/{id}/rate``; all of them at
``.../service_rates``): one hourly rate per service, a decimal string without a currency code."""

from __future__ import annotations

from typing import Any

from .._wire import JSON, ApiError, dec, q2
from ..books import Books
from ..resource import Resource, Seeding
from ..seed_data import SERVICES


def _rate(value: Any) -> str:
    parsed = dec(value)
    if parsed is None or parsed < 0:
        raise ApiError(422, {"errno": 2001, "error": {"rate": "not a valid decimal"}})
    return str(q2(parsed))


def create_rate(books: Books, service: JSON, body: JSON) -> JSON:
    if body.get("rate") is None:
        raise ApiError(422, {"errno": 2001, "error": {"rate": "field required"}})
    rec = {"rate": _rate(body["rate"]), "business_id": books.business_id, "service_id": service["id"]}
    books.db.service_rates[service["id"]] = rec
    return rec


def update_rate(books: Books, rec: JSON, body: JSON) -> None:
    if "rate" in body:
        rec["rate"] = _rate(body["rate"])


def seed(s: Seeding) -> None:
    """The seeded billable services' rates: their item's unit cost (no random numbers)."""
    prices = dict(SERVICES)
    for service in s.books.db.services.values():
        if service["billable"]:
            create_rate(s.books, service, {"rate": prices[service["name"]]})


RESOURCE = Resource(
    name="service_rate",
    plural="service_rates",
    family="business",
    table="service_rates",
    path="comments/business/{business_id}/service_rates",
    item_path="comments/business/{business_id}/service",
    item_suffix="/rate",
    parent="services",
    create_for=create_rate,
    update=update_rate,
    hide_unless=None,
    hide=lambda r: False,
    paged=False,
    seed=seed,
    seed_order=81,
    quirks=(
        "the list has no meta and no paging",
        "{id} is the service id; POST adds the rate once (again -> 422), PUT changes it; "
        "404 while the service has no rate",
    ),
)
