"""Payment tools through a real MCP client (both protocol eras) against the sandbox's books."""

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
from mcp_server_freshbooks.sandbox import Sandbox
from mcp_server_freshbooks.server import build_server

pytestmark = pytest.mark.anyio

D = Decimal


@pytest.fixture(autouse=True)
def _no_ignored_search_keys(sandbox: Sandbox) -> Iterator[None]:
    yield
    assert not sandbox.ignored_search_keys, f"FreshBooks would ignore: {dict(sandbox.ignored_search_keys)}"


def open_invoice(sb: Sandbox, code: str = "USD", skip: int = 0) -> dict[str, Any]:
    found = [
        i
        for i in sb.db.invoices.values()
        if i["vis_state"] == 0
        and i["currency_code"] == code
        and i["v3_status"] in ("sent", "viewed", "overdue", "partial")
        and D(i["outstanding"]["amount"]) > 10
    ]
    return found[skip]


def outstanding(inv: dict[str, Any]) -> Decimal:
    return D(inv["outstanding"]["amount"])


# ---------------------------------------------------------------------- record_payment


async def test_record_payment_without_elicitation_then_confirm(mcp: Client, sandbox: Sandbox) -> None:
    inv = open_invoice(sandbox)
    before_out, before_writes = outstanding(inv), len(sandbox.write_log)
    args = {"invoice_id": inv["id"], "amount": "10.25", "method": "Bank Transfer", "date": "2026-01-15"}
    text = await call_error(mcp, "record_payment", args)
    assert "confirm=true" in text and inv["invoice_number"] in text and "10.25 USD" in text
    assert len(sandbox.write_log) == before_writes and outstanding(inv) == before_out

    out = await call_ok(mcp, "record_payment", {**args, "confirm": True})
    pay = sandbox.db.payments[out["payment"]["id"]]
    assert pay["invoiceid"] == inv["id"] and pay["amount"] == {"amount": "10.25", "code": "USD"}
    assert pay["type"] == "Bank Transfer" and pay["date"] == "2026-01-15"
    assert outstanding(inv) == before_out - D("10.25")
    assert out["invoice"]["outstanding"] == inv["outstanding"] and out["invoice"]["status"] == inv["v3_status"]
    assert "overpayment" not in out


async def test_record_payment_full_amount_marks_paid_in_other_currency(mcp: Client, sandbox: Sandbox) -> None:
    inv = open_invoice(sandbox, code="EUR")
    owed = inv["outstanding"]["amount"]
    out = await call_ok(mcp, "record_payment", {"invoice_id": inv["id"], "amount": owed, "confirm": True})
    assert inv["v3_status"] == "paid" and outstanding(inv) == 0
    assert out["payment"]["amount"] == {"amount": owed, "code": "EUR"}
    assert out["invoice"]["status"] == "paid" and out["invoice"]["outstanding"]["code"] == "EUR"


async def test_record_payment_with_elicitation_accept_and_decline(
    sandbox: Sandbox, settings: Settings, mode: str
) -> None:
    declined, accepted = open_invoice(sandbox), open_invoice(sandbox, skip=1)
    asked: list[str] = []
    answer = "decline"

    async def on_elicit(ctx: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action=answer, content={"confirm": True} if answer == "accept" else None)

    async with Client(
        build_server(settings, sandbox=sandbox),  # type: ignore[arg-type]
        mode=mode,
        elicitation_callback=on_elicit,
    ) as client:
        before = (outstanding(declined), len(sandbox.write_log))
        await call_error(client, "record_payment", {"invoice_id": declined["id"], "amount": 5})
        assert (outstanding(declined), len(sandbox.write_log)) == before
        answer = "accept"
        owed = outstanding(accepted)
        await call_ok(client, "record_payment", {"invoice_id": accepted["id"], "amount": 5})
        assert outstanding(accepted) == owed - 5
    assert len(asked) == 2 and declined["invoice_number"] in asked[0]
    client_rec = sandbox.db.clients[accepted["customerid"]]
    assert accepted["invoice_number"] in asked[1] and "5.00 USD" in asked[1]
    assert (client_rec["organization"] or client_rec["lname"]) in asked[1]


