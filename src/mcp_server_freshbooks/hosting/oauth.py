"""The MCP authorization server, with FreshBooks as the sign-in (issue #18).

`HostedAuthProvider` implements the SDK's `OAuthAuthorizationServerProvider` on a `Store`, so any
replica can answer any step:

- clients: Client ID Metadata Documents (an HTTPS ``client_id`` URL, fetched with size and time
  limits, cached per its ``Cache-Control``) and, as the fallback, dynamic registration (RFC 7591);
- ``/authorize`` keeps the request as a *pending* record and sends the browser to FreshBooks'
  authorize page with the pending record's id as ``state``;
- ``/oauth/freshbooks/callback`` exchanges FreshBooks' code, reads ``/users/me``, keeps the FreshBooks
  tokens encrypted, and shows the consent page (which app, which business); allowing it issues the
  MCP authorization code and sends the browser back to the MCP client;
- codes, access and refresh tokens are 256-bit random strings, stored only as SHA-256 hashes, bound to
  this server's resource URL; refresh tokens rotate, and presenting a used one revokes its family
  (every token descended from the same sign-in), as OAuth 2.0 Security BCP 4.14.2 recommends; a reused
  authorization code does the same (RFC 6749 4.1.2).
"""

from __future__ import annotations

import html
import logging
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlparse

import httpx
from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    AuthorizeError,
    OAuthAuthorizationServerProvider,
    RefreshToken,
    RegistrationError,
    TokenError,
    construct_redirect_uri,
)
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from pydantic import AnyUrl, SecretStr, ValidationError
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from mcp_server_freshbooks.config import Settings
from mcp_server_freshbooks.freshbooks.auth import AUTHORIZE_PATH, ME_PATH, TokenSet, exchange_code
from mcp_server_freshbooks.freshbooks.errors import FreshBooksError
from mcp_server_freshbooks.freshbooks.identity import parse_identity

from .crypto import Sealer, token_hash
from .store import Record, Store

log = logging.getLogger(__name__)

SCOPE = "freshbooks"
CALLBACK_PATH = "/oauth/freshbooks/callback"
CONSENT_PATH = "/oauth/freshbooks/consent"
REVOKED = "revoked_family"  # store kind: families revoked, kept as long as a refresh token lives
CIMD_MAX_BYTES = 5 * 1024  # the draft suggests clients keep documents small; 5 KiB is generous
CIMD_TIMEOUT = 5.0
CIMD_DEFAULT_TTL = 300  # no Cache-Control max-age: keep it five minutes
CIMD_MAX_TTL = 86400
CIMD_RETRY_AFTER = 60  # an unusable document is not fetched again for this long


@dataclass(frozen=True)
class Lifetimes:
    code: int = 300
    access: int = 3600
    refresh: int = 30 * 86400
    pending: int = 600  # the user's time at FreshBooks' sign-in and on the consent page


