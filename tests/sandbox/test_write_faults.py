"""Knobs for the write-path tests (#11): slow writes that land after the client gave up, the email
log, dropped replies to email actions, and impossible dates refused with FreshBooks' error body."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions, serve_on_loopback

from .conftest import TODAY, acct

pytestmark = pytest.mark.anyio


def small(**faults: object) -> Sandbox:
    return Sandbox(SandboxOptions(seed=5, today=TODAY, clients=5, invoices=5, expenses=5, **faults))  # type: ignore[arg-type]


def auth(sb: Sandbox) -> dict[str, str]:
    return {"Authorization": f"Bearer {sb.access_token}"}


def in_process(sb: Sandbox) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=sb.app), base_url="http://t", headers=auth(sb))


def a_client_id(sb: Sandbox) -> int:
    return next(c["id"] for c in sb.db.clients.values() if c["vis_state"] == 0)


def a_sent_invoice(sb: Sandbox) -> int:
    return next(i["id"] for i in sb.db.invoices.values() if i["vis_state"] == 0)


async def test_write_slower_than_the_client_timeout_lands_after_it_gave_up_in_process() -> None:
    sb = small(write_latency_ms=500)
    async with in_process(sb) as c:
        # reads are not delayed by the write latency
        assert (await asyncio.wait_for(c.get(acct(sb, "users/clients")), 0.3)).status_code == 200
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(c.post(acct(sb, "users/clients"), json={"client": {"email": "slow@x.com"}}), 0.3)
        assert sb.write_log == [] and sb.writes_in_flight == 1
        await asyncio.sleep(0.4)
    assert sb.writes_in_flight == 0
    assert [e.resource for e in sb.write_log] == ["client"]
    assert [c["email"] for c in sb.db.clients.values()].count("slow@x.com") == 1


async def test_write_latency_over_tcp_and_only_for_matching_writes() -> None:
    sb = small()
    async with serve_on_loopback(sb) as base_url, httpx.AsyncClient(base_url=base_url, headers=auth(sb)) as c:
        r = await c.post(
            "/__sandbox__/faults", json={"write_latency_ms": 500, "write_latency_match": "^POST .*/payments/"}
        )
        assert r.status_code == 200 and r.json()["write_latency_ms"] == 500
        # not matched: applied at once
        assert (await c.post(acct(sb, "users/clients"), json={"client": {"email": "q@x.com"}})).status_code == 200
        inv = next(i for i in sb.db.invoices.values() if i["outstanding"]["amount"] != "0.00")
        body = {"payment": {"invoiceid": inv["id"], "amount": {"amount": "1.00"}, "date": "2026-11-20"}}
        with pytest.raises(httpx.ReadTimeout):
            await c.post(acct(sb, "payments/payments"), json=body, timeout=0.3)
        assert [e.resource for e in sb.write_log] == ["client"]
        await asyncio.sleep(0.5)
        assert [e.resource for e in sb.write_log] == ["client", "payment"]
        stats = (await c.get("/__sandbox__/stats")).json()
        assert stats["writes_in_flight"] == 0 and stats["faults"]["write_latency_match"] == "^POST .*/payments/"


def test_write_latency_knobs_validate() -> None:
    sb = small()
    with pytest.raises(ValueError):
        sb.set_faults(write_latency_ms=-1)
    with pytest.raises(ValueError):
        sb.set_faults(write_latency_match="(")
    sb.set_faults(write_latency_ms=10, write_latency_match="PUT")
    sb.set_faults(latency_ms=1)
    assert sb.faults.config.write_latency_ms == 10 and sb.faults.config.write_latency_match == "PUT"


async def test_every_invoice_email_is_logged() -> None:
    sb = small()
    iid = a_sent_invoice(sb)
    async with in_process(sb) as c:
        url = acct(sb, f"invoices/invoices/{iid}")
        assert (await c.put(url, json={"invoice": {"action_mark_as_sent": True}})).status_code == 200
        assert sb.emails_sent(iid) == 0
        for _ in range(2):
            assert (await c.put(url, json={"invoice": {"action_email": True}})).status_code == 200
        log = (await c.get("/__sandbox__/emails")).json()
        stats = (await c.get("/__sandbox__/stats")).json()
    assert sb.emails_sent(iid) == 2 and sb.emails_sent(iid + 1) == 0
    assert [(e["resource"], e["resource_id"]) for e in log] == [("invoice", iid), ("invoice", iid)]
    assert stats["emails_sent"] == 2


async def test_dropped_replies_apply_to_email_actions_too() -> None:
    sb = small(drop_rate=1.0)
    iid = a_sent_invoice(sb)
    async with in_process(sb) as c:
        for _ in range(16):
            with pytest.raises(httpx.RemoteProtocolError):
                await c.put(acct(sb, f"invoices/invoices/{iid}"), json={"invoice": {"action_email": True}})
    # about half were applied before the reply was lost; each one is an email that went out
    assert 0 < sb.emails_sent(iid) < 16
    assert sb.emails_sent(iid) == len(sb.write_log)


async def test_impossible_due_date_is_refused_with_the_validation_body() -> None:
    sb = small()
    cid = a_client_id(sb)
    before = (len(sb.db.invoices), len(sb.write_log))
    async with in_process(sb) as c:
        url = acct(sb, "invoices/invoices")
        body = {"customerid": cid, "create_date": "9999-12-31", "due_offset_days": 30, "lines": []}
        r = await c.post(url, json={"invoice": body})
        assert r.status_code == 422
        err = r.json()["response"]["errors"][0]
        assert err["errno"] == 1033 and err["field"] == "due_offset_days" and err["object"] == "invoice"
        assert (len(sb.db.invoices), len(sb.write_log)) == before
        huge = await c.post(url, json={"invoice": {**body, "create_date": "2026-01-01", "due_offset_days": 10**10}})
        assert huge.status_code == 422
        # the last day itself is a valid date
        ok = await c.post(url, json={"invoice": {**body, "due_offset_days": 0}})
        assert ok.status_code == 200 and ok.json()["response"]["result"]["invoice"]["due_date"] == "9999-12-31"
        iid = ok.json()["response"]["result"]["invoice"]["id"]
        r = await c.put(f"{url}/{iid}", json={"invoice": {"due_offset_days": 1, "notes": "x"}})
        assert r.status_code == 422 and r.json()["response"]["errors"][0]["errno"] == 1033
        assert sb.db.invoices[iid]["due_offset_days"] == 0 and sb.db.invoices[iid]["notes"] == ""


async def test_time_entry_before_year_one_in_local_time_is_refused() -> None:
    sb = small()
    async with in_process(sb) as c:
        r = await c.post(
            f"/timetracking/business/{sb.business_id}/time_entries",
            json={"time_entry": {"is_logged": True, "started_at": "0001-01-01T00:00:00Z", "duration": 60}},
        )
    assert r.status_code == 422 and r.json() == {"errno": 2001, "error": {"started_at": "invalid value"}}
