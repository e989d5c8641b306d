"""Per-user books: one FreshBooks client per (user, business), FreshBooks tokens from the store.

The MCP access token of the request (the SDK's auth context) names the FreshBooks identity and
the business it was granted for; a tool call reaches only that business, with that user's
FreshBooks token, so no record id can reach another user's books (FreshBooks itself scopes every
path by the token's account). Clients are cached (bounded, least recently used first out); the
cache only saves connection set-up and the ``/users/me`` lookup: every FreshBooks token is read from
the store, so ``--stateless`` replicas need nothing in memory across requests.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import SecretStr

from mcp_server_freshbooks.config import Settings
from mcp_server_freshbooks.freshbooks import FreshBooksClient
from mcp_server_freshbooks.freshbooks.auth import RefreshRejectedError, TokenExpiredError, TokenSet, refresh_tokens
from mcp_server_freshbooks.freshbooks.locks import Held, KeyedLock
from mcp_server_freshbooks.tools._base import AppState

from .crypto import Sealer
from .store import Store

log = logging.getLogger(__name__)

SIGN_IN_AGAIN = "Your FreshBooks sign-in expired or was revoked; reconnect this server in your app to sign in again."


class PrefixedLock:
    """One user's and business's view of the store's `KeyedLock`: every key gets the prefix."""

    def __init__(self, inner: KeyedLock, prefix: str) -> None:
        self._inner = inner
        self._prefix = prefix

    def hold(self, *keys: str, wait: float | None = None) -> AbstractAsyncContextManager[Held]:
        return self._inner.hold(*(self._prefix + k for k in keys), wait=wait)


class StoreTokenSource:
    """FreshBooks tokens of one user, kept encrypted in the store; refreshed (rotating) under the user's lock."""

    def __init__(self, store: Store, sealer: Sealer, settings: Settings, subject: str, http: httpx.AsyncClient) -> None:
        self._store = store
        self._sealer = sealer
        self._settings = settings
        self._subject = subject
        self._http = http
        self._tokens: TokenSet | None = None

    def __repr__(self) -> str:
        return f"StoreTokenSource(user={self._subject!r})"

    async def _load(self) -> TokenSet:
        record = await self._store.get("fb_tokens", self._subject)
        if record is None:
            raise TokenExpiredError(SIGN_IN_AGAIN)
        self._tokens = TokenSet.from_file_dict(self._sealer.open(record["sealed"]))
        return self._tokens

    async def get_token(self) -> str:
        tokens = self._tokens or await self._load()
        if tokens.needs_refresh():
            tokens = await self._load()  # another replica may have refreshed it already
            if tokens.needs_refresh():
                return await self._refresh(tokens.access_token.get_secret_value())
        return tokens.access_token.get_secret_value()

    async def refresh_after_unauthorized(self, rejected_token: str) -> str | None:
        return await self._refresh(rejected_token)

    async def _refresh(self, stale: str) -> str:
        async with self._store.locks.hold(f"fb-refresh:{self._subject}", wait=30.0):
            current = await self._load()
            token = current.access_token.get_secret_value()
            if token != stale and not current.needs_refresh():
                return token  # refreshed by someone else while we waited
            if current.refresh_token is None:
                raise TokenExpiredError(SIGN_IN_AGAIN)
            try:
                fresh = await refresh_tokens(self._http, self._settings, current.refresh_token)
            except RefreshRejectedError:
                latest = await self._load()
                if latest.refresh_token != current.refresh_token:
                    # Another process refreshed first (a store without shared locks): use its pair.
                    return latest.access_token.get_secret_value()
                # FreshBooks revoked the grant: end this user's MCP sign-ins too, so their apps get a 401
                # on the next request and sign them in again (instead of failing every call).
                from .oauth import revoke_family, user_sign_ins

                for family in await user_sign_ins(self._store, self._subject):
                    await revoke_family(self._store, family)
                await self._store.delete("fb_tokens", self._subject)
                log.warning("FreshBooks refused user %s's refresh token; their sign-ins were ended", self._subject)
                raise TokenExpiredError(SIGN_IN_AGAIN) from None
            await self._store.put("fb_tokens", self._subject, {"sealed": self._sealer.seal(fresh.to_file_dict())})
            self._tokens = fresh
            log.info("refreshed FreshBooks tokens of user %s", self._subject)
            return fresh.access_token.get_secret_value()


