"""Tokens expiring on both sides keep working, and no secret reaches the logs or the store in the clear."""

from __future__ import annotations

import logging
from pathlib import Path

import anyio
import pytest

from mcp_server_freshbooks.hosting.oauth import Lifetimes
from mcp_server_freshbooks.sandbox import SandboxOptions

from .conftest import SignedIn, hosted_server, tool

pytestmark = pytest.mark.anyio

SMALL = {"clients": 12, "invoices": 30, "expenses": 10}


async def test_freshbooks_token_expiry_and_rejection_refresh_with_rotation(tmp_path: Path) -> None:
    async with hosted_server(tmp_path, sandbox_options=SandboxOptions(token_ttl=3, **SMALL)) as hosted:
        fb = hosted.sandbox.identities[0]
        user = SignedIn(hosted, login_hint=0)
        async with user.client() as client:
            await tool(client, "whoami")
            sealed_before = await hosted.runtime.store.get("fb_tokens", str(fb.identity_id))
            await anyio.sleep(3.2)  # FreshBooks' access token expired: refreshed before use
            assert (await tool(client, "find_client", {"query": "a"}))["page"] == 1
            assert ("refresh_token", "ok") in fb.token_requests
            sealed_after = await hosted.runtime.store.get("fb_tokens", str(fb.identity_id))
            assert sealed_after != sealed_before  # the rotated pair was saved
            # FreshBooks revokes the access token early: a 401, then one refresh, then the call succeeds.
            refreshes = fb.token_requests.count(("refresh_token", "ok"))
            fb.tokens.access.clear()
            await tool(client, "find_client", {"query": "b"})
            assert fb.token_requests.count(("refresh_token", "ok")) == refreshes + 1
            # The refresh token is spent: only the store's newest one works (rotation).
            assert fb.tokens.refresh_token is not None


async def test_mcp_access_token_expiry_is_refreshed_by_the_client(tmp_path: Path) -> None:
    async with hosted_server(tmp_path, lifetimes=Lifetimes(access=2)) as hosted:
        user = SignedIn(hosted, login_hint=1)
        async with user.client() as client:
            await tool(client, "whoami")
            first = user.storage.tokens
            await anyio.sleep(2.5)
            me = await tool(client, "whoami")
        assert me["business"]["account_id"] == hosted.sandbox.identities[1].account_id
        assert first is not None and user.storage.tokens is not None
        assert user.storage.tokens.access_token != first.access_token
        assert user.storage.tokens.refresh_token != first.refresh_token
        assert len(user.redirects) == 1  # refreshed, not signed in again


async def test_canary_no_secret_in_logs_or_in_the_clear_in_the_store(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with hosted_server(tmp_path, lifetimes=Lifetimes(access=2)) as hosted:
        user = SignedIn(hosted, login_hint=0)
        async with user.client() as client:
            await tool(client, "whoami")
            issued = [user.storage.tokens]
            await anyio.sleep(2.5)
            await tool(client, "find_client", {"query": "a"})
            issued.append(user.storage.tokens)
        fb = hosted.sandbox.identities[0]
        secrets = [
            hosted.settings.client_secret.get_secret_value() if hosted.settings.client_secret else "",
            hosted.settings.mcp_secret_key.get_secret_value() if hosted.settings.mcp_secret_key else "",
            user.storage.client_info.client_secret if user.storage.client_info else "",
            *(t.access_token for t in issued if t),
            *(t.refresh_token or "" for t in issued if t),
            *fb.tokens.access,
            fb.tokens.refresh_token or "",
        ]
        from urllib.parse import parse_qs, urlparse

        secrets += [parse_qs(urlparse(url).query)["code"][0] for url in user.redirects]
        secrets = [s for s in secrets if s]
        assert len(secrets) >= 8
        # The server's records only: the test's browser and MCP client (httpx2, mcp.client) do see the codes.
        client_side = ("httpx2", "httpcore2", "mcp.client")
        logged = "\n".join(
            f"{r.name} {r.getMessage()} {r.args!r}" for r in caplog.records if not r.name.startswith(client_side)
        )
        assert "HTTP Request" in logged and "registered client" in logged  # the logs were captured
        for secret in secrets:
            assert secret not in logged
        stored = _read_store_files(tmp_path)
        for secret in secrets:
            assert secret.encode() not in stored


def _read_store_files(folder: Path) -> bytes:
    """The SQLite file, its WAL and shared memory, as bytes."""
    return b"".join(p.read_bytes() for p in folder.glob("hosted.sqlite3*"))


async def test_concurrent_calls_after_expiry_refresh_once(tmp_path: Path) -> None:
    async with hosted_server(tmp_path, sandbox_options=SandboxOptions(token_ttl=3, **SMALL)) as hosted:
        fb = hosted.sandbox.identities[0]
        user = SignedIn(hosted, login_hint=0)
        async with user.client() as client:
            await tool(client, "whoami")
            await anyio.sleep(3.2)
            before = fb.token_requests.count(("refresh_token", "ok"))
            results: list[dict[str, object]] = []

            async def call(query: str) -> None:
                results.append(await tool(client, "find_client", {"query": query}))

            async with anyio.create_task_group() as tg:
                for query in "abcdef":
                    tg.start_soon(call, query)
        assert len(results) == 6
        assert fb.token_requests.count(("refresh_token", "ok")) == before + 1  # one refresh, under the user's lock
        assert ("refresh_token", "invalid_grant") not in fb.token_requests


async def test_a_grant_revoked_at_freshbooks_ends_the_mcp_sign_in(tmp_path: Path) -> None:
    async with hosted_server(tmp_path) as hosted:
        fb = hosted.sandbox.identities[0]
        user = SignedIn(hosted, login_hint=0)
        async with user.client() as client:
            await tool(client, "whoami")
            fb.tokens.access.clear()  # the user removed the app in FreshBooks: no token works any more
            fb.tokens.refresh_token = None
            result = await client.call_tool("find_client", {"query": "a"})
            text = " ".join(getattr(c, "text", "") for c in result.content)
            assert result.is_error and "reconnect" in text, text
        assert user.storage.tokens is not None
        after = await hosted.browser.post(
            hosted.mcp_url, json={}, headers={"Authorization": f"Bearer {user.storage.tokens.access_token}"}
        )
        assert after.status_code == 401  # the app signs the user in again
        assert await hosted.runtime.store.get("fb_tokens", str(fb.identity_id)) is None
