"""Streamable HTTP transport at `/mcp`, behind a bearer token.

* Loopback by default, with DNS-rebinding protection (Host and Origin must be loopback).
* Every HTTP request must carry `Authorization: Bearer <token>`; the token is compared in constant time
  in an ASGI middleware that sits in front of the MCP app, so a request without it gets 401 (with
  `WWW-Authenticate: Bearer`) and never reaches a tool.
* The token is `FRESHBOOKS_MCP_HTTP_TOKEN`, at least 32 characters. On loopback, if it is unset, a random
  one is generated and printed once to stderr. Binding any other address without a token is refused.
* `stateless=True` -> `stateless_http=True`: no session state, so replicas behind any load balancer work.
* `auth="oauth"` (hosting for a team, issue #18) replaces the shared token by the MCP authorization flow
  with FreshBooks as the sign-in: see `hosting/__init__.py` and `hosting/app.py`.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import secrets
import sys
from typing import TYPE_CHECKING, Any

from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_server_freshbooks.config import ConfigError, Settings

if TYPE_CHECKING:
    from mcp.server import MCPServer

logger = logging.getLogger(__name__)

MCP_PATH = "/mcp"
REALM = "mcp-server-freshbooks"


class HttpTransportError(ConfigError):
    """The HTTP transport cannot start as configured (the message says how to fix it).

    A `ConfigError`, so the CLI reports it in one line and exits 2.
    """


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def loopback_security() -> TransportSecuritySettings:
    """DNS-rebinding protection: only loopback Host and Origin headers (any port)."""
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=["127.0.0.1", "127.0.0.1:*", "localhost", "localhost:*", "[::1]", "[::1]:*"],
        allowed_origins=[
            "http://127.0.0.1",
            "http://127.0.0.1:*",
            "http://localhost",
            "http://localhost:*",
            "http://[::1]",
            "http://[::1]:*",
        ],
    )


class BearerTokenMiddleware:
    """Pure ASGI middleware: every HTTP request needs `Authorization: Bearer <token>` (constant-time check).

    Lifespan events pass through untouched so the MCP session manager starts and stops normally.
    """

    def __init__(self, app: ASGIApp, token: str) -> None:
        if not token:
            raise ValueError("a non-empty token is required")
        self.app = app
        self._expected = token.encode("utf-8")

    def __repr__(self) -> str:
        return "BearerTokenMiddleware(token=<redacted>)"

    def _authorized(self, scope: Scope) -> bool:
        header = b""
        for name, value in scope.get("headers") or []:
            if name.lower() == b"authorization":
                header = value
                break
        scheme, _, presented = header.partition(b" ")
        if scheme.lower() != b"bearer":
            presented = b""
        # compare_digest on bytes of any length; always run it so timing does not reveal the branch
        return hmac.compare_digest(presented.strip(), self._expected) and bool(presented)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._authorized(scope):
            await self.app(scope, receive, send)
            return
        has_header = any(name.lower() == b"authorization" for name, _ in scope.get("headers") or [])
        challenge = f'Bearer realm="{REALM}"' + (', error="invalid_token"' if has_header else "")
        body = json.dumps(
            {
                "error": "invalid_token" if has_header else "unauthorized",
                "error_description": "Send `Authorization: Bearer <FRESHBOOKS_MCP_HTTP_TOKEN>`.",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", challenge.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


MIN_TOKEN_LENGTH = 32
GENERATE_HINT = 'generate one with: python -c "import secrets; print(secrets.token_urlsafe(32))"'


def check_token_length(token: str) -> None:
    """Refuse a guessable bearer token: whoever reaches the port can try tokens (token_urlsafe(32) is 43 chars)."""
    if len(token) < MIN_TOKEN_LENGTH:
        raise HttpTransportError(
            f"FRESHBOOKS_MCP_HTTP_TOKEN is too short ({len(token)} characters; at least {MIN_TOKEN_LENGTH}): "
            f"{GENERATE_HINT}"
        )


def resolve_token(settings: Settings, host: str) -> tuple[str, bool]:
    """The bearer token to require and whether it was generated for this run.

    Refuses a non-loopback bind without `FRESHBOOKS_MCP_HTTP_TOKEN`, and a token under 32 characters.
    """
    if settings.mcp_http_token is not None:
        token = settings.mcp_http_token.get_secret_value()
        check_token_length(token)
        return token, False
    if not is_loopback(host):
        raise HttpTransportError(
            f"Refusing to serve MCP over HTTP on {host} (not loopback) without a token: set "
            f"FRESHBOOKS_MCP_HTTP_TOKEN to a long random secret ({GENERATE_HINT}), or bind 127.0.0.1."
        )
    return secrets.token_urlsafe(32), True


def build_http_app(
    server: MCPServer,
    settings: Settings,
    *,
    host: str,
    port: int,
    stateless: bool,
    token: str | None,
) -> ASGIApp:
    """The ASGI app: bearer-token middleware around the SDK's streamable HTTP app at `/mcp`.

    `token` is required on a non-loopback host (HttpTransportError otherwise); tests pass one explicitly.
    `port` is informational (the bind happens in `run_http`).
    """
    if not token:
        if not is_loopback(host):
            raise HttpTransportError(
                f"Refusing to serve MCP over HTTP on {host} (not loopback) without a bearer token; "
                "set FRESHBOOKS_MCP_HTTP_TOKEN."
            )
        raise HttpTransportError("A bearer token is required for the HTTP transport.")
    check_token_length(token)
    security = (
        loopback_security() if is_loopback(host) else TransportSecuritySettings(enable_dns_rebinding_protection=False)
    )
    inner = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=stateless,
        transport_security=security,
        host=host,
    )
    logger.debug("HTTP app for %s:%s (stateless=%s, read_only=%s)", host, port, stateless, settings.read_only)
    return BearerTokenMiddleware(inner, token)


def _uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's logs to stderr only (its default sends access logs to stdout), at our root log level."""
    level = logging.getLevelName(logging.getLogger().getEffectiveLevel())
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": {"format": "%(levelname)s %(name)s: %(message)s"}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "default", "stream": "ext://sys.stderr"}
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        },
    }


