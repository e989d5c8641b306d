"""create_reconciled: an unknown create outcome is resolved by lookup, never by a blind re-send.

The sandbox is FreshBooks; a thin ASGI layer in front of it loses replies on a script ("after":
applied, reply lost; "before": not applied, connection dropped; "500": 5xx before applying;
"500-after": applied, then 5xx, as real FreshBooks may do). Ground truth is `sb.db`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from mcp_server_freshbooks.freshbooks import (
    CLIENTS,
    EXPENSES,
    INVOICES,
    PAYMENTS,
    FreshBooksClient,
    RetryPolicy,
    ServerError,
    StaticTokenSource,
    WriteOutcomeUnknownError,
)
from mcp_server_freshbooks.freshbooks.writes import create_reconciled
from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions

pytestmark = pytest.mark.anyio

SETTLE = 0.05  # seconds before the second lookup; in-process there is no request still in flight


class Scripted:
    """Loses POST replies (and optionally fails GETs) on a script, in front of the sandbox app."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.posts: list[str] = []  # actions for the next POSTs, in order; "" = pass through
        self.fail_gets = False
        self.break_reads_after_post = False  # every GET fails once a POST was seen
        self.post_count = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method")
        if method == "GET" and self.fail_gets:
            await send({"type": "http.response.start", "status": 503, "headers": [(b"content-type", b"text/html")]})
            await send({"type": "http.response.body", "body": b"<h1>503</h1>"})
            return
        if method == "POST":
            self.post_count += 1
            self.fail_gets = self.fail_gets or self.break_reads_after_post
            action = self.posts.pop(0) if self.posts else ""

            async def swallow(message: Message) -> None:
                return None

            if action == "before":
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
            if action == "after":
                await self.app(scope, receive, swallow)
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
            if action in ("500", "500-after"):
                if action == "500-after":
                    await self.app(scope, receive, swallow)
                body = b'{"response":{"errors":[{"errno":500,"message":"An unexpected error occurred."}]}}'
                await send(
                    {"type": "http.response.start", "status": 500, "headers": [(b"content-type", b"application/json")]}
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


@pytest.fixture
def sb() -> Sandbox:
    return Sandbox(SandboxOptions(seed=11, clients=8, invoices=20, expenses=20))


@pytest.fixture
async def wired(sb: Sandbox) -> Any:
    layer = Scripted(sb.app)
    client = FreshBooksClient(
        api_url="http://sandbox.local",
        token_source=StaticTokenSource(sb.access_token),
        transport=httpx.ASGITransport(app=layer),
        retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02, total_budget=5),
        settle_delay=SETTLE,
    )
    async with client:
        yield client, layer


def _open_invoice(sb: Sandbox) -> dict[str, Any]:
    return next(
        inv
        for inv in sb.db.invoices.values()
        if inv["vis_state"] == 0 and Decimal(inv["outstanding"]["amount"]) > 5 and inv["display_status"] != "draft"
    )


def _payments_with_note(sb: Sandbox, note: str) -> list[dict[str, Any]]:
    return [p for p in sb.db.payments.values() if p["note"] == note and p["vis_state"] == 0]


def _payment_fields(inv: dict[str, Any], note: str, amount: str = "3.10") -> dict[str, Any]:
    return {
        "invoiceid": inv["id"],
        "amount": {"amount": amount, "code": inv["currency_code"]},
        "date": "2026-01-15",
        "type": "Check",
        "note": note,
    }


@pytest.mark.parametrize("script", [[], ["after"], ["before"], ["500"], ["500-after"], ["before", "after"]])
async def test_payment_applied_exactly_once(sb: Sandbox, wired: Any, script: list[str]) -> None:
    client, layer = wired
    inv = _open_invoice(sb)
    note = f"rel-once-{'-'.join(script) or 'clean'}"
    layer.posts = list(script)
    record = await create_reconciled(client, PAYMENTS, _payment_fields(inv, note))
    stored = _payments_with_note(sb, note)
    assert len(stored) == 1, f"{script}: {len(stored)} payments recorded"
    assert record["id"] == stored[0]["id"]
    assert Decimal(record["amount"]["amount"]) == Decimal("3.10")
    # a re-send happens only after a lookup proved the payment absent
    applying = [i for i, action in enumerate(script) if action in ("after", "500-after")]
    assert layer.post_count == (applying[0] + 1 if applying else len(script) + 1)


