"""Projects and time tracking: FreshBooks' "business" API family, with typed, key-checked queries.

These endpoints (`/{family}/business/{business_id}/...`) answer bare JSON and take filters as bare
`key=value`. FreshBooks ignores a key it does not apply and returns every record, so a misspelt
filter would show "all projects" as if they matched. A BusinessQuery accepts only the keys declared
for its resource (see ../shared/reference/freshbooks-api-more.md §1-2) and raises on anything else;
it can never emit an accounting-style `search[...]` key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .api import FreshBooksClient, Page

BareValue = str | int | bool | date | datetime


@dataclass(frozen=True)
class BusinessResource:
    """A business-family resource: list at `list_path`, one record at `item_path/{id}`, body keys."""

    family: Literal["projects", "timetracking"]
    list_path: str
    item_path: str
    plural: str  # the list body's key
    singular: str  # one record's body key
    filters: frozenset[str]  # bare filter keys FreshBooks applies
    sorts: frozenset[str] = frozenset()  # `sort=field` / `sort=-field`; none where FreshBooks ignores sorting

    @property
    def create_path(self) -> str:
        """Where a create is POSTed: the item path (`project`; for time entries that is the list path)."""
        return self.item_path


PROJECTS = BusinessResource(
    family="projects",
    list_path="projects",
    item_path="project",
    plural="projects",
    singular="project",
    filters=frozenset({"active", "complete", "client_id", "updated_since"}),
    sorts=frozenset({"created_at", "due_date", "title"}),
)

# FreshBooks ignores every sort key on time entries (newest first, always): none is declared.
TIME_ENTRIES = BusinessResource(
    family="timetracking",
    list_path="time_entries",
    item_path="time_entries",
    plural="time_entries",
    singular="time_entry",
    filters=frozenset(
        {"billable", "billed", "client_id", "identity_id", "project_id"}
        | {"started_from", "started_to", "include_deleted", "team"}
    ),
)


def _bare(value: BareValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.replace(tzinfo=None, microsecond=0).isoformat()  # naive UTC, as FreshBooks sends it
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@dataclass
class BusinessQuery:
    """Filters and sort for one business-family resource, checked against what FreshBooks applies."""

    resource: BusinessResource
    _params: list[tuple[str, str]] = field(default_factory=list)

    def equals(self, key: str, value: BareValue) -> BusinessQuery:
        if key not in self.resource.filters:
            raise ValueError(
                f"{self.resource.plural}: filter {key!r} is not one FreshBooks applies; it would be silently "
                f"ignored. Allowed: {', '.join(sorted(self.resource.filters))}"
            )
        self._params.append((key, _bare(value)))
        return self

    def sort(self, key: str, direction: Literal["asc", "desc"] = "asc") -> BusinessQuery:
        if key not in self.resource.sorts:
            allowed = ", ".join(sorted(self.resource.sorts)) or "none (FreshBooks ignores sorting here)"
            raise ValueError(f"{self.resource.plural}: cannot sort by {key!r}. Allowed: {allowed}")
        self._params = [p for p in self._params if p[0] != "sort"]
        self._params.append(("sort", key if direction == "asc" else f"-{key}"))
        return self

    def params(self) -> list[tuple[str, str]]:
        return list(self._params)


async def get_record(api: FreshBooksClient, resource: BusinessResource, record_id: int) -> dict[str, Any]:
    """One record's fields (NotFoundError when FreshBooks has none with this id)."""
    body = await api.business_request("GET", resource.family, f"{resource.item_path}/{record_id}")
    record = body.get(resource.singular) if isinstance(body, dict) else None
    return record if isinstance(record, dict) else {}


async def list_page(api: FreshBooksClient, query: BusinessQuery, *, page: int = 1, per_page: int = 100) -> Page:
    """One page of `query`'s records."""
    res = query.resource
    return await api.business_list_page(
        res.family, res.list_path, res.plural, params=query.params(), page=page, per_page=per_page
    )
