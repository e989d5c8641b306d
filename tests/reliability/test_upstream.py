"""What FreshBooks really sends, and the real tools surviving it (through mcp.Client, both eras).

A tiny ASGI stand-in sits in front of the sandbox and bends its replies the way FreshBooks does:
errors inside HTTP 200 bodies, HTML 502 pages, empty list pages, a page count that grows between
pages, many-decimal money strings, naive or malformed datetimes, missing optional fields and unknown
new fields. Expected values come from the sandbox's own records (sb.db), never from our helpers.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from mcp import Client
from starlette.types import Message, Receive, Scope, Send
from tests.conftest import call_error, call_ok

from mcp_server_freshbooks.config import Settings
from mcp_server_freshbooks.freshbooks import StaticTokenSource
from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions
from mcp_server_freshbooks.server import build_server

pytestmark = pytest.mark.anyio

Reply = tuple[int, dict[str, str], bytes]
Bender = Callable[[Scope, Callable[[Scope], Awaitable[Reply]]], Awaitable[Reply | None]]


class Oddities:
    """ASGI layer over the sandbox: `bend(scope, forward)` may replace or rewrite any reply."""

    def __init__(self, sb: Sandbox) -> None:
        self.app = sb.app
        self.bend: Bender | None = None
        self.seen: list[str] = []

    async def forward(self, scope: Scope, body: bytes = b"") -> Reply:
        sent: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)

        await self.app(scope, receive, send)
        start = next(m for m in sent if m["type"] == "http.response.start")
        headers = {k.decode(): v.decode() for k, v in start.get("headers", [])}
        data = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return start["status"], headers, data

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        self.seen.append(f"{scope['method']} {scope['path']}?{scope.get('query_string', b'').decode()}")
        reply = await self.bend(scope, lambda s: self.forward(s, body)) if self.bend else None
        if reply is None:
            reply = await self.forward(scope, body)
        status, headers, data = reply
        headers = {k: v for k, v in headers.items() if k.lower() != "content-length"}
        raw = [(k.encode(), v.encode()) for k, v in headers.items()] + [(b"content-length", str(len(data)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": data})


def _json_reply(status: int, payload: Any) -> Reply:
    return status, {"content-type": "application/json"}, json.dumps(payload).encode()


@pytest.fixture
def sb() -> Sandbox:
    return Sandbox(SandboxOptions(seed=13, clients=10, invoices=60, expenses=10))


@pytest.fixture
async def odd(sb: Sandbox, settings: Settings, mode: str) -> AsyncIterator[tuple[Client, Oddities]]:
    layer = Oddities(sb)
    server = build_server(
        settings.with_overrides(api_url="http://freshbooks.test"),
        transport=httpx.ASGITransport(app=layer),
        token_source=StaticTokenSource(sb.access_token),
    )
    async with Client(server, mode=mode) as client:  # type: ignore[arg-type]
        yield client, layer


@pytest.fixture
async def plain(sb: Sandbox, settings: Settings) -> AsyncIterator[Client]:
    async with Client(build_server(settings, sandbox=sb)) as client:  # type: ignore[arg-type]
        yield client


def _is_list(scope: Scope, plural: str) -> bool:
    return scope["method"] == "GET" and scope["path"].endswith(f"/{plural}")


# ---------------------------------------------------------------------- errors inside HTTP 200


async def test_error_inside_http_200_is_an_error_not_an_empty_record(sb: Sandbox, odd: Any) -> None:
    client, layer = odd
    client_id = next(iter(sb.db.clients))

    async def bend(scope: Scope, forward: Any) -> Reply | None:
        if scope["method"] == "GET" and scope["path"].endswith(f"/users/clients/{client_id}"):
            errors = [{"errno": 1012, "field": "userid", "message": "Client not found.", "object": "client"}]
            return _json_reply(200, {"response": {"errors": errors}})
        return None

    layer.bend = bend
    text = await call_error(client, "get_client", {"client_id": client_id})
    assert "find_client" in text  # the not-found hint, not a crash or an empty client


async def test_validation_error_inside_http_200_on_create_changes_nothing(sb: Sandbox, odd: Any) -> None:
    client, layer = odd

    async def bend(scope: Scope, forward: Any) -> Reply | None:
        if scope["method"] == "POST":
            errors = [{"errno": 1004, "field": "email", "message": "Invalid email.", "object": "client"}]
            return _json_reply(200, {"response": {"errors": errors}})
        return None

    layer.bend = bend
    before = len(sb.db.clients)
    text = await call_error(client, "create_client", {"organization": "Oddity 200 Ltd", "email": "o@odd.example"})
    assert "email" in text and "Nothing was changed" in text
    assert len(sb.db.clients) == before


async def test_html_502_page_becomes_a_short_clear_error(sb: Sandbox, odd: Any) -> None:
    client, layer = odd

    async def bend(scope: Scope, forward: Any) -> Reply | None:
        if scope["path"].endswith("/users/clients") or "/users/clients/" in scope["path"]:
            page = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body><h1>502</h1></body></html>\r\n"
            return 502, {"content-type": "text/html"}, page
        return None

    layer.bend = bend
    text = await call_error(client, "get_client", {"client_id": next(iter(sb.db.clients))})
    assert "<html" not in text and "502" in text and "Try again" in text


# ---------------------------------------------------------------------- pagination oddities


async def test_empty_list_page_is_an_empty_answer(sb: Sandbox, odd: Any) -> None:
    client, layer = odd

    async def bend(scope: Scope, forward: Any) -> Reply | None:
        if _is_list(scope, "payments"):
            result = {"payments": [], "page": 1, "pages": 0, "per_page": 20, "total": 0}
            return _json_reply(200, {"response": {"result": result}})
        return None

    layer.bend = bend
    out = await call_ok(client, "list_payments", {"invoice_id": next(iter(sb.db.invoices))})
    assert out["payments"] == [] and out["has_more"] is False


async def test_overdue_follows_a_page_count_that_grows_between_pages(sb: Sandbox, odd: Any, plain: Client) -> None:
    """Page 1 claims fewer pages than exist (records were added meanwhile); later pages tell the truth.

    The sandbox answers the same query unpaged; the layer re-cuts that into pages of 3 and under-reports
    `pages` on page 1, and serves an empty page past the end. The tool must still see every overdue
    invoice: its result must equal the plain sandbox's.
    """
    client, layer = odd
    per = 3

    async def bend(scope: Scope, forward: Any) -> Reply | None:
        if not _is_list(scope, "invoices"):
            return None
        query = dict(parse_qsl(scope["query_string"].decode()))
        pairs = [(k, v) for k, v in parse_qsl(scope["query_string"].decode()) if k not in ("page", "per_page")]
        full_scope = dict(scope, query_string=urlencode([*pairs, ("page", "1"), ("per_page", "100")]).encode())
        _status, _headers, data = await forward(full_scope)
        result = json.loads(data)["response"]["result"]
        assert result["pages"] <= 1, "test data must fit one real page"
        rows, page = result["invoices"], int(query.get("page", "1"))
        pages = max(1, -(-len(rows) // per))
        claimed = max(1, pages - 1) if page == 1 else pages
        cut = {"invoices": rows[(page - 1) * per : page * per], "page": page, "pages": claimed, "per_page": per}
        return _json_reply(200, {"response": {"result": {**cut, "total": len(rows)}}})

    layer.bend = bend
    args = {"limit": 500, "min_days_overdue": 1}
    got = await call_ok(client, "list_overdue_invoices", args)
    want = await call_ok(plain, "list_overdue_invoices", args)
    assert got == want
    overdue = [i for i in sb.db.invoices.values() if sb.invoice_is_overdue(i, sb.today) and i["vis_state"] == 0]
    assert len(overdue) > 2 * per, "need several pages"
    listed = {row["id"] for row in got["invoices"]}
    assert listed == {i["id"] for i in overdue}
    assert any("page=2" in s for s in layer.seen)


# ---------------------------------------------------------------------- values


async def test_many_decimal_money_string_is_kept_exactly(sb: Sandbox, odd: Any) -> None:
    client, _ = odd
    overdue = [i for i in sb.db.invoices.values() if sb.invoice_is_overdue(i, sb.today) and i["vis_state"] == 0]
    target = overdue[0]
    target["outstanding"]["amount"] = "12.300000001"
    code = target["currency_code"]
    expected = sum(
        (Decimal(i["outstanding"]["amount"]) for i in overdue if i["currency_code"] == code), start=Decimal(0)
    )
    out = await call_ok(client, "list_overdue_invoices", {"limit": 500})
    totals = {t["code"]: Decimal(t["amount"]) for t in out["totals"]}
    assert totals[code] == expected  # exact: no float, no rounding away of the extra digits
    row = next(r for r in out["invoices"] if r["id"] == target["id"])
    assert "12.300000001" in json.dumps(row)


async def test_naive_malformed_datetimes_missing_and_unknown_fields(sb: Sandbox, odd: Any) -> None:
    client, layer = odd
    client_id = next(c["id"] for c in sb.db.clients.values() if c["vis_state"] == 0)
    invoice_id = next(i["id"] for i in sb.db.invoices.values() if i["vis_state"] == 0)

    async def bend(scope: Scope, forward: Any) -> Reply | None:
        if scope["method"] != "GET" or "/accounting/" not in scope["path"]:
            return None
        status, headers, data = await forward(scope)
        body = json.loads(data)
        result = body.get("response", {}).get("result", {})
        for record in [result.get("client"), result.get("invoice"), *(result.get("payments") or [])]:
            if not isinstance(record, dict):
                continue
            record["brand_new_field_2027"] = {"nested": [1, "two", None]}  # unknown new field
            record["updated"] = "2020-11-219T13:22:04"  # malformed, as in a real FreshBooks fixture
            for optional in ("organization", "note", "notes", "terms", "po_number", "language", "vat_name"):
                record.pop(optional, None)  # missing optional fields
            if "created_at" in record:
                record["created_at"] = "2026-01-05 07:17:12"  # naive (US/Eastern)
        return status, headers, json.dumps(body).encode()

    layer.bend = bend
    got = await call_ok(client, "get_client", {"client_id": client_id, "response_format": "detailed"})
    assert got["client"]["id"] == client_id
    assert got["client"]["email"] == sb.db.clients[client_id]["email"]
    inv = await call_ok(client, "get_invoice", {"invoice_id": invoice_id, "response_format": "detailed"})
    assert str(invoice_id) in json.dumps(inv)
    assert "brand_new_field_2027" not in json.dumps(got) + json.dumps(inv)  # not leaked into outputs
    await call_ok(client, "list_payments", {"client_id": sb.db.invoices[invoice_id]["customerid"]})
