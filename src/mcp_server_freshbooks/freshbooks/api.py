"""The typed async FreshBooks client: one shared `httpx.AsyncClient`, retries, pagination, errors.

It knows nothing of MCP. Tools call it; it calls FreshBooks (or the sandbox, in-process through an
ASGI transport or over loopback).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from email.utils import parsedate_to_datetime
from typing import Any, Literal, Protocol

import httpx

from .. import __version__
from .errors import (
    AuthError,
    FreshBooksError,
    RateLimitedError,
    ServerError,
    TransportError,
    WriteOutcomeUnknownError,
    parse_error,
)
from .identity import Business, Identity, parse_identity, select_business
from .locks import PROCESS_LOCKS, KeyedLock
from .query import Query, Resource
from .types import today_in

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], Awaitable[None] | None]
"""Called with (pages done, pages in all) as a multi-page read advances."""

MAX_PER_PAGE = 100
# Methods whose repeat has the same effect as one send. A PUT is one of them only when it is a pure
# update (it sets values); a PUT carrying an action (action_email, action_mark_as_sent...) emails
# or changes state each time it lands, so the client never re-sends it on its own: the write
# primitive (writes.py) decides after looking the record up.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "DELETE"})
ACTION_PREFIX = "action_"


def is_pure_update(body: Any) -> bool:
    """True when a PUT body only sets values: no `action_*` key at the top or under the resource key."""
    if not isinstance(body, dict):
        return True
    parts = [body, *(v for v in body.values() if isinstance(v, dict))]
    return not any(str(k).startswith(ACTION_PREFIX) for part in parts for k in part)


def may_resend(method: str, body: Any) -> bool:
    """Whether the client itself may re-send this request after a lost reply or a 5xx."""
    method = method.upper()
    return method in IDEMPOTENT_METHODS or (method == "PUT" and is_pure_update(body))


class TokenSource(Protocol):
    """Where access tokens come from. The full lifecycle (token file, rotation, locks) is in auth.py."""

    async def get_token(self) -> str:
        """A valid access token, refreshed ahead of expiry when possible."""
        ...

    async def refresh_after_unauthorized(self, rejected_token: str) -> str | None:
        """Called once after a 401: a new token, or None when no refresh is possible."""
        ...


class StaticTokenSource:
    """A fixed access token (env-only mode, the embedded sandbox, tests). Cannot refresh."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def get_token(self) -> str:
        return self._token

    async def refresh_after_unauthorized(self, rejected_token: str) -> str | None:
        return None

    def __repr__(self) -> str:
        return "StaticTokenSource(token=<redacted>)"


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries: at most `max_attempts` tries within `total_budget` seconds per request."""

    max_attempts: int = 6
    base_delay: float = 0.2
    max_delay: float = 5.0
    total_budget: float = 45.0


@dataclass
class ClientStats:
    """Counters for benches and soak runs."""

    requests: int = 0
    retries: int = 0
    refreshes: int = 0
    by_status: dict[int, int] = field(default_factory=dict)


@dataclass
class Page:
    """One page of an accounting or business list."""

    rows: list[dict[str, Any]]
    page: int
    pages: int
    per_page: int
    total: int


def _retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _query_params(params: list[tuple[str, str]] | dict[str, str] | None) -> httpx.QueryParams | None:
    if not params:
        return None
    return httpx.QueryParams(params if isinstance(params, dict) else tuple(params))


def _decode(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


class FreshBooksClient:
    """Async FreshBooks API client bound to one selected business.

    Concurrency: every request takes a slot from one semaphore (`max_concurrency`), so many tool
    calls at once never hammer FreshBooks with more than that many requests in flight.
    """

    def __init__(
        self,
        *,
        api_url: str,
        token_source: TokenSource | Callable[[httpx.AsyncClient], TokenSource],
        transport: httpx.AsyncBaseTransport | None = None,
        max_concurrency: int = 4,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        account_id: str | None = None,
        business: str | None = None,
        rng: random.Random | None = None,
        locks: KeyedLock | None = None,
        settle_delay: float | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        # How long the write primitive waits before a second lookup after an unknown outcome:
        # longer than one attempt's own deadline, so a request still in flight has landed or never will.
        self.settle_delay = settle_delay if settle_delay is not None else timeout * 1.25
        self.locks: KeyedLock = locks or PROCESS_LOCKS
        self.max_concurrency = max_concurrency
        self.retry = retry or RetryPolicy()
        self.stats = ClientStats()
        self._slots = asyncio.Semaphore(max_concurrency)
        self._account_id_setting = account_id
        self._business_setting = business
        self._identity: Identity | None = None
        self._business: Business | None = None
        self._identity_lock = asyncio.Lock()
        self._rng = rng or random.Random()
        # After a 429, nobody sends before this loop time: one pause for all callers, not a stampede.
        self._not_before = 0.0
        self.http = httpx.AsyncClient(
            base_url=self.api_url,
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=10.0),
            headers={"User-Agent": f"mcp-server-freshbooks/{__version__}", "Accept": "application/json"},
            follow_redirects=False,
        )
        # A factory lets the token source share this client's connection pool for refreshes.
        self._tokens: TokenSource = token_source(self.http) if callable(token_source) else token_source

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> FreshBooksClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"FreshBooksClient(api_url={self.api_url!r}, account_id={self._account_id_setting!r})"

    # ------------------------------------------------------------------ requests

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter."""
        ceiling = min(self.retry.max_delay, self.retry.base_delay * (2 ** (attempt - 1)))
        return self._rng.uniform(ceiling / 2, ceiling)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | dict[str, str] | None = None,
        json: Any = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        resend: bool | None = None,
    ) -> Any:
        """Send one request with retries; return the decoded body or raise a `FreshBooksError`.

        Retries 429 (honouring Retry-After), 5xx and connection failures for GET/DELETE and pure-update
        PUTs (`may_resend`; `resend` overrides). Anything else (a POST, a PUT with an action) is
        re-sent only when FreshBooks provably did not process it (429, or the connection was never
        made); a lost reply raises `WriteOutcomeUnknownError` and a 5xx is raised as is, for the
        write primitive to settle by looking the record up. `files` sends a multipart body (uploads:
        bytes in memory, so a re-send sends them again).
        """
        method = method.upper()
        idempotent = may_resend(method, json) if resend is None else resend
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.retry.total_budget
        attempt = 0
        failures = 0  # attempts that failed for a reason other than rate limiting
        refreshed = False
        while True:
            attempt += 1
            token = await self._tokens.get_token()
            pause = self._not_before - loop.time()
            if pause > 0:
                await asyncio.sleep(pause)
            headers = {"Authorization": f"Bearer {token}"}
            error: FreshBooksError
            retry_after: float | None = None
            started = loop.time()
            try:
                # Built (URL, headers, JSON body) before taking a slot: the slot covers only the exchange.
                built = self.http.build_request(
                    method, path, params=_query_params(params), json=json, files=files, headers=headers
                )
                async with self._slots:
                    self.stats.requests += 1
                    response = await self.http.send(built)
                if method == "GET":  # (a write's reply is never left waiting: a cancel here would lose it)
                    # The slot is free: let a request waiting for it go out before this reply is decoded
                    # and parsed (CPU), so the next network wait overlaps that work, not follows it.
                    await asyncio.sleep(0)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # Never reached FreshBooks: safe to retry whatever the method.
                error = TransportError(
                    f"Could not connect to FreshBooks at {self.api_url} ({type(exc).__name__}).",
                    method=method,
                    path=path,
                )
            except httpx.TransportError as exc:
                if not idempotent:
                    raise WriteOutcomeUnknownError(
                        f"The connection to FreshBooks broke after the {method} was sent "
                        f"({type(exc).__name__}); it may or may not have been applied.",
                        method=method,
                        path=path,
                    ) from None
                error = TransportError(
                    f"The connection to FreshBooks failed ({type(exc).__name__}).", method=method, path=path
                )
            else:
                status = response.status_code
                self.stats.by_status[status] = self.stats.by_status.get(status, 0) + 1
                body = _decode(response)
                log.debug("%s %s -> %s in %.0f ms", method, path, status, (loop.time() - started) * 1000)
                if status == 401 and not refreshed:
                    refreshed = True
                    new_token = await self._tokens.refresh_after_unauthorized(token)
                    if new_token:
                        self.stats.refreshes += 1
                        attempt -= 1  # the refresh retry is not a failure retry
                        continue
                parsed = parse_error(status, body)
                if parsed is None:
                    return body
                parsed.method, parsed.path = method, path
                if status == 401:
                    raise AuthError(
                        parsed.message + " The FreshBooks access token was rejected; run "
                        "`mcp-server-freshbooks auth login` (or set a fresh FRESHBOOKS_ACCESS_TOKEN).",
                        status=401,
                        errno=parsed.errno,
                        method=method,
                        path=path,
                    )
                if status == 429:
                    retry_after = _retry_after_seconds(response)
                    wait = retry_after if retry_after is not None else self._backoff(attempt)
                    # Jitter so the callers released by one window do not all collide in the next.
                    retry_after = wait + self._rng.uniform(0, min(1.0, wait / 2 + self.retry.base_delay))
                    self._not_before = max(self._not_before, loop.time() + retry_after)
                    error = RateLimitedError(
                        "FreshBooks is rate limiting requests.",
                        retry_after=retry_after,
                        status=429,
                        method=method,
                        path=path,
                    )
                elif status >= 500 and idempotent:
                    error = parsed
                else:
                    raise parsed
            # Rate limiting is FreshBooks asking us to wait, not a failure: 429s do not use up the
            # failure attempts (else 429,429,429,429,429,502 gave up on a healthy API under load);
            # they are bounded by the time budget and by 4x the attempts in all.
            if not isinstance(error, RateLimitedError):
                failures += 1
            delay = retry_after if retry_after is not None else self._backoff(max(failures, 1))
            if (
                failures >= self.retry.max_attempts
                or attempt >= self.retry.max_attempts * 4
                or loop.time() + delay > deadline
            ):
                if isinstance(error, RateLimitedError | ServerError | TransportError):
                    error.message = f"{error.message} Gave up after {attempt} attempt(s)."
                    error.args = (error.message,)
                raise error
            self.stats.retries += 1
            log.info(
                "retrying %s %s in %.2fs after %s (attempt %d)",
                method,
                path,
                delay,
                type(error).__name__,
                attempt,
            )
            await asyncio.sleep(delay)

    # ------------------------------------------------------------------ identity

    async def identity(self) -> Identity:
        if self._identity is None:
            async with self._identity_lock:
                if self._identity is None:
                    self._identity = parse_identity(await self.request("GET", "/auth/api/v1/users/me"))
        return self._identity

    async def business(self) -> Business:
        """The selected business (cached for the client's lifetime)."""
        if self._business is None:
            identity = await self.identity()
            self._business = select_business(
                identity, account_id=self._account_id_setting, business=self._business_setting
            )
        return self._business

    async def today(self) -> date:
        """Today in the business's timezone (US/Eastern unless FreshBooks says otherwise)."""
        return today_in((await self.business()).timezone)

    async def _accounting_path(self, resource: Resource, resource_id: int | None = None, suffix: str = "") -> str:
        account_id = (await self.business()).account_id
        path = f"/accounting/account/{account_id}/{resource.path}"
        if resource_id is not None:
            path += f"/{int(resource_id)}"
        return path + suffix

    # ------------------------------------------------------------------ accounting family

    @staticmethod
    def _result(body: Any) -> dict[str, Any]:
        if isinstance(body, dict):
            response = body.get("response")
            if isinstance(response, dict):
                result = response.get("result")
                return result if isinstance(result, dict) else {}
        return {}

    async def get(self, resource: Resource, resource_id: int, *, includes: tuple[str, ...] = ()) -> dict[str, Any]:
        query = Query(resource).include(*includes) if includes else None
        body = await self.request(
            "GET",
            await self._accounting_path(resource, resource_id),
            params=query.params() if query else None,
        )
        record = self._result(body).get(resource.singular)
        if not isinstance(record, dict):
            raise FreshBooksError(f"FreshBooks returned no {resource.singular} for id {resource_id}.")
        return record

    async def create(
        self, resource: Resource, fields: dict[str, Any], *, includes: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        query = Query(resource).include(*includes) if includes else None
        body = await self.request(
            "POST",
            await self._accounting_path(resource),
            params=query.params() if query else None,
            json={resource.singular: fields},
        )
        record = self._result(body).get(resource.singular)
        if not isinstance(record, dict):
            raise FreshBooksError(f"FreshBooks did not return the created {resource.singular}.")
        return record

    async def update(
        self, resource: Resource, resource_id: int, fields: dict[str, Any], *, includes: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """Partial update. Note FreshBooks' quirk: a `vis_state` in `fields` discards every other field.

        Re-sent after a lost reply only when it is a pure update (`is_pure_update`); actions go
        through writes.act, which settles a lost reply by looking the record up.
        """
        query = Query(resource).include(*includes) if includes else None
        body = await self.request(
            "PUT",
            await self._accounting_path(resource, resource_id),
            params=query.params() if query else None,
            json={resource.singular: fields},
        )
        record = self._result(body).get(resource.singular)
        return record if isinstance(record, dict) else {}

    async def delete(self, resource: Resource, resource_id: int) -> None:
        if resource.delete_style == "http":
            await self.request("DELETE", await self._accounting_path(resource, resource_id))
        else:
            await self.update(resource, resource_id, {"vis_state": 1})

    async def list_page(
        self, resource: Resource, query: Query | None = None, *, page: int = 1, per_page: int = MAX_PER_PAGE
    ) -> Page:
        if query is not None and query.resource is not resource:
            raise ValueError(f"query built for {query.resource.plural}, used on {resource.plural}")
        params = (query.params() if query else []) + [
            ("page", str(page)),
            ("per_page", str(min(per_page, 100))),
        ]
        body = await self.request("GET", await self._accounting_path(resource), params=params)
        result = self._result(body)
        rows = result.get(resource.plural) or []
        return Page(
            rows=[r for r in rows if isinstance(r, dict)],
            page=int(result.get("page") or page),
            pages=int(result.get("pages") or 0),
            per_page=int(result.get("per_page") or per_page),
            total=int(result.get("total") or 0),
        )

    async def iter_pages(
        self,
        resource: Resource,
        query: Query | None = None,
        *,
        per_page: int = MAX_PER_PAGE,
        max_rows: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> AsyncIterator[Page]:
        """Every page, in order: page 1 first, then the rest concurrently (bounded), yielded in order.

        At most `2 x max_concurrency` pages are held at once, so memory does not grow with the
        number of records. `max_rows` stops fetching once enough rows are covered.
        """
        first = await self.list_page(resource, query, page=1, per_page=per_page)
        last = self._last_page(first.pages, first.per_page, max_rows)
        done = 1
        await _notify(on_progress, done, max(last, 1))
        yield first
        pending: deque[asyncio.Task[Page]] = deque()
        next_page = 2
        window = self.max_concurrency * 2
        try:
            while next_page <= last or pending:
                while next_page <= last and len(pending) < window:
                    pending.append(
                        asyncio.create_task(self.list_page(resource, query, page=next_page, per_page=per_page))
                    )
                    next_page += 1
                page = await pending.popleft()
                done += 1
                # The page count can grow between pages (records added meanwhile): follow it.
                last = max(last, self._last_page(page.pages, page.per_page, max_rows))
                await _notify(on_progress, done, max(last, done))
                yield page
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)

    @staticmethod
    def _last_page(pages: int, per_page: int, max_rows: int | None) -> int:
        if max_rows is None:
            return pages
        return min(pages, max(1, math.ceil(max_rows / max(per_page, 1))))

    async def list_all(
        self,
        resource: Resource,
        query: Query | None = None,
        *,
        max_rows: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> list[dict[str, Any]]:
        """All rows (or the first `max_rows`), de-duplicated by id in case pages shifted meanwhile."""
        rows: list[dict[str, Any]] = []
        seen: set[Any] = set()
        async for page in self.iter_pages(resource, query, max_rows=max_rows, on_progress=on_progress):
            for row in page.rows:
                key = row.get("id")
                if key is not None:
                    if key in seen:
                        continue
                    seen.add(key)
                rows.append(row)
            if max_rows is not None and len(rows) >= max_rows:
                return rows[:max_rows]
        return rows

    # ------------------------------------------------------------------ business family

    async def business_request(
        self,
        method: str,
        family: Literal["projects", "timetracking"],
        subpath: str,
        *,
        params: list[tuple[str, str]] | dict[str, str] | None = None,
        json: Any = None,
    ) -> Any:
        """Projects/time tracking: `/{family}/business/{business_id}/{subpath}`, bare objects with `meta`."""
        business_id = (await self.business()).business_id
        return await self.request(
            method, f"/{family}/business/{business_id}/{subpath.lstrip('/')}", params=params, json=json
        )

    async def business_list_page(
        self,
        family: Literal["projects", "timetracking"],
        subpath: str,
        key: str,
        *,
        params: list[tuple[str, str]] | None = None,
        page: int = 1,
        per_page: int = MAX_PER_PAGE,
    ) -> Page:
        full = (params or []) + [("page", str(page)), ("per_page", str(min(per_page, 100)))]
        body = await self.business_request("GET", family, subpath, params=full)
        body = body if isinstance(body, dict) else {}
        meta: dict[str, Any] = body["meta"] if isinstance(body.get("meta"), dict) else {}
        rows = body.get(key) or []
        return Page(
            rows=[r for r in rows if isinstance(r, dict)],
            page=int(meta.get("page") or page),
            pages=int(meta.get("pages") or 0),
            per_page=int(meta.get("per_page") or per_page),
            total=int(meta.get("total") or 0),
        )


async def _notify(callback: ProgressCallback | None, done: int, total: int) -> None:
    if callback is None:
        return
    result = callback(done, total)
    if inspect.isawaitable(result):
        await result
