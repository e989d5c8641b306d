"""Wire-level tests of the sandbox through httpx's in-process ASGI transport."""

from __future__ import annotations

import time
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions

from .conftest import TODAY, acct

pytestmark = pytest.mark.anyio


def result(resp: httpx.Response) -> dict[str, Any]:
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()["response"]["result"]
    return body


def active(records: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records.values() if r.get("vis_state", 0) != 1]


# ----------------------------------------------------------------------------- envelopes & identity
async def test_me_identity_and_memberships(sb: Sandbox) -> None:
    two = Sandbox(SandboxOptions(seed=7, today=TODAY, two_businesses=True, clients=3, invoices=3, expenses=3))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=two.app), base_url="http://t") as c:
        resp = await c.get("/auth/api/v1/users/me", headers={"Authorization": f"Bearer {two.access_token}"})
    assert resp.status_code == 200
    me = resp.json()["response"]
    assert "result" not in me
    first, second = me["business_memberships"]
    assert first["role"] == "owner"
    assert first["business"]["account_id"] == two.account_id
    assert first["business"]["id"] == two.business_id
    assert first["business"]["business_uuid"] == two.business_uuid
    assert first["id"] != two.business_id  # membership id is not the business id
    assert second["role"] == "client" and second["business"]["account_id"] is None


