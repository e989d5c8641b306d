"""Estimate tools through a real MCP client (both protocol eras) against the sandbox's books (#15).

Expected values come from the sandbox's own records; the sandbox computes its totals with its own code.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from decimal import Decimal
from typing import Any

import pytest
from mcp import Client

from conftest import call_error, call_ok
from mcp_server_freshbooks.config import Settings, load_settings
from mcp_server_freshbooks.freshbooks.lines import LineInput, LineTax, document_totals
from mcp_server_freshbooks.sandbox import Sandbox
from mcp_server_freshbooks.server import build_server

pytestmark = pytest.mark.anyio

D = Decimal
TOOLSETS = "clients,invoices,estimates"


@pytest.fixture
def settings() -> Settings:
    return load_settings(environ={"FRESHBOOKS_TOOLSETS": TOOLSETS}, use_dotenv=False)


@pytest.fixture
async def mcp(sandbox: Sandbox, settings: Settings, mode: str) -> AsyncIterator[Client]:
    async with Client(build_server(settings, sandbox=sandbox), mode=mode) as client:
        yield client


@pytest.fixture(autouse=True)
def _no_ignored_search_keys(sandbox: Sandbox) -> Iterator[None]:
    yield
    assert not sandbox.ignored_search_keys, f"FreshBooks would ignore: {dict(sandbox.ignored_search_keys)}"


def client_in(sb: Sandbox, code: str) -> dict[str, Any]:
    return next(c for c in sb.db.clients.values() if c["vis_state"] == 0 and c["currency_code"] == code)


def amount(rec: dict[str, Any]) -> Decimal:
    return D(rec["amount"]["amount"])


# FreshBooks' own fixture (fact sheet "more" §5): 4 x 5.00 with 13% HST, 6 x 4.00, 10% discount -> 41.94
FIXTURE_LINES = [
    {"name": "Widget", "qty": "4", "unit_cost": "5.00", "taxes": [{"name": "HST", "percent": "13"}]},
    {"name": "Gadget", "qty": "6", "unit_cost": "4.00"},
]
# Two taxes (the second compound), a discount, many-decimal quantities
HARD_LINES = [
    {
        "name": "Design hour",
        "qty": "2.3333",
        "unit_cost": "97.15",
        "taxes": [{"name": "GST", "percent": "5"}, {"name": "QST", "percent": "9.975", "compound": True}],
    },
    {"name": "Hosting", "qty": "0.0007", "unit_cost": "1234.56", "taxes": [{"name": "VAT", "percent": "21.125"}]},
    {
        "name": "Travel",
        "qty": "1",
        "unit_cost": "0.05",
        "taxes": [{"name": "A", "percent": "7"}, {"name": "B", "percent": "3.333"}],
    },
]


def test_freshbooks_fixture_is_exact_in_our_arithmetic() -> None:
    lines = [
        LineInput("Widget", D(4), D("5.00"), taxes=(LineTax("HST", D(13)),)),
        LineInput("Gadget", D(6), D("4.00")),
    ]
    t = document_totals(lines, D(10))
    assert (t.subtotal, t.discount, t.tax, t.total) == (D("44.00"), D("4.40"), D("2.34"), D("41.94"))


def test_compound_tax_is_charged_on_the_first_tax_and_rounded_half_up_per_tax() -> None:
    # 100.00 line: GST 5% = 5.00; QST 9.975% compound on 105.00 = 10.47375 -> 10.47
    line = LineInput("x", D(1), D("100.00"), taxes=(LineTax("GST", D(5)), LineTax("QST", D("9.975"), compound=True)))
    assert document_totals([line]).total == D("115.47")
    # not compound: 9.975% of 100.00 = 9.975 -> 9.98 (half up)
    plain = LineInput("x", D(1), D("100.00"), taxes=(LineTax("GST", D(5)), LineTax("QST", D("9.975"))))
    assert document_totals([plain]).total == D("114.98")


async def test_create_estimate_matches_freshbooks_fixture(mcp: Client, sandbox: Sandbox) -> None:
    c = client_in(sandbox, "USD")
    out = await call_ok(
        mcp, "create_estimate", {"client_id": c["id"], "lines": FIXTURE_LINES, "discount_percent": "10"}
    )
    stored = sandbox.db.estimates[out["estimate"]["id"]]
    assert amount(stored) == D("41.94") and stored["status"] == 1 and stored["customerid"] == c["id"]
    t = out["totals"]
    assert t["total"] == {"amount": "41.94", "code": "USD"} and t["expected_total"] == t["total"]
    assert t["discount"]["amount"] == "4.40" and t["tax"]["amount"] == "2.34" and t["total_matches"] is True


async def test_list_and_get_estimates_show_the_sandbox_records(mcp: Client, sandbox: Sandbox) -> None:
    accepted = sorted(e["id"] for e in sandbox.db.estimates.values() if e["status"] == 5 and e["vis_state"] == 0)
    out = await call_ok(mcp, "list_estimates", {"status": "accepted"})
    assert sorted(r["id"] for r in out["estimates"]) == accepted and out["total"] == len(accepted)
    assert {r["status"] for r in out["estimates"]} == {"accepted"}

    est = next(iter(sandbox.db.estimates.values()))
    mine = await call_ok(mcp, "list_estimates", {"client_id": est["customerid"]})
    expected = {e["id"] for e in sandbox.db.estimates.values() if e["customerid"] == est["customerid"]}
    assert {r["id"] for r in mine["estimates"]} == expected

    for est in sandbox.db.estimates.values():
        got = await call_ok(mcp, "get_estimate", {"estimate_id": est["id"]})
        assert got["totals"]["total"]["amount"] == est["amount"]["amount"] and got["totals"]["total_matches"]
        assert len(got["lines"]) == len(est["lines"]) and got["estimate"]["status"] == est["ui_status"]
    assert "list_estimates" in await call_error(mcp, "get_estimate", {"estimate_id": 999})


async def test_convert_copies_every_line_tax_and_discount_and_refuses_twice(mcp: Client, sandbox: Sandbox) -> None:
    c = client_in(sandbox, "EUR")
    est_out = await call_ok(
        mcp,
        "create_estimate",
        {"client_id": c["id"], "lines": HARD_LINES, "discount_percent": "12.5", "notes": "N", "terms": "T"},
    )
    eid = est_out["estimate"]["id"]
    est = sandbox.db.estimates[eid]
    assert est_out["totals"]["total_matches"] is True and est["currency_code"] == "EUR"
    before = set(sandbox.db.invoices)

    text = await call_error(mcp, "convert_estimate_to_invoice", {"estimate_id": eid})
    assert "confirm=true" in text and set(sandbox.db.invoices) == before

    out = await call_ok(mcp, "convert_estimate_to_invoice", {"estimate_id": eid, "confirm": True})
    (new_id,) = set(sandbox.db.invoices) - before
    inv = sandbox.db.invoices[new_id]
    assert inv["estimateid"] == eid and inv["customerid"] == c["id"] and inv["currency_code"] == "EUR"
    assert inv["discount_value"] == "12.5" and inv["notes"] == "N" and inv["terms"] == "T"
    assert inv["status"] == 1
    keys = ("name", "qty", "unit_cost", "taxName1", "taxAmount1", "taxName2", "taxAmount2", "compounded_tax")
    assert [{k: ln[k] for k in keys} for ln in inv["lines"]] == [{k: ln[k] for k in keys} for ln in est["lines"]]
    assert inv["lines"][0]["compounded_tax"] is True
    assert amount(inv) == amount(est)
    assert out["totals_equal"] is True and out["invoice_total"] == out["estimate_total"] == est["amount"]

    text = await call_error(mcp, "convert_estimate_to_invoice", {"estimate_id": eid, "confirm": True})
    assert "already converted" in text and inv["invoice_number"] in text
    assert set(sandbox.db.invoices) == before | {new_id}
    again = await call_ok(
        mcp, "convert_estimate_to_invoice", {"estimate_id": eid, "confirm": True, "allow_again": True}
    )
    assert again["invoice"]["id"] != new_id and len(set(sandbox.db.invoices) - before) == 2

    # sending the invoice made from it makes the estimate "invoiced" (status 6)
    await call_ok(mcp, "send_invoice", {"invoice_id": new_id, "confirm": True})
    assert est["status"] == 6 and est["ui_status"] == "invoiced"


async def test_send_and_accept_estimate_are_confirmed_actions(mcp: Client, sandbox: Sandbox) -> None:
    est = next(e for e in sandbox.db.estimates.values() if e["status"] == 1)
    args = {"estimate_id": est["id"], "email_to": ["ann@example.com"], "subject": "Your quote"}
    assert "confirm=true" in await call_error(mcp, "send_estimate", args)
    assert sandbox.emails_sent(est["id"], "estimate") == 0 and est["status"] == 1
    out = await call_ok(mcp, "send_estimate", {**args, "confirm": True})
    assert out["action"] == "emailed" and sandbox.emails_sent(est["id"], "estimate") == 1
    assert est["status"] == 2 and out["estimate"]["status"] == "sent"

    assert "confirm=true" in await call_error(mcp, "accept_estimate", {"estimate_id": est["id"]})
    assert est["status"] == 2
    out = await call_ok(mcp, "accept_estimate", {"estimate_id": est["id"], "confirm": True})
    assert out["action"] == "accepted" and est["status"] == 5 and est["accepted"] is True
    again = await call_ok(mcp, "accept_estimate", {"estimate_id": est["id"]})
    assert again["action"] == "already_accepted"


async def test_update_estimate_replaces_the_whole_line_set(mcp: Client, sandbox: Sandbox) -> None:
    est = next(e for e in sandbox.db.estimates.values() if e["status"] == 1)
    out = await call_ok(
        mcp, "update_estimate", {"estimate_id": est["id"], "lines": FIXTURE_LINES, "discount_percent": "10"}
    )
    assert [ln["name"] for ln in est["lines"]] == ["Widget", "Gadget"] and amount(est) == D("41.94")
    assert out["totals"]["total_matches"] is True
    assert "Nothing to change" in await call_error(mcp, "update_estimate", {"estimate_id": est["id"]})


async def test_a_compound_first_tax_is_refused_with_nothing_written(mcp: Client, sandbox: Sandbox) -> None:
    c = client_in(sandbox, "USD")
    before = len(sandbox.write_log)
    bad = [{"name": "x", "qty": "1", "unit_cost": "1.00", "taxes": [{"name": "A", "percent": "5", "compound": True}]}]
    text = await call_error(mcp, "create_estimate", {"client_id": c["id"], "lines": bad})
    assert "second tax" in text and len(sandbox.write_log) == before


async def test_quote_to_invoice_prompt_names_only_real_tools(mcp: Client) -> None:
    from test_prompts import check_text

    tools = {t.name: t.input_schema for t in (await mcp.list_tools()).tools}
    assert "quote_to_invoice" in {p.name for p in (await mcp.list_prompts()).prompts}
    for args in ({}, {"client": "Acme"}, {"client": "12"}):
        result = await mcp.get_prompt("quote_to_invoice", args)
        text = result.messages[0].content.text  # type: ignore[union-attr]
        problems, called = check_text(text, tools)
        assert not problems, problems
        assert {"create_estimate", "send_estimate", "accept_estimate", "convert_estimate_to_invoice"} <= set(called)
        assert ("find_client" in called) == (args.get("client") == "Acme")


async def test_quote_to_invoice_prompt_is_absent_when_read_only(sandbox: Sandbox, settings: Settings) -> None:
    async with Client(build_server(settings.with_overrides(read_only=True), sandbox=sandbox)) as client:
        assert "quote_to_invoice" not in {p.name for p in (await client.list_prompts()).prompts}


async def test_convert_and_send_exactly_once_under_dropped_replies(sandbox: Sandbox) -> None:
    """3 sessions, 30% of write replies lost (half of those applied): each estimate is converted twice
    at once and emailed once. Never two invoices from one estimate, never two emails; an error names
    what to check, and a success means it happened exactly once."""
    import anyio
    import httpx

    from mcp_server_freshbooks.freshbooks import StaticTokenSource

    base = {"api_url": "http://freshbooks.test", "request_timeout": 0.2, "toolsets": TOOLSETS}
    settings = load_settings(environ={}, use_dotenv=False).with_overrides(**base)
    estimates = [e for e in sandbox.db.estimates.values() if e["status"] in (1, 2, 3, 5)][:6]
    before = set(sandbox.db.invoices)
    sandbox.set_faults(drop_rate=0.3)
    results: list[tuple[int, str, bool, str]] = []
    async with AsyncExitStack() as stack:
        sessions = []
        for i in range(3):
            server = build_server(
                settings,
                transport=httpx.ASGITransport(app=sandbox.app),
                token_source=StaticTokenSource(sandbox.access_token),
            )
            sessions.append(await stack.enter_async_context(Client(server, mode="auto" if i % 2 else "legacy")))

        async def one(client: Client, eid: int, tool: str, args: dict[str, Any]) -> None:
            result = await client.call_tool(tool, {"estimate_id": eid, "confirm": True, **args})
            text = " ".join(getattr(c, "text", "") for c in result.content)
            assert "Traceback" not in text
            results.append((eid, tool, bool(result.is_error), text))

        async with anyio.create_task_group() as tg:
            for n, est in enumerate(estimates):
                tg.start_soon(one, sessions[n % 3], est["id"], "convert_estimate_to_invoice", {})
                tg.start_soon(one, sessions[(n + 1) % 3], est["id"], "convert_estimate_to_invoice", {})
                tg.start_soon(one, sessions[(n + 2) % 3], est["id"], "send_estimate", {"email_to": ["a@b.co"]})
    sandbox.set_faults(drop_rate=0.0)
    new = [sandbox.db.invoices[i] for i in set(sandbox.db.invoices) - before]
    for est in estimates:
        made = [i for i in new if i["estimateid"] == est["id"]]
        assert len(made) <= 1, f"estimate {est['id']} converted {len(made)} times"
        converts = [r for r in results if r[0] == est["id"] and r[1] == "convert_estimate_to_invoice"]
        if any(not err for _, _, err, _ in converts):
            assert len(made) == 1 and amount(made[0]) == amount(est)
        for _, _, err, text in converts:
            if err and not made:
                assert "try again" not in text.lower() or "nothing was" in text.lower(), text
        emails = sandbox.emails_sent(est["id"], "estimate")
        (send,) = [r for r in results if r[0] == est["id"] and r[1] == "send_estimate"]
        assert emails <= 1 and (send[2] or emails == 1), send[3]