async def test_record_payment_refusals_change_nothing(mcp: Client, sandbox: Sandbox) -> None:
    inv = open_invoice(sandbox)
    paid = next(i for i in sandbox.db.invoices.values() if i["v3_status"] == "paid" and i["vis_state"] == 0)
    draft = next(i for i in sandbox.db.invoices.values() if i["v3_status"] == "draft" and i["vis_state"] == 0)
    before = len(sandbox.write_log)
    too_much = str(outstanding(inv) + D("0.01"))
    text = await call_error(mcp, "record_payment", {"invoice_id": inv["id"], "amount": too_much, "confirm": True})
    assert "allow_overpayment" in text and inv["outstanding"]["amount"] in text
    text = await call_error(mcp, "record_payment", {"invoice_id": paid["id"], "amount": "1.00", "confirm": True})
    assert "already paid" in text
    text = await call_error(
        mcp, "record_payment", {"invoice_id": draft["id"], "amount": "1.00", "confirm": True, "allow_overpayment": True}
    )
    assert "draft" in text
    assert "No invoice" in await call_error(mcp, "record_payment", {"invoice_id": 999999, "amount": 1, "confirm": True})
    for bad, needle in (
        ({"amount": "10.005"}, "decimal places"),
        ({"amount": 0.001}, "decimal places"),
        ({"amount": 0}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "1", "method": "Bitcoin"}, "method"),
        ({"amount": "1", "date": "15/01/2026"}, "date"),
    ):
        assert needle in await call_error(mcp, "record_payment", {"invoice_id": inv["id"], "confirm": True, **bad})
    assert len(sandbox.write_log) == before


async def test_record_overpayment_when_allowed(mcp: Client, sandbox: Sandbox) -> None:
    inv = open_invoice(sandbox)
    owed = outstanding(inv)
    out = await call_ok(
        mcp,
        "record_payment",
        {"invoice_id": inv["id"], "amount": str(owed + 7), "allow_overpayment": True, "confirm": True},
    )
    assert out["overpayment"] == {"amount": "7.00", "code": "USD"}
    assert outstanding(inv) == 0 and inv["v3_status"] == "paid"
    assert sandbox.db.payments[out["payment"]["id"]]["overpaymentid"] is not None


# ---------------------------------------------------------------------- list_payments


async def test_list_payments_filters_and_paging(mcp: Client, sandbox: Sandbox) -> None:
    live = [p for p in sandbox.db.payments.values() if p["vis_state"] != 1]
    client_id = max({p["clientid"] for p in live}, key=lambda c: sum(p["clientid"] == c for p in live))
    want = {p["id"] for p in live if p["clientid"] == client_id}
    out = await call_ok(mcp, "list_payments", {"client_id": client_id, "limit": 100})
    assert {r["id"] for r in out["payments"]} == want and out["total"] == len(want)
    row = out["payments"][0]
    raw = sandbox.db.payments[row["id"]]
    assert row["amount"] == raw["amount"] and row["invoice_id"] == raw["invoiceid"] and row["type"] == raw["type"]
    assert row["invoice_number"] == sandbox.db.invoices[raw["invoiceid"]]["invoice_number"]
    totals: dict[str, Decimal] = {}
    for p in live:
        if p["clientid"] == client_id:
            totals[p["amount"]["code"]] = totals.get(p["amount"]["code"], D(0)) + D(p["amount"]["amount"])
    assert {m["code"]: D(m["amount"]) for m in out["page_totals"]} == totals

    first = await call_ok(mcp, "list_payments", {"limit": 7})
    second = await call_ok(mcp, "list_payments", {"limit": 7, "page": first["next_page"]})
    ids = [r["id"] for r in first["payments"] + second["payments"]]
    assert len(set(ids)) == 14 and first["total"] == len(live)


