"""What the authorization server refuses, each as the RFCs say, through real HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from mcp_server_freshbooks.hosting.browser import sign_in
from mcp_server_freshbooks.hosting.store import Store

from .conftest import (
    CLIENT_REDIRECT,
    authorize_url,
    bearer_client,
    get_code,
    hosted_server,
    pkce,
    register,
    signed_in_tokens,
    token_request,
    tool,
)

pytestmark = pytest.mark.anyio


async def test_metadata_and_401_challenge(tmp_path: Path) -> None:
    async with hosted_server(tmp_path) as hosted:
        http = hosted.browser
        prm_url = f"{hosted.url}/.well-known/oauth-protected-resource/mcp"
        unauth = await http.post(hosted.mcp_url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        assert unauth.status_code == 401
        assert f'resource_metadata="{prm_url}"' in unauth.headers["www-authenticate"]
        prm = (await http.get(prm_url)).json()
        assert prm["resource"] == hosted.mcp_url and prm["authorization_servers"] == [hosted.url]
        asm = (await http.get(f"{hosted.url}/.well-known/oauth-authorization-server")).json()
        assert asm["client_id_metadata_document_supported"] is True
        assert asm["code_challenge_methods_supported"] == ["S256"]
        assert asm["registration_endpoint"] == f"{hosted.url}/register"
        assert asm["revocation_endpoint"] == f"{hosted.url}/revoke"
        assert "none" in asm["token_endpoint_auth_methods_supported"]
        assert asm["issuer"] == hosted.url


async def test_pkce_redirect_code_reuse_and_refresh_reuse(tmp_path: Path) -> None:
    async with hosted_server(tmp_path) as hosted:
        http = hosted.browser
        client_id = (await register(hosted))["client_id"]
        verifier, challenge = pkce()

        # PKCE missing at /authorize: refused (invalid_request, redirected back to the client).
        missing = await http.get(authorize_url(hosted, client_id, None), follow_redirects=False)
        assert missing.status_code == 302
        assert parse_qs(urlparse(missing.headers["location"]).query)["error"] == ["invalid_request"]
        # plain PKCE: refused.
        plain = await http.get(
            authorize_url(hosted, client_id, challenge, code_challenge_method="plain"), follow_redirects=False
        )
        assert parse_qs(urlparse(plain.headers["location"]).query)["error"] == ["invalid_request"]
        # Redirect URI not registered (even one character off): refused without redirecting there.
        for wrong in (CLIENT_REDIRECT + "/", CLIENT_REDIRECT + "x", "https://evil.example/callback"):
            mismatch = await http.get(authorize_url(hosted, client_id, challenge, redirect_uri=wrong))
            assert mismatch.status_code == 400 and mismatch.json()["error"] == "invalid_request", wrong
        # Another resource than this server: invalid_target.
        other = await http.get(
            authorize_url(hosted, client_id, challenge, resource="https://other.example/mcp"), follow_redirects=False
        )
        assert parse_qs(urlparse(other.headers["location"]).query)["error"] == ["invalid_target"]

        code = await get_code(hosted, client_id, challenge)
        base = {"grant_type": "authorization_code", "client_id": client_id, "redirect_uri": CLIENT_REDIRECT}
        wrong_verifier = await token_request(hosted, **base, code=code, code_verifier=pkce()[0])
        assert wrong_verifier.status_code == 400 and wrong_verifier.json()["error"] == "invalid_grant"
        no_verifier = await token_request(hosted, **base, code=code)
        assert no_verifier.status_code == 400 and no_verifier.json()["error"] == "invalid_request"
        wrong_redirect = await token_request(
            hosted, **{**base, "redirect_uri": CLIENT_REDIRECT + "x"}, code=code, code_verifier=verifier
        )
        assert wrong_redirect.status_code == 400 and wrong_redirect.json()["error"] == "invalid_request"
        ok = await token_request(hosted, **base, code=code, code_verifier=verifier)
        assert ok.status_code == 200, ok.text
        tokens = ok.json()
        assert tokens["token_type"] == "Bearer" and tokens["refresh_token"]

        async with bearer_client(hosted.mcp_url, tokens["access_token"]) as client:
            assert (await tool(client, "whoami"))["business"]["account_id"] == hosted.sandbox.identities[0].account_id

        # The same code again: invalid_grant, and what it was exchanged for is revoked (RFC 6749 4.1.2).
        again = await token_request(hosted, **base, code=code, code_verifier=verifier)
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
        assert (await http.post(hosted.mcp_url, json={}, headers=_bearer(tokens["access_token"]))).status_code == 401

        # Refresh rotation: a new pair each time; the old refresh token is refused and revokes the family.
        code = await get_code(hosted, client_id, challenge)
        first = (await token_request(hosted, **base, code=code, code_verifier=verifier)).json()
        refresh = {"grant_type": "refresh_token", "client_id": client_id}
        second = await token_request(hosted, **refresh, refresh_token=first["refresh_token"])
        assert second.status_code == 200, second.text
        rotated = second.json()
        assert rotated["refresh_token"] != first["refresh_token"]
        assert rotated["access_token"] != first["access_token"]
        reused = await token_request(hosted, **refresh, refresh_token=first["refresh_token"])
        assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
        # ...and the whole family is gone: the newest refresh and access tokens too.
        newest = await token_request(hosted, **refresh, refresh_token=rotated["refresh_token"])
        assert newest.status_code == 400 and newest.json()["error"] == "invalid_grant"
        challenge_401 = await http.post(hosted.mcp_url, json={}, headers=_bearer(rotated["access_token"]))
        assert challenge_401.status_code == 401
        assert "resource_metadata=" in challenge_401.headers["www-authenticate"]


async def test_revoked_token_gets_401_with_metadata(tmp_path: Path) -> None:
    async with hosted_server(tmp_path) as hosted:
        client_id = (await register(hosted))["client_id"]
        tokens = await signed_in_tokens(hosted, client_id)
        async with bearer_client(hosted.mcp_url, tokens["access_token"]) as client:
            await tool(client, "whoami")
        # A public client sends no client_secret (RFC 7009 with PKCE-only clients).
        revoked = await hosted.browser.post(
            f"{hosted.url}/revoke", data={"client_id": client_id, "token": tokens["access_token"]}
        )
        assert revoked.status_code == 200
        after = await hosted.browser.post(hosted.mcp_url, json={}, headers=_bearer(tokens["access_token"]))
        assert after.status_code == 401
        assert after.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
        assert (
            f'resource_metadata="{hosted.url}/.well-known/oauth-protected-resource/mcp"'
            in after.headers["www-authenticate"]
        )
        refused = await token_request(
            hosted, grant_type="refresh_token", client_id=client_id, refresh_token=tokens["refresh_token"]
        )
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


async def test_denied_consent_returns_access_denied(tmp_path: Path) -> None:
    async with hosted_server(tmp_path) as hosted:
        client_id = (await register(hosted))["client_id"]
        _, challenge = pkce()
        final = await sign_in(
            hosted.browser, authorize_url(hosted, client_id, challenge), redirect_uri=CLIENT_REDIRECT, allow=False
        )
        query = parse_qs(urlparse(final).query)
        assert query["error"] == ["access_denied"] and query["state"] == ["client-state"]
        assert "code" not in query


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"}


async def test_registration_and_sign_in_pages_refuse_what_they_should(tmp_path: Path) -> None:
    async with hosted_server(tmp_path) as hosted:
        http = hosted.browser
        for bad in ("http://evil.example/cb", "javascript:alert(1)", "https://ok.example/cb#frag"):
            refused = await http.post(f"{hosted.url}/register", json={"redirect_uris": [bad], "client_name": "x"})
            assert refused.status_code == 400, bad
            assert refused.json()["error"] in ("invalid_redirect_uri", "invalid_client_metadata"), refused.text
        # Native apps: loopback http and app schemes register.
        for good in ("http://127.0.0.1:33418/cb", "com.example.app:/oauth"):
            assert (await register(hosted, redirect_uris=[good]))["redirect_uris"] == [good]
        # A callback with an unknown or reused state, a consent with an unknown id: a plain page, nothing issued.
        stale = await http.get(f"{hosted.url}/oauth/freshbooks/callback?code=x&state=unknown")
        assert stale.status_code == 400 and "expired" in stale.text
        assert stale.headers["x-frame-options"] == "DENY"
        forged = await http.post(f"{hosted.url}/oauth/freshbooks/consent", data={"consent": "x", "action": "allow"})
        assert forged.status_code == 400 and "expired" in forged.text
        assert [key async for key, _ in hosted.runtime.store.scan("code")] == []


async def test_a_refresh_token_used_twice_at_once_leaves_neither_use_a_working_token(
    tmp_path: Path, store: Store
) -> None:
    """RFC 9700 4.14.2: a reused refresh token revokes the sign-in, including what the other use just got.

    The two uses race (a stolen token replayed while its owner refreshes): whichever wins the token
    is issued a new pair, the loser revokes the family. The winner's new pair must not outlive that,
    however the two interleave, or the attacker may be the one left signed in.
    """
    import anyio

    async with hosted_server(tmp_path, store=store) as hosted:
        client_id = (await register(hosted))["client_id"]
        refresh = {"grant_type": "refresh_token", "client_id": client_id}
        survivors = []
        for _ in range(6):
            tokens = await signed_in_tokens(hosted, client_id)
            answers: list[Any] = []

            async def use(token: str = tokens["refresh_token"], answers: list[Any] = answers) -> None:
                answers.append(await token_request(hosted, **refresh, refresh_token=token))

            async with anyio.create_task_group() as race:
                race.start_soon(use)
                race.start_soon(use)
            assert sorted(a.status_code for a in answers) in ([200, 400], [400, 400])
            for answer in answers:
                if answer.status_code != 200:
                    continue
                issued = answer.json()
                access = await hosted.browser.post(hosted.mcp_url, json={}, headers=_bearer(issued["access_token"]))
                renewed = await token_request(hosted, **refresh, refresh_token=issued["refresh_token"])
                if access.status_code != 401 or renewed.status_code != 400:
                    survivors.append((access.status_code, renewed.status_code))
        assert survivors == []


async def test_a_code_exchanged_twice_at_once_leaves_neither_exchange_a_working_token(
    tmp_path: Path, store: Store
) -> None:
    """RFC 6749 4.1.2: a code used twice revokes what it was exchanged for, also when the two uses race."""
    import anyio

    async with hosted_server(tmp_path, store=store) as hosted:
        client_id = (await register(hosted))["client_id"]
        verifier, challenge = pkce()
        base = {"grant_type": "authorization_code", "client_id": client_id, "redirect_uri": CLIENT_REDIRECT}
        survivors = []
        for _ in range(6):
            code = await get_code(hosted, client_id, challenge)
            answers: list[Any] = []

            async def use(code: str = code, answers: list[Any] = answers) -> None:
                answers.append(await token_request(hosted, **base, code=code, code_verifier=verifier))

            async with anyio.create_task_group() as race:
                race.start_soon(use)
                race.start_soon(use)
            assert sorted(a.status_code for a in answers) in ([200, 400], [400, 400])
            for answer in answers:
                if answer.status_code == 200:
                    issued = answer.json()
                    access = await hosted.browser.post(hosted.mcp_url, json={}, headers=_bearer(issued["access_token"]))
                    if access.status_code != 401:
                        survivors.append(access.status_code)
        assert survivors == []
