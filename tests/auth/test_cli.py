"""`auth status`, `auth logout`, `doctor`, and the canary check: no credential is ever shown."""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from mcp_server_freshbooks.auth_cli import Console, doctor, login, logout, status
from mcp_server_freshbooks.config import Settings
from mcp_server_freshbooks.freshbooks.api import FreshBooksClient
from mcp_server_freshbooks.freshbooks.auth import ME_PATH, TokenStore, build_token_source
from mcp_server_freshbooks.freshbooks.errors import FreshBooksError

from .conftest import BASE, follow_authorize, make_settings
from .fake_oauth import FakeFreshBooks

pytestmark = pytest.mark.anyio


class Out:
    def __init__(self) -> None:
        self.out, self.err = io.StringIO(), io.StringIO()
        self.console = Console(self.out, self.err)

    @property
    def text(self) -> str:
        return self.out.getvalue() + self.err.getvalue()


async def _signed_in(settings: Settings, transport: httpx.AsyncBaseTransport) -> str:
    o = Out()

    async def paste() -> str:
        url = next(line for line in o.out.getvalue().splitlines() if "/oauth/authorize?" in line)
        return await follow_authorize(url, transport)

    assert await login(settings, transport=transport, console=o.console, read_line=paste, open_browser=False) == 0
    return o.text


async def test_status_shows_identity_business_and_expiry_but_no_token(
    settings: Settings, transport: httpx.ASGITransport, fake: FakeFreshBooks
) -> None:
    await _signed_in(settings, transport)
    o = Out()
    assert await status(settings, transport=transport, console=o.console) == 0
    assert "Ada Lovelace" in o.text and "Selected business: Analytical Engines" in o.text
    assert "expires at" in o.text
    assert not any(secret in o.text for secret in fake.issued)


async def test_status_when_not_signed_in(settings: Settings, transport: httpx.ASGITransport) -> None:
    o = Out()
    assert await status(settings, transport=transport, console=o.console) == 1
    assert "auth login" in o.text


async def test_logout_deletes_file_and_revokes(
    settings: Settings, transport: httpx.ASGITransport, fake: FakeFreshBooks
) -> None:
    await _signed_in(settings, transport)
    saved = TokenStore(settings.token_file).load()
    assert saved is not None and saved.refresh_token is not None
    o = Out()
    assert await logout(settings, transport=transport, console=o.console) == 0
    assert TokenStore(settings.token_file).load() is None
    assert saved.refresh_token.get_secret_value() in fake.revoked
    assert saved.access_token.get_secret_value() in fake.revoked
    assert "Signed out" in o.text
    o2 = Out()
    assert await logout(settings, transport=transport, console=o2.console) == 0
    assert "No saved tokens" in o2.text


async def test_doctor_all_fine_exits_zero(settings: Settings, transport: httpx.ASGITransport) -> None:
    await _signed_in(settings, transport)
    o = Out()
    assert await doctor(settings, transport=transport, console=o.console) == 0, o.text
    lines = o.out.getvalue().splitlines()
    assert all(line.startswith("[ok  ]") for line in lines[:-1]), o.text
    assert any("signed in as Ada Lovelace" in line for line in lines)
    assert any("business selected" in line for line in lines)


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
async def test_doctor_reports_loose_permissions_with_fix(settings: Settings, transport: httpx.ASGITransport) -> None:
    await _signed_in(settings, transport)
    os.chmod(settings.token_file, 0o644)
    o = Out()
    assert await doctor(settings, transport=transport, console=o.console) == 1
    assert "[FAIL] token file" in o.text and "chmod 600" in o.text


async def test_doctor_not_signed_in(settings: Settings, transport: httpx.ASGITransport) -> None:
    o = Out()
    assert await doctor(settings, transport=transport, console=o.console) == 1
    assert "[FAIL] not signed in" in o.text and "auth login" in o.text


async def test_doctor_business_selection_problem(
    settings: Settings, transport: httpx.ASGITransport, fake: FakeFreshBooks, token_file: Path
) -> None:
    await _signed_in(settings, transport)
    wrong = make_settings(fake, token_file, business="No Such Business")
    o = Out()
    assert await doctor(wrong, transport=transport, console=o.console) == 1
    assert "[FAIL] business selection" in o.text and "Analytical Engines" in o.text


async def test_doctor_expired_env_token_without_refresh(token_file: Path, transport: httpx.ASGITransport) -> None:
    settings = Settings(api_url=BASE, auth_url=BASE, access_token=SecretStr("not-a-valid-token"), token_file=token_file)
    o = Out()
    assert await doctor(settings, transport=transport, console=o.console) == 1
    assert "[FAIL] identity check failed" in o.text and "auth login" in o.text
    assert "not-a-valid-token" not in o.text


async def test_canary_secrets_never_logged_printed_or_repred(
    token_file: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = FakeFreshBooks(oauth_client_secret="CANARY-CLIENT-SECRET-5f2a")
    transport = httpx.ASGITransport(app=fake.app)
    settings = make_settings(fake, token_file)
    env_canary = "CANARY-ENV-ACCESS-9c1d"
    env_refresh_canary = "CANARY-ENV-REFRESH-77ab"
    texts: list[str] = []

    texts.append(await _signed_in(settings, transport))  # login: code + tokens
    async with httpx.AsyncClient(transport=transport) as http:
        source = build_token_source(settings, http)
        token = await source.get_token()
        fake._access.clear()
        await source.refresh_after_unauthorized(token)  # a refresh
        fake._refresh = "rotated-elsewhere"
        fake._access.clear()
        try:  # an invalid_grant
            await source.refresh_after_unauthorized(await source.get_token())
        except FreshBooksError as exc:
            texts += [str(exc), repr(exc), exc.message]
        texts += [repr(source), repr(source.tokens), str(source.tokens), repr(source.store)]
    TokenStore(token_file).delete()
    env_settings = make_settings(
        fake,
        token_file,
        access_token=SecretStr(env_canary),
        refresh_token=SecretStr(env_refresh_canary),
    )
    texts += [repr(env_settings), str(env_settings), str(env_settings.model_dump())]
    async with httpx.AsyncClient(transport=transport) as http:
        source = build_token_source(env_settings, http)
        async with FreshBooksClient(api_url=BASE, token_source=source, transport=transport) as client:
            try:  # env access token rejected, env refresh token rejected
                await client.request("GET", ME_PATH)
            except FreshBooksError as exc:
                texts += [str(exc), repr(exc)]
    for command in (status, doctor, logout):
        o = Out()
        await command(env_settings, transport=transport, console=o.console)
        texts.append(o.text)

    captured = capsys.readouterr()
    haystack = "\n".join([*texts, caplog.text, captured.out, captured.err])
    secrets_ = [*fake.issued, fake.oauth_client_secret, env_canary, env_refresh_canary]
    assert len(fake.issued) >= 4
    leaked = [s for s in secrets_ if s in haystack]
    assert leaked == []
    assert "CANARY" not in haystack
