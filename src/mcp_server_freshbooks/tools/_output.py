"""What every tool result shares: the paging envelope of lists, and rows that declare their concise fields.

A row model marks the fields only `response_format="detailed"` returns with `detailed()`; `Row.of`
leaves them out of a concise row, so no domain writes its own concise/detailed code. The advertised
output schema lists the concise fields only (see `_schema`): objects are open, so detailed rows
still validate, and the schema stays small.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, Field

__all__ = ["DETAILED", "Paged", "Row", "detailed", "paging"]

DETAILED = "detailed"  # json_schema_extra marker: the field is in detailed rows only


def detailed(description: str | None = None) -> Any:
    """A row field only detailed results carry (None, hence left out, in concise rows)."""
    return Field(default=None, description=description, json_schema_extra={DETAILED: True})


class Row(BaseModel):
    @classmethod
    def detailed_fields(cls) -> frozenset[str]:
        return frozenset(
            name
            for name, info in cls.model_fields.items()
            if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get(DETAILED)
        )

    @classmethod
    def of(cls, detailed: bool, **values: Any) -> Self:
        """The row from all its values; the detailed-only ones are dropped unless `detailed`."""
        if not detailed:
            skip = cls.detailed_fields()
            values = {k: v for k, v in values.items() if k not in skip}
        return cls(**values)


class Paged(BaseModel):
    """The paging envelope of every list result: call again with page=next_page while has_more."""

    page: int
    limit: int
    has_more: bool
    next_page: int | None = None
    total: int | None = Field(default=None, description="All matching rows, when known exactly")


def paging(page: int, limit: int, has_more: bool, total: int | None = None) -> dict[str, Any]:
    """The envelope's fields, for `SomeListOut(rows=..., **paging(...))`."""
    next_page = page + 1 if has_more else None
    return {"page": page, "limit": limit, "has_more": has_more, "next_page": next_page, "total": total}
