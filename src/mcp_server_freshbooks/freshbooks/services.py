"""Services and their hourly rates (`/comments/business/{business_id}/services`, `.../service_rates`).

Services are the kinds of work time is logged against; a rate is a decimal string without a
currency (FreshBooks keeps one rate per service; the list of rates has no paging). See
../shared/reference/freshbooks-api-more.md §3.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .api import MAX_PER_PAGE, FreshBooksClient
from .types import to_decimal, to_int


@dataclass(frozen=True)
class Service:
    id: int
    name: str
    billable: bool
    rate: Decimal | None  # hourly, in the business's currency; None when the service has none


async def _comments(api: FreshBooksClient, subpath: str, params: list[tuple[str, str]] | None = None) -> Any:
    business_id = (await api.business()).business_id
    return await api.request("GET", f"/comments/business/{business_id}/{subpath}", params=params)


async def list_services(api: FreshBooksClient) -> list[Service]:
    """Every active service with its rate ("there are no filters for services": all pages are read)."""
    rates_body = asyncio.ensure_future(_comments(api, "service_rates"))  # read beside the services
    try:
        rows: list[dict[str, Any]] = []
        page, pages = 1, 1
        while page <= pages:
            body = await _comments(api, "services", [("page", str(page)), ("per_page", str(MAX_PER_PAGE))])
            body = body if isinstance(body, dict) else {}
            rows += [r for r in body.get("services") or [] if isinstance(r, dict)]
            meta: dict[str, Any] = body["meta"] if isinstance(body.get("meta"), dict) else {}
            pages = to_int(meta.get("pages"), 1)
            page += 1
    except BaseException:
        rates_body.cancel()
        raise
    body = await rates_body
    rates: dict[int, Decimal] = {}
    for r in (body.get("service_rates") if isinstance(body, dict) else None) or []:
        if isinstance(r, dict) and r.get("rate") not in (None, ""):
            rates[to_int(r.get("service_id"))] = to_decimal(r["rate"])
    return [
        Service(
            id=to_int(r.get("id")),
            name=str(r.get("name") or ""),
            billable=bool(r.get("billable")),
            rate=rates.get(to_int(r.get("id"))),
        )
        for r in rows
        if to_int(r.get("vis_state")) == 0
    ]
