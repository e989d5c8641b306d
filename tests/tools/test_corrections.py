"""Corrections (#19) through a real MCP client against the sandbox: edit and delete invoices,
expenses and payments, with values checked against the sandbox's own records and our own arithmetic."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest
from mcp import Client
from starlette.types import Message, Receive, Scope, Send

from conftest import call_error, call_ok
from mcp_server_freshbooks.config import Settings, load_settings
from mcp_server_freshbooks.freshbooks import StaticTokenSource
from mcp_server_freshbooks.sandbox import Sandbox
from mcp_server_freshbooks.server import build_server

pytestmark = pytest.mark.anyio

D = Decimal
CENT = D("0.01")


@pytest.fixture(autouse=True)
def _no_ignored_search_keys(sandbox: Sandbox) -> Iterator[None]:
    yield
    assert not sandbox.ignored_search_keys, f"FreshBooks would ignore: {dict(sandbox.ignored_search_keys)}"


@pytest.fixture
async def fix(sandbox: Sandbox, settings: Settings, mode: str) -> AsyncIterator[Client]:
    """A session with the opt-in corrections toolset next to the defaults."""
    chosen = settings.with_overrides(toolsets="identity,invoices,payments,expenses,corrections")
    async with Client(build_server(chosen, sandbox=sandbox), mode=mode) as client:  # type: ignore[arg-type]
        yield client


def invoices(sb: Sandbox, *statuses: str) -> list[dict[str, Any]]:
    return [i for i in sb.db.invoices.values() if i["vis_state"] == 0 and i["v3_status"] in statuses]


def live_payments(sb: Sandbox, invoice_id: int) -> list[dict[str, Any]]:
    return [sb.db.payments[p] for p in sb.db.payments_by_invoice[invoice_id] if sb.db.payments[p]["vis_state"] == 0]


def unpaid_sent(sb: Sandbox) -> dict[str, Any]:
    return next(i for i in invoices(sb, "sent", "viewed", "overdue") if not live_payments(sb, i["id"]))


def amount(money: dict[str, Any]) -> Decimal:
    return D(money["amount"])


def changed(out: dict[str, Any]) -> dict[str, tuple[str | None, str | None]]:
    return {c["field"]: (c.get("old"), c.get("new")) for c in out["changes"]}


def q2(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


NEW_LINES = [
    {"name": "Design", "qty": "3", "unit_cost": "120.50", "taxes": [{"name": "HST", "percent": "13"}]},
    {"name": "Hosting", "qty": "1", "unit_cost": "19.99"},
]
# Our own arithmetic, written out: 361.50 + 19.99; 10 % off before tax; 13 % on the discounted 361.50.
NEW_TOTAL = D("361.50") + D("19.99") - q2(D("381.49") * D("0.10")) + q2(D("361.50") * D("0.9") * D("0.13"))


# ---------------------------------------------------------------------- update_invoice


async def test_draft_lines_replaced_and_total_checked_against_our_arithmetic(fix: Client, sandbox: Sandbox) -> None:
    draft = invoices(sandbox, "draft")[0]
    old_total, old_names = draft["amount"]["amount"], [x["name"] for x in draft["lines"]]
    writes = len(sandbox.write_log)
    out = await call_ok(
        fix, "update_invoice", {"invoice_id": draft["id"], "lines": NEW_LINES, "discount_percent": "10"}
    )
    assert D("385.64") == NEW_TOTAL
    assert [x["name"] for x in draft["lines"]] == ["Design", "Hosting"]  # the whole set was replaced
    assert amount(draft["amount"]) == NEW_TOTAL and amount(draft["outstanding"]) == NEW_TOTAL
    assert out["total_matches"] is True and amount(out["expected_total"]) == NEW_TOTAL
    diff = changed(out)
    code = draft["currency_code"]
    assert diff["total"] == (f"{old_total} {code}", f"385.64 {code}")
    assert all(name in (diff["lines"][0] or "") for name in old_names)
    assert diff["lines"][1] == "Design 3 x 120.50 +HST 13%; Hosting 1 x 19.99"
    assert diff["discount_percent"] == ("0", "10")
    assert len(sandbox.write_log) == writes + 1 and sandbox.write_log[-1].method == "PUT"


async def test_draft_edit_reports_old_names_and_needs_no_confirmation(fix: Client, sandbox: Sandbox) -> None:
    draft = invoices(sandbox, "draft")[1]
    old_names = [x["name"] for x in draft["lines"]]
    out = await call_ok(fix, "update_invoice", {"invoice_id": draft["id"], "lines": NEW_LINES[1:], "po_number": "PO-7"})
    old, new = changed(out)["lines"]
    assert all(name in (old or "") for name in old_names) and new == "Hosting 1 x 19.99"
    assert changed(out)["po_number"] == (None, "PO-7") and draft["po_number"] == "PO-7"
    assert amount(draft["amount"]) == D("19.99") and out["total_matches"] is True


async def test_sent_invoice_lines_refused_without_confirmation(fix: Client, sandbox: Sandbox) -> None:
    inv = unpaid_sent(sandbox)
    lines_before, total_before, writes = [dict(x) for x in inv["lines"]], inv["amount"], len(sandbox.write_log)
    text = await call_error(fix, "update_invoice", {"invoice_id": inv["id"], "lines": NEW_LINES})
    assert "already sent" in text and "received" in text and "confirm=true" in text and inv["invoice_number"] in text
    assert "nothing was changed" in text.lower()
    assert inv["lines"] == lines_before and inv["amount"] == total_before and len(sandbox.write_log) == writes

    # Notes, terms, PO and the due date need no confirmation on a sent invoice.
    out = await call_ok(fix, "update_invoice", {"invoice_id": inv["id"], "notes": "Thanks!", "terms": "Net 30"})
    assert inv["notes"] == "Thanks!" and changed(out)["terms"][1] == "Net 30" and inv["lines"] == lines_before

    out = await call_ok(fix, "update_invoice", {"invoice_id": inv["id"], "lines": NEW_LINES, "confirm": True})
    expected = D("361.50") + D("19.99") + q2(D("361.50") * D("0.13"))  # this invoice has no discount
    assert amount(inv["amount"]) == expected and out["total_matches"] is True
    assert changed(out)["total"][1] == f"{expected} {inv['currency_code']}"


async def test_due_date_is_set_through_due_offset_days(fix: Client, sandbox: Sandbox) -> None:
    inv = unpaid_sent(sandbox)
    issued = date.fromisoformat(inv["create_date"])
    target = date(issued.year + 1, 1, 15)
    out = await call_ok(fix, "update_invoice", {"invoice_id": inv["id"], "due_date": target.isoformat()})
    assert inv["due_date"] == target.isoformat() and inv["due_offset_days"] == (target - issued).days
    assert changed(out)["due_offset_days"][1] == str((target - issued).days)
    text = await call_error(fix, "update_invoice", {"invoice_id": inv["id"], "due_date": "1999-01-01"})
    assert "before the issue date" in text and inv["due_date"] == target.isoformat()


async def test_paid_invoice_lines_refused_even_with_confirmation(fix: Client, sandbox: Sandbox) -> None:
    paid = invoices(sandbox, "paid")[0]
    before, writes = dict(paid), len(sandbox.write_log)
    text = await call_error(fix, "update_invoice", {"invoice_id": paid["id"], "lines": NEW_LINES, "confirm": True})
    assert "is paid" in text and "Nothing was changed" in text
    assert paid == before and len(sandbox.write_log) == writes
    out = await call_ok(fix, "update_invoice", {"invoice_id": paid["id"], "notes": "Paid with thanks"})
    assert changed(out)["notes"][1] == "Paid with thanks" and paid["amount"] == before["amount"]


async def test_partly_paid_invoice_cannot_drop_below_what_was_paid(fix: Client, sandbox: Sandbox) -> None:
    inv = invoices(sandbox, "partial")[0]
    before = dict(inv)
    cheap = [{"name": "Tiny", "qty": "1", "unit_cost": "0.01"}]
    text = await call_error(fix, "update_invoice", {"invoice_id": inv["id"], "lines": cheap, "confirm": True})
    assert "already paid" in text and "Nothing was changed" in text and inv == before


# ---------------------------------------------------------------------- delete_invoice


async def test_delete_invoice_with_payments_refused_and_nothing_changed(fix: Client, sandbox: Sandbox) -> None:
    inv = invoices(sandbox, "partial")[0]
    pays = live_payments(sandbox, inv["id"])
    before, writes = dict(inv), len(sandbox.write_log)
    text = await call_error(fix, "delete_invoice", {"invoice_id": inv["id"], "confirm": True})
    assert all(str(p["id"]) in text for p in pays) and "delete_payment" in text and "archive=true" in text
    assert inv == before and len(sandbox.write_log) == writes

    out = await call_ok(fix, "delete_invoice", {"invoice_id": inv["id"], "archive": True, "confirm": True})
    assert inv["vis_state"] == 2 and out["action"] == "archived" and live_payments(sandbox, inv["id"]) == pays


async def test_delete_draft_invoice_asks_then_deletes_by_http_delete(fix: Client, sandbox: Sandbox) -> None:
    draft = invoices(sandbox, "draft")[0]
    text = await call_error(fix, "delete_invoice", {"invoice_id": draft["id"]})
    assert "Delete invoice #" in text and draft["vis_state"] == 0
    out = await call_ok(fix, "delete_invoice", {"invoice_id": draft["id"], "confirm": True})
    assert draft["vis_state"] == 1 and out["changes"] == [{"field": "state", "old": "active", "new": "deleted"}]
    assert sandbox.write_log[-1].method == "DELETE"
    text = await call_error(fix, "update_invoice", {"invoice_id": draft["id"], "notes": "x"})
    assert "deleted" in text


# ---------------------------------------------------------------------- payments


async def test_deleting_a_payment_restores_the_outstanding_amount_to_the_cent(fix: Client, sandbox: Sandbox) -> None:
    inv = next(i for i in invoices(sandbox, "paid") if len(live_payments(sandbox, i["id"])) == 2)
    first, second = live_payments(sandbox, inv["id"])
    assert amount(inv["outstanding"]) == 0
    text = await call_error(fix, "delete_payment", {"payment_id": first["id"]})
    assert "confirm=true" in text and first["vis_state"] == 0
    out = await call_ok(fix, "delete_payment", {"payment_id": first["id"], "confirm": True})
    assert first["vis_state"] == 1 and amount(inv["outstanding"]) == amount(first["amount"])
    assert amount(inv["outstanding"]) == amount(inv["amount"]) - amount(second["amount"])
    code = inv["currency_code"]
    diff = changed(out)
    assert diff["invoice outstanding"] == (f"0.00 {code}", f"{first['amount']['amount']} {code}")
    assert diff["invoice status"] == ("paid", inv["v3_status"]) and inv["v3_status"] != "paid"


async def test_update_payment_amount_is_confirmed_and_guarded(fix: Client, sandbox: Sandbox) -> None:
    inv = invoices(sandbox, "partial")[0]
    pay = live_payments(sandbox, inv["id"])[0]
    room = amount(inv["outstanding"]) + amount(pay["amount"])
    text = await call_error(fix, "update_payment", {"payment_id": pay["id"], "amount": f"{room + 1}", "confirm": True})
    assert "more than" in text and "Nothing was changed" in text and amount(pay["amount"]) < room

    new = amount(pay["amount"]) + D("1.00")
    text = await call_error(fix, "update_payment", {"payment_id": pay["id"], "amount": f"{new}"})
    assert "confirm=true" in text and amount(pay["amount"]) == new - 1
    owed = amount(inv["outstanding"])
    out = await call_ok(fix, "update_payment", {"payment_id": pay["id"], "amount": f"{new}", "confirm": True})
    assert amount(pay["amount"]) == new and amount(inv["outstanding"]) == owed - 1
    assert changed(out)["invoice outstanding"][1] == f"{owed - 1:.2f} {inv['currency_code']}"

    args = {"payment_id": pay["id"], "method": "Cash", "note": "cheque 12"}
    assert "confirm=true" in await call_error(fix, "update_payment", args) and pay["type"] != "Cash"
    out = await call_ok(fix, "update_payment", {**args, "confirm": True})
    assert pay["type"] == "Cash" and pay["note"] == "cheque 12" and changed(out)["method"][1] == "Cash"


# ---------------------------------------------------------------------- expenses


async def test_an_expense_moved_to_another_category_shows_under_it(fix: Client, sandbox: Sandbox) -> None:
    cats = {c["id"]: c["category"] for c in sandbox.db.categories.values()}
    exp = next(e for e in sandbox.db.expenses.values() if e["vis_state"] == 0 and e["amount"]["code"] == "USD")
    target = next(cid for cid, name in cats.items() if cid != exp["categoryid"] and name == "Fuel")
    day, old_name = exp["date"], cats[exp["categoryid"]]

    async def total_under(category: str) -> Decimal:
        out = await call_ok(fix, "summarize_expenses", {"date_from": day, "date_to": day, "category": category})
        return sum((amount(t) for t in out["totals"] if t["code"] == "USD"), D(0))

    before = await total_under("Fuel")
    out = await call_ok(fix, "update_expense", {"expense_id": exp["id"], "category": "Fuel", "vendor": "Shell"})
    assert exp["categoryid"] == target and exp["vendor"] == "Shell"
    assert changed(out)["category"] == (old_name, "Fuel")
    assert await total_under("Fuel") == before + amount(exp["amount"])


async def test_update_expense_amount_recomputes_tax_and_reports_each_field(fix: Client, sandbox: Sandbox) -> None:
    exp = next(e for e in sandbox.db.expenses.values() if e["vis_state"] == 0 and e["taxPercent1"])
    pct = D(exp["taxPercent1"])
    out = await call_ok(fix, "update_expense", {"expense_id": exp["id"], "amount": "200.00", "notes": "fixed"})
    assert exp["amount"]["amount"] == "200.00" and exp["notes"] == "fixed"
    assert amount(exp["taxAmount1"]) == q2(D("200.00") * pct / 100)
    diff = changed(out)
    assert diff["amount"][1] == f"200.00 {exp['amount']['code']}" and diff["notes"][1] == "fixed"
    text = await call_error(fix, "update_expense", {"expense_id": exp["id"], "category": "No Such Category Zz"})
    assert exp["notes"] == "fixed" and "category" in text.lower()


async def test_delete_expense_is_confirmed(fix: Client, sandbox: Sandbox) -> None:
    exp = next(e for e in sandbox.db.expenses.values() if e["vis_state"] == 0)
    text = await call_error(fix, "delete_expense", {"expense_id": exp["id"]})
    assert "confirm=true" in text and exp["amount"]["amount"] in text and exp["vis_state"] == 0
    await call_ok(fix, "delete_expense", {"expense_id": exp["id"], "confirm": True})
    assert exp["vis_state"] == 1 and sandbox.write_log[-1].method == "PUT"


# ---------------------------------------------------------------------- under faults


class Faulty:
    """In front of the sandbox: loses or fails the next PUT/DELETE replies on a script."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.script: list[str] = []
        self.break_reads = False  # every GET fails once a scripted write was seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("method") == "GET" and self.break_reads and not self.script:
            await send({"type": "http.response.start", "status": 503, "headers": [(b"content-type", b"text/html")]})
            await send({"type": "http.response.body", "body": b"<h1>503</h1>"})
            return
        if scope.get("method") in ("PUT", "DELETE") and self.script:
            action = self.script.pop(0)

            async def swallow(message: Message) -> None:
                return None

            if action == "after":  # applied, then the reply is lost
                await self.app(scope, receive, swallow)
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
            if action in ("500", "500-after"):
                if action == "500-after":
                    await self.app(scope, receive, swallow)
                await send({"type": "http.response.start", "status": 500, "headers": [(b"content-type", b"text/html")]})
                await send({"type": "http.response.body", "body": b"<h1>500</h1>"})
                return
        await self.app(scope, receive, send)


