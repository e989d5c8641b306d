"""The sandbox's report endpoints over HTTP: FreshBooks' documented shapes, bare parameters only
(unknown ones ignored and counted, the report then answering for today), figures from the raw books."""

from __future__ import annotations

import base64
import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from mcp_server_freshbooks.sandbox import Sandbox

from .conftest import TODAY

pytestmark = pytest.mark.anyio
D = Decimal


def report_path(sb: Sandbox, name: str) -> str:
    return f"/accounting/account/{sb.account_id}/reports/accounting/{name}"


async def get_report(http: httpx.AsyncClient, sb: Sandbox, name: str, key: str, **params: Any) -> dict[str, Any]:
    resp = await http.get(report_path(sb, name), params=params)
    assert resp.status_code == 200, resp.text
    result: dict[str, Any] = resp.json()["response"]["result"][key]
    return result


def amount(m: dict[str, Any]) -> Decimal:
    return D(m["amount"])


async def test_profit_and_loss_has_the_documented_shape_and_adds_up(http: httpx.AsyncClient, sb: Sandbox) -> None:
    pnl = await get_report(
        http, sb, "profitloss_entity", "profitloss", start_date="2026-02-10", end_date="2026-06-30", resolution="m"
    )
    for key in ("labels", "dates", "income", "expenses", "total_income", "total_expenses", "gross_margin"):
        assert key in pnl
    assert pnl["labels"] == ["2026-02-01", "2026-03-01", "2026-04-01", "2026-05-01", "2026-06-01"]
    assert pnl["dates"][0] == {"start_date": "2026-02-01", "end_date": "2026-02-28"}  # calendar-aligned
    assert pnl["gross_margin"]["total"]["code"] == "%" and pnl["currency_code"] == "USD"
    for entry in (pnl["total_income"], pnl["total_expenses"], pnl["net_profit"]):
        assert sum(amount(v) for v in entry["data"]) == amount(entry["total"])
    assert amount(pnl["net_profit"]["total"]) == amount(pnl["total_income"]["total"]) - amount(
        pnl["total_expenses"]["total"]
    )
    assert sum(amount(e["total"]) for e in pnl["expenses"]) == amount(pnl["total_expenses"]["total"])
    for parent in pnl["expenses"]:
        if parent["children"]:
            assert sum(amount(c["total"]) for c in parent["children"]) <= amount(parent["total"])
    spent = sum(
        D(e["amount"]["amount"])
        for e in sb.db.expenses.values()
        if e["vis_state"] != 1 and e["amount"]["code"] == "USD" and "2026-02-10" <= e["date"] <= "2026-06-30"
    )
    assert amount(pnl["total_expenses"]["total"]) == spent
    assert sb.ignored_search_keys == {}


