"""The sandbox's estimates (#15): statuses 1-6, search keys, lines, the email/accept actions, totals
computed by the sandbox itself, and the estimate becoming invoiced when its invoice is sent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from mcp_server_freshbooks.sandbox import Sandbox

from .conftest import acct

pytestmark = pytest.mark.anyio


def _client_id(sb: Sandbox, code: str = "USD") -> int:
    return next(c["id"] for c in sb.db.clients.values() if c["vis_state"] == 0 and c["currency_code"] == code)


async def _create(http: httpx.AsyncClient, sb: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    r = await http.post(acct(sb, "estimates/estimates"), json={"estimate": body}, params={"include[]": "lines"})
    assert r.status_code == 200, r.text
    return dict(r.json()["response"]["result"]["estimate"])


def test_seeded_estimates_cover_every_status(sb: Sandbox) -> None:
    statuses = {e["status"]: e["ui_status"] for e in sb.db.estimates.values()}
    assert statuses == {1: "draft", 2: "sent", 3: "viewed", 4: "replied", 5: "accepted", 6: "invoiced"}
    assert all(e["lines"] for e in sb.db.estimates.values())


async def test_fixture_total_and_hidden_lines(sb: Sandbox, http: httpx.AsyncClient) -> None:
    lines = [
        {"name": "Widget", "qty": "4", "unit_cost": {"amount": "5.00", "code": "USD"}, "taxName1": "HST",
         "taxAmount1": "13"},
        {"name": "Gadget", "qty": "6", "unit_cost": {"amount": "4.00", "code": "USD"}},
    ]  # fmt: skip
    body = {"customerid": _client_id(sb), "create_date": "2026-11-20", "discount_value": "10", "lines": lines}
    est = await _create(http, sb, body)
    assert est["amount"]["amount"] == "41.94" and est["discount_total"]["amount"] == "-4.40"
    assert est["status"] == 1 and est["ui_status"] == "draft" and len(est["lines"]) == 2
    plain = (await http.get(acct(sb, f"estimates/estimates/{est['id']}"))).json()["response"]["result"]["estimate"]
    assert "lines" not in plain


async def test_compound_second_tax(sb: Sandbox, http: httpx.AsyncClient) -> None:
    line = {"name": "x", "qty": "1", "unit_cost": {"amount": "100.00", "code": "CAD"}, "taxName1": "GST",
            "taxAmount1": "5", "taxName2": "QST", "taxAmount2": "9.975", "compounded_tax": True}  # fmt: skip
    est = await _create(http, sb, {"customerid": _client_id(sb), "create_date": "2026-11-20", "lines": [line]})
    assert Decimal(est["amount"]["amount"]) == Decimal("115.47")  # 100 + 5.00 + 9.975% of 105.00 (10.47)


async def test_search_keys(sb: Sandbox, http: httpx.AsyncClient) -> None:
    async def ids(params: dict[str, Any]) -> set[int]:
        r = await http.get(acct(sb, "estimates/estimates"), params={**params, "per_page": 100})
        return {e["id"] for e in r.json()["response"]["result"]["estimates"]}

    live = {e["id"]: e for e in sb.db.estimates.values()}
    assert await ids({"search[statusid]": 5}) == {i for i, e in live.items() if e["status"] == 5}
    assert await ids({"search[statusids][]": [1, 6]}) == {i for i, e in live.items() if e["status"] in (1, 6)}
    first = next(iter(live.values()))
    assert await ids({"search[estimate_number]": first["estimate_number"]}) == {first["id"]}
    assert await ids({"search[estimateids][]": [first["id"]]}) == {first["id"]}
    assert sb.ignored_search_keys == {}


async def test_actions_and_invoiced_on_send(sb: Sandbox, http: httpx.AsyncClient) -> None:
    est = next(e for e in sb.db.estimates.values() if e["status"] == 1)
    url = acct(sb, f"estimates/estimates/{est['id']}")
    r = await http.put(url, json={"estimate": {"action_email": True, "email_recipients": ["a@b.co"]}})
    assert r.status_code == 200 and est["status"] == 2 and sb.emails_sent(est["id"], "estimate") == 1
    await http.put(url, json={"estimate": {"action_accept": True}})
    assert est["status"] == 5 and est["accepted"] is True and est["ui_status"] == "accepted"

    inv_body = {"customerid": est["customerid"], "create_date": "2026-11-21", "estimateid": est["id"], "lines": []}
    r = await http.post(acct(sb, "invoices/invoices"), json={"invoice": inv_body})
    inv = r.json()["response"]["result"]["invoice"]
    assert inv["estimateid"] == est["id"] and est["status"] == 5  # a draft invoice does not change it
    await http.put(acct(sb, f"invoices/invoices/{inv['id']}"), json={"invoice": {"action_mark_as_sent": True}})
    assert est["status"] == 6 and est["ui_status"] == "invoiced" and est["invoiced"] is True


async def test_a_lines_update_replaces_the_set(sb: Sandbox, http: httpx.AsyncClient) -> None:
    est = next(e for e in sb.db.estimates.values() if len(e["lines"]) > 1)
    one = {"name": "Only", "qty": "2", "unit_cost": {"amount": "10.00", "code": est["currency_code"]}}
    r = await http.put(acct(sb, f"estimates/estimates/{est['id']}"), json={"estimate": {"lines": [one]}})
    assert r.status_code == 200 and [ln["name"] for ln in est["lines"]] == ["Only"]
    expected = {"0": "20.00", "10": "18.00"}[est["discount_value"]]  # seeded discounts are 0 or 10 %
    assert est["amount"]["amount"] == expected


@pytest.mark.parametrize("how", ["create with status 2", "update with status 2", "action_email"])
async def test_every_way_of_sending_its_invoice_makes_the_estimate_invoiced(
    sb: Sandbox, http: httpx.AsyncClient, how: str
) -> None:
    est = next(e for e in sb.db.estimates.values() if e["status"] in (2, 5))
    inv_body: dict[str, Any] = {"customerid": est["customerid"], "create_date": "2026-11-21", "estimateid": est["id"]}
    if how == "create with status 2":
        inv_body["status"] = 2
    r = await http.post(acct(sb, "invoices/invoices"), json={"invoice": inv_body})
    assert r.status_code == 200, r.text
    inv = r.json()["response"]["result"]["invoice"]
    if how == "update with status 2":
        assert est["status"] != 6
        r = await http.put(acct(sb, f"invoices/invoices/{inv['id']}"), json={"invoice": {"status": 2}})
    elif how == "action_email":
        assert est["status"] != 6
        r = await http.put(
            acct(sb, f"invoices/invoices/{inv['id']}"),
            json={"invoice": {"action_email": True, "email_recipients": ["a@b.co"]}},
        )
    assert r.status_code == 200, r.text
    assert sb.db.invoices[inv["id"]]["v3_status"] != "draft"
    assert est["status"] == 6 and est["ui_status"] == "invoiced" and est["invoiced"] is True