def _server(sb: Sandbox, layer: Faulty) -> Any:
    settings = load_settings(environ={}, use_dotenv=False).with_overrides(
        api_url="http://freshbooks.test", request_timeout=0.2, toolsets="corrections,expenses"
    )
    return build_server(
        settings, transport=httpx.ASGITransport(app=layer), token_source=StaticTokenSource(sb.access_token)
    )


def _cases(sb: Sandbox) -> list[tuple[str, dict[str, Any], Any]]:
    """(tool, arguments, check of the books after it landed once)."""
    draft = invoices(sb, "draft")[0]
    paid = next(i for i in invoices(sb, "paid") if len(live_payments(sb, i["id"])) == 1)
    pay = live_payments(sb, paid["id"])[0]
    partial = invoices(sb, "partial")[0]
    part_pay = live_payments(sb, partial["id"])[0]
    owed, paid_amount = amount(partial["outstanding"]), amount(part_pay["amount"])
    exp, gone = [e for e in sb.db.expenses.values() if e["vis_state"] == 0][:2]
    other = invoices(sb, "draft")[1]
    return [
        ("update_invoice", {"invoice_id": draft["id"], "lines": NEW_LINES, "discount_percent": "10"},
         lambda: amount(draft["amount"]) == NEW_TOTAL and len(draft["lines"]) == 2),
        ("delete_payment", {"payment_id": pay["id"], "confirm": True},
         lambda: pay["vis_state"] == 1 and paid["outstanding"] == paid["amount"]),
        ("update_payment", {"payment_id": part_pay["id"], "amount": f"{paid_amount + 1}", "confirm": True},
         lambda: amount(partial["outstanding"]) == owed - 1),
        ("update_expense", {"expense_id": exp["id"], "amount": "77.70", "notes": "soak"},
         lambda: exp["amount"]["amount"] == "77.70" and exp["notes"] == "soak"),
        ("delete_expense", {"expense_id": gone["id"], "confirm": True}, lambda: gone["vis_state"] == 1),
        ("delete_invoice", {"invoice_id": other["id"], "confirm": True}, lambda: other["vis_state"] == 1),
    ]  # fmt: skip