async def test_download_token_is_a_jwt_naming_the_report(http: httpx.AsyncClient, sb: Sandbox) -> None:
    tax = await get_report(
        http, sb, "taxsummary", "taxsummary", start_date="2026-01-01", end_date="2026-03-31", currency_code="CAD"
    )
    header, payload, signature = tax["download_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["objectid"] == "taxsummary" and claims["type"] == "report"
    assert claims["params"] == {"currency_code": "CAD", "end_date": "2026-03-31", "start_date": "2026-01-01"}
    assert signature and json.loads(base64.urlsafe_b64decode(header + "=="))["alg"] == "HS256"
    for t in tax["taxes"]:
        assert amount(t["net_tax"]) == amount(t["tax_collected"]) - amount(t["tax_paid"])
        assert amount(t["net_taxable_amount"]) == amount(t["taxable_amount_collected"]) - amount(
            t["taxable_amount_paid"]
        )
        assert t["tax_collected"]["code"] == "CAD"


async def test_search_keys_are_ignored_counted_and_the_report_covers_today_only(
    http: httpx.AsyncClient, sb: Sandbox
) -> None:
    today_only = await get_report(http, sb, "payments_collected", "payments_collected")
    assert (today_only["start_date"], today_only["end_date"]) == (TODAY.isoformat(), TODAY.isoformat())
    wrong = await get_report(
        http,
        sb,
        "payments_collected",
        "payments_collected",
        **{"search[date_min]": "2025-01-01", "search[date_max]": "2026-11-01", "bogus": "1"},
    )
    assert wrong["start_date"] == wrong["end_date"] == TODAY.isoformat()
    assert wrong["payments"] == today_only["payments"]
    assert sb.ignored_search_keys == {"search[date_min]": 1, "search[date_max]": 1, "bogus": 1}


async def test_payments_collected_filters_by_client_method_and_currency(http: httpx.AsyncClient, sb: Sandbox) -> None:
    first, last = "2025-06-01", "2026-11-21"
    pays = [p for p in sb.db.payments.values() if p["vis_state"] != 1 and first <= p["date"] <= last]
    client, method = pays[0]["clientid"], pays[0]["type"]
    out = await get_report(
        http,
        sb,
        "payments_collected",
        "payments_collected",
        start_date=first,
        end_date=last,
        payment_method=method,
        **{"clientids[]": str(client)},
    )
    expected = [p for p in pays if p["clientid"] == client and p["type"] == method]
    assert sorted(p["invoiceid"] for p in out["payments"]) == sorted(p["invoiceid"] for p in expected)
    assert {(t["code"], amount(t)) for t in out["totals"]} == {
        (code, sum((D(p["amount"]["amount"]) for p in expected if p["amount"]["code"] == code), D(0)))
        for code in {p["amount"]["code"] for p in expected}
    }
    eur = await get_report(
        http, sb, "payments_collected", "payments_collected", start_date=first, end_date=last, currency_code="EUR"
    )
    assert {p["amount"]["code"] for p in eur["payments"]} == {"EUR"}
    assert sb.ignored_search_keys == {}


async def test_accounts_aging_as_of_a_past_date_uses_the_payments_made_by_then(
    http: httpx.AsyncClient, sb: Sandbox
) -> None:
    as_of = TODAY - timedelta(days=120)
    out = await get_report(http, sb, "accounts_aging", "accounts_aging", end_date=as_of.isoformat())
    assert out["end_date"] == as_of.isoformat() and out["currency_code"] == "USD"
    expected: dict[str, Decimal] = {"0-30": D(0), "31-60": D(0), "61-90": D(0), "91+": D(0)}
    for inv in sb.db.invoices.values():
        if inv["vis_state"] == 1 or inv["display_status"] == "draft" or inv["currency_code"] != "USD":
            continue
        if date.fromisoformat(inv["create_date"]) > as_of:
            continue
        paid = sum(
            (
                D(sb.db.payments[pid]["amount"]["amount"])
                for pid in sb.db.payments_by_invoice[inv["id"]]
                if sb.db.payments[pid]["vis_state"] != 1 and sb.db.payments[pid]["date"] <= as_of.isoformat()
            ),
            D(0),
        )
        balance = D(inv["amount"]["amount"]) - paid
        if balance > 0:
            days = (as_of - date.fromisoformat(inv["due_date"])).days
            col = "0-30" if days <= 30 else "31-60" if days <= 60 else "61-90" if days <= 90 else "91+"
            expected[col] += balance
    assert {k: amount(v) for k, v in out["totals"].items() if k != "total"} == expected
    assert amount(out["totals"]["total"]) == sum(expected.values())
    for account in out["accounts"]:
        assert amount(account["total"]) == sum(amount(account[c]) for c in ("0-30", "31-60", "61-90", "91+"))
        assert {"userid", "organization", "email", "fname", "lname"} <= set(account)


async def test_unknown_report_and_bad_dates(http: httpx.AsyncClient, sb: Sandbox) -> None:
    assert (await http.get(report_path(sb, "no_such_report"))).status_code == 404
    resp = await http.get(report_path(sb, "taxsummary"), params={"start_date": "2026-13-01"})
    assert resp.status_code == 400 and resp.json()["response"]["errors"][0]["field"] == "start_date"
    resp = await http.get(report_path(sb, "taxsummary"), params={"start_date": "2026-02-01", "end_date": "2026-01-01"})
    assert resp.status_code == 400
    # the accounting list routes still serve their resources
    assert (await http.get(f"/accounting/account/{sb.account_id}/invoices/invoices")).status_code == 200
