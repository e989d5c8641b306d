"""`mcp-server-freshbooks users list|revoke`: on the store a running server uses."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from mcp_server_freshbooks.cli import main

from .conftest import SignedIn, hosted_server, tool

pytestmark = pytest.mark.anyio


async def cli(*argv: str) -> int:
    """The command line, in a thread (it runs its own event loop, as from a shell)."""
    return await anyio.to_thread.run_sync(main, list(argv))


async def test_list_and_revoke_a_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async with hosted_server(tmp_path) as hosted:
        monkeypatch.setenv("FRESHBOOKS_MCP_STORE", f"sqlite://{tmp_path / 'hosted.sqlite3'}")
        a, b = SignedIn(hosted, login_hint=0), SignedIn(hosted, login_hint=1)
        async with a.client() as client_a, b.client() as client_b:
            await tool(client_a, "whoami")
            await tool(client_b, "whoami")
        sb_a, sb_b = hosted.sandbox.identities
        capsys.readouterr()
        assert await cli("users", "list") == 0
        listed = capsys.readouterr().out
        assert str(sb_a.identity_id) in listed and sb_b.owner_email in listed and "Harbour Lane Bakery" in listed

        assert await cli("users", "revoke", sb_b.owner_email) == 0
        assert f"Revoked user {sb_b.identity_id}: 1 sign-in(s)" in capsys.readouterr().out
        store = hosted.runtime.store
        assert await store.get("fb_tokens", str(sb_b.identity_id)) is None
        assert await store.get("user", str(sb_b.identity_id)) is None
        assert await store.get("fb_tokens", str(sb_a.identity_id)) is not None
        assert b.storage.tokens is not None
        gone = await hosted.browser.post(
            hosted.mcp_url, json={}, headers={"Authorization": f"Bearer {b.storage.tokens.access_token}"}
        )
        assert gone.status_code == 401 and "resource_metadata=" in gone.headers["www-authenticate"]
        async with a.client() as client_a:  # the other user is untouched
            await tool(client_a, "whoami")
        assert await cli("users", "revoke", "nobody@example.com") == 1


def test_serve_oauth_refuses_to_start_without_its_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("FRESHBOOKS_CLIENT_ID", "FRESHBOOKS_CLIENT_SECRET", "FRESHBOOKS_MCP_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("FRESHBOOKS_TOKEN_FILE", str(tmp_path / "tokens.json"))
    assert main(["serve", "--transport", "http", "--auth", "oauth", "--port", "1"]) == 2
    assert "FRESHBOOKS_MCP_SECRET_KEY is required" in capsys.readouterr().err
    monkeypatch.setenv("FRESHBOOKS_MCP_SECRET_KEY", "not-a-fernet-key")
    assert main(["serve", "--transport", "http", "--auth", "oauth", "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert "FRESHBOOKS_CLIENT_ID" in err or "not a Fernet key" in err
    assert "not-a-fernet-key" not in err
