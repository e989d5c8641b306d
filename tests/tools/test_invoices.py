"""Invoice tools through a real MCP client (both protocol eras) against the sandbox's books."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from mcp import Client
from mcp.types import ElicitResult

from conftest import call_error, call_ok
from mcp_server_freshbooks.config import Settings
from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions
from mcp_server_freshbooks.server import build_server

pytestmark = pytest.mark.anyio

D = Decimal


@pytest.fixture(autouse=True)
def _no_ignored_search_keys(sandbox: Sandbox) -> Iterator[None]:
    yield
    assert not sandbox.ignored_search_keys, f"FreshBooks would ignore: {dict(sandbox.ignored_search_keys)}"


def live(sb: Sandbox) -> list[dict[str, Any]]:
    return [i for i in sb.db.invoices.values() if i["vis_state"] != 1]


def truth_overdue(sb: Sandbox, as_of: date) -> dict[int, int]:
    """invoice id -> days overdue, from the sandbox's own rule and books."""
    return {
        i["id"]: (as_of - date.fromisoformat(i["due_date"])).days for i in live(sb) if sb.invoice_is_overdue(i, as_of)
    }


def sums_by_code(invoices: list[dict[str, Any]], key: str = "outstanding") -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for inv in invoices:
        out[inv[key]["code"]] = out.get(inv[key]["code"], D(0)) + D(inv[key]["amount"])
    return out


def as_dict(moneys: list[dict[str, str]]) -> dict[str, Decimal]:
    return {m["code"]: D(m["amount"]) for m in moneys}


# ---------------------------------------------------------------------- list_invoices


async def test_list_invoices_newest_first_with_paging(mcp: Client, sandbox: Sandbox) -> None:
    expected = sorted(sorted(live(sandbox), key=lambda i: i["id"]), key=lambda i: i["create_date"], reverse=True)
    first = await call_ok(mcp, "list_invoices", {"limit": 5})
    second = await call_ok(mcp, "list_invoices", {"limit": 5, "page": first["next_page"]})
    assert first["total"] == len(expected) and first["has_more"] and first["next_page"] == 2
    assert [r["id"] for r in first["invoices"] + second["invoices"]] == [i["id"] for i in expected[:10]]
    row, raw = first["invoices"][0], expected[0]
    assert row["invoice_number"] == raw["invoice_number"] and row["client"]["id"] == raw["customerid"]
    assert row["amount"] == raw["amount"] and row["outstanding"] == raw["outstanding"]
    assert row["status"] == raw["v3_status"] and row["due_date"] == raw["due_date"]
    assert "notes" not in row  # concise


async def test_list_invoices_server_filters(mcp: Client, sandbox: Sandbox) -> None:
    some = next(i for i in live(sandbox) if i["v3_status"] == "paid")
    cid = some["customerid"]
    out = await call_ok(mcp, "list_invoices", {"client_id": cid, "status": "paid", "limit": 100})
    want = {i["id"] for i in live(sandbox) if i["customerid"] == cid and i["v3_status"] == "paid"}
    assert {r["id"] for r in out["invoices"]} == want and out["total"] == len(want)


