"""Hosting tests: store factories (extend STORE_FACTORIES to run the contract on another store)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from mcp_server_freshbooks.hosting.sqlite_store import SQLiteStore
from mcp_server_freshbooks.hosting.store import Store

StoreFactory = Callable[[Path], Awaitable[Store]]


async def _sqlite(tmp_path: Path) -> Store:
    return SQLiteStore(tmp_path / "hosted.sqlite3")


# name -> async factory(tmp_path) -> Store. The Redis helper appends ("redis", factory) when a redis-server
# can be started; the contract test is parametrized over this list.
STORE_FACTORIES: list[tuple[str, StoreFactory]] = [("sqlite", _sqlite)]

try:  # the Redis store's fixtures (tests/hosting/conftest_redis.py, with the redis package)
    from .conftest_redis import redis_store_factory
except ImportError:  # pragma: no cover - without the [hosted] extra or before the Redis store exists
    pass
else:
    STORE_FACTORIES.append(("redis", redis_store_factory))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=[name for name, _ in STORE_FACTORIES])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    factory = dict(STORE_FACTORIES)[request.param]
    made = await factory(tmp_path)
    try:
        yield made
    finally:
        await made.aclose()


# ---------------------------------------------------------------------------------------------- hosted server


import asyncio  # noqa: E402
import ipaddress  # noqa: E402
import socket  # noqa: E402
import ssl  # noqa: E402
from contextlib import asynccontextmanager  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import parse_qs, urlparse  # noqa: E402

import httpx  # noqa: E402
import httpx2  # noqa: E402
import uvicorn  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402
from mcp import Client  # noqa: E402
from mcp.client.auth import OAuthClientProvider  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken  # noqa: E402
from pydantic import AnyUrl  # noqa: E402
from starlette.types import ASGIApp  # noqa: E402

from mcp_server_freshbooks.config import Settings, load_settings  # noqa: E402
from mcp_server_freshbooks.hosting.app import HostedRuntime, build_oauth_app  # noqa: E402
from mcp_server_freshbooks.hosting.browser import sign_in  # noqa: E402
from mcp_server_freshbooks.hosting.oauth import Lifetimes  # noqa: E402
from mcp_server_freshbooks.sandbox import SandboxOptions  # noqa: E402
from mcp_server_freshbooks.sandbox.multi import MultiSandbox  # noqa: E402
from mcp_server_freshbooks.server import build_server  # noqa: E402

CLIENT_REDIRECT = "http://127.0.0.1:9/callback"  # the MCP client's redirect URI: never served, only read


def bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def serving(app: ASGIApp, sock: socket.socket, *, lifespan: str = "on", **config: Any) -> AsyncIterator[str]:
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan=lifespan, access_log=False, **config))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(1000):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        assert server.started, "uvicorn did not start"
        yield f"{'https' if config.get('ssl_certfile') else 'http'}://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@dataclass
class Hosted:
    url: str  # the server's public URL (the MCP endpoint is url + "/mcp")
    sandbox: MultiSandbox
    sandbox_url: str
    runtime: HostedRuntime
    settings: Settings
    browser: httpx2.AsyncClient  # the user's browser and hand-made requests: httpx2, so its logs are apart

    @property
    def mcp_url(self) -> str:
        return self.url + "/mcp"


def hosted_settings(sandbox_url: str, public_url: str, tmp_path: Path, **extra: str) -> Settings:
    env = {
        "FRESHBOOKS_CLIENT_ID": "sandbox-client-id",
        "FRESHBOOKS_CLIENT_SECRET": "sandbox-client-secret",
        "FRESHBOOKS_API_URL": sandbox_url,
        "FRESHBOOKS_AUTH_URL": sandbox_url,
        "FRESHBOOKS_MCP_PUBLIC_URL": public_url,
        "FRESHBOOKS_MCP_SECRET_KEY": Fernet.generate_key().decode(),
        "FRESHBOOKS_MCP_DEV_ALLOW_HTTP_CIMD": "1",
        "FRESHBOOKS_TOKEN_FILE": str(tmp_path / "tokens.json"),
        "FRESHBOOKS_CONFIRM_WRITES": "never",
        "FRESHBOOKS_TOOLSETS": "all",
        **extra,
    }
    return load_settings(env, use_dotenv=False)


@asynccontextmanager
async def hosted_server(
    tmp_path: Path,
    *,
    stateless: bool = True,
    lifetimes: Lifetimes | None = None,
    sandbox_options: SandboxOptions | None = None,
    store: Store | None = None,
    second_business: bool = False,
    transport: httpx.AsyncBaseTransport | None = None,
    **extra: str,
) -> AsyncIterator[Hosted]:
    sb_sock, mcp_sock = bound_socket(), bound_socket()
    sandbox_url = f"http://127.0.0.1:{sb_sock.getsockname()[1]}"
    public = f"http://127.0.0.1:{mcp_sock.getsockname()[1]}"
    options = sandbox_options or SandboxOptions(clients=12, invoices=30, expenses=10)
    sandbox = MultiSandbox(
        options, 2, redirect_uri=f"{public}/oauth/freshbooks/callback", second_business=second_business
    )
    settings = hosted_settings(sandbox_url, public, tmp_path, **extra)
    from mcp_server_freshbooks.hosting.sqlite_store import SQLiteStore

    runtime = HostedRuntime(
        settings,
        public_url=public,
        store=store or SQLiteStore(tmp_path / "hosted.sqlite3"),
        lifetimes=lifetimes,
        transport=transport,
    )
    app = build_oauth_app(build_server(settings, hosted=runtime), runtime, host="127.0.0.1", stateless=stateless)
    async with (
        serving(sandbox.app, sb_sock, lifespan="off") as sb_url,
        serving(app, mcp_sock) as url,
        httpx2.AsyncClient(timeout=10.0) as browser,
    ):
        yield Hosted(url, sandbox, sb_url, runtime, settings, browser)


class MemoryTokens:
    """The MCP client's token storage (in memory)."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


