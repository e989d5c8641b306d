"""Hosted mode under load: N concurrent MCP users through nginx to replicas sharing one Redis (#18).

For each configuration (default: 3 replicas, then 1) it starts a private redis-server, the sandbox
in its own process (``--list-cache``; FreshBooks is a server elsewhere), the replicas
(``serve --transport http --stateless`` with ``FRESHBOOKS_MCP_STORE=redis://...``) and nginx in
front (round-robin, ``proxy_buffering off``), all on loopback. Each user is its own MCP client
(streamable HTTP, own connection pool) looping for `--duration` seconds over reads (list_invoices,
get_invoice, find_client, list_payments, list_overdue_invoices) and, with probability
`--write-share`, a write: record_payment of 0.01 on one of `--invoices` open invoices.

``--auth oauth`` (the default; the hosted service as a team uses it): the replicas run
``serve --auth oauth`` with nginx as their public URL, and the sandbox plays FreshBooks for
`--identities` users (default: one per MCP user; more than the sandbox's four named owners come from
tests/hosting/_many_identities.py), each its own business and books. Every MCP user signs in through
nginx with the SDK's own OAuth client (``mcp.client.auth.OAuthClientProvider``: protected resource and
authorization server metadata, dynamic client registration, authorize with PKCE -> the sandbox's
FreshBooks sign-in with ``login_hint`` = its identity -> the consent page, played by
``hosting.browser.sign_in`` -> token), then checks ``whoami`` names its own business. Sign-in is not
timed with the calls; its p50/p95 (first request until the MCP session is up and the first tool call
answered) and the wall time for all users (`--sign-in-concurrency` at a time) are reported apart.
Writes go to open invoices of the user's *own* business, so write contention (the per user+business
locks) is only among the users signed in as the same FreshBooks identity: none with one identity per
user, a sequential user never contends with itself. The per-user rate limit is off
(``FRESHBOOKS_MCP_RATE_LIMIT=0``, `--rate-limit` to set it): users here are tight loops, not people.

``--auth bearer``: one static token, so every user is the same FreshBooks user; the writes share
`--invoices` open invoices of that one business, so they contend for the same invoice locks across
replicas.

Reported per configuration, side by side: tool calls, calls/s, p50/p95 latency (all, reads, writes),
errors (any failed call other than a refusal that says nothing was recorded), refusals, and Redis
commands per tool call (INFO commandstats over the timed phase, minus INFO itself; it also counts the
commands the lock scripts run inside Redis, so the script calls, i.e. round trips, are shown apart;
in OAuth mode every request also looks its access token up in Redis). Afterwards it checks every
business's books: no invoice was paid more than it owed.

    python bench/hosted_bench.py                     # OAuth, 50 users, 60 s, 3 replicas then 1
    python bench/hosted_bench.py --users 4 --duration 5 --replicas 2 --compare 1
    python bench/hosted_bench.py --auth bearer       # one static token, one FreshBooks user

Needs redis-server and nginx (apt-get install redis-server nginx-light) and the [hosted] extra.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, AsyncExitStack, ExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import anyio
import httpx
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from hosting._many_identities import many_identities_sandbox
from hosting._services import HOST, free_port, nginx_proxy, redis_server, replicas, sandbox_process, which

REFUSED = "nothing was recorded"
CALL_LIMIT = 90.0  # seconds
CLIENT_REDIRECT = "http://127.0.0.1:9/callback"  # the MCP client's redirect URI: never served, only read


@dataclass
class Result:
    replicas: int
    users: int
    auth: str = "bearer"
    identities: int = 1
    duration: float = 0.0
    read_ms: list[float] = field(default_factory=list)
    write_ms: list[float] = field(default_factory=list)
    sign_in_ms: list[float] = field(default_factory=list)
    sign_in_wall: float = 0.0
    errors: int = 0
    refused: int = 0
    error_samples: list[str] = field(default_factory=list)
    redis_ops: int = 0
    redis_commands: dict[str, int] = field(default_factory=dict)
    proxy_errors: list[str] = field(default_factory=list)
    overpaid_invoices: int = 0
    payments_recorded: int = 0

    @property
    def calls(self) -> int:
        return len(self.read_ms) + len(self.write_ms)

    def error(self, text: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(text[:300])


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _commandstats(url: str) -> dict[str, int]:
    import redis

    client = redis.Redis.from_url(url)
    try:
        info = client.info("commandstats")
    finally:
        client.close()
    return {name: int(stats["calls"]) for name, stats in info.items()}


def _rest(base_url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def _account(rest: httpx.Client) -> str:
    me = rest.get("/auth/api/v1/users/me").json()["response"]
    return str(me["business_memberships"][0]["business"]["account_id"])


def _invoices(rest: httpx.Client, account: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for page in range(1, 4):
        body = rest.get(
            f"/accounting/account/{account}/invoices/invoices", params={"page": page, "per_page": 100}
        ).json()["response"]["result"]
        rows += body["invoices"]
    return rows


def _payments(rest: httpx.Client, account: str, invoice_id: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    page, pages = 1, 1
    while page <= pages:
        body = rest.get(
            f"/accounting/account/{account}/payments/payments",
            params={"search[invoiceid]": invoice_id, "per_page": 100, "page": page},
        ).json()["response"]["result"]
        rows += body["payments"]
        pages, page = int(body["pages"]), page + 1
    return [p for p in rows if p["vis_state"] == 0]


@dataclass
class Books:
    """One FreshBooks business, read straight from the sandbox (not through the server) before and after."""

    identity: int
    base_url: str
    token: str  # the sandbox's own access token for this identity
    invoices: int
    account: str = ""
    owed: dict[int, Decimal] = field(default_factory=dict)  # the open invoices its users pay, and what they owed
    client_ids: list[int] = field(default_factory=list)
    paid_before: dict[int, set[int]] = field(default_factory=dict)

    def open(self) -> Books:
        with _rest(self.base_url, self.token) as rest:
            self.account = _account(rest)
            rows = _invoices(rest, self.account)
            open_rows = [
                r
                for r in rows
                if r["vis_state"] == 0 and r["display_status"] != "draft" and Decimal(r["outstanding"]["amount"]) > 1
            ]
            self.owed = {int(r["id"]): Decimal(r["outstanding"]["amount"]) for r in open_rows[: self.invoices]}
            self.client_ids = sorted({int(r["customerid"]) for r in rows})[:20]
            self.paid_before = {i: {p["id"] for p in _payments(rest, self.account, i)} for i in self.owed}
        return self

    def check(self) -> tuple[int, int]:
        """(payments recorded during the run, invoices paid more than they owed when it began)."""
        recorded = overpaid = 0
        with _rest(self.base_url, self.token) as rest:
            for invoice_id, was_owed in self.owed.items():
                new = [
                    p for p in _payments(rest, self.account, invoice_id) if p["id"] not in self.paid_before[invoice_id]
                ]
                recorded += len(new)
                if sum((Decimal(p["amount"]["amount"]) for p in new), Decimal(0)) > was_owed:
                    overpaid += 1
        return recorded, overpaid


@dataclass
class Phase:
    """Users sign in, connect and warm every replica up (first calls import the tools) before the clock starts."""

    users: int
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    waiting: int = 0
    until: float = 0.0
    duration: float = 0.0
    started: float = 0.0
    on_start: Callable[[], None] = lambda: None

    async def arrive(self) -> None:
        self.waiting += 1
        if self.waiting == self.users:
            self.started = time.monotonic()
            self.until = self.started + self.duration
            self.on_start()
            self.ready.set()
        await self.ready.wait()


Connect = Callable[[], AbstractAsyncContextManager[Client]]


def bearer_connect(mcp_url: str, token: str) -> Connect:
    @asynccontextmanager
    async def connect() -> AsyncIterator[Client]:
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=httpx2.Timeout(120.0))
        async with http, Client(streamable_http_client(mcp_url, http_client=http)) as client:
            yield client

    return connect


class _MemoryTokens:
    """The MCP client's token storage (in memory), as a signed-in app keeps it."""

    def __init__(self) -> None:
        self.tokens: Any = None
        self.client_info: Any = None

    async def get_tokens(self) -> Any:
        return self.tokens

    async def set_tokens(self, tokens: Any) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> Any:
        return self.client_info

    async def set_client_info(self, client_info: Any) -> None:
        self.client_info = client_info


