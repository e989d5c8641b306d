"""Sign-in and rotation against the project sandbox's OAuth endpoints (in-process and over loopback)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from mcp_server_freshbooks.auth_cli import Console, login
from mcp_server_freshbooks.config import Settings
from mcp_server_freshbooks.freshbooks.api import FreshBooksClient
from mcp_server_freshbooks.freshbooks.auth import ME_PATH, TokenStore, authorize_url, build_token_source
from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions, serve_on_loopback

from .conftest import follow_authorize

pytestmark = pytest.mark.anyio

SMALL = {"clients": 3, "invoices": 0, "expenses": 0}


def sandbox(token_ttl: int = 43200) -> Sandbox:
    return Sandbox(SandboxOptions(seed=7, token_ttl=token_ttl, **SMALL))


def sb_settings(sb: Sandbox, token_file: Path, base: str = "http://sandbox.test") -> Settings:
    return Settings(
        api_url=base,
        auth_url=base,
        client_id=sb.oauth_client_id,
        client_secret=SecretStr(sb.oauth_client_secret),
        redirect_uri=sb.redirect_uri,
        token_file=token_file,
    )


def sb_env(sb: Sandbox, base: str, token_file: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRESHBOOKS_")}
    env.update(
        FRESHBOOKS_API_URL=base,
        FRESHBOOKS_AUTH_URL=base,
        FRESHBOOKS_CLIENT_ID=sb.oauth_client_id,
        FRESHBOOKS_CLIENT_SECRET=sb.oauth_client_secret,
        FRESHBOOKS_REDIRECT_URI=sb.redirect_uri,
        FRESHBOOKS_TOKEN_FILE=str(token_file),
    )
    return env


def refreshes(sb: Sandbox) -> list[tuple[str, str]]:
    return [t for t in sb.token_requests if t[0] == "refresh_token"]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def sign_in(settings: Settings, transport: httpx.AsyncBaseTransport) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()

    async def paste() -> str:
        url = next(line for line in out.getvalue().splitlines() if "/oauth/authorize?" in line)
        return await follow_authorize(url, transport)

    code = await login(settings, transport=transport, console=Console(out, err), read_line=paste, open_browser=False)
    return code, out.getvalue() + err.getvalue()


async def test_login_against_sandbox_and_wrong_state(token_file: Path) -> None:
    sb = sandbox()
    transport = httpx.ASGITransport(app=sb.app)
    settings = sb_settings(sb, token_file)
    code, text = await sign_in(settings, transport)
    assert code == 0, text
    assert sb.business_name in text and f"account_id {sb.account_id}" in text
    if os.name != "nt":
        assert mode(token_file) == 0o600 and mode(token_file.parent) == 0o700
    assert sb.token_requests == [("authorization_code", "ok")]

    # A redirect from another sign-in attempt (different state) is refused and never exchanged.
    out, err = io.StringIO(), io.StringIO()
    foreign = await follow_authorize(authorize_url(settings, state="someone-elses-state"), transport)
    result = await login(
        settings,
        transport=transport,
        console=Console(out, err),
        read_line=lambda: asyncio.sleep(0, result=foreign),
        open_browser=False,
    )
    assert result == 1 and "different sign-in attempt" in err.getvalue()
    assert sb.token_requests == [("authorization_code", "ok")]


async def test_fifty_concurrent_requests_across_expiry_one_refresh(token_file: Path) -> None:
    sb = sandbox(token_ttl=2)
    transport = httpx.ASGITransport(app=sb.app)
    settings = sb_settings(sb, token_file)
    assert (await sign_in(settings, transport))[0] == 0
    async with httpx.AsyncClient(transport=transport) as http:
        source = build_token_source(settings, http)
        async with FreshBooksClient(
            api_url=settings.api_url, token_source=source, transport=transport, max_concurrency=16
        ) as client:
            await client.request("GET", ME_PATH)
            expires_at = source.tokens.expires_at
            assert expires_at is not None
            await asyncio.sleep(max(0.0, expires_at - time.time()) + 0.05)  # now expired
            results = await asyncio.gather(*(client.request("GET", ME_PATH) for _ in range(50)))
    assert len(results) == 50 and all(r["response"]["identity_id"] == sb.identity_id for r in results)
    assert refreshes(sb) == [("refresh_token", "ok")]
    if os.name != "nt":
        assert mode(token_file) == 0o600 and mode(token_file.parent) == 0o700


WORKER = textwrap.dedent(
    """
    import asyncio, json, sys, time
    import httpx
    from mcp_server_freshbooks.config import load_settings
    from mcp_server_freshbooks.freshbooks.auth import build_token_source
    from mcp_server_freshbooks.freshbooks.api import FreshBooksClient

    async def main(duration: float) -> None:
        settings = load_settings(use_dotenv=False)
        ok = failed = 0
        errors = []
        async with httpx.AsyncClient() as http:
            source = build_token_source(settings, http)
            async with FreshBooksClient(api_url=settings.api_url, token_source=source) as client:
                end = time.monotonic() + duration
                while time.monotonic() < end:
                    try:
                        await client.request("GET", "/auth/api/v1/users/me")
                        ok += 1
                    except Exception as exc:
                        failed += 1
                        errors.append(f"{type(exc).__name__}: {exc}"[:200])
                    await asyncio.sleep(0.02)
        print(json.dumps({"ok": ok, "failed": failed, "errors": errors[:5], "refreshes": source.refresh_count}))

    asyncio.run(main(float(sys.argv[1])))
    """
)


async def test_two_processes_share_one_token_file_without_invalid_grant(token_file: Path) -> None:
    ttl, duration = 2, 5.0  # about two and a half token lifetimes
    sb = sandbox(token_ttl=ttl)
    async with serve_on_loopback(sb) as base:
        settings = sb_settings(sb, token_file, base)
        assert (await sign_in(settings, httpx.AsyncHTTPTransport()))[0] == 0
        env = sb_env(sb, base, token_file)
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                WORKER,
                str(duration),
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for _ in range(2)
        ]
        outputs = [await p.communicate() for p in procs]
    reports: list[dict[str, Any]] = []
    for (stdout, stderr), proc in zip(outputs, procs, strict=True):
        assert proc.returncode == 0, stderr.decode()[-2000:]
        reports.append(json.loads(stdout.decode().strip().splitlines()[-1]))
    assert all(r["failed"] == 0 for r in reports), reports
    assert all(r["ok"] > 20 for r in reports), reports
    outcomes = [t for t in sb.token_requests if t[0] == "refresh_token"]
    assert ("refresh_token", "invalid_grant") not in outcomes, sb.token_requests
    assert len(outcomes) >= 2  # the token really rotated during the run
    # Each lifetime needs one refresh, not one per process.
    assert len(outcomes) <= int(duration / (ttl * 0.5)) + 2, outcomes
    if os.name != "nt":
        assert mode(token_file) == 0o600 and mode(token_file.parent) == 0o700


def test_scripted_login_through_the_cli(token_file: Path, tmp_path: Path) -> None:
    """`echo "$URL" | mcp-server-freshbooks auth login --state S` works without a terminal."""
    sb = sandbox()
    from mcp_server_freshbooks.sandbox import serving

    with serving(sb) as base:
        settings = sb_settings(sb, token_file, base)
        env = sb_env(sb, base, token_file)
        redirected = httpx.get(authorize_url(settings, state="scripted-state"), follow_redirects=False)
        url = redirected.headers["location"]
        cmd = [sys.executable, "-m", "mcp_server_freshbooks", "auth", "login", "--no-browser"]
        wrong = subprocess.run(
            [*cmd, "--state", "another-state"], input=url, env=env, capture_output=True, text=True, cwd=tmp_path
        )
        right = subprocess.run(
            [*cmd, "--state", "scripted-state"], input=url, env=env, capture_output=True, text=True, cwd=tmp_path
        )
    assert wrong.returncode == 1 and "different sign-in attempt" in wrong.stderr
    assert right.returncode == 0, right.stderr
    assert "Signed in as" in right.stdout and sb.business_name in right.stdout
    stored = TokenStore(token_file).load()
    assert stored is not None
    assert stored.access_token.get_secret_value() not in right.stdout + right.stderr
