"""The sandbox's side of corrections (#19), over HTTP: invoice PUT semantics, both invoice delete
styles, expense and payment edits and deletes recomputing the invoice, and FreshBooks' refusals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from mcp_server_freshbooks.sandbox import Sandbox

from .conftest import acct

pytestmark = pytest.mark.anyio

D = Decimal


def result(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    out: dict[str, Any] = response.json()["response"]["result"]
    return out


def errors(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    out: list[dict[str, Any]] = response.json()["response"]["errors"]
    return out


def first(sb: Sandbox, status: str) -> dict[str, Any]:
    return next(i for i in sb.db.invoices.values() if i["vis_state"] == 0 and i["v3_status"] == status)


def live_payments(sb: Sandbox, invoice_id: int) -> list[dict[str, Any]]:
    return [sb.db.payments[p] for p in sb.db.payments_by_invoice[invoice_id] if sb.db.payments[p]["vis_state"] == 0]


async def test_invoice_put_replaces_lines_recomputes_and_ignores_due_date(sb: Sandbox, http: httpx.AsyncClient) -> None:
    inv = first(sb, "draft")
    due_before = inv["due_date"]
    body = {
        "invoice": {
            "lines": [{"name": "Only", "qty": "2", "unit_cost": {"amount": "10.00", "code": inv["currency_code"]}}],
            "due_date": "2099-01-01",
        }
    }
    res = result(await http.put(acct(sb, f"invoices/invoices/{inv['id']}?include[]=lines"), json=body))
    got = res["invoice"]
    assert [x["name"] for x in got["lines"]] == ["Only"] and got["amount"]["amount"] == "20.00"
    assert got["outstanding"]["amount"] == "20.00" and got["due_date"] == due_before  # due_date is read-only

    body = {"invoice": {"due_offset_days": 10}}
    got = result(await http.put(acct(sb, f"invoices/invoices/{inv['id']}"), json=body))["invoice"]
    assert got["due_offset_days"] == 10 and got["due_date"] > got["create_date"]
    errs = errors(await http.put(acct(sb, f"invoices/invoices/{inv['id']}"), json={"invoice": {"due_offset_days": -1}}))
    assert errs[0]["errno"] == 1025 and errs[0]["field"] == "due_offset_days" and inv["due_offset_days"] == 10


async def test_vis_state_in_a_put_discards_every_other_field(sb: Sandbox, http: httpx.AsyncClient) -> None:
    inv = first(sb, "draft")
    notes = inv["notes"]
    res = result(
        await http.put(acct(sb, f"invoices/invoices/{inv['id']}"), json={"invoice": {"vis_state": 0, "notes": "x"}})
    )
    assert res["invoice"]["notes"] == notes and inv["notes"] == notes


@pytest.mark.parametrize("style", ["DELETE", "PUT"])
async def test_invoice_delete_by_http_delete_or_put_vis_state(sb: Sandbox, http: httpx.AsyncClient, style: str) -> None:
    inv = first(sb, "draft")
    path = acct(sb, f"invoices/invoices/{inv['id']}")
    if style == "DELETE":
        assert (await http.delete(path)).json() == {"response": {}}
    else:
        assert result(await http.put(path, json={"invoice": {"vis_state": 1}}))["invoice"]["vis_state"] == 1
    assert inv["vis_state"] == 1
    listed = result(await http.get(acct(sb, f"invoices/invoices?search[invoiceid]={inv['id']}")))
    assert listed["invoices"] == []  # deleted invoices leave the lists
    errs = errors(await http.put(path, json={"invoice": {"notes": "too late"}}))
    assert errs[0]["errno"] == 1011 and inv["notes"] != "too late"
    assert result(await http.put(path, json={"invoice": {"vis_state": 0}}))["invoice"]["vis_state"] == 0


async def test_payment_delete_and_edit_recompute_the_invoice(sb: Sandbox, http: httpx.AsyncClient) -> None:
    inv = first(sb, "partial")
    pay = live_payments(sb, inv["id"])[0]
    owed = D(inv["outstanding"]["amount"])
    body = {"payment": {"amount": {"amount": f"{D(pay['amount']['amount']) - 1:.2f}"}}}
    result(await http.put(acct(sb, f"payments/payments/{pay['id']}"), json=body))
    assert D(inv["outstanding"]["amount"]) == owed + 1
    wrong = {"payment": {"amount": {"amount": "1.00", "code": "XXX"}}}
    assert errors(await http.put(acct(sb, f"payments/payments/{pay['id']}"), json=wrong))[0]["field"] == "amount"

    result(await http.put(acct(sb, f"payments/payments/{pay['id']}"), json={"payment": {"vis_state": 1}}))
    assert inv["outstanding"] == inv["amount"] and inv["v3_status"] != "partial"
    errs = errors(await http.put(acct(sb, f"payments/payments/{pay['id']}"), json={"payment": {"note": "x"}}))
    assert errs[0]["errno"] == 1011


async def test_expense_edit_and_delete(sb: Sandbox, http: httpx.AsyncClient) -> None:
    exp = next(e for e in sb.db.expenses.values() if e["vis_state"] == 0)
    other = next(c for c in sb.db.categories if c != exp["categoryid"])
    path = acct(sb, f"expenses/expenses/{exp['id']}")
    got = result(await http.put(path, json={"expense": {"categoryid": other, "vendor": "Corrected"}}))["expense"]
    assert got["categoryid"] == other and got["vendor"] == "Corrected"
    assert (await http.delete(path)).status_code == 405  # expenses are deleted with PUT vis_state 1
    result(await http.put(path, json={"expense": {"vis_state": 1}}))
    assert exp["vis_state"] == 1
    assert errors(await http.put(path, json={"expense": {"notes": "x"}}))[0]["errno"] == 1011