def oauth_connect(mcp_url: str, login_hint: int, name: str) -> Connect:
    """An MCP client that signs in (on its first request's 401) through the MCP authorization flow."""
    from mcp.client.auth import OAuthClientProvider
    from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata
    from pydantic import AnyUrl

    from mcp_server_freshbooks.hosting.browser import sign_in

    redirects: list[str] = []

    async def redirect_handler(url: str) -> None:
        async with httpx2.AsyncClient(timeout=httpx2.Timeout(60.0)) as browser:  # the user's browser
            redirects.append(await sign_in(browser, url, redirect_uri=CLIENT_REDIRECT, login_hint=login_hint))

    async def callback_handler() -> AuthorizationCodeResult:
        query = parse_qs(urlparse(redirects[-1]).query)
        if "code" not in query:
            raise RuntimeError(f"sign-in refused: {query}")
        return AuthorizationCodeResult(code=query["code"][0], state=query.get("state", [None])[0])

    provider = OAuthClientProvider(
        mcp_url,
        OAuthClientMetadata(
            client_name=name,
            redirect_uris=[AnyUrl(CLIENT_REDIRECT)],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
        ),
        _MemoryTokens(),
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
    )

    @asynccontextmanager
    async def connect() -> AsyncIterator[Client]:
        http = httpx2.AsyncClient(auth=provider, timeout=httpx2.Timeout(120.0))
        async with http, Client(streamable_http_client(mcp_url, http_client=http)) as client:
            yield client

    return connect


