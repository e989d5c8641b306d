"""create_reconciled: an unknown create outcome is resolved by lookup, never by a blind re-send.

The sandbox is FreshBooks; a thin ASGI layer in front of it loses replies on a script ("after":
applied, reply lost; "before": not applied, connection dropped; "500": 5xx before applying;
"500-after": applied, then 5xx, as real FreshBooks may do). Ground truth is `sb.db`.
"""

from __future__ import annotations

import asyncio
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
from mcp_server_freshbooks.freshbooks.projects import create_project
from mcp_server_freshbooks.freshbooks.time_entries import create_time_entry
from mcp_server_freshbooks.freshbooks.writes import create_reconciled
from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions

pytestmark = pytest.mark.anyio

SETTLE = 0.05  # seconds before the second lookup; in-process there is no request still in flight


class Scripted:
    """Loses POST replies (and optionally fails GETs) on a script, in front of the sandbox app."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.posts: list[str] = []  # actions for the next POSTs, in order; "" = pass through
        self.puts: list[str] = []  # the same for PUTs (actions such as action_email)
        self.fail_gets = False
        self.break_reads_after_post = False  # every GET fails once a POST was seen
        self.post_count = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method")
        if method == "GET" and self.fail_gets:
            await send({"type": "http.response.start", "status": 503, "headers": [(b"content-type", b"text/html")]})
            await send({"type": "http.response.body", "body": b"<h1>503</h1>"})
            return
        if method in ("POST", "PUT"):
            script = self.posts if method == "POST" else self.puts
            if method == "POST":
                self.post_count += 1
                self.fail_gets = self.fail_gets or self.break_reads_after_post
            action = script.pop(0) if script else ""

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
        "create_item": (
            {"name": f"Item {m}", "unit_cost": "42.50", "taxes": ["HST"]},
            lambda: [i for i in sb.db.items.values() if i["name"] == f"Item {m}"],
        ),
        "create_tax": (
            {"name": f"T{m}"[:40], "percent": "4.125", "compound": True},
            lambda: [t for t in sb.db.taxes.values() if t["name"] == f"T{m}"[:40]],
        ),
    }
    return cases[tool]


@pytest.mark.parametrize("script", [["after"], ["500-after"], ["before"]])
@pytest.mark.parametrize(
    "tool", ["create_client", "record_payment", "create_expense", "create_invoice", "create_item", "create_tax"]
)
async def test_tools_create_exactly_once_when_the_reply_is_lost(sb: Sandbox, tool: str, script: list[str]) -> None:
    from mcp import Client
    from tests.conftest import call_ok

    from mcp_server_freshbooks.config import load_settings
    from mcp_server_freshbooks.server import build_server

    layer = Scripted(sb.app)
    server = build_server(
        # In-process nothing stays in flight: a short deadline keeps the settle wait short.
        load_settings(environ={}, use_dotenv=False).with_overrides(
            api_url="http://freshbooks.test",
            request_timeout=0.2,
            toolsets="all",  # expenses is opt-in (#12)
        ),
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


# ---------------------------------------------------------------------- issue #11, findings 1-7
#
# Each test reproduces one finding of #11 through real MCP sessions against the sandbox (faults
# scripted in front of it, or the sandbox's own write latency on loopback) and asserts it now holds.

from collections.abc import AsyncIterator  # noqa: E402
from contextlib import AsyncExitStack, asynccontextmanager  # noqa: E402

import anyio  # noqa: E402
from mcp import Client  # noqa: E402
from mcp.types import ElicitResult  # noqa: E402

from mcp_server_freshbooks.config import Settings, load_settings  # noqa: E402
from mcp_server_freshbooks.server import build_server  # noqa: E402
from mcp_server_freshbooks.tools._base import AppState  # noqa: E402, F401


def _settings(**overrides: Any) -> Settings:
    # In-process nothing stays in flight after a lost reply: a short deadline keeps settling short.
    base = {"api_url": "http://freshbooks.test", "request_timeout": 0.2, "toolsets": "all"}
    return load_settings(environ={}, use_dotenv=False).with_overrides(**{**base, **overrides})


@asynccontextmanager
async def _sessions(
    sb: Sandbox, n: int, layer: Any = None, settings: Settings | None = None, **client_kw: Any
) -> AsyncIterator[list[Client]]:
    """N concurrent MCP sessions, each its own server and FreshBooks client, on one sandbox (both eras)."""
    async with AsyncExitStack() as stack:
        clients = []
        for i in range(n):
            server = build_server(
                settings or _settings(),
                transport=httpx.ASGITransport(app=layer or sb.app),
                token_source=StaticTokenSource(sb.access_token),
            )
            mode = "auto" if i % 2 == 0 else "legacy"
            clients.append(await stack.enter_async_context(Client(server, mode=mode, **client_kw)))  # type: ignore[arg-type]
        yield clients


async def _call(client: Client, tool: str, args: dict[str, Any]) -> tuple[bool, str, dict[str, Any] | None]:
    result = await client.call_tool(tool, args)
    text = " ".join(getattr(c, "text", "") for c in result.content)
    assert "Traceback" not in text and "Unexpected server error" not in text, text
    return bool(result.is_error), text, dict(result.structured_content) if result.structured_content else None


async def _all(calls: list[tuple[Client, str, dict[str, Any]]]) -> list[tuple[bool, str, dict[str, Any] | None]]:
    results: list[Any] = [None] * len(calls)

    async def one(i: int, client: Client, tool: str, args: dict[str, Any]) -> None:
        results[i] = await _call(client, tool, args)

    async with anyio.create_task_group() as tg:
        for i, (client, tool, args) in enumerate(calls):
            tg.start_soon(one, i, client, tool, args)
    return results


def _live_payments(sb: Sandbox, invoice_id: int) -> list[dict[str, Any]]:
    return [p for p in sb.db.payments.values() if p["invoiceid"] == invoice_id and p["vis_state"] == 0]


@pytest.mark.parametrize("sessions", [1, 2, 4])
async def test_finding1_parallel_payments_never_exceed_outstanding(sb: Sandbox, sessions: int) -> None:
    inv = _open_invoice(sb)
    owed = inv["outstanding"]["amount"]
    before = {p["id"] for p in _live_payments(sb, inv["id"])}
    args = {"invoice_id": inv["id"], "amount": owed, "confirm": True}
    async with _sessions(sb, sessions) as clients:
        # 4 calls for the full amount at once: in one session, or spread over several
        results = await _all([(clients[i % sessions], "record_payment", dict(args)) for i in range(4)])
    ok = [r for r in results if not r[0]]
    refused = [r for r in results if r[0]]
    assert len(ok) == 1, [r[1][:160] for r in results]
    assert all("already paid" in text and "nothing was recorded" in text for _, text, _ in refused), refused
    new = [p for p in _live_payments(sb, inv["id"]) if p["id"] not in before]
    assert [Decimal(p["amount"]["amount"]) for p in new] == [Decimal(owed)]
    assert new[0]["overpaymentid"] is None
    assert Decimal(inv["outstanding"]["amount"]) == 0
    structured = ok[0][2]
    assert structured is not None and "overpayment" not in structured
    assert structured["payment"]["id"] == new[0]["id"]


async def test_finding1_overpayment_is_reported_from_the_invoice_as_re_read(sb: Sandbox) -> None:
    inv = _open_invoice(sb)
    owed = Decimal(inv["outstanding"]["amount"])
    async with _sessions(sb, 1) as (client,):
        is_error, text, out = await _call(
            client,
            "record_payment",
            {"invoice_id": inv["id"], "amount": str(owed + 5), "allow_overpayment": True, "confirm": True},
        )
    assert not is_error and out is not None
    assert out["overpayment"]["amount"] == "5.00" and "5.00" in text and "credit" in text


@pytest.mark.parametrize("drop", ["after", "before", "500"])
async def test_finding2_a_lost_reply_to_an_email_sends_exactly_one_email(sb: Sandbox, drop: str) -> None:
    inv = next(i for i in sb.db.invoices.values() if i["vis_state"] == 0 and i["v3_status"] == "draft")
    layer = Scripted(sb.app)
    async with _sessions(sb, 1, layer) as (client,):
        layer.puts = [drop]
        is_error, text, out = await _call(
            client, "send_invoice", {"invoice_id": inv["id"], "email_to": ["ap@example.com"], "confirm": True}
        )
    assert not is_error, text
    assert sb.emails_sent(inv["id"]) == 1
    assert out is not None and out["action"] == "emailed"
    assert "emailed once" in text
    if drop == "after":  # applied, reply lost: found by re-reading, and the answer says so
        assert "reply was lost" in text and "not sent again" in text


async def test_finding2_sends_under_30pct_dropped_replies_email_once_or_say_it_may_have(sb: Sandbox) -> None:
    sb.set_faults(drop_rate=0.3)
    invoices = [i for i in sb.db.invoices.values() if i["vis_state"] == 0 and i["v3_status"] != "paid"][:12]
    async with _sessions(sb, 3) as clients:
        results = await _all(
            [
                (
                    clients[n % 3],
                    "send_invoice",
                    {"invoice_id": i["id"], "email_to": ["a@example.com"], "confirm": True},
                )
                for n, i in enumerate(invoices)
            ]
        )
    sb.set_faults(drop_rate=0.0)
    for inv, (is_error, text, _) in zip(invoices, results, strict=True):
        emails = sb.emails_sent(inv["id"])
        assert emails <= 1, f"invoice {inv['id']} emailed {emails} times"
        if is_error:  # "try again" only when a re-read proved nothing was sent
            assert "try again" not in text.lower() or (emails == 0 and "nothing was done" in text), text
            assert emails == 0 or "may have been emailed" in text, text
        else:
            assert emails == 1, text


async def test_catalogue_creates_under_30pct_dropped_replies_make_each_item_and_tax_once(sb: Sandbox) -> None:
    # #15: items and taxes are created through the write primitive; a lost reply is settled by lookup.
    from mcp_server_freshbooks.freshbooks.writes import reconcile_stats

    lost_before = reconcile_stats.unknown_outcomes
    sb.set_faults(drop_rate=0.3)
    calls: list[tuple[str, dict[str, Any]]] = []
    for n in range(8):
        calls.append(("create_tax", {"name": f"Soak tax {n}", "percent": f"{n}.125", "compound": n % 2 == 1}))
        calls.append(("create_item", {"name": f"Soak item {n}", "unit_cost": f"{n}.50", "taxes": ["GST"]}))
    async with _sessions(sb, 3) as clients:
        results = await _all([(clients[i % 3], tool, args) for i, (tool, args) in enumerate(calls)])
    sb.set_faults(drop_rate=0.0)
    made = 0
    for (tool, args), (is_error, text, out) in zip(calls, results, strict=True):
        table = sb.db.taxes if tool == "create_tax" else sb.db.items
        rows = [r for r in table.values() if r["name"] == args["name"]]
        assert len(rows) <= 1, f"{tool} {args['name']}: {len(rows)} records"
        if not is_error:
            assert len(rows) == 1 and out is not None and f"'id': {rows[0]['id']}" in repr(out), text
            made += 1
        elif rows:  # an error after it landed must say so, never invite a blind retry
            assert "try again" not in text.lower(), text
    assert made >= len(calls) // 2  # the primitive recovers most lost replies
    assert reconcile_stats.unknown_outcomes > lost_before  # replies were lost, and settled by lookup


async def test_finding3_failed_read_back_after_payment_says_recorded_never_retry(sb: Sandbox) -> None:
    inv = _open_invoice(sb)
    layer = Scripted(sb.app)
    layer.break_reads_after_post = True  # the POST applies; every read after it fails
    async with _sessions(sb, 1, layer) as (client,):
        is_error, text, _ = await _call(
            client, "record_payment", {"invoice_id": inv["id"], "amount": "4.00", "confirm": True}
        )
    paid = _live_payments(sb, inv["id"])
    mine = [p for p in paid if p["amount"]["amount"] == "4.00"]
    assert is_error and len(mine) == 1
    assert f"Recorded as payment id {mine[0]['id']}" in text and "could not re-read the invoice" in text
    assert "try again" not in text.lower() and "Do not record it again" in text


@pytest.mark.parametrize("tool", ["create_expense", "create_invoice"])
async def test_finding4_identical_concurrent_creates_make_one_record_per_success(sb: Sandbox, tool: str) -> None:
    layer = Scripted(sb.app)
    client_id = next(c["id"] for c in sb.db.clients.values() if c["vis_state"] == 0)
    category = next(iter(sb.db.categories.values()))["category"]
    async with _sessions(sb, 2, layer) as clients:
        for round_ in range(4):
            marker = f"twin{tool[7:10]}{round_}"
            if tool == "create_expense":
                args: dict[str, Any] = {"amount": "23.40", "date": "2026-03-04", "category": category, "vendor": marker}
                stored = lambda m=marker: [e for e in sb.db.expenses.values() if e["vendor"] == m]  # noqa: E731
            else:
                args = {
                    "client_id": client_id,
                    "lines": [{"name": "Retainer", "qty": "1", "unit_cost": "500"}],
                    "notes": marker,
                }
                stored = lambda m=marker: [i for i in sb.db.invoices.values() if i.get("notes") == m]  # noqa: E731
            # one of the two POSTs meets a 5xx that applied nothing
            layer.posts = ["500", ""] if round_ % 2 else ["", "500"]
            results = await _all([(clients[0], tool, dict(args)), (clients[1], tool, dict(args))])
            successes = [out for is_error, _, out in results if not is_error]
            rows = stored()
            assert len(rows) == len(successes), f"round {round_}: {len(rows)} records, {len(successes)} successes"
            ids = [str(r["id"]) for r in rows]
            assert len(set(ids)) == len(ids)
            for out in successes:
                assert sum(i in repr(out) for i in ids) >= 1


async def test_finding5_concurrent_duplicate_clients_end_with_one_client(sb: Sandbox) -> None:
    email = "race@dupe.example"
    async with _sessions(sb, 6) as clients:
        calls = [(c, "create_client", {"organization": "Race Dupe Ltd", "email": email}) for c in clients]
        calls += [(clients[0], "create_client", {"organization": "Race Dupe Ltd", "email": email})]  # same session
        results = await _all(calls)
    made = [c for c in sb.db.clients.values() if c["email"] == email]
    assert len(made) == 1
    assert sum(not is_error for is_error, _, _ in results) == 1
    for is_error, text, _ in results:
        if is_error:
            assert f"client_id {made[0]['id']}" in text and "allow_duplicate" in text


@pytest.mark.parametrize(
    ("organization", "email"),
    [
        ("Look\u00a0Alike Corp", "x1@other.example"),  # non-breaking space
        ("Look\u200bAlike Corp", "x2@other.example"),  # zero-width space
        ("Ｌｏｏｋ Ａｌｉｋｅ Corp", "x3@other.example"),  # full-width letters
        ("L\u043eok Alike Corp", "x4@other.example"),  # Cyrillic o
        ("Look Alike Corp.", "x5@other.example"),  # trailing dot
        ("Someone Else", "Billing+ops@LookAlike.example"),  # +tag and case
    ],
)
async def test_finding5_duplicate_guard_sees_look_alikes(sb: Sandbox, organization: str, email: str) -> None:
    async with _sessions(sb, 1) as (client,):
        first_error, _, first = await _call(
            client, "create_client", {"organization": "Look Alike Corp", "email": "billing@lookalike.example"}
        )
        assert not first_error and first is not None
        is_error, text, _ = await _call(client, "create_client", {"organization": organization, "email": email})
    assert is_error and f"client_id {first['client']['id']}" in text
    assert not [c for c in sb.db.clients.values() if c["email"] == email or c["email"].endswith("other.example")]


async def test_finding6_a_post_slower_than_the_timeout_is_applied_once() -> None:
    from mcp_server_freshbooks.sandbox import serve_on_loopback

    sb = Sandbox(SandboxOptions(seed=11, clients=8, invoices=20, expenses=20))
    inv = _open_invoice(sb)
    before = len(_live_payments(sb, inv["id"]))
    # FreshBooks takes 1.3 s to apply the payment; the client gives up after 1 s (the 33 s vs 30 s)
    sb.set_faults(write_latency_ms=1300, write_latency_match="^POST .*/payments/")
    async with serve_on_loopback(sb) as base_url:
        server = build_server(
            _settings(api_url=base_url, request_timeout=1.0), token_source=StaticTokenSource(sb.access_token)
        )
        async with Client(server) as client:  # type: ignore[arg-type]
            is_error, text, out = await _call(
                client, "record_payment", {"invoice_id": inv["id"], "amount": "100.00", "confirm": True}
            )
        for _ in range(100):
            if sb.writes_in_flight == 0:
                break
            await anyio.sleep(0.05)
    new = _live_payments(sb, inv["id"])[before:]
    assert [p["amount"]["amount"] for p in new] == ["100.00"], text
    assert not is_error and out is not None and out["payment"]["id"] == new[0]["id"], text


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_finding7_a_declining_user_stops_every_confirm_gated_write_even_with_confirm_true(
    sb: Sandbox, mode: str
) -> None:
    asked: list[str] = []

    async def decline(ctx: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="decline")

    inv = _open_invoice(sb)
    draft = next(i for i in sb.db.invoices.values() if i["vis_state"] == 0 and i["v3_status"] == "draft")
    active = next(c for c in sb.db.clients.values() if c["vis_state"] == 0)
    writes_before = len(sb.write_log)
    server = build_server(
        _settings(), transport=httpx.ASGITransport(app=sb.app), token_source=StaticTokenSource(sb.access_token)
    )
    async with Client(server, mode=mode, elicitation_callback=decline) as client:  # type: ignore[arg-type]
        for tool, args in (
            ("archive_client", {"client_id": active["id"], "confirm": True}),
            ("record_payment", {"invoice_id": inv["id"], "amount": "1.00", "confirm": True}),
            ("send_invoice", {"invoice_id": draft["id"], "email_to": ["a@example.com"], "confirm": True}),
        ):
            is_error, text, _ = await _call(client, tool, args)
            assert is_error and ("did not confirm" in text or "decline" in text), f"{tool}: {text}"
    assert len(asked) == 3
    assert len(sb.write_log) == writes_before and sb.emails_sent(draft["id"]) == 0
    assert active["vis_state"] == 0


async def test_finding7_confirm_policy_setting(sb: Sandbox) -> None:
    inv = _open_invoice(sb)
    args = {"invoice_id": inv["id"], "amount": "1.00", "confirm": True}
    strict = _settings(confirm_writes="elicit")
    async with _sessions(sb, 1, settings=strict) as (client,):  # no elicitation: confirm=true is not enough
        is_error, text, _ = await _call(client, "record_payment", args)
        assert is_error and "FRESHBOOKS_CONFIRM_WRITES=elicit" in text
    async with _sessions(sb, 1, settings=_settings(confirm_writes="never")) as (client,):
        is_error, text, _ = await _call(client, "record_payment", {k: v for k, v in args.items() if k != "confirm"})
        assert not is_error, text


# ---------------------------------------------------------------------- the keyed lock interface


async def test_keyed_lock_serializes_per_key_and_tracks_unsettled_writes() -> None:
    from mcp_server_freshbooks.freshbooks.locks import InProcessKeyedLock, LockTimeoutError

    locks = InProcessKeyedLock()
    order: list[str] = []

    async def writer(name: str, *keys: str) -> None:
        async with locks.hold(*keys):
            order.append(f"{name}+")
            await anyio.sleep(0.02)
            order.append(f"{name}-")

    async with anyio.create_task_group() as tg:
        tg.start_soon(writer, "a", "invoice:1", "create:x")
        tg.start_soon(writer, "b", "create:x", "invoice:1")  # same keys in another order: no deadlock
        tg.start_soon(writer, "c", "invoice:2")  # another key runs alongside
    assert order.index("a-") < order.index("b+") or order.index("b-") < order.index("a+")
    assert order.index("c+") < max(order.index("a-"), order.index("b-"))
    assert locks.in_use() == 0  # idle keys are forgotten

    async with locks.hold("invoice:1") as first:
        assert first.may_adopt()
        first.leave_unsettled(0.2)  # gave up with an unknown outcome: may still land for 0.2 s
    async with locks.hold("invoice:1") as second:
        assert not second.may_adopt()  # a new match might be the earlier write's
    await anyio.sleep(0.25)
    async with locks.hold("invoice:1") as third:
        assert third.may_adopt()
    async with locks.hold("k"):
        with pytest.raises(LockTimeoutError):
            async with locks.hold("k", wait=0.05):
                pass


async def test_a_new_client_name_mixing_scripts_is_flagged(sb: Sandbox) -> None:
    async with _sessions(sb, 1) as (client,):
        is_error, text, _ = await _call(client, "create_client", {"organization": "Zeph\u0443r Studio"})
    assert not is_error and "mixes letters of different scripts" in text


async def test_finding2_a_send_that_provably_failed_twice_says_nothing_was_sent(sb: Sandbox) -> None:
    inv = next(i for i in sb.db.invoices.values() if i["vis_state"] == 0 and i["v3_status"] == "draft")
    layer = Scripted(sb.app)
    async with _sessions(sb, 1, layer) as (client,):
        layer.puts = ["500", "500"]
        is_error, text, _ = await _call(
            client, "send_invoice", {"invoice_id": inv["id"], "email_to": ["ap@example.com"], "confirm": True}
        )
    assert is_error and sb.emails_sent(inv["id"]) == 0
    assert "nothing was done" in text and "Try again" in text


async def test_a_lookup_never_adopts_a_record_another_unsettled_write_may_have_made(sb: Sandbox) -> None:
    """Call A is abandoned while its POST is still on its way (FreshBooks applies it 0.5 s later);
    identical call B meets a 5xx that applied nothing, and its second lookup finds A's payment. Before
    #11 B reported it as its own (two successes, one payment); now B says its outcome is unknown."""
    layer = Scripted(sb.app)
    client = FreshBooksClient(
        api_url="http://sandbox.local",
        token_source=StaticTokenSource(sb.access_token),
        transport=httpx.ASGITransport(app=layer),
        retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02, total_budget=5),
        settle_delay=1.0,
    )
    inv = _open_invoice(sb)
    fields = _payment_fields(inv, "rel-unsettled")
    sb.set_faults(write_latency_ms=500, write_latency_match="^POST .*/payments/")
    async with client:
        await client.business()
        with pytest.raises(TimeoutError):  # call A gives up while FreshBooks is still applying it
            await asyncio.wait_for(create_reconciled(client, PAYMENTS, dict(fields)), 0.25)
        assert sb.writes_in_flight == 1
        layer.posts = ["500"]  # call B: nothing applied
        with pytest.raises(WriteOutcomeUnknownError) as info:
            await create_reconciled(client, PAYMENTS, dict(fields))
        await asyncio.sleep(0.5)  # A's payment has landed by now
        assert sb.writes_in_flight == 0
    assert "earlier identical request whose outcome is unknown" in str(info.value)
    assert len(_payments_with_note(sb, "rel-unsettled")) == 1  # A's, which B did not claim