class HostedAuthProvider(OAuthAuthorizationServerProvider["_Code", "_Refresh", "_Access"]):
    """`OAuthAuthorizationServerProvider` whose state is all in `store` (replicas share nothing else)."""

    def __init__(
        self,
        store: Store,
        sealer: Sealer,
        settings: Settings,
        *,
        public_url: str,
        allow_http_cimd: bool = False,
        lifetimes: Lifetimes | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.store = store
        self.sealer = sealer
        self.settings = settings
        self.public_url = public_url.rstrip("/")
        self.resource_url = self.public_url + "/mcp"
        self.callback_url = self.public_url + CALLBACK_PATH
        self.allow_http_cimd = allow_http_cimd
        self.lifetimes = lifetimes or Lifetimes()
        self.http = http or httpx.AsyncClient(timeout=httpx.Timeout(15.0, connect=5.0), follow_redirects=False)

    def __repr__(self) -> str:
        return f"HostedAuthProvider({self.public_url!r})"

    # ------------------------------------------------------------------ clients

    def is_metadata_url(self, client_id: str) -> bool:
        parsed = urlparse(client_id)
        if parsed.scheme == "https" and parsed.hostname and parsed.path not in ("", "/"):
            return True
        return (
            self.allow_http_cimd
            and parsed.scheme == "http"
            and parsed.hostname in ("127.0.0.1", "localhost", "::1")
            and parsed.path not in ("", "/")
        )

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        if self.is_metadata_url(client_id):
            return await self._metadata_client(client_id)
        record = await self.store.get("client", client_id)
        if record is None:
            return None
        info = dict(record["info"])
        if record.get("sealed_secret"):
            try:
                info["client_secret"] = self.sealer.open(record["sealed_secret"])
            except ValueError as exc:  # its key was removed from FRESHBOOKS_MCP_SECRET_KEY: register again
                log.warning("client %s: %s", client_id, exc)
                return None
        return OAuthClientInformationFull.model_validate(info)

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        for uri in client_info.redirect_uris or []:
            _check_redirect_uri(str(uri))
        info = client_info.model_dump(mode="json", exclude_none=True, exclude={"client_secret"})
        record: Record = {"info": info, "registered": int(time.time())}
        if client_info.client_secret:
            record["sealed_secret"] = self.sealer.seal(client_info.client_secret)
        await self.store.put("client", client_info.client_id, record)
        log.info("registered client %s (%s)", client_info.client_id, client_info.client_name or "unnamed")

    async def _metadata_client(self, url: str) -> OAuthClientInformationFull | None:
        cached = await self.store.get("cimd", url)
        if cached is not None and cached.get("unusable"):
            return None  # refused a minute ago: do not fetch it again for every request naming it
        document = cached["document"] if cached else await self._fetch_metadata(url)
        if document is None:
            await self.store.put("cimd", url, {"unusable": True}, ttl=CIMD_RETRY_AFTER)
            return None
        try:
            return OAuthClientInformationFull.model_validate(
                {
                    "client_id": url,
                    "client_name": document.get("client_name"),
                    "client_uri": document.get("client_uri"),
                    "redirect_uris": document["redirect_uris"],
                    "grant_types": ["authorization_code", "refresh_token"],
                    "response_types": ["code"],
                    "token_endpoint_auth_method": "none",
                    "scope": SCOPE,
                }
            )
        except (ValidationError, KeyError):
            return None

    async def _fetch_metadata(self, url: str) -> Record | None:
        """Fetch and check a client ID metadata document; None when it is unusable (logged why)."""
        target, headers, extensions = httpx.URL(url), {"Accept": "application/json"}, {}
        if not self.allow_http_cimd:
            # Anyone can name a URL as client_id: never let that make this server fetch inside its network.
            address = await _public_address(url)
            if address is None:
                log.warning("client metadata %s: refused, the host is not a public address", url)
                return None
            # Connect to the address just checked, not to a second DNS answer (DNS rebinding); the Host
            # header and TLS (SNI and certificate check) still use the URL's name.
            headers["Host"] = target.netloc.decode("ascii")
            extensions["sni_hostname"] = target.host
            target = target.copy_with(host=address)
        try:
            async with self.http.stream(
                "GET", target, headers=headers, extensions=extensions, timeout=CIMD_TIMEOUT
            ) as response:
                if response.status_code != 200:
                    log.warning("client metadata %s: HTTP %s", url, response.status_code)
                    return None
                body = b""
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > CIMD_MAX_BYTES:
                        log.warning("client metadata %s: larger than %d bytes", url, CIMD_MAX_BYTES)
                        return None
                cache_control = response.headers.get("cache-control", "")
        except httpx.HTTPError as exc:
            log.warning("client metadata %s: %s", url, type(exc).__name__)
            return None
        import json

        try:
            document = json.loads(body)
        except ValueError:
            log.warning("client metadata %s: not JSON", url)
            return None
        problem = _metadata_problem(document, url)
        if problem:
            log.warning("client metadata %s: %s", url, problem)
            return None
        ttl = _cache_ttl(cache_control)
        if ttl > 0:
            await self.store.put("cimd", url, {"document": document}, ttl=ttl)
        return dict(document)

    # ------------------------------------------------------------------ authorize -> FreshBooks

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        if params.resource is not None and not _same_resource(params.resource, self.resource_url):
            raise AuthorizeError("invalid_target", f"this server's resource is {self.resource_url}")
        pending_id = secrets.token_urlsafe(32)
        await self.store.put(
            "pending",
            token_hash(pending_id),
            {
                "client_id": client.client_id,
                "client_name": client.client_name or client.client_id,
                "redirect_uri": str(params.redirect_uri),
                "explicit": params.redirect_uri_provided_explicitly,
                "code_challenge": params.code_challenge,
                "state": params.state,
                "scopes": params.scopes or [SCOPE],
                "resource": self.resource_url,
            },
            ttl=self.lifetimes.pending,
        )
        query = {
            "client_id": self.settings.client_id or "",
            "response_type": "code",
            "redirect_uri": self.callback_url,
            "state": pending_id,
        }
        return f"{self.settings.auth_url}{AUTHORIZE_PATH}?{urlencode(query)}"

    async def freshbooks_callback(self, request: Request) -> Response:
        """FreshBooks sends the browser here after sign-in: keep its tokens, then ask for consent."""
        q = request.query_params
        pending_id = q.get("state") or ""
        pending = await self.store.take("pending", token_hash(pending_id)) if pending_id else None
        if pending is None:
            return _page(
                "Sign-in expired", "This sign-in link expired or was already used. Start again from your app.", 400
            )
        if q.get("error") or not q.get("code"):
            return _back_to_client(pending, error="access_denied", description="FreshBooks sign-in was not completed")
        try:
            tokens = await exchange_code(self.http, self.settings, q["code"], redirect_uri=self.callback_url)
            me = await self.http.get(
                f"{self.settings.api_url}{ME_PATH}",
                headers={
                    "Authorization": f"Bearer {tokens.access_token.get_secret_value()}",
                    "Accept": "application/json",
                },
            )
            me.raise_for_status()
            identity = parse_identity(me.json())
        except (FreshBooksError, httpx.HTTPError, ValueError) as exc:
            log.warning("FreshBooks sign-in failed: %s", type(exc).__name__)
            return _back_to_client(pending, error="server_error", description="FreshBooks sign-in failed")
        books = [b for b in identity.businesses if b.account_id]
        if not books:
            return _page(
                "No books",
                "This FreshBooks user has no business with accounting books (a client-only membership cannot be used).",
                403,
            )
        subject = str(identity.identity_id)
        await self._save_freshbooks_tokens(subject, tokens)
        await self.store.put(
            "user",
            subject,
            {
                "identity_id": identity.identity_id,
                "name": identity.full_name,
                "email": identity.email,
                "businesses": [{"id": b.business_id, "name": b.name, "account_id": b.account_id} for b in books],
                "signed_in": int(time.time()),
            },
        )
        consent_id = secrets.token_urlsafe(32)
        await self.store.put(
            "consent",
            token_hash(consent_id),
            {**pending, "subject": subject, "businesses": [[b.business_id, b.name, b.account_id] for b in books]},
            ttl=self.lifetimes.pending,
        )
        return _consent_page(consent_id, pending, books)

    async def consent(self, request: Request) -> Response:
        """The consent form's POST: allow (with the chosen business) or deny."""
        form = await request.form()
        consent_id = str(form.get("consent") or "")
        record = await self.store.take("consent", token_hash(consent_id)) if consent_id else None
        if record is None:
            return _page("Sign-in expired", "This page expired or was already used. Start again from your app.", 400)
        if form.get("action") != "allow":
            return _back_to_client(record, error="access_denied", description="the user denied access")
        chosen = str(form.get("business") or "")
        match = [b for b in record["businesses"] if str(b[0]) == chosen]
        if len(record["businesses"]) == 1 and not chosen:
            match = record["businesses"]
        if not match:
            return _page("Choose a business", "Choose one of your businesses and try again from your app.", 400)
        business_id, _, account_id = match[0]
        code = secrets.token_urlsafe(32)
        await self.store.put(
            "code",
            token_hash(code),
            {
                "client_id": record["client_id"],
                "redirect_uri": record["redirect_uri"],
                "explicit": record["explicit"],
                "code_challenge": record["code_challenge"],
                "scopes": record["scopes"],
                "subject": record["subject"],
                "business_id": business_id,
                "account_id": account_id,
                "resource": self.resource_url,
                "expires_at": time.time() + self.lifetimes.code,
            },
            ttl=self.lifetimes.code,
        )
        log.info("user %s allowed client %s on business %s", record["subject"], record["client_id"], business_id)
        return RedirectResponse(
            construct_redirect_uri(record["redirect_uri"], code=code, state=record.get("state")),
            status_code=302,
            headers={"Cache-Control": "no-store"},
        )

    async def _save_freshbooks_tokens(self, subject: str, tokens: TokenSet) -> None:
        await self.store.put("fb_tokens", subject, {"sealed": self.sealer.seal(tokens.to_file_dict())})

    # ------------------------------------------------------------------ codes and tokens

    async def _unused(self, kind: str, secret: str) -> Record | None:
        """This server's record of an unused code or refresh token; None when there is none.

        A used one revokes the sign-in it was exchanged for (RFC 6749 4.1.2, RFC 9700 4.14.2): its
        exchange left a `used_<kind>` record naming the family.
        """
        key = token_hash(secret)
        record = await self.store.get(kind, key)
        if record is not None:
            return record if record.get("resource") == self.resource_url else None  # else another server's
        used = await self.store.get(f"used_{kind}", key)
        if used is not None:
            log.warning("%s used again; revoking its sign-in", "refresh token" if kind == "refresh" else kind)
            await self.revoke_family(used["family"])
        return None

    async def load_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: str
    ) -> _Code | None:
        record = await self._unused("code", authorization_code)
        if record is None:
            return None
        return _Code(
            code=authorization_code,
            scopes=record["scopes"],
            expires_at=record["expires_at"],
            client_id=record["client_id"],
            code_challenge=record["code_challenge"],
            redirect_uri=AnyUrl(record["redirect_uri"]),
            redirect_uri_provided_explicitly=record["explicit"],
            resource=record["resource"],
            subject=record["subject"],
            business_id=record["business_id"],
            account_id=record["account_id"],
        )

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: Any
    ) -> OAuthToken:
        key = token_hash(authorization_code.code)
        family = secrets.token_urlsafe(16)
        # Claim the code atomically, naming the sign-in it starts: a second use racing this one learns
        # which family to revoke (RFC 6749 4.1.2) even before this one's tokens exist.
        if not await self.store.add("used_code", key, {"family": family}, ttl=self.lifetimes.refresh):
            used = await self.store.get("used_code", key)
            if used is not None:
                log.warning("authorization code used twice at once; revoking its tokens")
                await self.revoke_family(used["family"])
            raise TokenError("invalid_grant", "authorization code already used")
        await self.store.delete("code", key)
        return await self._issue(
            client.client_id,
            authorization_code.subject or "",
            authorization_code.business_id,
            authorization_code.account_id,
            authorization_code.scopes,
            family,
        )

    async def _issue(
        self, client_id: str, subject: str, business_id: int, account_id: str, scopes: list[str], family: str
    ) -> OAuthToken:
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = int(time.time())
        grant = {
            "client_id": client_id,
            "subject": subject,
            "business_id": business_id,
            "account_id": account_id,
            "scopes": scopes,
            "family": family,
            "resource": self.resource_url,
        }
        await self.store.put(
            "access",
            token_hash(access),
            {**grant, "expires_at": now + self.lifetimes.access},
            ttl=self.lifetimes.access,
        )
        await self.store.put(
            "refresh",
            token_hash(refresh),
            {**grant, "expires_at": now + self.lifetimes.refresh},
            ttl=self.lifetimes.refresh,
        )
        previous = await self.store.get("family", family)
        accesses = [a for a in (previous or {}).get("access", []) if a[1] > now][-8:]
        await self.store.put(
            "family",
            family,
            {
                "client_id": client_id,
                "subject": subject,
                "access": [*accesses, [token_hash(access), now + self.lifetimes.access]],
                "refresh": token_hash(refresh),
            },
            ttl=self.lifetimes.refresh,
        )
        if await self.store.get(REVOKED, family) is not None:
            # The family was revoked while this pair was being written (the other use of a reused code or
            # refresh token): it must not outlive that, whichever of the two uses is the attacker.
            await self.revoke_family(family)
            raise TokenError("invalid_grant", "this sign-in was revoked")
        return OAuthToken(
            access_token=access, expires_in=self.lifetimes.access, refresh_token=refresh, scope=" ".join(scopes)
        )

    async def load_refresh_token(self, client: OAuthClientInformationFull, refresh_token: str) -> _Refresh | None:
        record = await self._unused("refresh", refresh_token)
        if record is None:
            return None
        return _Refresh(
            token=refresh_token,
            client_id=record["client_id"],
            scopes=record["scopes"],
            expires_at=record["expires_at"],
            resource=record["resource"],
            subject=record["subject"],
            business_id=record["business_id"],
            account_id=record["account_id"],
            family=record["family"],
        )

    async def exchange_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: _Refresh, scopes: list[str]
    ) -> OAuthToken:
        key = token_hash(refresh_token.token)
        if await self.store.take("refresh", key) is None:
            # Two uses racing: the loser is a reuse.
            await self.revoke_family(refresh_token.family)
            raise TokenError("invalid_grant", "refresh token already used")
        await self.store.put("used_refresh", key, {"family": refresh_token.family}, ttl=self.lifetimes.refresh)
        return await self._issue(
            client.client_id,
            refresh_token.subject or "",
            refresh_token.business_id,
            refresh_token.account_id,
            scopes or refresh_token.scopes,
            refresh_token.family,
        )

    async def load_access_token(self, token: str) -> _Access | None:
        record = await self.store.get("access", token_hash(token))
        if record is None:
            return None
        return _Access(
            token=token,
            client_id=record["client_id"],
            scopes=record["scopes"],
            expires_at=record["expires_at"],
            resource=record.get("resource"),  # the bearer middleware refuses another server's tokens
            subject=record["subject"],
            business_id=record["business_id"],
            account_id=record["account_id"],
            family=record["family"],
        )

    async def revoke_token(self, token: _Access | _Refresh) -> None:
        await self.revoke_family(token.family)

    async def revoke_family(self, family: str) -> None:
        await revoke_family(self.store, family, keep_mark_for=self.lifetimes.refresh)

    def routes(self) -> list[Route]:
        return [
            Route(CALLBACK_PATH, self.freshbooks_callback, methods=["GET"]),
            Route(CONSENT_PATH, self.consent, methods=["POST"]),
        ]


