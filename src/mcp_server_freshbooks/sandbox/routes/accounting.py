"""The accounting family: ``/accounting/account/{account_id}/{area}/{res}[/{id}]`` with
``{"response": {"result": ...}}`` envelopes, ``search[...]`` filters, ``sort=key_asc|_desc``,
``include[]=`` and vis_state semantics, for any accounting :class:`Resource`."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import query as Q
from .._wire import ACCOUNTING_UNAUTHORIZED, JSON, ApiError, acct_error, acct_fail
from ..resource import Resource, render
from ._common import accounting_body, json_response, log_write, require_auth

if TYPE_CHECKING:
    from ..app import Sandbox

log = logging.getLogger("mcp_server_freshbooks.sandbox")

PATH = "/accounting/account/{account_id}/{area}/{res}"
_NON_SEARCH_BARE = frozenset({"page", "per_page", "sort"})
_PAGING = ("page", "per_page")


def routes() -> list[Route]:
    return [
        Route(PATH, collection, methods=["GET", "POST"]),
        Route(PATH + "/{rid}", item, methods=["GET", "PUT", "DELETE"]),
        Route(PATH + "/{rid}/share_link", share_link, methods=["GET"]),
    ]


def _resource(request: Request) -> tuple[Sandbox, Resource]:
    sb = require_auth(request, ACCOUNTING_UNAUTHORIZED)
    account_id = request.path_params["account_id"]
    if account_id != sb.account_id:
        # Choice: 403 + errno 1003 AccessDenied (the identity has no role on that account).
        raise acct_fail(
            403, 1003, "accountid", "You do not have access to perform the action requested.", "account", account_id
        )
    key = f"{request.path_params['area']}/{request.path_params['res']}"
    res = sb.accounting.get(key)
    if res is None:
        raise acct_fail(404, 1012, "path", "The requested resource was not found.", "", key)
    return sb, res


def _lookup(sb: Sandbox, res: Resource, raw_id: str) -> JSON:
    rec = sb.books.db.tables[res.table].get(int(raw_id)) if raw_id.isdigit() else None
    if rec is None:
        raise acct_fail(404, 1012, res.id_field, res.not_found, res.name, raw_id)
    record: JSON = rec
    return record


def _filters(sb: Sandbox, res: Resource, q: Q.ParsedQuery) -> list[Q.Pred]:
    preds: list[Q.Pred] = []
    items = list(q.search.items())
    # The Python SDK's FilterBuilder.boolean() emits bare `&key=value` even for accounting.
    items += [(k, [v]) for k, v in q.bare.items() if k in res.search and k not in q.search]
    for key, values in items:
        make = res.search.get(key)
        if make is None:
            sb.ignored_search_keys[key] += 1
            log.info("sandbox: ignoring unknown search key %r on %s", key, res.plural)
            continue
        preds.append(make(key)(values, sb.books))
    for key in q.bare:
        if key not in res.search and key not in _NON_SEARCH_BARE:
            sb.ignored_search_keys[key] += 1
    if res.hide_unless is None or (res.hide_unless not in q.search and res.hide_unless not in q.bare):
        hide = res.hide
        preds.append(lambda r: not hide(r))  # deleted hidden by default
    return preds


def _sorted(sb: Sandbox, res: Resource, records: list[JSON], sort: str | None) -> list[JSON]:
    if not sort:
        return records
    for suffix, reverse in (("_asc", False), ("_desc", True)):
        if sort.endswith(suffix):
            keyfn = res.sorts.get(sort[: -len(suffix)])
            if keyfn is not None:
                # id ascending as the tiebreak keeps the order stable in both directions
                records.sort(key=lambda r: r["id"])
                books = sb.books
                return sorted(records, key=lambda r: keyfn(books, r), reverse=reverse)
    log.info("sandbox: ignoring unknown sort %r on %s", sort, res.plural)
    return records


def _page_error(errno: int, field: str, value: str) -> ApiError:
    msg = {
        1013: "The 'per_page' argument in the request was not a positive integer.",
        1014: "The 'page' argument in the request was not a positive integer.",
    }[errno]
    return ApiError(400, acct_error(errno, field, msg, "search", value))


def _one(sb: Sandbox, res: Resource, rec: JSON, includes: list[str]) -> Response:
    return json_response({"response": {"result": {res.name: render(res, sb.books, rec, includes)}}})


async def collection(request: Request) -> Response:
    sb, res = _resource(request)
    q = Q.parse_query(request.url.query)
    sb.books.invalidate()
    if request.method == "POST":
        if res.create is None:
            raise acct_fail(405, 1003, "", "Method not allowed for this resource.", res.name, "")
        rec = res.create(sb.books, await accounting_body(request, res.name))
        log_write(request, res.name, rec["id"])
        sb.books.invalidate()
        return _one(sb, res, rec, q.includes)
    cache_key = (res.name, tuple(sorted(p for p in parse_qsl(request.url.query) if p[0] not in _PAGING)))
    cached = sb._list_cache.get(cache_key) if sb.options.list_cache else None
    if cached is None:
        preds = _filters(sb, res, q)
        cached = [r for r in sb.books.db.tables[res.table].values() if all(p(r) for p in preds)]
        cached = _sorted(sb, res, cached, q.sort)
        if sb.options.list_cache:
            sb._list_cache[cache_key] = cached
    page = Q.paginate(cached, q, res.per_page or sb.options.per_page_default, _page_error)
    result = {
        res.plural: [render(res, sb.books, r, q.includes) for r in page.items],
        "page": page.page,
        "pages": page.pages,
        "per_page": page.per_page,
        "total": page.total,
    }
    return json_response({"response": {"result": result}})


def _delete(request: Request, sb: Sandbox, res: Resource, rec: JSON) -> Response:
    if not res.http_delete:
        raise acct_fail(405, 1003, "", "Delete this resource with PUT vis_state=1.", res.name, rec["id"])
    if res.vis_put:
        res.set_vis_state(sb.books, rec, 1)
    else:
        del sb.books.db.tables[res.table][rec["id"]]
    log_write(request, res.name, rec["id"])
    return json_response({"response": {}})


async def item(request: Request) -> Response:
    sb, res = _resource(request)
    q = Q.parse_query(request.url.query)
    sb.books.invalidate()
    rec = _lookup(sb, res, request.path_params["rid"])
    if request.method == "GET":
        return _one(sb, res, rec, q.includes)
    if request.method == "DELETE":
        return _delete(request, sb, res, rec)
    if res.update is None:
        raise acct_fail(405, 1003, "", "Method not allowed for this resource.", res.name, rec["id"])
    body = await accounting_body(request, res.name)
    if res.vis_put and "vis_state" in body:
        # Update-phase quirk: vis_state present -> only vis_state applies, rest discarded.
        vis = body["vis_state"]
        if isinstance(vis, bool) or not isinstance(vis, int | str) or str(vis) not in ("0", "1", "2"):
            raise acct_fail(422, 1004, "vis_state", "Invalid value for field vis_state.", res.name, vis)
        res.set_vis_state(sb.books, rec, int(vis))
    else:
        res.update(sb.books, rec, body)
    log_write(request, res.name, rec["id"])
    sb.books.invalidate()
    return _one(sb, res, rec, q.includes)


SHARE_METHODS = ("share_link", "email", "sms", "pdf")


async def share_link(request: Request) -> Response:
    """``GET invoices/invoices/{id}/share_link?share_method=...`` (#17): a link the client can open.

    As FreshBooks: only for an invoice already sent (a draft gets a 422), ``resourceid`` a string.
    The token is derived from the invoice's uuid, so asking twice gives the same link and no RNG draw.
    """
    sb, res = _resource(request)
    if res.name != "invoice":
        raise acct_fail(404, 1012, "path", "The requested resource was not found.", "", res.name)
    rec = _lookup(sb, res, request.path_params["rid"])
    method = request.query_params.get("share_method", "")
    if method not in SHARE_METHODS:
        raise acct_fail(
            422, 1004, "share_method", f"share_method must be one of {', '.join(SHARE_METHODS)}.", "", method
        )
    if rec.get("vis_state") == 1:
        raise acct_fail(422, 1011, "invoiceid", "The invoice is deleted.", "invoice", rec["id"])
    if rec.get("status") == 1:  # draft
        raise acct_fail(422, 1004, "status", "The invoice must be sent before it can be shared.", "invoice", rec["id"])
    token = str(rec.get("uuid") or rec["id"]).replace("-", "")
    link = f"https://my.freshbooks.com/#/link/{token}?type=secondary&share_method={method}"
    result = {
        "clientid": rec.get("customerid"),
        "resource_type": "invoice",
        "resourceid": str(rec["id"]),
        "share_link": link,
        "share_method": method,
    }
    return json_response({"response": {"result": {"share_link": result}}})
