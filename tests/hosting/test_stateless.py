"""`--stateless`: nothing in a server process is needed across requests; another process on the same
store (and key) carries on with tokens, codes and FreshBooks sign-ins the first one made."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from mcp_server_freshbooks.hosting.app import HostedRuntime, build_oauth_app
from mcp_server_freshbooks.hosting.sqlite_store import SQLiteStore
from mcp_server_freshbooks.sandbox import SandboxOptions
from mcp_server_freshbooks.server import build_server

from .conftest import (
    CLIENT_REDIRECT,
    bearer_client,
    bound_socket,
    get_code,
    hosted_server,
    pkce,
    register,
    serving,
    signed_in_tokens,
    token_request,
    tool,
)

pytestmark = pytest.mark.anyio


async def test_a_fresh_server_on_the_same_store_carries_on(tmp_path: Path) -> None:
    async with hosted_server(tmp_path) as first:
        client_id = (await register(first))["client_id"]
        verifier, challenge = pkce()
        code = await get_code(first, client_id, challenge, login_hint=1)  # code issued by the first server

        # A second server: its own memory, the same store file and settings (same public URL and key).
        runtime = HostedRuntime(first.settings, public_url=first.url, store=SQLiteStore(tmp_path / "hosted.sqlite3"))
        app = build_oauth_app(build_server(first.settings, hosted=runtime), runtime, host="127.0.0.1", stateless=True)
        async with serving(app, bound_socket()) as second_url:
            form = {"client_id": client_id, "redirect_uri": CLIENT_REDIRECT}
            exchanged = await first.browser.post(
                f"{second_url}/token",
                data={"grant_type": "authorization_code", "code": code, "code_verifier": verifier, **form},
            )
            assert exchanged.status_code == 200, exchanged.text
            tokens = exchanged.json()
            async with bearer_client(f"{second_url}/mcp", tokens["access_token"]) as client:
                me = await tool(client, "whoami")
            assert me["business"]["account_id"] == first.sandbox.identities[1].account_id
            # ...and back on the first server: its refresh, then the first server serves the new token.
            refreshed = await token_request(
                first, grant_type="refresh_token", client_id=client_id, refresh_token=tokens["refresh_token"]
            )
            assert refreshed.status_code == 200, refreshed.text
            async with bearer_client(f"{second_url}/mcp", refreshed.json()["access_token"]) as client:
                assert (await tool(client, "whoami"))["business"]["account_id"] == me["business"]["account_id"]


async def test_tokens_are_bound_to_their_server(tmp_path: Path) -> None:
    """Another server (another public URL) on the very same store refuses this server's tokens."""
    async with hosted_server(tmp_path) as first:
        client_id = (await register(first))["client_id"]
        tokens = await signed_in_tokens(first, client_id)
        sock = bound_socket()
        other_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        other_settings = first.settings.with_overrides(mcp_public_url=other_url)
        runtime = HostedRuntime(other_settings, public_url=other_url, store=SQLiteStore(tmp_path / "hosted.sqlite3"))
        app = build_oauth_app(build_server(other_settings, hosted=runtime), runtime, host="127.0.0.1", stateless=True)
        async with serving(app, sock) as url:
            refused = await first.browser.post(
                f"{url}/mcp", json={}, headers={"Authorization": f"Bearer {tokens['access_token']}"}
            )
            assert refused.status_code == 401
            assert (
                f'resource_metadata="{url}/.well-known/oauth-protected-resource/mcp"'
                in refused.headers["www-authenticate"]
            )


async def test_two_processes_refreshing_at_once_keep_the_sign_in(tmp_path: Path) -> None:
    """Two servers on one SQLite file (each with its own in-process locks, like two processes) both find the
    FreshBooks token expired: one refresh wins, the other adopts its pair instead of ending the sign-in."""
    options = SandboxOptions(token_ttl=3, clients=12, invoices=30, expenses=10)
    async with hosted_server(tmp_path, sandbox_options=options) as first:
        fb = first.sandbox.identities[0]
        client_id = (await register(first))["client_id"]
        verifier, challenge = pkce()
        code = await get_code(first, client_id, challenge)
        form = {"client_id": client_id, "redirect_uri": CLIENT_REDIRECT, "code_verifier": verifier}
        token = (await token_request(first, grant_type="authorization_code", code=code, **form)).json()["access_token"]
        runtime = HostedRuntime(first.settings, public_url=first.url, store=SQLiteStore(tmp_path / "hosted.sqlite3"))
        app = build_oauth_app(build_server(first.settings, hosted=runtime), runtime, host="127.0.0.1", stateless=True)
        second_sock = bound_socket()
        second_mcp = f"http://127.0.0.1:{second_sock.getsockname()[1]}/mcp"
        async with (
            serving(app, second_sock),
            bearer_client(first.mcp_url, token) as one,
            bearer_client(second_mcp, token) as two,
        ):
            await tool(one, "whoami")
            await tool(two, "whoami")
            for _ in range(2):
                await anyio.sleep(3.2)
                async with anyio.create_task_group() as tg:
                    for client in (one, two, one, two):
                        tg.start_soon(tool, client, "find_client", {"query": "a"})
        assert fb.token_requests.count(("refresh_token", "ok")) >= 2
        assert await first.runtime.store.get("fb_tokens", str(fb.identity_id)) is not None  # still signed in
