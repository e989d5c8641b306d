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