@pytest.mark.parametrize("post", ["", "after", "before", "500"])
@pytest.mark.parametrize("puts", [[], ["after"], ["500"], ["after", "after", "after"]])
async def test_a_receipt_lands_once_when_replies_are_lost(sb: Sandbox, wired: Any, post: str, puts: list[str]) -> None:
    # #17: the upload is re-sent (the same file gives one stored copy); the attach is a pure update,
    # re-sent by the client, and when every reply was lost it is settled by reading the expense back.
    from mcp_server_freshbooks.freshbooks.uploads import attach_receipt, upload

    client, layer = wired
    eid = next(e["id"] for e in sb.db.expenses.values() if not e["has_receipt"] and e["vis_state"] == 0)
    layer.posts, layer.puts = [post], list(puts)
    up = await upload(client, "attachments", "r.png", b"\x89PNG\r\n\x1a\n" + bytes(16), "image/png")
    raw, settled = await attach_receipt(client, eid, up)
    assert list(sb.books.uploads) == [up.jwt]
    assert sb.db.expenses[eid]["attachment"]["jwt"] == up.jwt and sb.db.expenses[eid]["has_receipt"] is True
    assert raw["attachment"]["jwt"] == up.jwt
    assert settled is (len(puts) == 3)


@pytest.mark.parametrize("script", [[], ["after"], ["before"], ["500"], ["500-after"], ["before", "after"]])
async def test_business_creates_go_through_the_primitive_exactly_once(
    sb: Sandbox, wired: Any, script: list[str]
) -> None:
    """A time entry and a project (the business family) are settled like accounting creates: a lost
    reply is looked up, never blindly re-sent; each exists once, and the call returns it."""
    client, layer = wired
    cid = next(iter(sb.db.clients))
    note = f"rel-time-{'-'.join(script) or 'clean'}"
    fields = {"is_logged": True, "started_at": "2026-01-15T14:00:00Z", "duration": 5400, "client_id": cid}
    layer.posts = list(script)
    entry = await create_time_entry(client, {**fields, "note": note})
    made = [e for e in sb.db.time_entries.values() if e["note"] == note]
    assert [e["id"] for e in made] == [entry.id] and entry.seconds == 5400 and entry.client_id == cid

    title = f"Reliability {'-'.join(script) or 'clean'}"
    layer.posts = list(script)
    project = await create_project(client, {"title": title, "client_id": cid})
    made = [p for p in sb.db.projects.values() if p["title"] == title]
    assert [p["id"] for p in made] == [project.id] and project.client_id == cid