async def _user(
    n: int,
    connect: Connect,
    books: Books,
    phase: Phase,
    result: Result,
    write_share: float,
    rng: random.Random,
    gate: asyncio.Semaphore,
) -> None:
    invoice_ids, client_ids = list(books.owed), books.client_ids
    async with AsyncExitStack() as stack:
        try:
            async with gate:  # OAuth: the sign-in; both: connect, and the first tool call
                started = time.perf_counter()
                # the session's task group outlives this block, so no cancel scope around entering it:
                # each sign-in request has the HTTP client's own timeout (120 s)
                client = await stack.enter_async_context(connect())
                with anyio.fail_after(CALL_LIMIT):
                    reply = await client.call_tool("whoami", {})
                result.sign_in_ms.append((time.perf_counter() - started) * 1000)
            who: dict[str, Any] = dict((reply.structured_content or {}).get("business") or {})
            if reply.is_error or str(who.get("account_id")) != books.account:
                raise RuntimeError(f"whoami names {who.get('account_id')!r}, not account {books.account}")
            with anyio.fail_after(CALL_LIMIT):  # not timed: the first call on each replica imports and builds the tools
                await client.call_tool("whoami", {})
        except Exception as exc:
            result.error(f"user {n} could not sign in / connect: {exc!r}")
            await phase.arrive()
            return
        await phase.arrive()
        while time.monotonic() < phase.until:
            invoice_id = rng.choice(invoice_ids)
            write = rng.random() < write_share
            if write:
                name, args = "record_payment", {"invoice_id": invoice_id, "amount": "0.01", "confirm": True}
            else:
                reads: list[tuple[str, dict[str, Any]]] = [
                    ("list_invoices", {"limit": 10}),
                    ("get_invoice", {"invoice_id": invoice_id}),
                    ("find_client", {"query": "a", "limit": 5}),
                    ("list_payments", {"invoice_id": invoice_id, "limit": 5}),
                    ("list_overdue_invoices", {"limit": 10, "client_id": rng.choice(client_ids)}),
                ]
                name, args = rng.choice(reads)
            started = time.perf_counter()
            try:
                with anyio.fail_after(CALL_LIMIT):  # a call that never answers is an error, not a hang
                    reply = await client.call_tool(name, args)
                text = " ".join(getattr(c, "text", "") for c in reply.content)
                failed = bool(reply.is_error)
            except Exception as exc:
                failed, text = True, repr(exc)
            elapsed = (time.perf_counter() - started) * 1000
            (result.write_ms if write else result.read_ms).append(elapsed)
            if failed and write and REFUSED in text.lower():
                result.refused += 1
            elif failed:
                result.error(f"{name}: {text}")


async def _drive(
    users: list[tuple[Connect, Books]],
    duration: float,
    result: Result,
    share: float,
    concurrency: int,
    on_start: Callable[[], None],
) -> None:
    phase = Phase(len(users), duration=duration, on_start=on_start)
    gate = asyncio.Semaphore(concurrency)
    begun = time.monotonic()
    await asyncio.gather(
        *(
            _user(i, connect, books, phase, result, share, random.Random(1000 + i), gate)
            for i, (connect, books) in enumerate(users)
        )
    )
    result.sign_in_wall = phase.started - begun
    result.duration = time.monotonic() - phase.started


