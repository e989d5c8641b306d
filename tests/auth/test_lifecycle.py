"""Sign-in, refresh and the rotation races, against an OAuth server in-process."""

from __future__ import annotations

import asyncio
import io
import os
import stat
import time
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from mcp_server_freshbooks.auth_cli import Console, login
from mcp_server_freshbooks.config import Settings
from mcp_server_freshbooks.freshbooks.api import FreshBooksClient
from mcp_server_freshbooks.freshbooks.auth import (
    ME_PATH,
    NotSignedInError,
    RefreshRejectedError,
    StoredTokenSource,
    TokenExpiredError,
    TokenSet,
    TokenStore,
    build_token_source,
)
from mcp_server_freshbooks.freshbooks.errors import AuthError

from .conftest import BASE, follow_authorize, make_settings
from .fake_oauth import FakeFreshBooks

pytestmark = pytest.mark.anyio


def _console() -> tuple[Console, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return Console(out, err), out, err


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def _login(settings: Settings, transport: httpx.AsyncBaseTransport) -> tuple[int, str, str]:
    console, out, err = _console()

    async def paste() -> str:
        url = next(line for line in out.getvalue().splitlines() if "/oauth/authorize?" in line)
        return await follow_authorize(url, transport)

    code = await login(settings, transport=transport, console=console, read_line=paste, open_browser=False)
    return code, out.getvalue(), err.getvalue()


def _client(settings: Settings, source: StoredTokenSource, transport: httpx.AsyncBaseTransport) -> FreshBooksClient:
    return FreshBooksClient(api_url=settings.api_url, token_source=source, transport=transport, max_concurrency=16)


async def test_login_with_pasted_redirect_saves_private_tokens(
    settings: Settings, transport: httpx.ASGITransport, fake: FakeFreshBooks
) -> None:
    code, out, err = await _login(settings, transport)
    assert code == 0, err
    assert "Signed in as Ada Lovelace <ada@example.com>" in out
    assert "Analytical Engines" in out and "Selected business: Analytical Engines" in out
    store = TokenStore(settings.token_file)
    assert store.load() is not None
    if os.name != "nt":
        assert _mode(store.path) == 0o600 and _mode(store.path.parent) == 0o700
    assert [r.grant for r in fake.token_requests] == ["authorization_code"]
    for secret in fake.issued:
        assert secret not in out and secret not in err


async def test_login_refuses_a_redirect_with_the_wrong_state(
    settings: Settings, transport: httpx.ASGITransport, fake: FakeFreshBooks
) -> None:
    console, out, err = _console()

    async def paste_foreign() -> str:
        url = next(line for line in out.getvalue().splitlines() if "/oauth/authorize?" in line)
        redirected = await follow_authorize(url, transport)
        return redirected.replace("state=", "state=forged")

    code = await login(settings, transport=transport, console=console, read_line=paste_foreign, open_browser=False)
    assert code == 1
    assert "different sign-in attempt" in err.getvalue()
    assert not settings.token_file.exists()
    assert fake.token_requests == []  # the code was never exchanged


async def test_login_with_bare_code_warns_that_state_is_unchecked(
    settings: Settings, transport: httpx.ASGITransport
) -> None:
    console, out, err = _console()

    async def paste_code() -> str:
        url = next(line for line in out.getvalue().splitlines() if "/oauth/authorize?" in line)
        redirected = await follow_authorize(url, transport)
        return httpx.URL(redirected).params["code"]

    code = await login(settings, transport=transport, console=console, read_line=paste_code, open_browser=False)
    assert code == 0
    assert "bare code cannot be checked" in err.getvalue()


async def test_fifty_concurrent_requests_across_expiry_refresh_once(
    token_file: Path,
) -> None:
    fake = FakeFreshBooks(token_ttl=1.0)
    transport = httpx.ASGITransport(app=fake.app)
    settings = make_settings(fake, token_file)
    assert (await _login(settings, transport))[0] == 0
    async with httpx.AsyncClient(transport=transport) as http:
        source = build_token_source(settings, http)
        client = _client(settings, source, transport)
        async with client:
            await asyncio.sleep(1.05)  # the access token is now expired
            results = await asyncio.gather(*(client.request("GET", ME_PATH) for _ in range(50)))
    assert len(results) == 50 and all(r["response"]["id"] == 1 for r in results)
    refreshes = [r for r in fake.token_requests if r.grant == "refresh_token"]
    assert len(refreshes) == 1 and refreshes[0].outcome == "ok"
    if os.name != "nt":
        assert _mode(token_file) == 0o600 and _mode(token_file.parent) == 0o700


async def test_fifty_concurrent_401s_refresh_once(
    settings: Settings, transport: httpx.ASGITransport, fake: FakeFreshBooks
) -> None:
    """The server rejects a token we believe is valid: one refresh after the 401s, all 50 succeed."""
    assert (await _login(settings, transport))[0] == 0
    store = TokenStore(settings.token_file)
    stored = store.load()
    assert stored is not None
    fake._access.clear()  # every access token now gets 401, though our clock says it is valid
    async with httpx.AsyncClient(transport=transport) as http:
        source = build_token_source(settings, http)
        async with _client(settings, source, transport) as client:
            results = await asyncio.gather(*(client.request("GET", ME_PATH) for _ in range(50)))
    assert len(results) == 50
    assert [r.grant for r in fake.token_requests].count("refresh_token") == 1


async def test_second_process_uses_the_token_another_refreshed(
    settings: Settings, transport: httpx.ASGITransport, fake: FakeFreshBooks
) -> None:
    """Two sources on one file (as two server processes): only one refresh reaches FreshBooks."""
    assert (await _login(settings, transport))[0] == 0
    async with httpx.AsyncClient(transport=transport) as http:
        a = build_token_source(settings, http)
        b = build_token_source(settings, http)
        old = await a.get_token()
        assert await b.get_token() == old
        fake._access.clear()
        new_a = await a.refresh_after_unauthorized(old)
        new_b = await b.refresh_after_unauthorized(old)  # b re-reads the file under the lock
    assert new_a == new_b and new_a != old
    grants = [(r.grant, r.outcome) for r in fake.token_requests]
    assert grants == [("authorization_code", "ok"), ("refresh_token", "ok")]


async def test_rejected_refresh_leaves_tokens_untouched(
    settings: Settings, transport: httpx.ASGITransport, fake: FakeFreshBooks
) -> None:
    assert (await _login(settings, transport))[0] == 0
    before = settings.token_file.read_bytes()
    fake._refresh = "someone-else-rotated-it"
    fake._access.clear()
    async with httpx.AsyncClient(transport=transport) as http:
        source = build_token_source(settings, http)
        token = await source.get_token()
        with pytest.raises(RefreshRejectedError, match="auth login") as info:
            await source.refresh_after_unauthorized(token)
    assert settings.token_file.read_bytes() == before
    assert info.value.status == 400
    assert token not in str(info.value) and token not in repr(info.value)


async def test_proactive_refresh_rewrites_file_private(
    settings: Settings, transport: httpx.ASGITransport, fake: FakeFreshBooks
) -> None:
    assert (await _login(settings, transport))[0] == 0
    store = TokenStore(settings.token_file)
    stored = store.load()
    assert stored is not None
    # Make it look nearly expired and loosen the modes; the refresh re-asserts the file's 0600 and
    # leaves the folder, which now exists, as the user set it (#11 finding 8).
    store.save(stored.model_copy(update={"expires_at": time.time() + 10}))
    if os.name != "nt":
        os.chmod(store.path, 0o644)
        os.chmod(store.path.parent, 0o755)
    async with httpx.AsyncClient(transport=transport) as http:
        source = build_token_source(settings, http)
        token = await source.get_token()
    assert token != stored.access_token.get_secret_value()
    assert source.refresh_count == 1
    if os.name != "nt":
        assert _mode(store.path) == 0o600 and _mode(store.path.parent) == 0o755


async def test_env_access_token_alone_then_expiry_says_what_to_do(
    token_file: Path, fake: FakeFreshBooks, transport: httpx.ASGITransport
) -> None:
    settings = Settings(api_url=BASE, auth_url=BASE, access_token=SecretStr(fake.access_token), token_file=token_file)
    async with httpx.AsyncClient(transport=transport) as http:
        source = build_token_source(settings, http)
        async with _client(settings, source, transport) as client:
            assert (await client.request("GET", ME_PATH))["response"]["id"] == 1
            fake._access.clear()  # the env token expires
            with pytest.raises(AuthError) as info:
                await client.request("GET", ME_PATH)
    message = str(info.value)
    assert "FRESHBOOKS_ACCESS_TOKEN" in message and "auth login" in message
    assert fake.access_token not in message
    assert TokenStore(token_file).load() is None


async def test_env_refresh_token_refreshes_and_saves_to_file(
    token_file: Path, fake: FakeFreshBooks, transport: httpx.ASGITransport
) -> None:
    settings = make_settings(
        fake, token_file, access_token=SecretStr(fake.access_token), refresh_token=SecretStr(fake.refresh_token)
    )
    async with httpx.AsyncClient(transport=transport) as http:
        source = build_token_source(settings, http)
        async with _client(settings, source, transport) as client:
            fake._access.clear()
            assert (await client.request("GET", ME_PATH))["response"]["id"] == 1
    saved = TokenStore(token_file).load()
    assert saved is not None and saved.refresh_token is not None
    assert saved.refresh_token.get_secret_value() == fake._refresh
    # Next start-up prefers the file (the env refresh token has been used up).
    async with httpx.AsyncClient(transport=transport) as http:
        again = build_token_source(settings, http)
    assert isinstance(again.tokens, TokenSet) and again.tokens == saved


async def test_nothing_configured_says_how_to_sign_in(token_file: Path) -> None:
    settings = Settings(api_url=BASE, auth_url=BASE, token_file=token_file)
    async with httpx.AsyncClient() as http:
        with pytest.raises(NotSignedInError, match=r"auth login.*FRESHBOOKS_ACCESS_TOKEN"):
            build_token_source(settings, http)


async def test_saved_refresh_token_without_client_secret_explains(
    settings: Settings, transport: httpx.ASGITransport, fake: FakeFreshBooks
) -> None:
    assert (await _login(settings, transport))[0] == 0
    bare = Settings(api_url=BASE, auth_url=BASE, token_file=settings.token_file)
    fake._access.clear()
    async with httpx.AsyncClient(transport=transport) as http:
        source = build_token_source(bare, http)
        with pytest.raises(TokenExpiredError, match="FRESHBOOKS_CLIENT_SECRET"):
            await source.refresh_after_unauthorized(await source.get_token())


async def test_transient_refresh_failure_before_expiry_keeps_current_token(
    settings: Settings, transport: httpx.ASGITransport, fake: FakeFreshBooks
) -> None:
    assert (await _login(settings, transport))[0] == 0
    store = TokenStore(settings.token_file)
    stored = store.load()
    assert stored is not None
    store.save(stored.model_copy(update={"expires_at": time.time() + 10}))  # inside the refresh margin
    fake.token_endpoint_down = True
    async with httpx.AsyncClient(transport=transport) as http:
        source = build_token_source(settings, http)
        assert await source.get_token() == stored.access_token.get_secret_value()
        fake.token_endpoint_down = False
        assert await source.get_token() != stored.access_token.get_secret_value()  # retried next call
    assert TokenStore(settings.token_file).load() is not None