async def revoke_family(store: Store, family: str, *, keep_mark_for: float = Lifetimes.refresh) -> None:
    """Delete every access and refresh token of one sign-in (a token family).

    The revoked mark is written first and `_issue` reads it after writing a new pair, so a pair being
    issued concurrently is either in the family record taken below or sees the mark and deletes itself.
    """
    await store.put(REVOKED, family, {}, ttl=keep_mark_for)
    record = await store.take("family", family)
    if record is None:
        return
    for access_hash, _ in record.get("access", []):
        await store.delete("access", access_hash)
    await store.delete("refresh", record["refresh"])


async def user_sign_ins(store: Store, subject: str) -> list[str]:
    """The token families (sign-ins of any MCP client) of one user."""
    return [key async for key, rec in store.scan("family") if rec.get("subject") == subject]


async def revoke_user(store: Store, subject: str) -> int:
    """Delete everything kept for one FreshBooks user: tokens, sign-ins, encrypted FreshBooks tokens.

    Returns how many sign-ins were revoked. The user can sign in again (which stores new tokens).
    """
    families = await user_sign_ins(store, subject)
    for family in families:
        await revoke_family(store, family)
    await store.delete("fb_tokens", subject)
    await store.delete("user", subject)
    return len(families)


class _Code(AuthorizationCode):
    business_id: int
    account_id: str