def run_oauth_http(settings: Settings, *, host: str, port: int, stateless: bool, demo: bool = False) -> None:
    """Serve the hosted (multi-user, MCP-authorization) server until interrupted."""
    import uvicorn

    try:
        import cryptography  # noqa: F401
    except ImportError:
        raise HttpTransportError(
            "--auth oauth encrypts FreshBooks tokens with `cryptography`: pip install 'mcp-server-freshbooks[hosted]'"
        ) from None
    from .hosting.app import HostedRuntime, build_oauth_app
    from .server import build_server

    if demo:
        raise HttpTransportError("--demo serves the embedded sandbox's one user; it cannot be used with --auth oauth")
    runtime = HostedRuntime.from_settings(settings, host=host, port=port)
    server = build_server(settings, hosted=runtime)
    app = build_oauth_app(server, runtime, host=host, stateless=stateless)
    sys.stderr.write(
        f"Serving MCP for a team at {runtime.provider.resource_url} (bound to {host}:{port}, stateless={stateless}, "
        f"store={runtime.store!r}); FreshBooks redirect URI: {runtime.provider.callback_url}\n"
    )
    sys.stderr.flush()
    config = uvicorn.Config(
        app, host=host, port=port, log_config=_uvicorn_log_config(), access_log=False, proxy_headers=True
    )
    uvicorn.Server(config).run()


def run_http(server: MCPServer, settings: Settings, *, host: str, port: int, stateless: bool) -> None:
    """Serve `server` over streamable HTTP until interrupted. Raises HttpTransportError on unsafe config."""
    import uvicorn

    token, generated = resolve_token(settings, host)
    app = build_http_app(server, settings, host=host, port=port, stateless=stateless, token=token)
    if generated:
        sys.stderr.write(
            "FRESHBOOKS_MCP_HTTP_TOKEN is not set; this run requires the bearer token below "
            "(set FRESHBOOKS_MCP_HTTP_TOKEN to choose your own):\n"
            f"  Authorization: Bearer {token}\n"
        )
        sys.stderr.flush()
    shown = f"[{host}]" if ":" in host else host
    sys.stderr.write(f"Serving MCP over streamable HTTP at http://{shown}:{port}{MCP_PATH} (stateless={stateless})\n")
    sys.stderr.flush()
    config = uvicorn.Config(app, host=host, port=port, log_config=_uvicorn_log_config(), access_log=False)
    uvicorn.Server(config).run()