@pytest.mark.parametrize("script", [["after"], ["500-after"], ["after"] * 6, ["500"] * 6])
async def test_each_correction_is_applied_once_under_lost_replies_and_5xx(sandbox: Sandbox, script: list[str]) -> None:
    layer = Faulty(sandbox.app)
    async with Client(_server(sandbox, layer)) as client:  # type: ignore[arg-type]
        for tool, args, landed in _cases(sandbox):
            writes = len(sandbox.write_log)
            layer.script = list(script)
            result = await client.call_tool(tool, args)
            text = " ".join(getattr(c, "text", "") for c in result.content)
            assert "Traceback" not in text and "Unexpected" not in text, text
            if script[0] == "500" and len(script) > 1:  # never applied: says so, changed nothing
                assert result.is_error and "nothing was changed" in text.lower(), (tool, text)
                assert not landed() and len(sandbox.write_log) == writes, tool
                continue
            assert not result.is_error, (tool, text)
            assert landed(), (tool, text)
            # A pure update or delete re-sent after a lost reply sets the same values: one effect.
            if len(script) > 1:
                assert "reply was lost" in text, (tool, text)
    if script[0] != "500" or len(script) == 1:
        partial = invoices(sandbox, "partial")
        assert all(amount(i["outstanding"]) >= 0 for i in partial)