class _Refresh(RefreshToken):
    business_id: int
    account_id: str
    family: str


class _Access(AccessToken):
    business_id: int
    account_id: str
    family: str


async def _public_address(url: str) -> str | None:
    """The address to fetch `url` from when every address its host resolves to is public (global), else None."""
    import asyncio
    import ipaddress
    import socket

    parsed = urlparse(url)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            parsed.hostname or "", parsed.port or 443, type=socket.SOCK_STREAM
        )
    except OSError:
        return None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses or not all(ipaddress.ip_address(a.split("%")[0]).is_global for a in addresses):
        return None
    return addresses[0]


def _same_resource(requested: str, ours: str) -> bool:
    return requested.rstrip("/") == ours.rstrip("/")


def _check_redirect_uri(uri: str) -> None:
    parsed = urlparse(uri)
    if parsed.fragment:
        raise RegistrationError("invalid_redirect_uri", "redirect URIs must not have a fragment")
    if parsed.scheme == "https":
        return
    if parsed.scheme == "http" and parsed.hostname in ("127.0.0.1", "localhost", "::1"):
        return  # native apps' loopback redirect (RFC 8252 7.3)
    if parsed.scheme in ("http", "javascript", "data", "file", ""):
        raise RegistrationError("invalid_redirect_uri", f"{uri}: use https, a loopback http URI or an app scheme")


