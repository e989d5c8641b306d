"""Time entries, projects and services in the sandbox, against the fact sheet (freshbooks-api-more.md
sections 1-3), over HTTP in-process and through the official freshbooks-sdk on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from freshbooks import Client as SdkClient
from freshbooks import FilterBuilder, PaginateBuilder
from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions, serving

from .conftest import TODAY

pytestmark = pytest.mark.anyio


@pytest.fixture
def sb() -> Sandbox:
    return Sandbox(SandboxOptions(seed=7, today=TODAY, time_entries=500))


@pytest.fixture
async def http(sb: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sb.app),
        base_url="http://sandbox.test",
        headers={"Authorization": f"Bearer {sb.access_token}"},
    ) as client:
        yield client


def te(sb: Sandbox, rest: str = "") -> str:
    return f"/timetracking/business/{sb.business_id}/time_entries{rest}"


def active(sb: Sandbox) -> list[dict[str, Any]]:
    return [e for e in sb.db.time_entries.values() if e["active"]]


def test_seeding_adds_a_year_of_team_time_and_keeps_default_books() -> None:
    plain = Sandbox(SandboxOptions(seed=7, today=TODAY))
    more = Sandbox(SandboxOptions(seed=7, today=TODAY, time_entries=500))
    assert len(more.db.time_entries) == len(plain.db.time_entries) + 500
    for eid, entry in plain.db.time_entries.items():  # the old entries are untouched
        assert more.db.time_entries[eid] == entry
    extra = [e for i, e in more.db.time_entries.items() if i not in plain.db.time_entries]
    assert len({e["identity_id"] for e in extra}) == 4  # the owner and three team members
    days = sorted(e["started_at"][:10] for e in extra)
    assert days[0] <= (TODAY.replace(year=TODAY.year - 1)).isoformat()[:7] + "-31" and days[-1] <= TODAY.isoformat()
    assert {(e["billable"], e["billed"]) for e in extra} == {(True, True), (True, False), (False, False)}
    methods = {p["billing_method"] for p in more.db.projects.values()}
    assert {"project_rate", "service_rate"} <= methods
    assert any(e["service_id"] for e in extra) and more.db.service_rates


async def test_meta_totals_cover_the_whole_filtered_list(sb: Sandbox, http: httpx.AsyncClient) -> None:
    cid = next(e["client_id"] for e in active(sb) if e["client_id"])
    r = await http.get(te(sb), params={"team": "true", "client_id": cid, "per_page": 3})
    body = r.json()
    mine = [e for e in active(sb) if e["client_id"] == cid]
    assert body["meta"]["total"] == len(mine) and len(body["time_entries"]) == min(3, len(mine))
    assert body["meta"]["total_logged"] == sum(e["duration"] for e in mine)
    assert body["meta"]["total_unbilled"] == sum(e["duration"] for e in mine if not e["billed"])


async def test_team_false_is_the_callers_own(sb: Sandbox, http: httpx.AsyncClient) -> None:
    own = (await http.get(te(sb), params={"team": "false", "per_page": 1})).json()["meta"]["total"]
    everyone = (await http.get(te(sb), params={"team": "true", "per_page": 1})).json()["meta"]["total"]
    assert own == sum(1 for e in active(sb) if e["identity_id"] == sb.identity_id) < everyone == len(active(sb))


async def test_put_started_at_null_is_422_and_omitted_keys_stay(sb: Sandbox, http: httpx.AsyncClient) -> None:
    e = active(sb)[0]
    before = dict(e)
    r = await http.put(te(sb, f"/{e['id']}"), json={"time_entry": {"started_at": None}})
    assert r.status_code == 422 and e == before
    r = await http.put(te(sb, f"/{e['id']}"), json={"time_entry": {"billed": True}})
    assert r.status_code == 200 and e["billed"] is True
    assert {k for k in e if e[k] != before[k]} <= {"billed"}


async def test_delete_is_204_with_no_body(sb: Sandbox, http: httpx.AsyncClient) -> None:
    e = active(sb)[0]
    r = await http.delete(te(sb, f"/{e['id']}"))
    assert r.status_code == 204 and r.content == b"" and e["id"] not in sb.db.time_entries


async def test_project_put_needs_title(sb: Sandbox, http: httpx.AsyncClient) -> None:
    p = next(iter(sb.db.projects.values()))
    url = f"/projects/business/{sb.business_id}/project/{p['id']}"
    r = await http.put(url, json={"project": {"rate": "99.00"}})
    assert r.status_code == 422 and p["rate"] != "99.00"
    r = await http.put(url, json={"project": {"title": p["title"], "rate": "99.00", "billing_method": "service_rate"}})
    assert r.status_code == 200 and p["rate"] == "99.00" and p["billing_method"] == "service_rate"
    r = await http.put(url, json={"project": {"title": p["title"], "billing_method": "hourly"}})
    assert r.status_code == 422


# ---------------------------------------------------------------------- the official SDK


@pytest.fixture
def sdk(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[SdkClient]:
    with serving(sb) as base_url:
        monkeypatch.setenv("FRESHBOOKS_API_URL", base_url)
        monkeypatch.setenv("FRESHBOOKS_AUTH_URL", base_url)
        yield SdkClient(
            client_id=sb.oauth_client_id,
            client_secret=sb.oauth_client_secret,
            redirect_uri=sb.redirect_uri,
            access_token=sb.access_token,
            refresh_token=sb.refresh_token,
            auto_retry=False,
        )


def test_sdk_time_entries_round_trip(sb: Sandbox, sdk: SdkClient) -> None:
    bid = sb.business_id
    filters = FilterBuilder().boolean("billed", False).equals("team", True)
    listed = sdk.time_entries.list(bid, builders=[filters, PaginateBuilder(1, 50)])
    unbilled = [e for e in active(sb) if not e["billed"]]
    assert listed.pages.total == len(unbilled) and len(listed) == min(50, len(unbilled))
    assert all(not e.billed for e in listed)
    made = sdk.time_entries.create(
        bid,
        {"is_logged": True, "started_at": "2026-11-20T14:00:00Z", "duration": 5400, "note": "SDK", "billable": True},
    )
    assert made.duration == 5400 and sb.db.time_entries[made.id]["note"] == "SDK"
    assert sdk.time_entries.get(bid, made.id).note == "SDK"
    sdk.time_entries.update(bid, made.id, {"billed": True})
    assert sb.db.time_entries[made.id]["billed"] is True
    sdk.time_entries.delete(bid, made.id)  # 204: the SDK returns an empty result
    assert made.id not in sb.db.time_entries


def test_sdk_projects_round_trip(sb: Sandbox, sdk: SdkClient) -> None:
    bid = sb.business_id
    listed = sdk.projects.list(bid)
    assert listed.pages.total == len(sb.db.projects)
    one = sdk.projects.get(bid, listed[0].id)
    assert one.title == sb.db.projects[listed[0].id]["title"] and one.group.members
    client_id = next(iter(sb.db.clients))
    made = sdk.projects.create(bid, {"title": "SDK project", "client_id": client_id, "project_type": "hourly_rate"})
    sdk.projects.update(bid, made.id, {"title": "SDK project", "rate": "80.00"})
    assert sb.db.projects[made.id]["rate"] == "80.00"
    sdk.projects.delete(bid, made.id)
    assert made.id not in sb.db.projects
