"""The hosted HTTP app: the SDK's authorization server routes and bearer middleware around `/mcp`.

`HostedRuntime` holds what the hosted mode shares between the authorization server and the tools:
the store, the key ring, the provider and the per-user FreshBooks clients. `build_oauth_app` wires
them into the SDK's streamable HTTP app, with two changes to the SDK's defaults: the authorization
server metadata also says ``client_id_metadata_document_supported: true``, and `/mcp` is rate
limited per user.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import httpx
from mcp.server.auth.provider import ProviderTokenVerifier
from mcp.server.auth.routes import build_metadata, cors_middleware
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions, RevocationOptions
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcp_server_freshbooks.config import ConfigError, Settings

from .books import UserBooks
from .crypto import KEY_ENV, Sealer
from .oauth import SCOPE, HostedAuthProvider, Lifetimes
from .store import Store

if TYPE_CHECKING:
    from mcp.server import MCPServer

log = logging.getLogger(__name__)

STORE_FILE = "hosted.sqlite3"


def open_store(url: str | None, config_dir: Path) -> Store:
    """`FRESHBOOKS_MCP_STORE`: unset -> SQLite in the config folder; ``sqlite:///path``; ``redis://...``."""
    from .sqlite_store import SQLiteStore

    if not url:
        return SQLiteStore(config_dir / STORE_FILE)
    if url.startswith("sqlite://"):
        return SQLiteStore.from_url(url)
    if url.startswith(("redis://", "rediss://", "unix://")):
        try:
            from .redis_store import RedisStore  # type: ignore[import-not-found,unused-ignore]
        except ImportError as exc:
            raise ConfigError(
                f"FRESHBOOKS_MCP_STORE={urlparse(url).scheme}://... needs the redis store: "
                f"pip install 'mcp-server-freshbooks[hosted]' ({exc})"
            ) from None
        store: Store = RedisStore.from_url(url)
        return store
    raise ConfigError("FRESHBOOKS_MCP_STORE must be sqlite:///path/to/file or redis://host:port/db")