def _metadata_problem(document: Any, url: str) -> str | None:
    if not isinstance(document, dict):
        return "not a JSON object"
    if document.get("client_id") != url:
        return "its client_id is not the URL it was fetched from"
    uris = document.get("redirect_uris")
    if not isinstance(uris, list) or not uris or not all(isinstance(u, str) for u in uris):
        return "no redirect_uris"
    for uri in uris:
        try:
            _check_redirect_uri(uri)
        except RegistrationError as exc:
            return exc.error_description
    if document.get("client_secret") or document.get("token_endpoint_auth_method", "none") != "none":
        return "only public clients (token_endpoint_auth_method none) may use a metadata document here"
    return None


def _cache_ttl(cache_control: str) -> int:
    directives = cache_control.lower()
    if "no-store" in directives or "no-cache" in directives:
        return 0
    match = re.search(r"max-age=(\d+)", directives)
    if match:
        return min(int(match.group(1)), CIMD_MAX_TTL)
    return CIMD_DEFAULT_TTL


def _back_to_client(record: Record, *, error: str, description: str) -> Response:
    url = construct_redirect_uri(
        record["redirect_uri"], error=error, error_description=description, state=record.get("state")
    )
    return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})


_STYLE = "body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;line-height:1.5}"


def _page(title: str, message: str, status: int = 200, body: str = "") -> HTMLResponse:
    text = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<meta name=viewport content='width=device-width'><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>{body}</body></html>"
    )
    return HTMLResponse(
        text,
        status_code=status,
        headers={
            "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
            "Content-Security-Policy": "frame-ancestors 'none'",
        },
    )


def _consent_page(consent_id: str, pending: Record, books: list[Any]) -> HTMLResponse:
    """Plain HTML, no JavaScript: which app, where it sends you back, which business."""
    redirect_host = urlparse(pending["redirect_uri"]).netloc or pending["redirect_uri"]
    choices = "".join(
        f"<p><label><input type=radio name=business value={b.business_id}{' checked' if i == 0 else ''}> "
        f"{html.escape(b.name)}</label></p>"
        for i, b in enumerate(books)
    )
    form = (
        f"<form method=post action={CONSENT_PATH}>"
        f"<input type=hidden name=consent value='{html.escape(consent_id)}'>"
        f"{choices}"
        "<p><button name=action value=allow>Allow</button> <button name=action value=deny>Deny</button></p></form>"
    )
    message = (
        f"{pending['client_name']} (returning to {redirect_host}) asks to read and change the books of the "
        "business you choose, as you."
    )
    return _page("Allow access to your FreshBooks books?", message, 200, form)


__all__ = ["CALLBACK_PATH", "CONSENT_PATH", "SCOPE", "HostedAuthProvider", "Lifetimes", "SecretStr"]
