"""The full hosted flow through real HTTP: register -> authorize -> FreshBooks (sandbox) sign-in ->
consent -> token -> tools/call, driven by the mcp client's own OAuth support."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from mcp.shared.exceptions import MCPError

from mcp_server_freshbooks.hosting.oauth import Lifetimes

from .conftest import STORE_FACTORIES, SignedIn, hosted_server, tool

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("stateless", [True, False], ids=["stateless", "sessions"])
async def test_dcr_sign_in_and_tool_call(tmp_path: Path, stateless: bool) -> None:
    async with hosted_server(tmp_path, stateless=stateless) as hosted:
        user = SignedIn(hosted, login_hint=0)
        async with user.client() as client:
            me = await tool(client, "whoami")
        first = hosted.sandbox.identities[0]
        assert me["business"]["account_id"] == first.account_id
        assert me["business"]["name"] == first.business_name
        assert user.storage.client_info is not None and user.storage.tokens is not None
        assert user.storage.client_info.client_secret  # registered by DCR: a confidential client


async def test_two_users_see_only_their_own_books(tmp_path: Path) -> None:
    async with hosted_server(tmp_path) as hosted:
        a, b = SignedIn(hosted, login_hint=0), SignedIn(hosted, login_hint=1)
        sb_a, sb_b = hosted.sandbox.identities
        only_b_invoice = max(set(sb_b.db.invoices) - set(sb_a.db.invoices))
        only_b_client = max(set(sb_b.db.clients) - set(sb_a.db.clients))
        async with a.client() as client_a, b.client() as client_b:
            me_a, me_b = await tool(client_a, "whoami"), await tool(client_b, "whoami")
            assert (me_a["business"]["account_id"], me_b["business"]["account_id"]) == (
                sb_a.account_id,
                sb_b.account_id,
            )
            assert me_b["business"]["name"] == "Harbour Lane Bakery"
            # B sees its invoice; A, sending B's id, gets not-found (never B's record).
            seen_by_b = await tool(client_b, "get_invoice", {"invoice_id": only_b_invoice})
            assert seen_by_b["invoice"]["id"] == only_b_invoice
            for name, args in (
                ("get_invoice", {"invoice_id": only_b_invoice}),
                ("get_client", {"client_id": only_b_client}),
            ):
                result = await client_a.call_tool(name, args)
                text = " ".join(getattr(c, "text", "") for c in result.content)
                assert result.is_error and ("in this business" in text or "in this FreshBooks account" in text), text
            # Writes land in the writer's books only.
            before_a, before_b = len(sb_a.db.clients), len(sb_b.db.clients)
            created = await tool(client_b, "create_client", {"organization": "Only In B Ltd"})
            assert len(sb_b.db.clients) == before_b + 1 and len(sb_a.db.clients) == before_a
            assert created["client"]["organization"] == "Only In B Ltd"
            found = await tool(client_a, "find_client", {"query": "Only In B"})
            assert found["clients"] == []
        users = sorted([key async for key, _ in hosted.runtime.store.scan("user")])
        assert users == sorted([str(sb_a.identity_id), str(sb_b.identity_id)])


async def test_rate_limit_per_user(tmp_path: Path) -> None:
    async with hosted_server(tmp_path, FRESHBOOKS_MCP_RATE_LIMIT="4") as hosted:
        a, b = SignedIn(hosted, login_hint=0), SignedIn(hosted, login_hint=1)
        async with a.client() as client_a:
            await tool(client_a, "whoami")
            with pytest.raises(MCPError, match="error response"):
                for _ in range(6):
                    await client_a.call_tool("whoami", {})
        assert a.storage.tokens is not None
        raw = await hosted.browser.post(
            hosted.mcp_url, json={}, headers={"Authorization": f"Bearer {a.storage.tokens.access_token}"}
        )
        assert raw.status_code == 429 and 0 < int(raw.headers["retry-after"]) <= 60
        async with b.client() as client_b:  # another user is not limited by A's calls
            await tool(client_b, "whoami")


async def test_a_user_with_two_businesses_chooses_one_per_connection(tmp_path: Path) -> None:
    async with hosted_server(tmp_path, second_business=True) as hosted:
        studio, labs = hosted.sandbox.identities[0], hosted.sandbox.businesses[-1]
        on_labs = SignedIn(hosted, login_hint=0, business="Northbeam Labs")
        on_studio = SignedIn(hosted, login_hint=0, business=str(studio.business_id))
        async with on_labs.client() as client_labs, on_studio.client() as client_studio:
            me_labs, me_studio = await tool(client_labs, "whoami"), await tool(client_studio, "whoami")
            assert me_labs["business"]["account_id"] == labs.account_id
            assert me_studio["business"]["account_id"] == studio.account_id
            await tool(client_labs, "create_client", {"organization": "Labs Only Co"})
            assert any(c.get("organization") == "Labs Only Co" for c in labs.db.clients.values())
            assert not any(c.get("organization") == "Labs Only Co" for c in studio.db.clients.values())
        # One FreshBooks user, two businesses: one stored user with both, one client per (user, business).
        user = await hosted.runtime.store.get("user", str(studio.identity_id))
        assert user is not None
        assert {b["name"] for b in user["businesses"]} == {"Northbeam Studio Ltd.", "Northbeam Labs"}


@pytest.mark.parametrize("store_name", [name for name, _ in STORE_FACTORIES])
async def test_sign_in_refresh_and_revoke_on_every_store(tmp_path: Path, store_name: str) -> None:
    store = await dict(STORE_FACTORIES)[store_name](tmp_path)
    async with hosted_server(tmp_path, store=store, lifetimes=Lifetimes(access=2)) as hosted:
        user = SignedIn(hosted, login_hint=1)
        async with user.client() as client:
            await tool(client, "whoami")
            first = user.storage.tokens
            await anyio.sleep(2.5)  # the MCP access token expired: the client refreshes it
            me = await tool(client, "whoami")
        assert me["business"]["account_id"] == hosted.sandbox.identities[1].account_id
        assert first is not None and user.storage.tokens is not None
        assert user.storage.tokens.refresh_token != first.refresh_token
        info = user.storage.client_info
        assert info is not None and info.client_secret is not None and first.refresh_token is not None
        form = {"client_id": info.client_id, "client_secret": info.client_secret, "refresh_token": first.refresh_token}
        reused = await hosted.browser.post(f"{hosted.url}/token", data={"grant_type": "refresh_token", **form})
        assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