async def test_an_earlier_identical_payment_is_not_mistaken_for_ours(sb: Sandbox, wired: Any) -> None:
    client, layer = wired
    inv = _open_invoice(sb)
    fields = _payment_fields(inv, "rel-twin")
    first = await create_reconciled(client, PAYMENTS, dict(fields))
    layer.posts = ["before"]  # the second, legitimately separate, identical payment is lost before applying
    second = await create_reconciled(client, PAYMENTS, dict(fields))
    stored = _payments_with_note(sb, "rel-twin")
    assert len(stored) == 2  # the earlier twin did not count as "already applied"
    assert first["id"] != second["id"]
    assert {p["id"] for p in stored} == {first["id"], second["id"]}


async def test_lookup_failure_says_the_outcome_is_unknown_and_what_to_check(sb: Sandbox, wired: Any) -> None:
    client, layer = wired
    inv = _open_invoice(sb)
    layer.posts = ["after"]  # applied, reply lost; then every read fails
    layer.break_reads_after_post = True
    with pytest.raises(WriteOutcomeUnknownError) as info:
        await create_reconciled(client, PAYMENTS, _payment_fields(inv, "rel-unknown"))
    text = str(info.value)
    assert "unknown" in text
    assert f"list_payments with invoice_id={inv['id']}" in text
    assert "3.10" in text and "2026-01-15" in text
    assert len(_payments_with_note(sb, "rel-unknown")) == 1  # it was applied; we said we don't know, not "failed"


async def test_persistent_5xx_gives_up_and_nothing_was_created(sb: Sandbox, wired: Any) -> None:
    client, layer = wired
    inv = _open_invoice(sb)
    layer.posts = ["500", "500", "500"]
    with pytest.raises(ServerError) as info:
        await create_reconciled(client, PAYMENTS, _payment_fields(inv, "rel-5xx"))
    assert "was not created" in str(info.value)
    assert _payments_with_note(sb, "rel-5xx") == []
    assert layer.post_count == 3


async def test_snapshot_read_failure_sends_nothing(sb: Sandbox, wired: Any) -> None:
    client, layer = wired
    inv = _open_invoice(sb)
    await client.business()
    layer.fail_gets = True
    with pytest.raises(ServerError):
        await create_reconciled(client, PAYMENTS, _payment_fields(inv, "rel-nosnap"))
    assert layer.post_count == 0


def _client_case(sb: Sandbox, marker: str) -> tuple[Any, dict[str, Any], Any]:
    fields = {"organization": f"Org {marker}", "email": f"{marker}@example.com", "fname": "Ann", "lname": "Lee"}
    return CLIENTS, fields, lambda s, m: [c for c in s.db.clients.values() if c["email"] == f"{m}@example.com"]


def _expense_case(sb: Sandbox, marker: str) -> tuple[Any, dict[str, Any], Any]:
    category = next(iter(sb.db.categories))
    fields = {
        "amount": {"amount": "19.99", "code": "USD"},
        "date": "2026-02-03",
        "categoryid": category,
        "staffid": 1,
        "vendor": f"Vendor {marker}",
    }
    return EXPENSES, fields, lambda s, m: [e for e in s.db.expenses.values() if e["vendor"] == f"Vendor {m}"]


