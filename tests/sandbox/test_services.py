"""Services (/comments/business/{id}/services): the resource added by one module and one line (#13)."""

from __future__ import annotations

import httpx
import pytest

from mcp_server_freshbooks.sandbox import Sandbox

pytestmark = pytest.mark.anyio


def base(sb: Sandbox) -> str:
    return f"/comments/business/{sb.business_id}"


async def test_seeded_services_list_with_meta_and_default_page_of_50(sb: Sandbox, http: httpx.AsyncClient) -> None:
    r = await http.get(base(sb) + "/services")
    assert r.status_code == 200
    body = r.json()
    assert body["meta"] == {"page": 1, "pages": 1, "per_page": 50, "total": 10}
    first = body["services"][0]
    assert first == {
        "business_id": sb.business_id,
        "id": 4054001,
        "name": "Consulting",
        "billable": True,
        "project_default": False,
        "vis_state": 0,
    }
    assert [s["billable"] for s in body["services"]].count(False) == 1
    # "There are no filters for services": a query key changes nothing
    assert (await http.get(base(sb) + "/services", params={"name": "x"})).json()["meta"]["total"] == 10


async def test_create_get_update_and_hide_deleted(sb: Sandbox, http: httpx.AsyncClient) -> None:
    created = await http.post(base(sb) + "/service", json={"service": {"name": "Research"}})
    assert created.status_code == 200
    svc = created.json()["service"]
    assert svc == {
        "business_id": sb.business_id,
        "id": 4054011,
        "name": "Research",
        "billable": False,
        "project_default": False,
        "vis_state": 0,
    }
    assert sb.write_log[-1].resource == "service" and sb.write_log[-1].resource_id == 4054011
    got = await http.get(f"{base(sb)}/service/{svc['id']}")
    assert got.json() == {"service": svc}
    upd = await http.put(f"{base(sb)}/service/{svc['id']}", json={"service": {"billable": True, "vis_state": 1}})
    assert upd.status_code == 200 and upd.json()["service"]["billable"] is True
    listed = (await http.get(base(sb) + "/services")).json()
    assert svc["id"] not in [s["id"] for s in listed["services"]] and listed["meta"]["total"] == 10
    second = (await http.post(base(sb) + "/service", json={"service": {"name": "Audit"}})).json()["service"]
    assert second["id"] == 4054012


async def test_service_errors_use_the_business_family_bodies(sb: Sandbox, http: httpx.AsyncClient) -> None:
    missing = await http.post(base(sb) + "/service", json={"service": {"billable": True}})
    assert missing.status_code == 422 and missing.json() == {"errno": 2001, "error": {"name": "field required"}}
    bad = await http.put(base(sb) + "/service/4054001", json={"service": {"billable": "perhaps"}})
    assert bad.status_code == 422 and sb.db.services[4054001]["billable"] is True
    assert (await http.get(base(sb) + "/service/1")).json() == {"error": "Requested resource could not be found."}
    other = await http.get(f"/comments/business/{sb.business_id + 1}/services")
    assert other.status_code == 403
    assert (await http.delete(base(sb) + "/service/4054001")).status_code == 405
    assert len(sb.db.services) == 10 and sb.write_log == []


async def test_service_rates_one_per_service(sb: Sandbox, http: httpx.AsyncClient) -> None:
    listed = (await http.get(base(sb) + "/service_rates")).json()
    assert set(listed) == {"service_rates"}  # no meta
    assert len(listed["service_rates"]) == 9
    assert listed["service_rates"][0] == {"rate": "150.00", "business_id": sb.business_id, "service_id": 4054001}
    rate = await http.get(base(sb) + "/service/4054001/rate")
    assert rate.json() == {"service_rate": {"rate": "150.00", "business_id": sb.business_id, "service_id": 4054001}}
    # the non-billable seeded service has no rate yet: 404, then POST adds it once
    assert (await http.get(base(sb) + "/service/4054010/rate")).status_code == 404
    added = await http.post(base(sb) + "/service/4054010/rate", json={"service_rate": {"rate": "10"}})
    assert added.status_code == 200 and added.json()["service_rate"]["rate"] == "10.00"
    again = await http.post(base(sb) + "/service/4054010/rate", json={"service_rate": {"rate": "11"}})
    assert again.status_code == 422
    changed = await http.put(base(sb) + "/service/4054010/rate", json={"service_rate": {"rate": "12.5"}})
    assert changed.json()["service_rate"]["rate"] == "12.50" and sb.db.service_rates[4054010]["rate"] == "12.50"
    bad = await http.put(base(sb) + "/service/4054010/rate", json={"service_rate": {"rate": "lots"}})
    assert bad.status_code == 422 and bad.json() == {"errno": 2001, "error": {"rate": "not a valid decimal"}}
    assert (await http.get(base(sb) + "/service/99/rate")).status_code == 404
    assert [(e.method, e.resource, e.resource_id) for e in sb.write_log] == [
        ("POST", "service_rate", 4054010),
        ("PUT", "service_rate", 4054010),
    ]
