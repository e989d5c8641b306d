"""The opt-in list cache answers repeated queries, and every applied write clears it."""

from __future__ import annotations

import httpx
import pytest

from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_a_write_invalidates_cached_lists() -> None:
    sb = Sandbox(SandboxOptions(seed=3, list_cache=True))
    url = f"/accounting/account/{sb.account_id}/users/clients"
    params = {"search[organization_like]": "zzq", "per_page": "100"}
    headers = {"Authorization": f"Bearer {sb.access_token}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sb.app), base_url="http://sb") as http:
        before = (await http.get(url, params=params, headers=headers)).json()["response"]["result"]
        again = (await http.get(url, params={**params, "page": "1"}, headers=headers)).json()["response"]["result"]
        assert again["total"] == before["total"]
        created = await http.post(url, json={"client": {"organization": "Zzq Cache Test"}}, headers=headers)
        assert created.status_code == 200
        after = (await http.get(url, params=params, headers=headers)).json()["response"]["result"]
    assert after["total"] == before["total"] + 1
    assert "Zzq Cache Test" in [c["organization"] for c in after["clients"]]


async def test_cached_time_entry_pages_are_the_same_bytes_and_follow_writes() -> None:
    """The list cache assembles business pages from rows encoded once: byte for byte what an
    uncached sandbox sends, and a write (an entry marked billed) shows on the next read."""
    plain, cached = (Sandbox(SandboxOptions(seed=5, time_entries=250, list_cache=c)) for c in (False, True))
    url = f"/timetracking/business/{plain.business_id}/time_entries"

    async def pages(sb: Sandbox, http: httpx.AsyncClient) -> list[bytes]:
        auth = {"Authorization": f"Bearer {sb.access_token}"}
        return [
            (await http.get(url, params={"team": "true", "page": str(p), "per_page": "100"}, headers=auth)).content
            for p in (1, 2, 3, 4)
        ]

    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=plain.app), base_url="http://sb") as p_http,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=cached.app), base_url="http://sb") as c_http,
    ):
        assert await pages(cached, c_http) == await pages(plain, p_http)
        assert await pages(cached, c_http) == await pages(plain, p_http)  # the second read: from the cache
        entry = next(iter(cached.db.time_entries.values()))
        auth = {"Authorization": f"Bearer {cached.access_token}"}
        put = await c_http.put(
            f"{url}/{entry['id']}", json={"time_entry": {"billed": True, "note": "é moved"}}, headers=auth
        )
        assert put.status_code == 200
        rows = [
            r
            for p in (1, 2, 3)
            for r in (
                await c_http.get(url, params={"team": "true", "page": str(p), "per_page": "100"}, headers=auth)
            ).json()["time_entries"]
        ]
    row = next(r for r in rows if r["id"] == entry["id"])
    assert (row["billed"], row["note"]) == (True, "é moved")
