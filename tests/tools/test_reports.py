"""Report tools through a real MCP client, cross-checked to the cent against the sandbox's raw records
and against the other tools (summarize_expenses, list_payments, list_overdue_invoices), over several
seeds and periods. FreshBooks ignores unknown report parameters: every test asserts none was sent."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from mcp import Client

from conftest import call_error, call_ok
from mcp_server_freshbooks.config import load_settings
from mcp_server_freshbooks.freshbooks.reports import PAYMENTS_COLLECTED, PROFIT_LOSS, Report, ReportQuery
from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions
from mcp_server_freshbooks.server import build_server

pytestmark = pytest.mark.anyio

D = Decimal
HUNDRED = D(100)
CENT = D("0.01")  # invoice taxes round per line, half up (the sandbox's rule for invoice totals)
PERIODS: list[dict[str, str]] = [
    {"period": "last_quarter"},
    {"period": "this_year"},
    {"date_from": "2025-03-15", "date_to": "2025-11-02"},
]


@pytest.fixture(params=[7, 11, 23], ids=lambda s: f"seed{s}")
def books(request: pytest.FixtureRequest) -> Sandbox:
    return Sandbox(SandboxOptions(seed=request.param))


@pytest.fixture
async def reports(books: Sandbox) -> AsyncIterator[Client]:
    settings = load_settings(environ={"FRESHBOOKS_TOOLSETS": "all"}, use_dotenv=False)
    async with Client(build_server(settings, sandbox=books)) as client:
        yield client


@pytest.fixture(autouse=True)
def _no_ignored_report_params(books: Sandbox) -> Iterator[None]:
    yield
    assert not books.ignored_search_keys, f"FreshBooks would ignore: {dict(books.ignored_search_keys)}"


def money_map(items: list[dict[str, Any]]) -> dict[str, Decimal]:
    return {m["code"]: D(m["amount"]) for m in items if D(m["amount"])}


def in_range(day: str, out: dict[str, Any]) -> bool:
    return bool(out["date_from"] <= day <= out["date_to"])


def live(rec: dict[str, Any]) -> bool:
    return bool(rec.get("vis_state", 0) != 1)


def issued(sb: Sandbox, out: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for inv in sb.db.invoices.values():
        if live(inv) and inv["display_status"] != "draft" and in_range(inv["create_date"], out):
            yield inv


# ---------------------------------------------------------------------- the query can never say search[...]


@pytest.mark.parametrize("books", [7], indirect=True)  # seed-independent: one seed is enough
def test_a_report_query_with_search_keys_cannot_be_built() -> None:
    with pytest.raises(ValueError, match="silently ignored"):
        ReportQuery(PROFIT_LOSS).set("search[date_min]", "2026-01-01")
    with pytest.raises(ValueError, match="silently ignored"):
        ReportQuery(PROFIT_LOSS).set("date_min", "2026-01-01")
    with pytest.raises(ValueError, match="not a list parameter"):
        ReportQuery(PAYMENTS_COLLECTED).in_list("search[clientids]", [1])
    with pytest.raises(ValueError, match="not a bare parameter"):
        Report(path="profitloss_entity", result_key="profitloss", params=frozenset({"search[start_date]"}))
    query = ReportQuery(PROFIT_LOSS).dates(date(2026, 1, 1), date(2026, 1, 31))
    query._params.append(("search[date_min]", "2026-01-01"))  # even a direct edit never reaches the wire
    with pytest.raises(ValueError, match="ignored by FreshBooks reports"):
        query.params()
    assert ReportQuery(PAYMENTS_COLLECTED).dates(date(2026, 1, 1), date(2026, 1, 31)).in_list(
        "clientids", [5]
    ).params() == [("start_date", "2026-01-01"), ("end_date", "2026-01-31"), ("clientids[]", "5")]


# ---------------------------------------------------------------------- profit and loss


@pytest.mark.parametrize("span", PERIODS, ids=lambda p: p.get("period", "dates"))
async def test_profit_and_loss_accrual_income_is_the_invoices_and_expenses_match_summarize(
    reports: Client, books: Sandbox, span: dict[str, str]
) -> None:
    out = await call_ok(reports, "profit_and_loss", {**span, "basis": "accrual"})
    assert out["basis"] == "accrual" and "left_out" in out
    invoiced: dict[str, Decimal] = defaultdict(D)
    for inv in issued(books, out):
        invoiced[inv["currency_code"]] += D(inv["amount"]["amount"])
    summary = await call_ok(
        reports, "summarize_expenses", {"date_from": out["date_from"], "date_to": out["date_to"], "top": 50}
    )
    spent = money_map(summary["totals"])
    reported = {r["currency"]: r for r in out["currencies"]}
    assert set(reported) >= {c for c, v in invoiced.items() if v} | set(spent)
    for code, row in reported.items():
        assert row["income"] == {"amount": f"{invoiced.get(code, D(0)):.2f}", "code": code}
        assert D(row["expenses"]["amount"]) == spent.get(code, D(0))
        assert D(row["net_profit"]["amount"]) == invoiced.get(code, D(0)) - spent.get(code, D(0))


@pytest.mark.parametrize("span", PERIODS[:2], ids=lambda p: p.get("period", "dates"))
async def test_profit_and_loss_cash_income_is_the_payments_received(
    reports: Client, books: Sandbox, span: dict[str, str]
) -> None:
    out = await call_ok(reports, "profit_and_loss", {**span, "basis": "cash", "resolution": "month"})
    assert out["basis"] == "cash"
    received: dict[str, Decimal] = defaultdict(D)
    for pay in books.db.payments.values():
        if live(pay) and not pay.get("from_credit") and in_range(pay["date"], out):
            received[pay["amount"]["code"]] += D(pay["amount"]["amount"])
    for row in out["currencies"]:
        code = row["currency"]
        assert D(row["income"]["amount"]) == received.get(code, D(0))
        # the month columns add up to the period, and each covers one calendar month
        assert sum(D(c["income"]["amount"]) for c in row["columns"]) == received.get(code, D(0))
        assert sum(D(c["expenses"]["amount"]) for c in row["columns"]) == D(row["expenses"]["amount"])
        assert all(c["start"][8:] == "01" for c in row["columns"])


@pytest.mark.parametrize("books", [7], indirect=True)  # seed-independent: one seed is enough
async def test_a_currency_the_business_does_not_use_says_so(reports: Client) -> None:
    result = await reports.call_tool("profit_and_loss", {"period": "this_year", "currency": "jpy"})
    assert not result.is_error and result.structured_content is not None
    assert result.structured_content["not_used"] == ["JPY"] and result.structured_content["currencies"] == []
    assert "does not use JPY" in result.content[0].text  # type: ignore[union-attr]
    aging = await call_ok(reports, "receivables_aging", {"currency": "JPY"})
    assert aging["not_used"] == ["JPY"] and aging["currencies"] == []


@pytest.mark.parametrize("books", [7], indirect=True)
async def test_a_currency_with_figures_costs_one_request(reports: Client, books: Sandbox) -> None:
    await call_ok(reports, "whoami")  # sign-in and business look-ups out of the way
    before = books.request_count
    out = await call_ok(reports, "tax_summary", {"period": "this_year", "currency": "USD"})
    assert [r["currency"] for r in out["currencies"]] == ["USD"] and out["not_used"] == []
    assert books.request_count - before == 1  # the report alone: the clients are read only to rule out a currency


@pytest.mark.parametrize("books", [7], indirect=True)  # seed-independent: one seed is enough
async def test_report_periods_refuse_contradictions(reports: Client) -> None:
    text = await call_error(reports, "profit_and_loss", {"period": "ytd", "date_from": "2026-01-01"})
    assert "not both" in text
    text = await call_error(reports, "tax_summary", {"date_from": "2026-03-01", "date_to": "2026-02-01"})
    assert "date_from" in text and "after" in text
    args = {"date_from": "2001-01-01", "date_to": "2026-12-31", "resolution": "month"}
    assert "at most 10 years" in await call_error(reports, "profit_and_loss", args)


# ---------------------------------------------------------------------- tax summary


@pytest.mark.parametrize("span", PERIODS, ids=lambda p: p.get("period", "dates"))
async def test_tax_collected_is_the_tax_on_the_periods_invoices_line_by_line(
    reports: Client, books: Sandbox, span: dict[str, str]
) -> None:
    out = await call_ok(reports, "tax_summary", span)
    collected: dict[tuple[str, str], Decimal] = defaultdict(D)
    invoiced: dict[str, Decimal] = defaultdict(D)
    for inv in issued(books, out):
        invoiced[inv["currency_code"]] += D(inv["amount"]["amount"])
        factor = (HUNDRED - D(inv.get("discount_value") or "0")) / HUNDRED
        for line in inv["lines"]:
            for n in ("1", "2"):
                pct = D(line.get("taxAmount" + n) or "0")
                if pct:
                    tax = (D(line["amount"]["amount"]) * factor * pct / HUNDRED).quantize(CENT, ROUND_HALF_UP)
                    collected[(inv["currency_code"], line["taxName" + n])] += tax
    reported = {(r["currency"], t["tax"]): D(t["collected"]["amount"]) for r in out["currencies"] for t in r["taxes"]}
    assert {k: v for k, v in reported.items() if v} == {k: v for k, v in collected.items() if v}
    for r in out["currencies"]:
        assert D(r["total_invoiced"]["amount"]) == invoiced.get(r["currency"], D(0))
        for t in r["taxes"]:
            assert D(t["net"]["amount"]) == D(t["collected"]["amount"]) - D(t["paid"]["amount"])


# ---------------------------------------------------------------------- payments collected


async def list_payments_totals(client: Client, args: dict[str, Any]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(D)
    page = 1
    while True:
        out = await call_ok(client, "list_payments", {**args, "limit": 100, "page": page})
        for m in out["page_totals"]:
            totals[m["code"]] += D(m["amount"])
        if not out["has_more"]:
            return {c: v for c, v in totals.items() if v}
        page += 1


@pytest.mark.parametrize("span", PERIODS, ids=lambda p: p.get("period", "dates"))
async def test_payments_collected_equals_list_payments_for_the_same_filter(
    reports: Client, books: Sandbox, span: dict[str, str]
) -> None:
    out = await call_ok(reports, "payments_collected", span)
    dates = {"date_from": out["date_from"], "date_to": out["date_to"]}
    assert out["basis"] == "cash" and out["count"] > 0
    assert money_map(out["totals"]) == await list_payments_totals(reports, dates)
    # one client's payments: the busiest payer of the period
    payer = out["top_clients"][0]["client_id"]
    mine = await call_ok(reports, "payments_collected", {**span, "client_id": payer})
    assert [c["client_id"] for c in mine["top_clients"]] == [payer]
    assert money_map(mine["totals"]) == await list_payments_totals(reports, {**dates, "client_id": payer})
    by_method: dict[str, Decimal] = defaultdict(D)
    for m in out["by_method"]:
        for money in m["totals"]:
            by_method[money["code"]] += D(money["amount"])
    assert {c: v for c, v in by_method.items() if v} == money_map(out["totals"])


# ---------------------------------------------------------------------- receivables aging


async def test_receivables_aging_agrees_with_list_overdue_invoices(reports: Client, books: Sandbox) -> None:
    aging = await call_ok(reports, "receivables_aging", {"response_format": "detailed"})
    overdue = await call_ok(reports, "list_overdue_invoices", {"as_of": aging["as_of"], "limit": 500})
    buckets = {b["bucket"]: money_map(b["outstanding"]) for b in overdue["buckets"]}
    # "current": sent, unpaid, not yet past due (due today or later) -- the aging report puts them in 0-30
    current: dict[str, Decimal] = defaultdict(D)
    for inv in books.db.invoices.values():
        owed = D(inv["outstanding"]["amount"])
        if live(inv) and inv["display_status"] != "draft" and owed > 0 and inv["due_date"] >= aging["as_of"]:
            current[inv["currency_code"]] += owed
    assert aging["currencies"]
    overdue_total = money_map(overdue["totals"])
    for row in aging["currencies"]:
        code = row["currency"]
        got = {k: D(v["amount"]) for k, v in row["buckets"].items()}
        assert got["31-60"] == buckets["31-60"].get(code, D(0))
        assert got["61-90"] == buckets["61-90"].get(code, D(0))
        assert got["91+"] == buckets["90+"].get(code, D(0))
        assert got["0-30"] - current.get(code, D(0)) == buckets["1-30"].get(code, D(0))
        assert D(row["total"]["amount"]) - current.get(code, D(0)) == overdue_total.get(code, D(0))
        assert sum(D(c["total"]["amount"]) for c in row["clients"]) == D(row["total"]["amount"])
    assert "0-30 includes invoices not yet due" in aging["counted"]


# ---------------------------------------------------------------------- prompts


@pytest.mark.parametrize("books", [7], indirect=True)  # seed-independent: one seed is enough
async def test_month_end_and_cash_prompts_use_the_report_tools_as_tools_list_declares_them(reports: Client) -> None:
    from test_prompts import check_text

    tools = {t.name: t.input_schema for t in (await reports.list_tools()).tools}
    expected = {
        "month_end_close": ({"month": "2026-02"}, {"profit_and_loss", "tax_summary", "payments_collected"}),
        "cash_position_snapshot": ({}, {"receivables_aging", "payments_collected"}),
    }
    for name, (args, report_tools) in expected.items():
        text = (await reports.get_prompt(name, args)).messages[0].content.text  # type: ignore[union-attr]
        problems, called = check_text(text, tools)
        assert not problems, f"{name}: {problems}"
        assert report_tools <= set(called), f"{name} does not use {report_tools - set(called)}"
    month_end = (await reports.get_prompt("month_end_close", {"month": "2026-02"})).messages[0].content.text  # type: ignore[union-attr]
    assert 'profit_and_loss(date_from="2026-02-01", date_to="2026-02-28", basis="accrual")' in month_end
