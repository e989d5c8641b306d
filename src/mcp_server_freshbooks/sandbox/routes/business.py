"""The business family (``/projects``, ``/timetracking``, ``/comments`` under
``business/{business_id}``): bare JSON, ``meta`` paging, bare ``key=value`` filters,
``sort=field|-field``, errno 2001 errors, for any business :class:`Resource`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import query as Q
from .._wire import JSON, PROJECT_NOT_FOUND, PROJECT_UNAUTHORIZED, ApiError
from ..resource import Resource
from ._common import business_body, dumps, json_response, json_text_response, log_write, require_auth

if TYPE_CHECKING:
    from ..app import Sandbox

DEFAULT_PER_PAGE = 30
Handler = Callable[[Request, Resource], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def routes(res: Resource) -> list[Route]:
    """List at ``path``; create at ``item_path`` (the list path for time entries); one record at
    ``item_path/{rid}``."""
    item_methods = ["GET", "PUT", "DELETE"] if res.http_delete else ["GET", "PUT"]
    if res.parent is not None:
        item = f"/{res.item_path}/{{rid}}{res.item_suffix}"
        return [
            Route("/" + res.path, _endpoint(_collection, res), methods=["GET"]),
            Route(item, _endpoint(_child, res), methods=[*item_methods, *(["POST"] if res.create_for else [])]),
        ]
    if res.item_path == res.path:
        return [
            Route("/" + res.path, _endpoint(_collection, res), methods=["GET", "POST"]),
            Route(f"/{res.item_path}/{{rid}}", _endpoint(_item, res), methods=item_methods),
        ]
    return [
        Route("/" + res.path, _endpoint(_collection, res), methods=["GET"]),
        Route("/" + res.item_path, _endpoint(_collection, res), methods=["POST"]),
        Route(f"/{res.item_path}/{{rid}}", _endpoint(_item, res), methods=item_methods),
    ]


def _endpoint(handler: Handler, res: Resource) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        return await handler(request, res)

    return endpoint


def _require_business(request: Request) -> Sandbox:
    sb = require_auth(request, PROJECT_UNAUTHORIZED)
    if request.path_params["business_id"] != str(sb.business_id):
        raise ApiError(403, {"message": "You do not have permission to access this business."})
    return sb


def _page_error(errno: int, field: str, value: str) -> ApiError:
    return ApiError(422, {"errno": 2001, "error": {field: "must be a positive integer"}})


def _listed(sb: Sandbox, res: Resource, q: Q.ParsedQuery) -> list[JSON]:
    recs: list[JSON] = list(sb.books.db.tables[res.table].values())
    if res.hide_unless is None or res.hide_unless not in q.bare:
        recs = [r for r in recs if not res.hide(r)]
    for key, make in res.search.items():
        if key in q.bare:
            pred = make(key)([q.bare[key]], sb.books)
            recs = [r for r in recs if pred(r)]
    sort = res.default_sort or q.sort or ""
    keyfn = res.sorts.get(sort.lstrip("-"))
    if keyfn is not None:
        books = sb.books
        recs.sort(key=lambda r: (keyfn(books, r) or "", r["id"]), reverse=sort.startswith("-"))
    return recs


async def _collection(request: Request, res: Resource) -> Response:
    sb = _require_business(request)
    if request.method == "POST":
        if res.create is None:
            raise ApiError(405, {"message": "The method is not allowed for the requested URL."})
        rec = res.create(sb.books, await business_body(request, res.name))
        log_write(request, res.name, rec["id"])
        return json_response({res.name: res.wire_one(sb.books, rec)})
    q = Q.parse_query(request.url.query)
    # With --list-cache, a repeated query (the next page) reuses the filtered list and its totals,
    # as the accounting routes do; every applied write clears the cache (log_write).
    cache_key = (res.name, tuple(sorted(p for p in parse_qsl(request.url.query) if p[0] not in ("page", "per_page"))))
    cached = sb._list_cache.get(cache_key) if sb.options.list_cache else None
    if cached is None:
        recs = _listed(sb, res, q)
        cached = [{"meta": res.list_meta(recs)}, *recs] if res.paged else recs
        if sb.options.list_cache:
            sb._list_cache[cache_key] = cached
    if not res.paged:
        return json_response({res.plural: [res.wire_row(sb.books, r) for r in cached]})
    # cached[0] is the meta: page the rest in place (no copy of the whole list per page).
    extra = cached[0]["meta"]
    page = Q.paginate(cached, q, res.per_page or DEFAULT_PER_PAGE, _page_error, skip=1)
    meta = {"page": page.page, "pages": page.pages, "per_page": page.per_page, "total": page.total, **extra}
    if not sb.options.list_cache:
        return json_response({res.plural: [res.wire_row(sb.books, r) for r in page.items], "meta": meta})
    # Cached: each row is encoded once until the next write, and the page is the same text joined.
    texts = sb._row_text
    rows: list[str] = []
    for r in page.items:
        text = texts.get((res.name, r["id"]))
        if text is None:
            text = texts[(res.name, r["id"])] = dumps(res.wire_row(sb.books, r))
        rows.append(text)
    return json_text_response(f'{{{dumps(res.plural)}:[{",".join(rows)}],"meta":{dumps(meta)}}}')


async def _item(request: Request, res: Resource) -> Response:
    sb = _require_business(request)
    raw = request.path_params["rid"]
    table = sb.books.db.tables[res.table]
    rec = table.get(int(raw)) if raw.isdigit() else None
    if rec is None:
        raise ApiError(404, PROJECT_NOT_FOUND)
    if request.method == "GET":
        return json_response({res.name: res.wire_one(sb.books, rec), **res.item_extras(sb.books, rec)})
    if request.method == "DELETE":
        del table[rec["id"]]
        log_write(request, res.name, rec["id"], 204)
        return Response(status_code=204)
    if res.update is None:
        raise ApiError(405, {"message": "The method is not allowed for the requested URL."})
    res.update(sb.books, rec, await business_body(request, res.name))
    log_write(request, res.name, rec["id"])
    return json_response({res.name: res.wire_one(sb.books, rec)})


async def _child(request: Request, res: Resource) -> Response:
    """One record per parent record (a service's rate): 404 while the parent or the record is
    missing; POST creates it once (a second POST is a 422), PUT changes it."""
    sb = _require_business(request)
    assert res.parent is not None
    raw = request.path_params["rid"]
    parent = sb.books.db.tables[res.parent].get(int(raw)) if raw.isdigit() else None
    if parent is None:
        raise ApiError(404, PROJECT_NOT_FOUND)
    table = sb.books.db.tables[res.table]
    rec = table.get(parent["id"])
    if request.method == "POST":
        if rec is not None:
            raise ApiError(422, {"errno": 2001, "error": {res.name: "already exists; change it with PUT"}})
        assert res.create_for is not None
        rec = res.create_for(sb.books, parent, await business_body(request, res.name))
    elif rec is None:
        raise ApiError(404, PROJECT_NOT_FOUND)
    elif request.method == "DELETE":
        del table[parent["id"]]
        log_write(request, res.name, parent["id"], 204)
        return Response(status_code=204)
    elif request.method == "PUT" and res.update is not None:
        res.update(sb.books, rec, await business_body(request, res.name))
    if request.method != "GET":
        log_write(request, res.name, parent["id"])
    return json_response({res.name: res.wire_one(sb.books, rec)})