@dataclass
class SignedIn:
    """One MCP client driven by the SDK's own OAuth support; `.client()` opens a session."""

    hosted: Hosted
    login_hint: int
    storage: MemoryTokens = field(default_factory=MemoryTokens)
    redirects: list[str] = field(default_factory=list)
    business: str | None = None
    client_metadata_url: str | None = None  # sign in with a client ID metadata document instead of DCR

    def provider(self) -> OAuthClientProvider:
        async def redirect_handler(url: str) -> None:
            self.redirects.append(
                await sign_in(
                    self.hosted.browser,
                    url,
                    redirect_uri=CLIENT_REDIRECT,
                    login_hint=self.login_hint,
                    business=self.business,
                )
            )

        async def callback_handler() -> AuthorizationCodeResult:
            query = parse_qs(urlparse(self.redirects[-1]).query)
            if "code" not in query:
                raise RuntimeError(f"sign-in refused: {query}")
            return AuthorizationCodeResult(code=query["code"][0], state=query.get("state", [None])[0])

        return OAuthClientProvider(
            self.hosted.mcp_url,
            OAuthClientMetadata(
                client_name=f"test client {self.login_hint}",
                redirect_uris=[AnyUrl(CLIENT_REDIRECT)],
                grant_types=["authorization_code", "refresh_token"],
                response_types=["code"],
            ),
            self.storage,
            redirect_handler=redirect_handler,
            callback_handler=callback_handler,
            client_metadata_url=self.client_metadata_url,
        )

    def client(self) -> Client:
        http = httpx2.AsyncClient(auth=self.provider(), timeout=httpx2.Timeout(20.0))
        return Client(streamable_http_client(self.hosted.mcp_url, http_client=http))


def bearer_client(mcp_url: str, token: str) -> Client:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=httpx2.Timeout(20.0))
    return Client(streamable_http_client(mcp_url, http_client=http))


async def tool(client: Client, name: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    result = await client.call_tool(name, arguments or {})
    text = " ".join(getattr(c, "text", "") for c in result.content)
    assert not result.is_error, text
    assert isinstance(result.structured_content, dict)
    return result.structured_content


# ---------------------------------------------------------------------------------------------- by hand


def pkce() -> tuple[str, str]:
    import base64
    import hashlib
    import secrets

    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


async def register(hosted: Hosted, **metadata: Any) -> dict[str, Any]:
    body = {"redirect_uris": [CLIENT_REDIRECT], "client_name": "by hand", "token_endpoint_auth_method": "none"}
    response = await hosted.browser.post(f"{hosted.url}/register", json={**body, **metadata})
    assert response.status_code == 201, response.text
    registered: dict[str, Any] = response.json()
    return registered


def authorize_url(hosted: Hosted, client_id: str, challenge: str | None, **params: str) -> str:
    from urllib.parse import urlencode

    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CLIENT_REDIRECT,
        "state": "client-state",
        "resource": hosted.mcp_url,
        **({"code_challenge": challenge, "code_challenge_method": "S256"} if challenge else {}),
        **params,
    }
    return f"{hosted.url}/authorize?{urlencode(query)}"


async def get_code(hosted: Hosted, client_id: str, challenge: str, login_hint: int = 0) -> str:
    final = await sign_in(
        hosted.browser, authorize_url(hosted, client_id, challenge), redirect_uri=CLIENT_REDIRECT, login_hint=login_hint
    )
    query = parse_qs(urlparse(final).query)
    assert query.get("state") == ["client-state"], final
    return query["code"][0]


async def token_request(hosted: Hosted, **form: str) -> httpx2.Response:
    return await hosted.browser.post(f"{hosted.url}/token", data=form)


async def signed_in_tokens(hosted: Hosted, client_id: str) -> dict[str, Any]:
    """Sign in through the browser flow with PKCE and exchange the code: the token response."""
    verifier, challenge = pkce()
    code = await get_code(hosted, client_id, challenge)
    form = {"client_id": client_id, "redirect_uri": CLIENT_REDIRECT, "code": code, "code_verifier": verifier}
    answer = await token_request(hosted, grant_type="authorization_code", **form)
    assert answer.status_code == 200, answer.text
    tokens: dict[str, Any] = answer.json()
    return tokens


def self_signed_tls(folder: Path, *dns_names: str) -> tuple[Path, Path, ssl.SSLContext]:
    """A certificate for 127.0.0.1 and `dns_names` (cert file, key file, and a client context trusting only it)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), *(x509.DNSName(n) for n in dns_names)]
            ),
            False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.create_default_context(cafile=str(cert_file))
    return cert_file, key_file, context