def _invoice_case(sb: Sandbox, marker: str) -> tuple[Any, dict[str, Any], Any]:
    customer = next(c for c in sb.db.clients.values() if c["vis_state"] == 0)
    fields = {
        "customerid": customer["id"],
        "create_date": "2026-02-03",
        "due_offset_days": 30,
        "currency_code": customer["currency_code"],
        "po_number": marker[:40],
        "lines": [{"type": 0, "name": "Work", "qty": "2", "unit_cost": {"amount": "50.00", "code": "USD"}}],
    }
    return INVOICES, fields, lambda s, m: [i for i in s.db.invoices.values() if i.get("po_number") == m[:40]]


@pytest.mark.parametrize("case", [_client_case, _expense_case, _invoice_case], ids=["client", "expense", "invoice"])
@pytest.mark.parametrize("script", [["after"], ["before"], ["500-after"]])
async def test_every_resource_is_created_exactly_once(sb: Sandbox, wired: Any, case: Any, script: list[str]) -> None:
    client, layer = wired
    marker = f"rel{case.__name__[1:4]}{script[0].replace('-', '')}"
    resource, fields, stored = case(sb, marker)
    layer.posts = list(script)
    includes = ("lines",) if resource is INVOICES else ()
    record = await create_reconciled(client, resource, fields, includes=includes)
    rows = stored(sb, marker)
    assert len(rows) == 1
    assert record["id"] == rows[0]["id"]
    if resource is INVOICES:
        assert len(record["lines"]) == 1  # read back with the caller's includes
    assert not sb.ignored_search_keys


# ---------------------------------------------------------------------- through the real tools


def _tool_case(sb: Sandbox, tool: str, m: str) -> tuple[dict[str, Any], Any]:
    inv = _open_invoice(sb)
    client_id = next(c["id"] for c in sb.db.clients.values() if c["vis_state"] == 0)
    category = next(iter(sb.db.categories.values()))["category"]
    cases: dict[str, tuple[dict[str, Any], Any]] = {
        "create_client": (
            {"organization": f"Org {m}", "email": f"{m}@example.com"},
            lambda: [c for c in sb.db.clients.values() if c["email"] == f"{m}@example.com"],
        ),
        "record_payment": (
            {"invoice_id": inv["id"], "amount": "2.50", "note": m, "confirm": True},
            lambda: _payments_with_note(sb, m),
        ),
        "create_expense": (
            {"amount": "12.34", "date": "2026-03-04", "category": category, "vendor": f"V {m}"},
            lambda: [e for e in sb.db.expenses.values() if e["vendor"] == f"V {m}"],
        ),
        "create_invoice": (
            {"client_id": client_id, "lines": [{"name": "Work", "qty": "1", "unit_cost": "9.00"}], "notes": m},
            lambda: [i for i in sb.db.invoices.values() if i.get("notes") == m],
        ),
    }
    return cases[tool]


@pytest.mark.parametrize("script", [["after"], ["500-after"], ["before"]])
@pytest.mark.parametrize("tool", ["create_client", "record_payment", "create_expense", "create_invoice"])
async def test_tools_create_exactly_once_when_the_reply_is_lost(sb: Sandbox, tool: str, script: list[str]) -> None:
    from mcp import Client
    from tests.conftest import call_ok

    from mcp_server_freshbooks.config import load_settings
    from mcp_server_freshbooks.server import build_server

    layer = Scripted(sb.app)
    server = build_server(
        # In-process nothing stays in flight: a short deadline keeps the settle wait short.
        load_settings(environ={}, use_dotenv=False).with_overrides(api_url="http://freshbooks.test", request_timeout=0.2),
        transport=httpx.ASGITransport(app=layer),
        token_source=StaticTokenSource(sb.access_token),
    )
    marker = f"tool{tool[:8]}{script[0]}".replace("-", "")
    args, stored = _tool_case(sb, tool, marker)
    async with Client(server) as client:  # type: ignore[arg-type]
        layer.posts = list(script)
        out = await call_ok(client, tool, args)
    rows = stored()
    assert len(rows) == 1, f"{tool} {script}: {len(rows)} records"
    assert str(rows[0]["id"]) in repr(out)
