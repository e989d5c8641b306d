"""Projects (`/projects/business/{business_id}/projects`, one at `.../project/{id}`): parsing, lists,
and writes. FreshBooks needs `title` on every PUT (without it: "An internal error has occurred."),
so an update always re-sends the title. See ../shared/reference/freshbooks-api-more.md §2.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from .api import FreshBooksClient
from .business import PROJECTS, BusinessQuery, get_record, list_page
from .errors import NotFoundError
from .types import optional_text, parse_date, to_decimal, to_int
from .writes import Lookup, create_reconciled

BillingMethod = Literal["business_rate", "project_rate", "service_rate", "team_member_rate"]
ProjectType = Literal["hourly_rate", "fixed_price"]
WRITABLE = frozenset(
    {
        "title",
        "description",
        "due_date",
        "client_id",
        "budget",
        "fixed_price",
        "rate",
        "billing_method",
        "project_type",
        "active",
        "complete",
        "internal",
    }
)


@dataclass(frozen=True)
class Member:
    identity_id: int
    name: str
    role: str | None


@dataclass(frozen=True)
class Project:
    id: int
    title: str
    client_id: int | None
    description: str | None
    due_date: date | None
    project_type: str | None
    billing_method: str | None
    rate: Decimal | None  # hourly project rate
    fixed_price: Decimal | None
    budget: int | None  # FreshBooks does not document its unit (hours in the UI)
    active: bool
    complete: bool
    billed_status: str | None
    billed_amount: Decimal | None
    logged_seconds: int | None
    services: tuple[tuple[int, str], ...]
    team: tuple[Member, ...]


def _dec(value: Any) -> Decimal | None:
    return None if value in (None, "") else to_decimal(value)


def parse_project(raw: dict[str, Any]) -> Project:
    group: dict[str, Any] = raw["group"] if isinstance(raw.get("group"), dict) else {}
    members = tuple(
        Member(
            identity_id=to_int(m.get("identity_id")),
            name=f"{m.get('first_name') or ''} {m.get('last_name') or ''}".strip() or str(m.get("email") or ""),
            role=optional_text(m.get("role")),
        )
        for m in group.get("members") or []
        if isinstance(m, dict)
    )
    return Project(
        id=to_int(raw.get("id")),
        title=str(raw.get("title") or ""),
        client_id=to_int(raw.get("client_id")) or None,
        description=optional_text(raw.get("description")),
        due_date=parse_date(raw.get("due_date")),
        project_type=optional_text(raw.get("project_type")),
        billing_method=optional_text(raw.get("billing_method")),
        rate=_dec(raw.get("rate")),
        fixed_price=_dec(raw.get("fixed_price")),
        budget=to_int(raw.get("budget")) if raw.get("budget") is not None else None,
        active=bool(raw.get("active", True)),
        complete=bool(raw.get("complete", False)),
        billed_status=optional_text(raw.get("billed_status")),
        billed_amount=_dec(raw.get("billed_amount")),
        logged_seconds=to_int(raw.get("logged_duration")) if raw.get("logged_duration") is not None else None,
        services=tuple(
            (to_int(s.get("id")), str(s.get("name") or "")) for s in raw.get("services") or [] if isinstance(s, dict)
        ),
        team=members,
    )


def project_query(
    *, client_id: int | None = None, active: bool | None = None, complete: bool | None = None
) -> BusinessQuery:
    query = BusinessQuery(PROJECTS)
    if client_id is not None:
        query.equals("client_id", client_id)
    if active is not None:
        query.equals("active", active)
    if complete is not None:
        query.equals("complete", complete)
    return query.sort("title")


async def all_projects(api: FreshBooksClient, query: BusinessQuery | None = None) -> list[Project]:
    """Every project matching `query` (a business has tens, not thousands)."""
    query = query or project_query()
    first = await list_page(api, query)
    rows = list(first.rows)
    for page in range(2, first.pages + 1):
        rows += (await list_page(api, query, page=page)).rows
    return [parse_project(r) for r in rows]


async def get_project(api: FreshBooksClient, project_id: int) -> Project:
    return parse_project(await get_record(api, PROJECTS, project_id))


async def team_names(api: FreshBooksClient, identity_ids: Iterable[int], project_ids: Iterable[int]) -> dict[int, str]:
    """Names of the team members who logged time, by identity_id.

    FreshBooks lists a business's team nowhere the fact sheet knows of (§2): the caller's own name
    comes from `/me`, the others' from the `group.members` a project's GET carries (list rows carry
    only `group_id`). The projects in `project_ids` are read first; the business's other projects
    only while some of `identity_ids` is still unnamed. Unnamed ids are left out.
    """
    me = await api.identity()
    names = {me.identity_id: me.full_name or f"team member {me.identity_id}"}
    wanted = set(identity_ids)
    first = list(dict.fromkeys(project_ids))

    async def read(ids: list[int]) -> None:
        for got in await asyncio.gather(*(get_project(api, pid) for pid in ids), return_exceptions=True):
            if isinstance(got, BaseException):
                if isinstance(got, NotFoundError):
                    continue  # a project gone meanwhile: its members stay unnamed
                raise got
            for member in got.team:
                names.setdefault(member.identity_id, member.name)

    if wanted - names.keys() and first:
        await read(first)
    if wanted - names.keys():
        await read([p.id for p in await all_projects(api) if p.id not in set(first)])
    return {i: n for i, n in names.items() if i in wanted}


def project_wire(fields: dict[str, Any]) -> dict[str, Any]:
    """The wire body of a create/update: only the keys we set, decimals as strings, never nulls."""
    unknown = set(fields) - WRITABLE
    if unknown:
        raise ValueError(f"not writable on a project: {', '.join(sorted(unknown))}")
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if value is None:
            continue
        out[key] = (
            f"{value:f}" if isinstance(value, Decimal) else value.isoformat() if isinstance(value, date) else value
        )
    return {"project": out}


def project_lookup(fields: dict[str, Any]) -> Lookup:
    """How the write primitive finds the project one create made: a project of that client with
    that title (FreshBooks has no title filter, so the client's projects are compared)."""
    title = str(fields["title"]).strip().casefold()
    client_id = fields.get("client_id")
    query = BusinessQuery(PROJECTS)
    if client_id:
        query.equals("client_id", client_id)

    def matches(rec: dict[str, Any]) -> bool:
        return str(rec.get("title") or "").strip().casefold() == title

    what = f"a project {fields['title']!r}" + (f" for client {client_id}" if client_id else "")
    return Lookup(query, matches, what, "list_projects")


async def create_project(api: FreshBooksClient, fields: dict[str, Any]) -> Project:
    """Create once even when the reply is lost: through the write primitive, settled by looking for
    a new project of that client with that title."""
    wire = project_wire(fields)["project"]
    return parse_project(await create_reconciled(api, PROJECTS, wire, lookup=project_lookup(fields)))


async def update_project(api: FreshBooksClient, current: Project, fields: dict[str, Any]) -> Project:
    """A pure update (safe to re-send): the changed fields plus the title FreshBooks requires."""
    wire = project_wire({"title": current.title, **fields})
    body = await api.business_request("PUT", "projects", f"project/{current.id}", json=wire)
    return parse_project(body.get("project") or {})