async def test_list_payments_date_range_inclusive_and_by_invoice(mcp: Client, sandbox: Sandbox) -> None:
    live = [p for p in sandbox.db.payments.values() if p["vis_state"] != 1]
    day = date.fromisoformat(sorted(p["date"] for p in live)[len(live) // 2])
    lo = day - timedelta(days=30)
    out = await call_ok(mcp, "list_payments", {"date_from": lo.isoformat(), "date_to": day.isoformat(), "limit": 100})
    want = {p["id"] for p in live if lo <= date.fromisoformat(p["date"]) <= day}
    assert {r["id"] for r in out["payments"]} == want and any(p["date"] == day.isoformat() for p in live)
    inv_id = live[0]["invoiceid"]
    by_inv = await call_ok(mcp, "list_payments", {"invoice_id": inv_id, "response_format": "detailed"})
    assert {r["id"] for r in by_inv["payments"]} == {p["id"] for p in live if p["invoiceid"] == inv_id}
    assert "from_credit" in by_inv["payments"][0]
    assert "date_from" in await call_error(mcp, "list_payments", {"date_from": "2026-02-01", "date_to": "2026-01-01"})


async def test_date_ranges_reaching_the_last_day_of_the_calendar_are_not_a_crash(mcp: Client) -> None:
    """An inclusive `date_to` becomes FreshBooks' exclusive day-after; there is no day after 9999-12-31."""
    payments = await call_ok(mcp, "list_payments", {"date_from": "9999-12-31", "date_to": "9999-12-31"})
    assert payments["payments"] == []
    invoices = await call_ok(mcp, "list_invoices", {"issue_date_to": "9999-12-31", "limit": 1})
    assert invoices["total"] >= 1


def test_between_dates_is_inclusive_at_both_ends() -> None:
    from datetime import date

    from mcp_server_freshbooks.freshbooks import PAYMENTS, Query

    assert Query(PAYMENTS).between_dates("date", date(2026, 1, 1), date(2026, 1, 31)).params() == [
        ("search[date_min]", "2026-01-01"),
        ("search[date_max]", "2026-02-01"),
    ]
    assert Query(PAYMENTS).between_dates("date", None, date.max).params() == []


async def test_record_payment_asks_an_eliciting_host_even_with_confirm_true(
    sandbox: Sandbox, settings: Settings, mode: str
) -> None:
    inv = open_invoice(sandbox)
    asked: list[str] = []

    async def on_elicit(ctx: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content={"confirm": True})

    owed = outstanding(inv)
    async with Client(
        build_server(settings, sandbox=sandbox),  # type: ignore[arg-type]
        mode=mode,
        elicitation_callback=on_elicit,
    ) as client:
        out = await call_ok(client, "record_payment", {"invoice_id": inv["id"], "amount": "3.00", "confirm": True})
    assert len(asked) == 1 and inv["invoice_number"] in asked[0]  # confirm=true did not skip the user
    assert outstanding(inv) == owed - 3 and out["invoice"]["outstanding"] == inv["outstanding"]


async def test_record_payment_refuses_when_confirm_writes_is_elicit_and_the_host_cannot_ask(
    sandbox: Sandbox, settings: Settings, mode: str
) -> None:
    inv = open_invoice(sandbox)
    before = len(sandbox.write_log)
    strict = settings.with_overrides(confirm_writes="elicit")
    async with Client(build_server(strict, sandbox=sandbox), mode=mode) as client:  # type: ignore[arg-type]
        text = await call_error(client, "record_payment", {"invoice_id": inv["id"], "amount": "3.00", "confirm": True})
    assert "FRESHBOOKS_CONFIRM_WRITES=elicit" in text and inv["invoice_number"] in text
    assert len(sandbox.write_log) == before