async def test_a_payment_deleted_under_dropped_replies_reopens_the_invoice_once(sandbox: Sandbox) -> None:
    sandbox.set_faults(drop_rate=0.5)
    layer = Faulty(sandbox.app)
    targets = [i for i in invoices(sandbox, "paid") if len(live_payments(sandbox, i["id"])) == 1][:6]
    async with Client(_server(sandbox, layer)) as client:  # type: ignore[arg-type]
        for inv in targets:
            pay = live_payments(sandbox, inv["id"])[0]
            result = await client.call_tool("delete_payment", {"payment_id": pay["id"], "confirm": True})
            text = " ".join(getattr(c, "text", "") for c in result.content)
            if result.is_error:
                assert "Traceback" not in text
                assert pay["vis_state"] == 0 or "nothing was changed" not in text.lower(), text
            else:
                assert pay["vis_state"] == 1, text
            # Whatever happened, the invoice owes exactly its amount less its live payments.
            live = sum((amount(p["amount"]) for p in live_payments(sandbox, inv["id"])), D(0))
            assert amount(inv["outstanding"]) == amount(inv["amount"]) - live
    sandbox.set_faults(drop_rate=0.0)


async def test_a_lost_correction_that_cannot_be_re_read_is_reported_unknown_not_retry(sandbox: Sandbox) -> None:
    layer = Faulty(sandbox.app)
    exp = next(e for e in sandbox.db.expenses.values() if e["vis_state"] == 0)
    async with Client(_server(sandbox, layer)) as client:  # type: ignore[arg-type]
        await call_ok(client, "list_expense_categories")  # categories cached before reads break
        layer.script, layer.break_reads = ["500-after"] * 6, True
        text = await call_error(client, "update_expense", {"expense_id": exp["id"], "notes": "maybe"})
    assert exp["notes"] == "maybe"  # it did land
    assert "may or may not have been applied" in text and "Do not simply retry" in text
    assert "try again shortly" not in text.lower()


async def test_draft_lines_change_without_asking_even_with_confirm(fix: Client, sandbox: Sandbox) -> None:
    draft = invoices(sandbox, "draft")[0]
    out = await call_ok(fix, "update_invoice", {"invoice_id": draft["id"], "lines": NEW_LINES, "confirm": True})
    assert draft["lines"][0]["name"] == NEW_LINES[0]["name"] and out["total_matches"] is True