@dataclass
class _Entry:
    client: FreshBooksClient
    cache: dict[str, Any] = field(default_factory=dict)
    used: float = field(default_factory=time.monotonic)


class UserBooks:
    """The bounded cache of per-(user, business) FreshBooks clients."""

    def __init__(
        self,
        store: Store,
        sealer: Sealer,
        settings: Settings,
        *,
        max_clients: int = 256,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.store = store
        self.sealer = sealer
        self.settings = settings
        self.max_clients = max_clients
        self.transport = transport
        self._entries: OrderedDict[tuple[str, int], _Entry] = OrderedDict()
        self._closing: set[asyncio.Task[None]] = set()

    def current(self) -> _Entry:
        token = get_access_token()
        business_id = getattr(token, "business_id", None) if token is not None else None
        if token is None or token.subject is None or business_id is None:
            raise ToolError("This server needs a signed-in user: connect through the MCP sign-in.")
        key = (token.subject, int(business_id))
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = self._new_entry(token.subject, int(business_id), str(token.account_id))  # type: ignore[attr-defined]
            self._evict()
        else:
            self._entries.move_to_end(key)
        entry.used = time.monotonic()
        return entry

    def _new_entry(self, subject: str, business_id: int, account_id: str) -> _Entry:
        settings = self.settings

        def token_source(http: httpx.AsyncClient) -> StoreTokenSource:
            return StoreTokenSource(self.store, self.sealer, settings, subject, http)

        client = FreshBooksClient(
            api_url=settings.api_url,
            token_source=token_source,
            transport=self.transport,
            max_concurrency=settings.max_concurrency,
            timeout=settings.request_timeout,
            account_id=account_id,
            business=str(business_id),
            locks=PrefixedLock(self.store.locks, f"books:{subject}:{business_id}:"),
        )
        return _Entry(client)

    def _evict(self) -> None:
        while len(self._entries) > self.max_clients:
            _, old = self._entries.popitem(last=False)
            # A call may still be using it: close it after any plausible call has ended.
            task = asyncio.get_running_loop().create_task(self._close_later(old.client))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def _close_later(self, client: FreshBooksClient) -> None:
        await asyncio.sleep(self.settings.request_timeout * 3)
        await client.aclose()

    def drop_user(self, subject: str) -> None:
        for key in [k for k in self._entries if k[0] == subject]:
            del self._entries[key]

    async def aclose(self) -> None:
        entries, self._entries = list(self._entries.values()), OrderedDict()
        for entry in entries:
            await entry.client.aclose()
        for task in list(self._closing):
            task.cancel()


class HostedAppState(AppState):
    """AppState whose `fb` and `cache` are the signed-in user's (per request, from the auth context)."""

    def __init__(self, settings: Settings, books: UserBooks) -> None:  # no super().__init__: no fixed client
        self.settings = settings
        self.sandbox = None
        self._books = books

    @property
    def fb(self) -> FreshBooksClient:  # type: ignore[override]
        return self._books.current().client

    @property
    def cache(self) -> dict[str, Any]:  # type: ignore[override]
        return self._books.current().cache


@asynccontextmanager
async def user_books(
    store: Store, sealer: Sealer, settings: Settings, transport: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[UserBooks]:
    books = UserBooks(store, sealer, settings, transport=transport)
    try:
        yield books
    finally:
        await books.aclose()


__all__ = ["HostedAppState", "PrefixedLock", "SecretStr", "StoreTokenSource", "UserBooks", "user_books"]
