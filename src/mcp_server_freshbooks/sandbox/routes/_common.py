"""What every route module needs: JSON replies, bearer auth, request bodies, the write log."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from .._wire import JSON, ApiError, acct_fail
from ..options import WriteLogEntry

if TYPE_CHECKING:
    from ..app import Sandbox


def dumps(body: Any) -> str:
    """The sandbox's JSON text (compact, UTF-8 as is)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return json_text_response(dumps(body), status, headers)


def json_text_response(text: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A reply whose JSON text is already encoded (e.g. assembled from cached rows)."""
    return Response(text, status_code=status, media_type="application/json", headers=headers)


def sandbox_of(request: Request) -> Sandbox:
    sb: Sandbox = request.app.sandbox
    return sb


def require_auth(request: Request, body401: JSON) -> Sandbox:
    """The sandbox, once the bearer token is a live access token (else the family's 401 body)."""
    sb = sandbox_of(request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or not sb.tokens.access_valid(token.strip()):
        raise ApiError(401, body401, {"www-authenticate": 'Bearer error="invalid_token"'})
    return sb


def log_write(request: Request, resource: str, rid: int | None, status: int = 200) -> None:
    sb = sandbox_of(request)
    sb._list_cache.clear()
    sb._row_text.clear()
    sb.write_log.append(WriteLogEntry(request.method, request.url.path, resource, rid, status, datetime.now(UTC)))


async def accounting_body(request: Request, singular: str) -> JSON:
    """The ``{"<singular>": {...}}`` body of an accounting write."""
    raw = await request.body()
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        raise acct_fail(400, 1005, "", "The server was unable to parse your request.", singular, "") from None
    inner = data.get(singular) if isinstance(data, dict) else None
    if not isinstance(inner, dict):
        raise acct_fail(422, 1001, singular, f"Field {singular} is required.", singular, None)
    return inner


async def business_body(request: Request, key: str) -> JSON:
    """The ``{"<key>": {...}}`` body of a projects-family write (errno 2001 errors)."""
    try:
        data = json.loads(await request.body() or b"{}")
    except ValueError:
        raise ApiError(400, {"errno": 2001, "error": {key: "invalid JSON"}}) from None
    inner = data.get(key) if isinstance(data, dict) else None
    if not isinstance(inner, dict):
        raise ApiError(422, {"errno": 2001, "error": {key: "field required"}})
    return inner
