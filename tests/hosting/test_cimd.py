"""Client ID Metadata Documents: the client_id is a URL the server fetches (served here on loopback,
allowed only with FRESHBOOKS_MCP_DEV_ALLOW_HTTP_CIMD=1), its redirect URIs enforced, cached per Cache-Control."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .conftest import (
    CLIENT_REDIRECT,
    SignedIn,
    authorize_url,
    bearer_client,
    bound_socket,
    get_code,
    hosted_server,
    pkce,
    self_signed_tls,
    serving,
    token_request,
    tool,
)

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def metadata_server(host: str = "127.0.0.1", **tls: Any) -> AsyncIterator[tuple[str, list[str]]]:
    """Serves /good.json (max-age 60), /nostore.json, /wrong-id.json, /huge.json; yields (base URL, paths fetched).

    `host` is the name the documents' client_id URLs use (the server itself listens on 127.0.0.1)."""
    fetched: list[str] = []
    sock = bound_socket()
    base = f"{'https' if tls else 'http'}://{host}:{sock.getsockname()[1]}"

    def document(path: str, **extra: Any) -> dict[str, Any]:
        return {
            "client_id": f"{base}{path}",
            "client_name": "Metadata Document Client",
            "redirect_uris": [CLIENT_REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            **extra,
        }

    async def serve(request: Request) -> Response:
        path = request.url.path
        fetched.append(path)
        body: dict[str, Any]
        headers = {"Cache-Control": "max-age=60"}
        if path == "/nostore.json":
            body, headers = document(path), {"Cache-Control": "no-store"}
        elif path == "/wrong-id.json":
            body = document(path, client_id=f"{base}/good.json")
        elif path == "/huge.json":
            body = document(path, padding="x" * 20000)
        else:
            body = document(path)
        return Response(json.dumps(body), media_type="application/json", headers=headers)

    app = Starlette(routes=[Route("/{name}", serve)])
    async with serving(app, sock, lifespan="off", **tls):
        yield base, fetched


async def test_metadata_document_client_signs_in_and_calls_tools(tmp_path: Path) -> None:
    async with metadata_server() as (base, fetched), hosted_server(tmp_path) as hosted:
        client_id = f"{base}/good.json"
        verifier, challenge = pkce()
        code = await get_code(hosted, client_id, challenge, login_hint=1)
        form = {"client_id": client_id, "redirect_uri": CLIENT_REDIRECT}
        tokens = (
            await token_request(hosted, grant_type="authorization_code", code=code, code_verifier=verifier, **form)
        ).json()
        async with bearer_client(hosted.mcp_url, tokens["access_token"]) as client:
            me = await tool(client, "whoami")
        assert me["business"]["account_id"] == hosted.sandbox.identities[1].account_id
        refreshed = await token_request(
            hosted, grant_type="refresh_token", client_id=client_id, refresh_token=tokens["refresh_token"]
        )
        assert refreshed.status_code == 200, refreshed.text
        # A second sign-in uses the cached document (max-age=60): fetched once in all.
        await get_code(hosted, client_id, pkce()[1])
        assert fetched.count("/good.json") == 1

        # no-store: fetched again each time it is needed.
        await get_code(hosted, f"{base}/nostore.json", pkce()[1])
        await get_code(hosted, f"{base}/nostore.json", pkce()[1])
        assert fetched.count("/nostore.json") >= 2

        # Redirect URI not in the document; a document naming another client_id; an oversized one: refused.
        wrong_redirect = await hosted.browser.get(
            authorize_url(hosted, client_id, challenge, redirect_uri="http://127.0.0.1:9/other")
        )
        assert wrong_redirect.status_code == 400 and wrong_redirect.json()["error"] == "invalid_request"
        for bad in ("/wrong-id.json", "/huge.json"):
            refused = await hosted.browser.get(authorize_url(hosted, f"{base}{bad}", challenge))
            assert refused.status_code == 400, bad
            assert "not found" in refused.json()["error_description"]
        again = await hosted.browser.get(authorize_url(hosted, f"{base}/wrong-id.json", challenge))
        assert again.status_code == 400
        assert fetched.count("/wrong-id.json") == 1  # an unusable document is not fetched again at once


async def test_the_mcp_clients_own_oauth_with_a_metadata_document(tmp_path: Path) -> None:
    """The SDK client signs in with its HTTPS client_id URL (served on loopback with a throwaway certificate the
    server is told to trust; loopback addresses are allowed by the development setting)."""
    cert, key, trust = self_signed_tls(tmp_path)
    async with (
        metadata_server(ssl_certfile=str(cert), ssl_keyfile=str(key)) as (base, fetched),
        hosted_server(tmp_path, transport=httpx.AsyncHTTPTransport(verify=trust)) as hosted,
    ):
        user = SignedIn(hosted, login_hint=1, client_metadata_url=f"{base}/good.json")
        async with user.client() as client:
            me = await tool(client, "whoami")
        assert me["business"]["account_id"] == hosted.sandbox.identities[1].account_id
        assert user.storage.client_info is not None
        assert user.storage.client_info.client_id == f"{base}/good.json"  # no registration happened
        assert user.storage.client_info.client_secret is None
        assert fetched == ["/good.json"]
        assert [key async for key, _ in hosted.runtime.store.scan("client")] == []


async def test_http_metadata_urls_need_the_development_setting(tmp_path: Path) -> None:
    async with (
        metadata_server() as (base, fetched),
        hosted_server(tmp_path, FRESHBOOKS_MCP_DEV_ALLOW_HTTP_CIMD="0") as hosted,
    ):
        refused = await hosted.browser.get(authorize_url(hosted, f"{base}/good.json", pkce()[1]))
        assert refused.status_code == 400
        assert fetched == []  # never even fetched


async def test_metadata_urls_on_private_addresses_are_never_fetched(tmp_path: Path) -> None:
    async with hosted_server(tmp_path, FRESHBOOKS_MCP_DEV_ALLOW_HTTP_CIMD="0") as hosted:
        port = hosted.url.rsplit(":", 1)[1]
        for url in (
            f"https://127.0.0.1:{port}/client.json",
            "https://10.0.0.1/client.json",
            "https://localhost/c.json",
        ):
            refused = await hosted.browser.get(authorize_url(hosted, url, pkce()[1]))
            assert refused.status_code == 400, url
            assert "not found" in refused.json()["error_description"]


async def test_a_metadata_fetch_connects_to_the_address_it_checked_not_a_second_dns_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the client_id's host resolves to a public address when checked, then to 127.0.0.1.

    DNS is the outside service here, so it is the one thing replaced (socket.getaddrinfo, for one made-up
    name). The hosted server's HTTP transport plays the network: it records where each fetch connects and
    routes the public address to the loopback document server, whose certificate names the made-up host.
    """
    import socket

    name, public = "client.rebind.example", "93.184.215.14"
    real_getaddrinfo = socket.getaddrinfo
    answers: list[str] = []

    def rebinding_dns(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != name:
            return real_getaddrinfo(host, port, *args, **kwargs)
        answers.append(public if not answers else "127.0.0.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[-1], int(port)))]

    connected: list[tuple[str, str, str | None]] = []

    class Network(httpx.AsyncHTTPTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            connected.append((request.url.host, request.headers["host"], request.extensions.get("sni_hostname")))
            if request.url.host == public:  # the route to that public address ends at our loopback server
                request.url = request.url.copy_with(host="127.0.0.1")
            return await super().handle_async_request(request)

    cert, key, trust = self_signed_tls(tmp_path, name)
    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    async with (
        metadata_server(name, ssl_certfile=str(cert), ssl_keyfile=str(key)) as (base, fetched),
        hosted_server(tmp_path, transport=Network(verify=trust), FRESHBOOKS_MCP_DEV_ALLOW_HTTP_CIMD="0") as hosted,
    ):
        client_id = f"{base}/good.json"
        started = await hosted.browser.get(authorize_url(hosted, client_id, pkce()[1]), follow_redirects=False)
        port = base.rsplit(":", 1)[1]
        assert connected == [(public, f"{name}:{port}", name)]  # the checked address, the URL's name for TLS
        assert answers == [public]  # asked DNS once: the second (rebound) answer was never sought
        assert started.status_code == 302, started.text  # on to FreshBooks' sign-in: the document was usable
        assert fetched == ["/good.json"]