async def test_list_envelope_and_single_get(sb: Sandbox, http: httpx.AsyncClient) -> None:
    res = result(await http.get(acct(sb, "users/clients")))
    assert set(res) == {"clients", "page", "pages", "per_page", "total"}
    assert res["per_page"] == 15 and res["page"] == 1
    assert res["total"] == len(active(sb.db.clients))
    assert res["pages"] == -(-res["total"] // 15)
    assert [c["id"] for c in res["clients"]] == sorted(c["id"] for c in active(sb.db.clients))[:15]
    one = res["clients"][0]
    assert one["id"] == one["userid"] and isinstance(one["id"], int)
    assert one["accounting_systemid"] == sb.account_id
    got = result(await http.get(acct(sb, f"users/clients/{one['id']}")))
    assert got == {"client": one}


async def test_seed_000_client_shape(sb: Sandbox, http: httpx.AsyncClient) -> None:
    res = result(await http.get(acct(sb, "users/clients"), params={"search[email]": "email1@freshbooks.com"}))
    assert res["total"] == 1
    c = res["clients"][0]
    assert (c["fname"], c["lname"], c["organization"]) == ("first1", "last1", "company1")
    assert (c["p_street"], c["p_city"], c["p_code"], c["currency_code"]) == (
        "1655 Dupont St. W.",
        "Toronto",
        "M6P 3T1",
        "USD",
    )
    expected_keys = {
        "accounting_systemid", "allow_email_include_pdf", "allow_late_fees", "allow_late_notifications",
        "bus_phone", "company_industry", "company_size", "currency_code", "direct_link_token", "email",
        "exceeds_client_limit", "fax", "fname", "has_retainer", "home_phone", "id", "language", "last_activity",
        "last_login", "level", "lname", "mob_phone", "note", "notified", "num_logins", "organization", "p_city",
        "p_code", "p_country", "p_province", "p_street", "p_street2", "pref_email", "pref_gmail", "retainer_id",
        "role", "s_city", "s_code", "s_country", "s_province", "s_street", "s_street2", "signup_date",
        "statement_token", "subdomain", "updated", "userid", "username", "uuid", "vat_name", "vat_number",
        "vis_state",
    }  # fmt: skip
    assert set(c) == expected_keys


# ----------------------------------------------------------------------------- search semantics
async def test_like_is_case_insensitive_and_brackets_raw_or_encoded(sb: Sandbox, http: httpx.AsyncClient) -> None:
    truth = {c["id"] for c in active(sb.db.clients) if "smith" in c["organization"].lower()}
    assert len(truth) >= 2
    base = acct(sb, "users/clients")
    raw = result(await http.get(f"{base}?search[organization_like]=SMITH&per_page=100"))
    enc = result(await http.get(f"{base}?search%5Borganization_like%5D=smith&per_page=100"))
    assert {c["id"] for c in raw["clients"]} == truth == {c["id"] for c in enc["clients"]}


async def test_user_like_matches_full_name(sb: Sandbox, http: httpx.AsyncClient) -> None:
    res = result(await http.get(acct(sb, "users/clients"), params={"search[user_like]": "First1 LAST1"}))
    assert [c["email"] for c in res["clients"]] == ["email1@freshbooks.com"]


async def test_userids_in_list(sb: Sandbox, http: httpx.AsyncClient) -> None:
    ids = sorted(sb.db.clients)[:3]
    url = acct(sb, "users/clients") + "?" + "&".join(f"search[userids][]={i}" for i in ids)
    assert [c["id"] for c in result(await http.get(url))["clients"]] == ids


async def test_unknown_search_keys_ignored_but_counted(sb: Sandbox, http: httpx.AsyncClient) -> None:
    res = result(await http.get(acct(sb, "users/clients"), params={"search[email_like]": "zzz", "search[fname]": "x"}))
    assert res["total"] == len(active(sb.db.clients))  # no narrowing, like the real API
    assert sb.ignored_search_keys["email_like"] == 1
    assert sb.ignored_search_keys["fname"] == 1


async def test_expense_between_min_inclusive_max_exclusive(sb: Sandbox, http: httpx.AsyncClient) -> None:
    days = sorted({e["date"] for e in active(sb.db.expenses)})
    lo, hi = days[len(days) // 3], days[len(days) // 2]  # both boundaries have expenses on them
    truth = [e for e in active(sb.db.expenses) if lo <= e["date"] < hi]
    res = result(
        await http.get(
            acct(sb, "expenses/expenses"), params={"search[date_min]": lo, "search[date_max]": hi, "per_page": 100}
        )
    )
    assert res["total"] == len(truth)
    assert all(lo <= e["date"] < hi for e in res["expenses"])


async def test_expense_amount_bounds_and_category_filter(sb: Sandbox, http: httpx.AsyncClient) -> None:
    cat = next(c for c in sb.db.categories.values() if c["category"] == "Software & Subscriptions")
    truth = [
        e
        for e in active(sb.db.expenses)
        if e["categoryid"] == cat["id"] and Decimal("50") <= Decimal(e["amount"]["amount"]) < Decimal("200")
    ]
    assert truth
    res = result(
        await http.get(
            acct(sb, "expenses/expenses"),
            params={
                "search[categoryids][]": str(cat["id"]),
                "search[amount_min]": "50",
                "search[amount_max]": "200",
                "per_page": 100,
            },
        )
    )
    assert sorted(e["id"] for e in res["expenses"]) == sorted(e["id"] for e in truth)


async def test_bare_boolean_from_sdk_filter_builder(sb: Sandbox, http: httpx.AsyncClient) -> None:
    truth = [e for e in active(sb.db.expenses) if e["has_receipt"]]
    res = result(await http.get(acct(sb, "expenses/expenses") + "?has_receipt=True"))
    assert res["total"] == len(truth) < len(active(sb.db.expenses))
    res = result(await http.get(acct(sb, "expenses/expenses") + "?search[has_receipt]=false"))
    assert res["total"] == len(active(sb.db.expenses)) - len(truth)


async def test_invoice_v3_status_overdue_filter_matches_truth_rule(sb: Sandbox, http: httpx.AsyncClient) -> None:
    truth = {i["id"] for i in active(sb.db.invoices) if sb.invoice_is_overdue(i, TODAY)}
    res = result(
        await http.get(acct(sb, "invoices/invoices"), params={"search[v3_status]": "overdue", "per_page": 100})
    )
    assert res["total"] == len(truth) > 20
    first_pages = {i["id"] for i in res["invoices"]}
    assert first_pages <= truth


async def test_bad_filter_values_are_errors(sb: Sandbox, http: httpx.AsyncClient) -> None:
    resp = await http.get(acct(sb, "expenses/expenses"), params={"search[amount_min]": "ten"})
    assert resp.status_code == 400
    assert resp.json()["response"]["errors"][0]["errno"] == 1024
    resp = await http.get(acct(sb, "expenses/expenses"), params={"search[date_min]": "2026-13-40"})
    assert resp.json()["response"]["errors"][0]["errno"] == 1023


async def test_client_balance_includes_and_has_filters_agree(sb: Sandbox, http: httpx.AsyncClient) -> None:
    res = result(
        await http.get(
            acct(sb, "users/clients"),
            params=[("include[]", "outstanding_balance"), ("include[]", "overdue_balance"), ("per_page", "100")],
        )
    )
    by_id = {c["id"]: c for c in res["clients"]}
    for cid, c in by_id.items():
        expected: dict[str, Decimal] = {}
        for inv in active(sb.db.invoices):
            if inv["customerid"] == cid and inv["status"] != 1:
                out = Decimal(inv["outstanding"]["amount"])
                if out > 0:
                    expected[inv["currency_code"]] = expected.get(inv["currency_code"], Decimal(0)) + out
        got = {b["amount"]["code"]: Decimal(b["amount"]["amount"]) for b in c["outstanding_balance"]}
        assert got == expected, cid
    owing = result(await http.get(acct(sb, "users/clients"), params={"search[has_overdue]": "", "per_page": 100}))
    assert {c["id"] for c in owing["clients"]} == {cid for cid, c in by_id.items() if c["overdue_balance"]}
    assert 0 < owing["total"] < len(by_id)


# ----------------------------------------------------------------------------- sorting & pagination
async def test_sort_invoices_by_date_desc_and_number(sb: Sandbox, http: httpx.AsyncClient) -> None:
    res = result(await http.get(acct(sb, "invoices/invoices"), params={"sort": "invoice_date_desc", "per_page": 50}))
    dates = [i["create_date"] for i in res["invoices"]]
    assert dates == sorted(dates, reverse=True)
    res = result(await http.get(acct(sb, "invoices/invoices"), params={"sort": "invoice_number_asc", "per_page": 50}))
    nums = [i["invoice_number"] for i in res["invoices"]]
    assert nums == sorted(nums) and nums[0] == "0000001"


async def test_sort_clients_by_organization(sb: Sandbox, http: httpx.AsyncClient) -> None:
    res = result(await http.get(acct(sb, "users/clients"), params={"sort": "organization_name_asc", "per_page": 100}))
    orgs = [c["organization"].lower() for c in res["clients"]]
    assert orgs == sorted(orgs)


async def test_pagination_rules(sb: Sandbox, http: httpx.AsyncClient) -> None:
    url = acct(sb, "expenses/expenses")
    total = len(active(sb.db.expenses))
    res = result(await http.get(url, params={"per_page": 150}))
    assert res["per_page"] == 100 and len(res["expenses"]) == 100 and res["pages"] == -(-total // 100)
    assert result(await http.get(url, params={"page": 0}))["page"] == 1
    past = result(await http.get(url, params={"page": 999}))
    assert past["expenses"] == [] and past["total"] == total and past["page"] == 999
    empty = result(await http.get(url, params={"search[vendor_like]": "no-such-vendor"}))
    assert (empty["page"], empty["pages"], empty["total"], empty["expenses"]) == (1, 0, 0, [])
    for params, errno in (({"page": "abc"}, 1014), ({"page": "-2"}, 1014), ({"per_page": "0"}, 1013)):
        resp = await http.get(url, params=params)
        assert resp.status_code == 400
        assert resp.json()["response"]["errors"][0]["errno"] == errno
    # walking every page yields every record exactly once
    seen: list[int] = []
    for page in range(1, -(-total // 100) + 1):
        seen += [e["id"] for e in result(await http.get(url, params={"page": page, "per_page": 100}))["expenses"]]
    assert sorted(seen) == sorted(e["id"] for e in active(sb.db.expenses))


# ----------------------------------------------------------------------------- vis_state
async def test_put_with_vis_state_discards_other_fields(sb: Sandbox, http: httpx.AsyncClient) -> None:
    cid = sorted(sb.db.clients)[1]
    fname = sb.db.clients[cid]["fname"]
    res = result(await http.put(acct(sb, f"users/clients/{cid}"), json={"client": {"vis_state": 2, "fname": "Zed"}}))
    assert res["client"]["vis_state"] == 2 and res["client"]["fname"] == fname
    listed = result(await http.get(acct(sb, "users/clients"), params={"search[userid]": cid}))
    assert listed["total"] == 1  # archived still listed


async def test_delete_hides_from_lists_but_get_returns_it(sb: Sandbox, http: httpx.AsyncClient) -> None:
    cid = sorted(sb.db.clients)[2]
    before = result(await http.get(acct(sb, "users/clients")))["total"]
    result(await http.put(acct(sb, f"users/clients/{cid}"), json={"client": {"vis_state": 1}}))
    assert result(await http.get(acct(sb, "users/clients")))["total"] == before - 1
    assert result(await http.get(acct(sb, f"users/clients/{cid}")))["client"]["vis_state"] == 1
    deleted = result(await http.get(acct(sb, "users/clients"), params={"search[vis_state]": 1}))
    assert cid in {c["id"] for c in deleted["clients"]}


async def test_invoice_http_delete(sb: Sandbox, http: httpx.AsyncClient) -> None:
    iid = sorted(sb.db.invoices)[0]
    resp = await http.delete(acct(sb, f"invoices/invoices/{iid}"))
    assert resp.status_code == 200 and resp.json() == {"response": {}}
    assert sb.db.invoices[iid]["vis_state"] == 1
    resp = await http.delete(acct(sb, f"users/clients/{sorted(sb.db.clients)[0]}"))
    assert resp.status_code == 405  # clients are deleted with PUT vis_state=1


# ----------------------------------------------------------------------------- invoices & payments
async def test_seeded_invoice_invariants(sb: Sandbox) -> None:
    statuses = {i["v3_status"] for i in sb.db.invoices.values()}
    assert {"draft", "sent", "viewed", "partial", "paid", "overdue"} <= statuses
    ages = {
        (TODAY - date.fromisoformat(i["due_date"])).days for i in sb.db.invoices.values() if i["v3_status"] == "overdue"
    }
    assert min(ages) == 1 and max(ages) >= 365
    assert any(i["due_date"] == TODAY.isoformat() and i["status"] in (2, 3) for i in sb.db.invoices.values())
    for inv in sb.db.invoices.values():
        client = sb.db.clients[inv["customerid"]]
        assert inv["currency_code"] == client["currency_code"]
        amount, paid, out = (Decimal(inv[k]["amount"]) for k in ("amount", "paid", "outstanding"))
        assert amount == paid + out
        assert (inv["v3_status"] == "overdue") == sb.invoice_is_overdue(inv, TODAY)
        assert (
            inv["due_date"]
            == (date.fromisoformat(inv["create_date"]) + timedelta(days=inv["due_offset_days"])).isoformat()
        )
        pays = [p for p in sb.db.payments.values() if p["invoiceid"] == inv["id"] and p["vis_state"] == 0]
        assert sum((Decimal(p["amount"]["amount"]) for p in pays), Decimal(0)) == paid
        if inv["status"] == 4:
            assert inv["payment_status"] == "paid" and out == 0 and inv["date_paid"] == max(p["date"] for p in pays)
        elif inv["status"] == 8:
            assert inv["payment_status"] == "partial" and 0 < paid < amount
        else:
            assert inv["payment_status"] == "unpaid" and paid == 0 and inv["date_paid"] is None
    currencies = {c["currency_code"] for c in sb.db.clients.values()}
    assert {"USD", "CAD", "EUR"} <= currencies


async def test_invoice_create_lines_taxes_and_numbering(sb: Sandbox, http: httpx.AsyncClient) -> None:
    cid = sorted(sb.db.clients)[0]
    body = {
        "invoice": {
            "customerid": cid,
            "create_date": "2026-11-01",
            "due_offset_days": 30,
            "lines": [
                {"name": "Design", "qty": "3", "unit_cost": {"amount": "100.00", "code": "USD"},
                 "taxName1": "HST", "taxAmount1": "13"},
                {"name": "Hosting", "qty": 1, "unit_cost": {"amount": "19.99", "code": "USD"}},
            ],
        }
    }  # fmt: skip
    inv = result(await http.post(acct(sb, "invoices/invoices") + "?include[]=lines", json=body))["invoice"]
    assert inv["amount"] == {"amount": "358.99", "code": "USD"}  # 300 + 39 tax + 19.99
    assert inv["outstanding"]["amount"] == "358.99" and inv["paid"]["amount"] == "0.00"
    assert (inv["status"], inv["v3_status"], inv["display_status"], inv["payment_status"]) == (
        1, "draft", "draft", "unpaid",
    )  # fmt: skip
    assert inv["invoice_number"] == str(len(sb.db.invoices)).zfill(7)
    assert inv["due_date"] == "2026-12-01"
    assert [ln["amount"]["amount"] for ln in inv["lines"]] == ["300.00", "19.99"]
    assert inv["lines"][0]["qty"] == "3" and inv["lines"][0]["taxAmount1"] == "13"
    assert inv["id"] == inv["invoiceid"]
    no_lines = result(await http.get(acct(sb, f"invoices/invoices/{inv['id']}")))["invoice"]
    assert "lines" not in no_lines
    assert sb.write_log[-1].resource == "invoice" and sb.write_log[-1].resource_id == inv["id"]


async def test_send_actions_and_overdue_when_past_due(sb: Sandbox, http: httpx.AsyncClient) -> None:
    cid = sorted(sb.db.clients)[0]
    line = [{"name": "Work", "qty": "1", "unit_cost": {"amount": "50.00"}}]

    async def make(create: str, offset: int) -> int:
        body = {"invoice": {"customerid": cid, "create_date": create, "due_offset_days": offset, "lines": line}}
        return int(result(await http.post(acct(sb, "invoices/invoices"), json=body))["invoice"]["id"])

    past = await make((TODAY - timedelta(days=40)).isoformat(), 30)
    due_today = await make((TODAY - timedelta(days=10)).isoformat(), 10)
    r1 = result(await http.put(acct(sb, f"invoices/invoices/{past}"), json={"invoice": {"action_mark_as_sent": True}}))
    assert (r1["invoice"]["status"], r1["invoice"]["v3_status"]) == (2, "overdue")
    r2 = result(
        await http.put(
            acct(sb, f"invoices/invoices/{due_today}"),
            json={"invoice": {"action_email": True, "email_recipients": ["a@example.com"], "notes": "ignored"}},
        )
    )
    assert (r2["invoice"]["status"], r2["invoice"]["v3_status"]) == (2, "sent")
    assert r2["invoice"]["notes"] == ""  # actions phase discards ordinary fields


async def test_payments_partial_over_and_delete(sb: Sandbox, http: httpx.AsyncClient) -> None:
    cid = sorted(sb.db.clients)[0]
    body = {"invoice": {"customerid": cid, "create_date": TODAY.isoformat(), "due_offset_days": 30,
                        "lines": [{"name": "Work", "qty": "1", "unit_cost": {"amount": "100.00"}}]}}  # fmt: skip
    iid = result(await http.post(acct(sb, "invoices/invoices"), json=body))["invoice"]["id"]
    await http.put(acct(sb, f"invoices/invoices/{iid}"), json={"invoice": {"action_mark_as_sent": True}})
    pay = {"payment": {"invoiceid": iid, "amount": {"amount": "40.00"}, "date": TODAY.isoformat(), "type": "Cash"}}
    p1 = result(await http.post(acct(sb, "payments/payments"), json=pay))["payment"]
    assert p1["id"] == p1["logid"] and p1["clientid"] == cid and p1["amount"] == {"amount": "40.00", "code": "USD"}
    inv = sb.db.invoices[iid]
    assert (inv["status"], inv["v3_status"], inv["payment_status"]) == (8, "partial", "partial")
    assert inv["outstanding"]["amount"] == "60.00" and inv["paid"]["amount"] == "40.00"
    pay["payment"]["amount"] = {"amount": "75.00"}
    p2 = result(await http.post(acct(sb, "payments/payments"), json=pay))["payment"]
    assert p2["overpaymentid"] is not None
    assert (inv["status"], inv["v3_status"], inv["payment_status"]) == (4, "paid", "paid")
    assert inv["outstanding"]["amount"] == "0.00" and inv["date_paid"] == TODAY.isoformat()
    credit = result(await http.get(acct(sb, f"users/clients/{cid}"), params={"include[]": "credit_balance"}))
    assert credit["client"]["credit_balance"] == [{"amount": {"amount": "15.00", "code": "USD"}}]
    # deleting the second payment re-opens the amount and drops the credit
    result(await http.put(acct(sb, f"payments/payments/{p2['id']}"), json={"payment": {"vis_state": 1}}))
    assert (inv["status"], inv["outstanding"]["amount"], inv["date_paid"]) == (8, "60.00", None)
    credit = result(await http.get(acct(sb, f"users/clients/{cid}"), params={"include[]": "credit_balance"}))
    assert credit["client"]["credit_balance"] == []


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("path", "field", "obj", "message"),
    [
        ("users/clients/12345", "userid", "client", "Client not found."),
        ("invoices/invoices/12345", "invoiceid", "invoice", "Invoice not found."),
        ("expenses/expenses/12345", "expenseid", "expense", "Expense not found."),
        ("payments/payments/12345", "logid", "payment", "Payment not found."),
        ("expenses/categories/12345", "categoryid", "category", "Category not found."),
    ],
)
async def test_not_found_bodies(
    sb: Sandbox, http: httpx.AsyncClient, path: str, field: str, obj: str, message: str
) -> None:
    resp = await http.get(acct(sb, path))
    assert resp.status_code == 404
    assert resp.json() == {
        "response": {"errors": [{"errno": 1012, "field": field, "message": message, "object": obj, "value": "12345"}]}
    }


async def test_validation_errors(sb: Sandbox, http: httpx.AsyncClient) -> None:
    cid = sorted(sb.db.clients)[0]
    n_inv = len(sb.db.invoices)

    async def err(path: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = await http.post(acct(sb, path), json=body)
        assert resp.status_code == 422, resp.text
        errors: list[dict[str, Any]] = resp.json()["response"]["errors"]
        return errors[0]

    e = await err("invoices/invoices", {"invoice": {"customerid": cid}})
    assert (e["errno"], e["field"]) == (1001, "create_date")
    e = await err("invoices/invoices", {"invoice": {"customerid": 999, "create_date": "2026-01-01"}})
    assert (e["errno"], e["field"]) == (1012, "customerid")
    e = await err(
        "invoices/invoices",
        {
            "invoice": {
                "customerid": cid,
                "create_date": "2026-01-01",
                "lines": [{"qty": "x", "unit_cost": {"amount": "1"}}],
            }
        },
    )
    assert (e["errno"], e["field"]) == (1004, "qty")
    e = await err(
        "invoices/invoices",
        {"invoice": {"customerid": cid, "create_date": "2026-01-01", "lines": [{"unit_cost": {"amount": "1,00"}}]}},
    )
    assert (e["errno"], e["field"]) == (1004, "unit_cost")
    assert len(sb.db.invoices) == n_inv  # rejected creates leave no trace
    full = {"categoryid": next(iter(sb.db.categories)), "staffid": sb.staff_id, "date": "2026-11-01",
            "amount": {"amount": "12.00", "code": "USD"}}  # fmt: skip
    for missing in full:
        e = await err("expenses/expenses", {"expense": {k: v for k, v in full.items() if k != missing}})
        assert (e["errno"], e["field"], e["object"]) == (1001, missing, "expense")
    e = await err("expenses/expenses", {"expense": {**full, "categoryid": 1}})
    assert (e["errno"], e["field"]) == (1012, "categoryid")
    e = await err("payments/payments", {"payment": {"invoiceid": next(iter(sb.db.invoices)), "date": "2026-11-01"}})
    assert (e["errno"], e["field"]) == (1001, "amount")
    assert sb.write_log == []


async def test_auth_errors_per_family(sb: Sandbox) -> None:
    transport = httpx.ASGITransport(app=sb.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        r = await c.get(acct(sb, "users/clients"))
        assert r.status_code == 401 and r.json()["code"] == 16 and r.json()["details"][0]["reason"] == "1003"
        r = await c.get("/auth/api/v1/users/me", headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401 and r.json()["error"] == "unauthenticated"
        r = await c.get(f"/projects/business/{sb.business_id}/projects", headers={"Authorization": "Bearer x"})
        assert r.status_code == 401 and "message" in r.json()
        sb.tokens.access[sb.access_token] = time.time() - 1  # expire the seeded token
        r = await c.get(acct(sb, "users/clients"), headers={"Authorization": f"Bearer {sb.access_token}"})
        assert r.status_code == 401


async def test_wrong_account_is_403(sb: Sandbox, http: httpx.AsyncClient) -> None:
    r = await http.get("/accounting/account/NOPE99/users/clients")
    assert r.status_code == 403
    assert r.json()["response"]["errors"][0]["errno"] == 1003


async def test_expenses_create_update_delete(sb: Sandbox, http: httpx.AsyncClient) -> None:
    cat = next(c for c in sb.db.categories.values() if c["is_cogs"])
    fields = {"categoryid": cat["id"], "staffid": sb.staff_id, "date": "2026-11-02", "vendor": "Staples"}
    body = {"expense": {**fields, "amount": {"amount": "42.50", "code": "CAD"}, "has_receipt": True}}
    exp = result(await http.post(acct(sb, "expenses/expenses") + "?include[]=category", json=body))["expense"]
    assert exp["amount"] == {"amount": "42.50", "code": "CAD"} and exp["is_cogs"] is True
    assert exp["category"]["id"] == cat["id"] and exp["clientid"] == 0 and exp["id"] == exp["expenseid"]
    upd = result(await http.put(acct(sb, f"expenses/expenses/{exp['id']}"), json={"expense": {"vendor": "Costco"}}))
    assert upd["expense"]["vendor"] == "Costco" and "category" not in upd["expense"]
    result(await http.put(acct(sb, f"expenses/expenses/{exp['id']}"), json={"expense": {"vis_state": 1}}))
    assert sb.db.expenses[exp["id"]]["vis_state"] == 1
    assert [e.method for e in sb.write_log] == ["POST", "PUT", "PUT"]


async def test_categories_items_taxes(sb: Sandbox, http: httpx.AsyncClient) -> None:
    cats = result(await http.get(acct(sb, "expenses/categories"), params={"per_page": 100}))["categories"]
    assert len(cats) >= 20 and any(c["parentid"] for c in cats) and any(c["is_cogs"] for c in cats)
    assert (await http.post(acct(sb, "expenses/categories"), json={"category": {}})).status_code == 405
    items = result(await http.get(acct(sb, "items/items")))["items"]
    assert items and all(i["id"] == i["itemid"] for i in items)
    tax = result(await http.post(acct(sb, "taxes/taxes"), json={"tax": {"name": "PST", "amount": "7"}}))["tax"]
    assert tax["amount"] == "7" and tax["id"] == tax["taxid"]
    assert (await http.delete(acct(sb, f"taxes/taxes/{tax['id']}"))).json() == {"response": {}}
    assert (await http.get(acct(sb, f"taxes/taxes/{tax['id']}"))).status_code == 404


async def test_client_create_fills_organization_from_email(sb: Sandbox, http: httpx.AsyncClient) -> None:
    c = result(await http.post(acct(sb, "users/clients"), json={"client": {"email": "john.doe@abcorp.com"}}))["client"]
    assert c["organization"] == "john.doe@abcorp.com" and c["id"] == c["userid"]
    assert c["currency_code"] == "USD" and c["vis_state"] == 0 and c["signup_date"] and c["updated"]


# ----------------------------------------------------------------------------- projects & time
async def test_projects_family(sb: Sandbox, http: httpx.AsyncClient) -> None:
    base = f"/projects/business/{sb.business_id}"
    listed = (await http.get(f"{base}/projects")).json()
    assert listed["meta"]["per_page"] == 30 and listed["meta"]["total"] == len(sb.db.projects)
    r = await http.post(f"{base}/project", json={"project": {"description": "no title"}})
    assert r.status_code == 422 and r.json()["errno"] == 2001 and "title" in r.json()["error"]
    proj = (await http.post(f"{base}/project", json={"project": {"title": "New", "client_id": 0}})).json()["project"]
    assert (await http.get(f"{base}/project/{proj['id']}")).json()["project"]["title"] == "New"
    assert (await http.delete(f"{base}/project/{proj['id']}")).status_code == 204
    r = await http.get(f"{base}/project/{proj['id']}")
    assert r.status_code == 404 and r.json() == {"error": "Requested resource could not be found."}
    te = (await http.get(f"/timetracking/business/{sb.business_id}/time_entries")).json()
    assert te["meta"]["total"] == len(sb.db.time_entries) and len(te["time_entries"]) == min(30, te["meta"]["total"])


# ----------------------------------------------------------------------------- OAuth
async def test_oauth_authorize_and_code_exchange(sb: Sandbox, http: httpx.AsyncClient) -> None:
    params = {"client_id": sb.oauth_client_id, "response_type": "code", "redirect_uri": sb.redirect_uri, "state": "xyz"}
    r = await http.get("/oauth/authorize", params=params)
    assert r.status_code == 302
    loc = urlparse(r.headers["location"])
    assert f"{loc.scheme}://{loc.netloc}{loc.path}" == sb.redirect_uri
    qs = parse_qs(loc.query)
    assert qs["state"] == ["xyz"]
    bad = await http.get("/oauth/authorize", params={**params, "client_id": "nope"})
    assert bad.status_code == 400
    bad = await http.get("/oauth/authorize", params={**params, "redirect_uri": "https://evil.example/cb"})
    assert bad.status_code == 400
    form = {"client_id": sb.oauth_client_id, "client_secret": sb.oauth_client_secret,
            "grant_type": "authorization_code", "redirect_uri": sb.redirect_uri, "code": qs["code"][0]}  # fmt: skip
    tok = await http.post("/auth/oauth/token", data=form)
    assert tok.status_code == 200
    body = tok.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token", "scope", "created_at"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 43200
    me = await http.get("/auth/api/v1/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    again = await http.post("/auth/oauth/token", data=form)  # codes are single-use
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert sb.token_requests == [("authorization_code", "ok"), ("authorization_code", "invalid_grant")]


@pytest.mark.parametrize("encoding", ["form", "json", "multipart"])
async def test_refresh_rotates_in_every_encoding(sb: Sandbox, http: httpx.AsyncClient, encoding: str) -> None:
    old_access, old_refresh = sb.access_token, sb.refresh_token
    fields = {"client_id": sb.oauth_client_id, "client_secret": sb.oauth_client_secret,
              "grant_type": "refresh_token", "redirect_uri": sb.redirect_uri, "refresh_token": old_refresh}  # fmt: skip

    async def post(f: dict[str, str]) -> httpx.Response:
        if encoding == "json":
            return await http.post("/auth/oauth/token", json=f)
        if encoding == "multipart":
            return await http.post("/auth/oauth/token", files={k: (None, v) for k, v in f.items()})
        return await http.post("/auth/oauth/token", data=f)

    r = await post(fields)
    assert r.status_code == 200, r.text
    new = r.json()
    assert new["refresh_token"] != old_refresh and sb.refresh_token == new["refresh_token"]
    reuse = await post(fields)
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    assert reuse.json()["error_description"]
    # the old access token stays valid until its own expiry
    me = await http.get("/auth/api/v1/users/me", headers={"Authorization": f"Bearer {old_access}"})
    assert me.status_code == 200
    bad_secret = await post({**fields, "client_secret": "nope", "refresh_token": new["refresh_token"]})
    assert bad_secret.status_code == 401 and bad_secret.json()["error"] == "invalid_client"


async def test_token_ttl_and_revoke(http: httpx.AsyncClient) -> None:
    sb = Sandbox(SandboxOptions(seed=1, today=TODAY, clients=2, invoices=2, expenses=2, token_ttl=60,
                                access_token="fixed-token"))  # fmt: skip
    assert sb.access_token == "fixed-token"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sb.app), base_url="http://t") as c:
        form = {"client_id": sb.oauth_client_id, "client_secret": sb.oauth_client_secret,
                "grant_type": "refresh_token", "refresh_token": sb.refresh_token}  # fmt: skip
        tok = (await c.post("/auth/oauth/token", data=form)).json()
        assert tok["expires_in"] == 60
        revoke = {"client_id": sb.oauth_client_id, "client_secret": sb.oauth_client_secret, "token": "fixed-token"}
        assert (await c.post("/auth/oauth/revoke", data=revoke)).status_code == 200
        r = await c.get("/auth/api/v1/users/me", headers={"Authorization": "Bearer fixed-token"})
        assert r.status_code == 401


# ----------------------------------------------------------------------------- determinism & scale
def _snapshot(sb: Sandbox) -> dict[str, Any]:
    db = sb.db
    return {
        name: getattr(db, name)
        for name in ("clients", "invoices", "payments", "expenses", "categories", "items", "taxes", "projects")
    } | {"account": (sb.account_id, sb.business_id, sb.business_uuid)}


def test_same_seed_same_books_different_seed_different() -> None:
    a = Sandbox(SandboxOptions(seed=11, today=TODAY))
    b = Sandbox(SandboxOptions(seed=11, today=TODAY))
    c = Sandbox(SandboxOptions(seed=12, today=TODAY))
    assert _snapshot(a) == _snapshot(b)
    assert _snapshot(a)["invoices"] != _snapshot(c)["invoices"]
    assert a.account_id != c.account_id


def test_large_books_build() -> None:
    sb = Sandbox(SandboxOptions(seed=3, today=TODAY, clients=200, invoices=5000, expenses=10000))
    assert len(sb.db.invoices) == 5000 and len(sb.db.expenses) == 10000 and len(sb.db.clients) == 201
    dates = sorted(e["date"] for e in sb.db.expenses.values())
    assert dates[0] >= (TODAY - timedelta(days=548)).isoformat() and dates[-1] <= TODAY.isoformat()


def test_empty_books_build() -> None:
    sb = Sandbox(SandboxOptions(seed=3, today=TODAY, clients=0, invoices=10, expenses=0))
    assert sb.db.clients == {} and sb.db.invoices == {} and len(sb.db.categories) >= 20


async def test_debug_endpoints(sb: Sandbox, http: httpx.AsyncClient) -> None:
    await http.get(acct(sb, "users/clients"), params={"search[nope]": "1"})
    await http.post(acct(sb, "users/clients"), json={"client": {"email": "x@example.com"}})
    log = (await http.get("/__sandbox__/write_log")).json()
    assert [(e["method"], e["resource"], e["status"]) for e in log] == [("POST", "client", 200)]
    stats = (await http.get("/__sandbox__/stats")).json()
    assert stats["request_count"] == 2 and stats["ignored_search_keys"] == {"nope": 1}
    r = await http.post("/__sandbox__/faults", json={"latency_ms": 5, "rate_limit": 50})
    assert r.status_code == 200 and r.json()["rate_limit"] == 50 and sb.faults.config.latency_ms == 5
    assert (await http.post("/__sandbox__/faults", json={"fail_rate": 3})).status_code == 400