class HostedRuntime:
    """Store, keys, authorization server and per-user clients of one hosted server process."""

    def __init__(
        self,
        settings: Settings,
        *,
        public_url: str,
        store: Store | None = None,
        lifetimes: Lifetimes | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not settings.client_id or settings.client_secret is None:
            raise ConfigError(
                "--auth oauth signs users in with FreshBooks: set FRESHBOOKS_CLIENT_ID and FRESHBOOKS_CLIENT_SECRET "
                f"(your FreshBooks app, redirect URI {public_url.rstrip('/')}/oauth/freshbooks/callback)"
            )
        key = settings.mcp_secret_key.get_secret_value() if settings.mcp_secret_key else ""
        self.settings = settings
        self.sealer = Sealer(key)
        self.store = store or open_store(settings.mcp_store, settings.token_file.parent)
        self.public_url = public_url.rstrip("/")
        http = httpx.AsyncClient(
            transport=transport, timeout=httpx.Timeout(settings.request_timeout, connect=5.0), follow_redirects=False
        )
        self.provider = HostedAuthProvider(
            self.store,
            self.sealer,
            settings,
            public_url=self.public_url,
            allow_http_cimd=settings.mcp_dev_allow_http_cimd,
            lifetimes=lifetimes,
            http=http,
        )
        self.books = UserBooks(self.store, self.sealer, settings, transport=transport)

    def __repr__(self) -> str:
        return f"HostedRuntime({self.public_url!r}, {self.store!r})"

    @classmethod
    def from_settings(cls, settings: Settings, *, host: str, port: int) -> HostedRuntime:
        shown = f"[{host}]" if ":" in host else host
        public = settings.mcp_public_url or f"http://{shown}:{port}"
        if not settings.mcp_secret_key:
            raise ConfigError(f"{KEY_ENV} is required for --auth oauth (it encrypts FreshBooks tokens at rest)")
        return cls(settings, public_url=public)

    async def aclose(self) -> None:
        await self.books.aclose()
        await self.provider.http.aclose()
        await self.store.aclose()


class RateLimit:
    """Per-user fixed-window limit on `/mcp` requests (per replica). 429 with Retry-After beyond it."""

    def __init__(self, app: ASGIApp, per_minute: int) -> None:
        self.app = app
        self.per_minute = per_minute
        self._windows: dict[str, tuple[int, int]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("user")
        token = getattr(user, "access_token", None)
        subject = getattr(token, "subject", None)
        if scope["type"] == "http" and subject and self.per_minute > 0 and scope.get("method") == "POST":
            window = int(time.time() // 60)
            start, count = self._windows.get(subject, (window, 0))
            if start != window:
                start, count = window, 0
            count += 1
            self._windows[subject] = (start, count)
            if len(self._windows) > 10000:
                self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
            if count > self.per_minute:
                retry = str(60 - int(time.time() % 60))
                body = json.dumps({"error": "rate_limited", "error_description": "too many requests; slow down"})
                response = Response(body, 429, {"Retry-After": retry}, media_type="application/json")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class PublicClientRevocation:
    """The SDK's revocation request model requires a ``client_secret`` field even from public clients
    (``token_endpoint_auth_method: none``, which send none, RFC 7009 2.1): add an empty one when absent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or [])
        form = b"application/x-www-form-urlencoded" in headers.get(b"content-type", b"")
        if scope["type"] != "http" or scope.get("method") != "POST" or not form:
            await self.app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += bytes(message.get("body", b""))
            if not message.get("more_body"):
                break
        if not any(part.split(b"=", 1)[0] == b"client_secret" for part in body.split(b"&")):
            body += b"&client_secret=" if body else b"client_secret="
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        scope = {
            **scope,
            "headers": [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
            + [(b"content-length", str(len(body)).encode())],
        }
        await self.app(scope, replay, send)


def _security(public_url: str, host: str) -> TransportSecuritySettings:
    from mcp_server_freshbooks.http_transport import is_loopback, loopback_security

    public_host = urlparse(public_url).hostname or ""
    if is_loopback(public_host) and is_loopback(host):
        return loopback_security()
    # Behind a proxy on a public name: bearer tokens, not the Host header, protect /mcp.
    return TransportSecuritySettings(enable_dns_rebinding_protection=False)


def build_oauth_app(server: MCPServer[Any], runtime: HostedRuntime, *, host: str, stateless: bool) -> ASGIApp:
    provider = runtime.provider
    # From strings, so a path-less issuer keeps its exact spelling (no trailing slash; RFC 8414 compares exactly).
    auth = AuthSettings.model_validate(
        {
            "issuer_url": runtime.public_url,
            "resource_server_url": provider.resource_url,
            "required_scopes": [SCOPE],
            "validate_token_resource": True,
            "client_registration_options": ClientRegistrationOptions(
                enabled=True, valid_scopes=[SCOPE], default_scopes=[SCOPE]
            ),
            "revocation_options": RevocationOptions(enabled=True),
        }
    )
    app = server._lowlevel_server.streamable_http_app(
        streamable_http_path="/mcp",
        stateless_http=stateless,
        transport_security=_security(runtime.public_url, host),
        host=host,
        auth=auth,
        token_verifier=ProviderTokenVerifier(provider),  # type: ignore[arg-type]  # its own token classes
        auth_server_provider=provider,
        custom_starlette_routes=provider.routes(),
    )
    metadata = build_metadata(
        auth.issuer_url,
        None,
        auth.client_registration_options or ClientRegistrationOptions(),
        auth.revocation_options or RevocationOptions(),
    )
    metadata.client_id_metadata_document_supported = True
    # Public clients (metadata documents, native apps) authenticate with PKCE alone.
    metadata.token_endpoint_auth_methods_supported = ["none", "client_secret_post", "client_secret_basic"]
    metadata.revocation_endpoint_auth_methods_supported = ["none", "client_secret_post", "client_secret_basic"]
    body = metadata.model_dump(mode="json", exclude_none=True)

    async def as_metadata(_: Request) -> Response:
        return JSONResponse(body, headers={"Cache-Control": "public, max-age=3600"})

    for i, route in enumerate(app.router.routes):
        if isinstance(route, Route) and route.path == "/.well-known/oauth-authorization-server":
            app.router.routes[i] = Route(
                route.path, endpoint=cors_middleware(as_metadata, ["GET", "OPTIONS"]), methods=["GET", "OPTIONS"]
            )
        elif isinstance(route, Route) and route.path == "/mcp":
            route.app = RateLimit(route.app, runtime.settings.mcp_rate_limit)
        elif isinstance(route, Route) and route.path == "/revoke":
            route.app = PublicClientRevocation(route.app)
    log.debug("hosted app at %s (stateless=%s, store=%r)", runtime.public_url, stateless, runtime.store)
    return app
