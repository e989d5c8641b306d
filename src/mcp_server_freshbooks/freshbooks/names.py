"""Names for ids in results: clients by organization or person, projects by title.

Lists hide deleted records, so an id a list does not return is read on its own; a record FreshBooks
no longer has is named "(not found)" rather than failing the whole answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from .api import FreshBooksClient
from .business import PROJECTS, get_record
from .errors import NotFoundError
from .query import CLIENTS, Query

IDS_PER_LIST = 100


def client_label(raw: Mapping[str, Any]) -> str:
    """How a person names a client: its organization, else the contact's name, else its id."""
    org = (raw.get("organization") or "").strip()
    person = f"{raw.get('fname') or ''} {raw.get('lname') or ''}".strip()
    return org or person or f"client {raw.get('id')}"


async def client_names(api: FreshBooksClient, ids: Iterable[int]) -> dict[int, str]:
    """Names for client ids: one filtered list request per 100 ids, then a GET for any not listed."""
    names: dict[int, str] = {}
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), IDS_PER_LIST):
        chunk = wanted[start : start + IDS_PER_LIST]
        page = await api.list_page(CLIENTS, Query(CLIENTS).in_list("userids", chunk), per_page=IDS_PER_LIST)
        for row in page.rows:
            cid = row.get("id") or row.get("userid")
            if isinstance(cid, int):
                names[cid] = client_label(row)

    async def one(cid: int) -> None:
        try:
            names[cid] = client_label(await api.get(CLIENTS, cid))
        except NotFoundError:
            names[cid] = f"client {cid} (not found)"

    missing = [cid for cid in wanted if cid not in names]  # e.g. deleted clients: lists hide them
    await asyncio.gather(*(one(cid) for cid in missing))
    return names


async def project_titles(api: FreshBooksClient, ids: Iterable[int]) -> dict[int, str]:
    """Titles for project ids (one GET each: FreshBooks has no project-id list filter)."""
    names: dict[int, str] = {}

    async def one(pid: int) -> None:
        try:
            project = await get_record(api, PROJECTS, pid)
        except NotFoundError:
            names[pid] = f"project {pid} (not found)"
            return
        title = project.get("title")
        names[pid] = str(title) if title else f"project {pid}"

    await asyncio.gather(*(one(pid) for pid in sorted(set(ids))))
    return names