async def test_list_invoices_issue_date_range_is_inclusive(mcp: Client, sandbox: Sandbox) -> None:
    day = date.fromisoformat(sorted(i["create_date"] for i in live(sandbox))[len(live(sandbox)) // 2])
    lo = day - timedelta(days=20)
    out = await call_ok(
        mcp, "list_invoices", {"issue_date_from": lo.isoformat(), "issue_date_to": day.isoformat(), "limit": 100}
    )
    want = {i["id"] for i in live(sandbox) if lo <= date.fromisoformat(i["create_date"]) <= day}
    assert any(i["create_date"] == day.isoformat() for i in live(sandbox) if i["id"] in want)
    assert {r["id"] for r in out["invoices"]} == want


async def test_list_invoices_due_date_and_currency_page_by_cursor(mcp: Client, sandbox: Sandbox) -> None:
    lo, hi = sandbox.today - timedelta(days=200), sandbox.today + timedelta(days=10)
    want = {
        i["id"] for i in live(sandbox) if i["currency_code"] == "USD" and lo <= date.fromisoformat(i["due_date"]) <= hi
    }
    args = {"currency": "usd", "due_date_from": lo.isoformat(), "due_date_to": hi.isoformat(), "limit": 15}
    seen: list[int] = []
    cursor = None
    for _ in range(50):
        out = await call_ok(mcp, "list_invoices", {**args, **({"cursor": cursor} if cursor else {})})
        assert out["filtered_client_side"] == ["due_date_from", "due_date_to", "currency"]
        assert len(out["invoices"]) <= 15
        seen += [r["id"] for r in out["invoices"]]
        cursor = out.get("next_cursor")
        if not cursor:
            break
    assert len(seen) == len(set(seen)) and set(seen) == want and len(want) > 15


async def test_list_invoices_currency_filter_finds_other_currencies(mcp: Client, sandbox: Sandbox) -> None:
    codes = {i["currency_code"] for i in live(sandbox)}
    assert len(codes) > 1
    other = sorted(codes - {"USD"})[0]
    out = await call_ok(mcp, "list_invoices", {"currency": other, "limit": 100})
    want = {i["id"] for i in live(sandbox) if i["currency_code"] == other}
    assert {r["id"] for r in out["invoices"]} == want
    assert all(r["amount"]["code"] == other for r in out["invoices"])


BAD_LIST_ARGS: list[tuple[dict[str, Any], str]] = [
    ({"issue_date_from": "2024-02-01", "issue_date_to": "2024-01-01"}, "issue_date_from"),
    ({"due_date_from": "2024-02-01", "due_date_to": "2024-01-01"}, "due_date_from"),
    ({"currency": "USD", "page": 2}, "cursor"),
    ({"currency": "USD", "cursor": "nonsense"}, "cursor"),
    ({"cursor": "1:0"}, "cursor"),
    ({"status": "late"}, "status"),
    ({"limit": 101}, "limit"),
    ({"currency": "US"}, "currency"),
]


async def test_list_invoices_bad_input(mcp: Client) -> None:
    for args, needle in BAD_LIST_ARGS:
        assert needle in await call_error(mcp, "list_invoices", args), args


async def test_list_invoices_detailed_is_bigger(mcp: Client) -> None:
    concise = await call_ok(mcp, "list_invoices", {"limit": 10})
    detailed = await call_ok(mcp, "list_invoices", {"limit": 10, "response_format": "detailed"})
    assert len(str(detailed)) > len(str(concise)) and "paid" in detailed["invoices"][0]


# ---------------------------------------------------------------------- get_invoice


async def test_get_invoice_lines_payments_totals(mcp: Client, sandbox: Sandbox) -> None:
    inv = next(
        i
        for i in live(sandbox)
        if len(sandbox.db.payments_by_invoice[i["id"]]) >= 1 and any(ln["taxAmount1"] != "0" for ln in i["lines"])
    )
    out = await call_ok(mcp, "get_invoice", {"invoice_id": inv["id"]})
    assert out["invoice"]["id"] == inv["id"] and out["invoice"]["invoice_number"] == inv["invoice_number"]
    assert [(ln["name"], ln["qty"], ln["amount"]) for ln in out["lines"]] == [
        (ln["name"], ln["qty"], ln["amount"]) for ln in inv["lines"]
    ]
    pays = [sandbox.db.payments[p] for p in sandbox.db.payments_by_invoice[inv["id"]]]
    assert sorted(p["id"] for p in out["payments"]) == sorted(p["id"] for p in pays)
    assert sum(D(p["amount"]["amount"]) for p in out["payments"]) == D(inv["paid"]["amount"])
    t = out["totals"]
    subtotal = sum(D(ln["amount"]["amount"]) for ln in inv["lines"])
    assert D(t["subtotal"]["amount"]) == subtotal
    assert D(t["total"]["amount"]) == D(inv["amount"]["amount"])
    assert D(t["tax"]["amount"]) == D(inv["amount"]["amount"]) - subtotal - D(inv["discount_total"]["amount"])
    assert D(t["tax"]["amount"]) > 0
    assert t["outstanding"] == inv["outstanding"] and t["paid"]["code"] == inv["currency_code"]
    text = await call_error(mcp, "get_invoice", {"invoice_id": 999999})
    assert "No invoice" in text and "list_invoices" in text


# ---------------------------------------------------------------------- list_overdue_invoices


async def test_overdue_matches_sandbox_truth_with_totals(mcp: Client, sandbox: Sandbox) -> None:
    as_of = sandbox.today
    truth = truth_overdue(sandbox, as_of)
    out = await call_ok(mcp, "list_overdue_invoices", {"as_of": as_of.isoformat(), "limit": 500})
    got = {r["id"]: r["days_overdue"] for r in out["invoices"]}
    assert got == truth and out["overdue_count"] == len(truth) and out["left_out"] == 0
    overdue = [sandbox.db.invoices[i] for i in truth]
    assert as_dict(out["totals"]) == sums_by_code(overdue)
    assert len(out["totals"]) > 1  # several currencies, each summed on its own
    days = [r["days_overdue"] for r in out["invoices"]]
    assert days == sorted(days, reverse=True)
    # Reads open invoices only, never the whole book.
    assert out["invoices_read"] < len(live(sandbox))


async def test_overdue_limit_keeps_totals_over_all_rows(mcp: Client, sandbox: Sandbox) -> None:
    as_of = sandbox.today
    truth = truth_overdue(sandbox, as_of)
    out = await call_ok(mcp, "list_overdue_invoices", {"limit": 3})
    assert out["as_of"] == as_of.isoformat()  # default: the business's today
    assert len(out["invoices"]) == 3 and out["left_out"] == len(truth) - 3
    assert as_dict(out["totals"]) == sums_by_code([sandbox.db.invoices[i] for i in truth])
    buckets = {b["bucket"]: b for b in out["buckets"]}
    for name, lo, hi in (("1-30", 1, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("90+", 91, 10**6)):
        ids = [i for i, d in truth.items() if lo <= d <= hi]
        assert buckets[name]["count"] == len(ids)
        assert as_dict(buckets[name]["outstanding"]) == sums_by_code([sandbox.db.invoices[i] for i in ids])
    assert out["invoices"][0]["days_overdue"] == max(truth.values())
    result = await mcp.call_tool("list_overdue_invoices", {"limit": 3})
    assert f"{len(truth) - 3} more overdue invoice(s) not listed" in result.content[0].text  # type: ignore[union-attr]


async def test_overdue_several_seeds_and_dates(settings: Settings, mode: str) -> None:
    for seed in (3, 11, 29):
        sb = Sandbox(SandboxOptions(seed=seed, invoices=150, clients=20, expenses=10))
        async with Client(build_server(settings, sandbox=sb), mode=mode) as client:  # type: ignore[arg-type]
            for as_of in (sb.today, sb.today - timedelta(days=45), sb.today + timedelta(days=20)):
                truth = truth_overdue(sb, as_of)
                out = await call_ok(client, "list_overdue_invoices", {"as_of": as_of.isoformat(), "limit": 500})
                assert {r["id"]: r["days_overdue"] for r in out["invoices"]} == truth, (seed, as_of)
                assert as_dict(out["totals"]) == sums_by_code([sb.db.invoices[i] for i in truth])
        assert not sb.ignored_search_keys


async def test_overdue_robust_to_lagging_status_flag(mcp: Client, sandbox: Sandbox) -> None:
    """FreshBooks' job may not have flipped v3_status yet: a just-due invoice still says 'sent'."""
    inv = next(i for i in live(sandbox) if i["v3_status"] == "overdue" and i["status"] == 2)
    inv["v3_status"] = "sent"
    out = await call_ok(mcp, "list_overdue_invoices", {"limit": 500})
    assert inv["id"] in {r["id"] for r in out["invoices"]}


async def test_overdue_for_one_client_and_min_days(mcp: Client, sandbox: Sandbox) -> None:
    truth = truth_overdue(sandbox, sandbox.today)
    cid = sandbox.db.invoices[next(iter(truth))]["customerid"]
    out = await call_ok(mcp, "list_overdue_invoices", {"client_id": cid, "min_days_overdue": 31, "limit": 500})
    want = {i for i, d in truth.items() if d >= 31 and sandbox.db.invoices[i]["customerid"] == cid}
    assert {r["id"] for r in out["invoices"]} == want
    assert all(r["client"]["id"] == cid for r in out["invoices"])
    assert "min_days_overdue" in await call_error(mcp, "list_overdue_invoices", {"min_days_overdue": 0})
    assert "as_of" in await call_error(mcp, "list_overdue_invoices", {"as_of": "yesterday"})


# ---------------------------------------------------------------------- create_invoice


async def test_create_invoice_draft_with_exact_total(mcp: Client, sandbox: Sandbox) -> None:
    client = next(c for c in sandbox.db.clients.values() if c["currency_code"] != "USD" and c["vis_state"] == 0)
    lines = [
        {"name": "Design", "qty": "2.5", "unit_cost": "10.01", "taxes": [{"name": "HST", "percent": "13"}]},
        {"name": "Hosting", "description": "12 months", "qty": 3, "unit_cost": 0.33},
    ]
    out = await call_ok(
        mcp, "create_invoice", {"client_id": client["id"], "lines": lines, "due_offset_days": 15, "po_number": "PO-7"}
    )
    stored = sandbox.db.invoices[out["invoice"]["id"]]
    assert stored["v3_status"] == "draft" and stored["customerid"] == client["id"]
    assert stored["currency_code"] == client["currency_code"] and stored["po_number"] == "PO-7"
    # 25.025 -> 25.03, tax 13% of 25.03 = 3.2539 -> 3.25, 0.99: 29.27
    assert stored["amount"]["amount"] == "29.27" and out["total"] == stored["amount"]
    assert out["expected_total"] == stored["amount"] and out["total_matches"] is True
    assert stored["due_date"] == (date.fromisoformat(stored["create_date"]) + timedelta(days=15)).isoformat()
    assert [ln["name"] for ln in stored["lines"]] == ["Design", "Hosting"]
    assert stored["lines"][0]["taxName1"] == "HST" and stored["lines"][0]["taxAmount1"] == "13"


async def test_create_invoice_unknown_client_creates_nothing(mcp: Client, sandbox: Sandbox) -> None:
    before = (len(sandbox.db.invoices), len(sandbox.write_log))
    text = await call_error(
        mcp, "create_invoice", {"client_id": 4242, "lines": [{"name": "x", "qty": 1, "unit_cost": "5.00"}]}
    )
    assert "4242" in text and "nothing was created" in text
    assert (len(sandbox.db.invoices), len(sandbox.write_log)) == before


BAD_LINES: list[tuple[dict[str, Any], str]] = [
    ({"name": "x", "qty": 0, "unit_cost": "1.00"}, "qty"),
    ({"name": "x", "qty": 1, "unit_cost": "1.005"}, "unit_cost"),
    ({"name": "x", "qty": 1, "unit_cost": "-1"}, "unit_cost"),
    ({"name": "", "qty": 1, "unit_cost": "1"}, "name"),
    ({"name": "x", "qty": 1, "unit_cost": "1", "taxes": [{"name": "a", "percent": 1}] * 3}, "taxes"),
]


async def test_create_invoice_bad_lines(mcp: Client, sandbox: Sandbox) -> None:
    cid = next(iter(sandbox.db.clients))
    before = len(sandbox.write_log)
    for line, needle in BAD_LINES:
        assert needle in await call_error(mcp, "create_invoice", {"client_id": cid, "lines": [line]}), line
    assert "lines" in await call_error(mcp, "create_invoice", {"client_id": cid, "lines": []})
    assert len(sandbox.write_log) == before


# ---------------------------------------------------------------------- send_invoice


def a_draft(sb: Sandbox) -> dict[str, Any]:
    return next(i for i in live(sb) if i["v3_status"] == "draft")


async def test_send_without_elicitation_needs_confirm(mcp: Client, sandbox: Sandbox) -> None:
    inv = a_draft(sandbox)
    before = len(sandbox.write_log)
    text = await call_error(mcp, "send_invoice", {"invoice_id": inv["id"]})
    assert "confirm=true" in text and inv["invoice_number"] in text and inv["amount"]["amount"] in text
    assert len(sandbox.write_log) == before and inv["v3_status"] == "draft"
    out = await call_ok(mcp, "send_invoice", {"invoice_id": inv["id"], "confirm": True})
    assert out["action"] == "marked_as_sent" and inv["v3_status"] in ("sent", "overdue")
    assert out["invoice"]["status"] == inv["v3_status"]


async def test_send_with_elicitation_accept_and_decline(sandbox: Sandbox, settings: Settings, mode: str) -> None:
    declined, accepted = [i for i in live(sandbox) if i["v3_status"] == "draft"][:2]
    asked: list[str] = []
    answer = "decline"

    async def on_elicit(ctx: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action=answer, content={"confirm": True} if answer == "accept" else None)

    server = build_server(settings, sandbox=sandbox)
    async with Client(server, mode=mode, elicitation_callback=on_elicit) as client:  # type: ignore[arg-type]
        before = len(sandbox.write_log)
        await call_error(client, "send_invoice", {"invoice_id": declined["id"], "email_to": ["ap@example.com"]})
        assert declined["v3_status"] == "draft" and len(sandbox.write_log) == before
        answer = "accept"
        out = await call_ok(client, "send_invoice", {"invoice_id": accepted["id"], "email_to": ["ap@example.com"]})
        assert out["action"] == "emailed" and out["emailed_to"] == ["ap@example.com"]
        assert accepted["v3_status"] != "draft" and len(sandbox.write_log) == before + 1
    assert len(asked) == 2
    assert declined["invoice_number"] in asked[0] and accepted["invoice_number"] in asked[1]
    assert "ap@example.com" in asked[1] and accepted["amount"]["amount"] in asked[1]


async def test_send_already_sent_changes_nothing(mcp: Client, sandbox: Sandbox) -> None:
    inv = next(i for i in live(sandbox) if i["v3_status"] == "sent")
    before = len(sandbox.write_log)
    out = await call_ok(mcp, "send_invoice", {"invoice_id": inv["id"]})
    assert out["action"] == "already_sent" and len(sandbox.write_log) == before
    assert "No invoice" in await call_error(mcp, "send_invoice", {"invoice_id": 999999, "confirm": True})
    text = await call_error(mcp, "send_invoice", {"invoice_id": a_draft(sandbox)["id"], "email_to": ["nope"]})
    assert "email_to" in text and len(sandbox.write_log) == before