def _in_threads(work: Callable[[Books], Any], books: list[Books]) -> list[Any]:
    with ThreadPoolExecutor(max_workers=min(8, len(books))) as pool:
        return list(pool.map(work, books))


def run_one(count: int, args: argparse.Namespace) -> Result:
    oauth = args.auth == "oauth"
    identities = max(1, min(args.identities or args.users, args.users)) if oauth else 1
    result = Result(replicas=count, users=args.users, auth=args.auth, identities=identities)
    with ExitStack() as stack:
        redis = stack.enter_context(redis_server())
        if oauth:
            from cryptography.fernet import Fernet

            public_port = free_port()
            public = f"http://{HOST}:{public_port}"
            sandbox = stack.enter_context(
                many_identities_sandbox(
                    today=date.today(),
                    identities=identities,
                    args=("--list-cache", "--redirect-uri", f"{public}/oauth/freshbooks/callback"),
                )
            )
            tokens = [sandbox.announced[f"identity_token_{n}"] for n in range(identities)]
            env = {  # as hosting/__init__.py and tests/hosting/test_replicas_oauth.py start it
                "FRESHBOOKS_CLIENT_ID": sandbox.announced["oauth_client_id"],
                "FRESHBOOKS_CLIENT_SECRET": sandbox.announced["oauth_client_secret"],
                "FRESHBOOKS_AUTH_URL": sandbox.base_url,
                "FRESHBOOKS_MCP_PUBLIC_URL": public,
                "FRESHBOOKS_MCP_SECRET_KEY": Fernet.generate_key().decode(),
                "FRESHBOOKS_MCP_RATE_LIMIT": str(args.rate_limit),
                "FRESHBOOKS_ACCESS_TOKEN": "",
            }
            served = stack.enter_context(
                replicas(count, sandbox=sandbox, store_url=redis.url, env=env, args=("--auth", "oauth"))
            )
            nginx = stack.enter_context(nginx_proxy(served.ports, port=public_port))
        else:
            sandbox = stack.enter_context(sandbox_process(today=date.today(), args=("--list-cache",)))
            tokens = [sandbox.access_token]
            served = stack.enter_context(replicas(count, sandbox=sandbox, store_url=redis.url))
            nginx = stack.enter_context(nginx_proxy(served.ports))
        books = _in_threads(Books.open, [Books(n, sandbox.base_url, t, args.invoices) for n, t in enumerate(tokens)])
        mcp_url = f"{nginx.url}/mcp"
        users: list[tuple[Connect, Books]] = []
        for i in range(args.users):
            mine = books[i % len(books)]
            connect = (
                oauth_connect(mcp_url, mine.identity, f"bench user {i}")
                if oauth
                else bearer_connect(mcp_url, served.token)
            )
            users.append((connect, mine))
        phase_stats: list[dict[str, int]] = []  # taken when the timed phase starts, after sign-in and warm-up
        asyncio.run(
            _drive(
                users,
                args.duration,
                result,
                args.write_share,
                args.sign_in_concurrency if oauth else args.users,
                lambda: phase_stats.append(_commandstats(redis.url)),
            )
        )
        after = _commandstats(redis.url)
        errors_log = nginx.folder / "error.log"
        lines = errors_log.read_text(errors="replace").splitlines() if errors_log.exists() else []
        result.proxy_errors = [line for line in lines if "upstream" in line]
        delta = {k.removeprefix("cmdstat_"): v - phase_stats[0].get(k, 0) for k, v in after.items()}
        delta.pop("info", None)
        result.redis_commands = {k: v for k, v in sorted(delta.items(), key=lambda kv: -kv[1]) if v}
        result.redis_ops = sum(result.redis_commands.values())
        # the books: no invoice paid more than it owed when the run began
        for recorded, overpaid in _in_threads(Books.check, books):
            result.payments_recorded += recorded
            result.overpaid_invoices += overpaid
        if result.errors:
            print(served.log_tail(), file=sys.stderr)
    return result


def _row(label: str, values: list[str]) -> str:
    return f"| {label} | " + " | ".join(values) + " |"


def report(results: list[Result]) -> str:
    def ms(v: float) -> str:
        return f"{v:,.0f} ms"

    lines = [
        _row("", [f"{r.replicas} replica{'s' if r.replicas > 1 else ''}, {r.auth}" for r in results]),
        _row("---", ["---" for _ in results]),
        _row("users, seconds", [f"{r.users}, {r.duration:.0f}" for r in results]),
        _row("FreshBooks users (sandbox identities)", [str(r.identities) for r in results]),
        _row(
            "sign-in (bearer: connect) + first call, p50 / p95",
            [f"{ms(_pct(r.sign_in_ms, 0.5))} / {ms(_pct(r.sign_in_ms, 0.95))}" for r in results],
        ),
        _row("all users signed in / connected after (wall)", [f"{r.sign_in_wall:,.1f} s" for r in results]),
        _row(
            "tool calls (reads + writes)", [f"{r.calls:,} ({len(r.read_ms):,} + {len(r.write_ms):,})" for r in results]
        ),
        _row("calls/s", [f"{r.calls / r.duration:,.1f}" for r in results]),
        _row(
            "p50 / p95, all",
            [f"{ms(_pct(r.read_ms + r.write_ms, 0.5))} / {ms(_pct(r.read_ms + r.write_ms, 0.95))}" for r in results],
        ),
        _row("p50 / p95, reads", [f"{ms(_pct(r.read_ms, 0.5))} / {ms(_pct(r.read_ms, 0.95))}" for r in results]),
        _row("p50 / p95, writes", [f"{ms(_pct(r.write_ms, 0.5))} / {ms(_pct(r.write_ms, 0.95))}" for r in results]),
        _row("errors", [str(r.errors) for r in results]),
        _row("nginx upstream errors (error.log)", [str(len(r.proxy_errors)) for r in results]),
        _row("writes refused (nothing recorded)", [str(r.refused) for r in results]),
        _row(
            "payments recorded / overpaid invoices", [f"{r.payments_recorded} / {r.overpaid_invoices}" for r in results]
        ),
        _row(
            "Redis commands per tool call (incl. inside scripts)",
            [f"{r.redis_ops / max(1, r.calls):.2f}" for r in results],
        ),
        _row(
            "Redis commands per write (incl. inside scripts)",
            [f"{r.redis_ops / max(1, len(r.write_ms)):.2f}" for r in results],
        ),
        _row(
            "lock script calls (EVALSHA) per write",
            [f"{r.redis_commands.get('evalsha', 0) / max(1, len(r.write_ms)):.2f}" for r in results],
        ),
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--auth", choices=["oauth", "bearer"], default="oauth")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per configuration")
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--compare", type=int, nargs="*", default=[1], help="other replica counts to run (default 1)")
    parser.add_argument("--write-share", type=float, default=0.2, help="share of calls that are writes")
    parser.add_argument("--invoices", type=int, default=40, help="open invoices per business the writes pick from")
    parser.add_argument(
        "--identities",
        type=int,
        default=0,
        help="OAuth: FreshBooks users the MCP users spread over (default: one each)",
    )
    parser.add_argument("--sign-in-concurrency", type=int, default=10, help="OAuth: users signing in at once")
    parser.add_argument(
        "--rate-limit", type=int, default=0, help="OAuth: FRESHBOOKS_MCP_RATE_LIMIT per user per minute (0: off)"
    )
    args = parser.parse_args()
    missing = [b for b in ("redis-server", "nginx") if which(b) is None]
    if missing:
        parser.error(f"{', '.join(missing)} not installed: apt-get install redis-server nginx-light")
    results = []
    for count in [args.replicas, *args.compare]:
        print(
            f"running {args.users} users ({args.auth}) against {count} replica(s) for {args.duration:.0f} s...",
            file=sys.stderr,
        )
        result = run_one(count, args)
        print(f"  Redis commands: {result.redis_commands}", file=sys.stderr)
        for line in result.proxy_errors[:5]:
            print(f"  nginx: {line[:300]}", file=sys.stderr)
        for sample in result.error_samples:
            print(f"  error: {sample}", file=sys.stderr)
        results.append(result)
    print(report(results))
    bad = sum(r.errors + r.overpaid_invoices for r in results)
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(
        f"\nmedian calls/s {statistics.median(r.calls / r.duration for r in results):,.1f}; "
        f"errors + overpaid: {bad}; load average at the end: {load} ({os.cpu_count()} CPUs)"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
