"""Hosted mode under load: N concurrent MCP users through nginx to replicas sharing one Redis (#18).

For each configuration (default: 3 replicas, then 1) it starts a private redis-server, the sandbox
in its own process (``--list-cache``; FreshBooks is a server elsewhere), the replicas
(``serve --transport http --stateless`` with ``FRESHBOOKS_MCP_STORE=redis://...``) and nginx in
front (round-robin, ``proxy_buffering off``), all on loopback. Each user is its own MCP client
(streamable HTTP, own connection pool) looping for `--duration` seconds over reads (list_invoices,
get_invoice, find_client, list_payments, list_overdue_invoices) and, with probability
`--write-share`, a write: record_payment of 0.01 on one of 40 (`--invoices`) open invoices shared by all users,
so writes contend for the same invoice locks across replicas.

Reported per configuration, side by side: tool calls, calls/s, p50/p95 latency (all, reads, writes),
errors (any failed call other than a refusal that says nothing was recorded), refusals, and Redis
commands per tool call (INFO commandstats over the timed phase, minus INFO itself; it also counts the
commands the lock scripts run inside Redis, so the script calls, i.e. round trips, are shown apart).
Afterwards it checks the books: no invoice was paid more than it owed.

    python bench/hosted_bench.py                     # 50 users, 60 s, 3 replicas then 1
    python bench/hosted_bench.py --duration 10 --users 20 --replicas 3 --compare 1

Needs redis-server and nginx (apt-get install redis-server nginx-light) and the [hosted] extra.
`--auth oauth` is accepted once the OAuth mode (serve --auth oauth) is merged; until then: bearer.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from hosting._services import nginx_proxy, redis_server, replicas, sandbox_process, which

REFUSED = "nothing was recorded"
CALL_LIMIT = 90.0  # seconds


@dataclass
class Result:
    replicas: int
    users: int
    duration: float = 0.0
    read_ms: list[float] = field(default_factory=list)
    write_ms: list[float] = field(default_factory=list)
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
class Phase:
    """Users connect and warm every replica up (first calls import the tools) before the clock starts."""

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


async def _user(
    n: int,
    url: str,
    token: str,
    phase: Phase,
    result: Result,
    invoice_ids: list[int],
    client_ids: list[int],
    write_share: float,
    rng: random.Random,
) -> None:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=httpx2.Timeout(120.0))
    async with AsyncExitStack() as stack:
        try:
            client = await stack.enter_async_context(Client(streamable_http_client(f"{url}/mcp", http_client=http)))
            for _ in range(2):  # not timed: the first call on each replica imports and builds the tools
                with anyio.fail_after(CALL_LIMIT):
                    await client.call_tool("whoami", {})
        except Exception as exc:
            result.errors += 1
            result.error_samples.append(f"user {n} could not connect: {exc!r}"[:300])
            await phase.arrive()
            return
        await phase.arrive()
        while time.monotonic() < phase.until:
            invoice_id = rng.choice(invoice_ids)
            write = rng.random() < write_share
            if write:
                name, args = "record_payment", {"invoice_id": invoice_id, "amount": "0.01", "confirm": True}
            else:
                name, args = rng.choice(
                    [
                        ("list_invoices", {"limit": 10}),
                        ("get_invoice", {"invoice_id": invoice_id}),
                        ("find_client", {"query": "a", "limit": 5}),
                        ("list_payments", {"invoice_id": invoice_id, "limit": 5}),
                        ("list_overdue_invoices", {"limit": 10, "client_id": rng.choice(client_ids)}),
                    ]
                )
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
                result.errors += 1
                if len(result.error_samples) < 5:
                    result.error_samples.append(f"{name}: {text}"[:300])


async def _drive(
    url: str,
    token: str,
    users: int,
    duration: float,
    result: Result,
    invoices: list[int],
    clients: list[int],
    share: float,
    on_start: Callable[[], None],
) -> None:
    phase = Phase(users, duration=duration, on_start=on_start)
    await asyncio.gather(
        *(_user(i, url, token, phase, result, invoices, clients, share, random.Random(1000 + i)) for i in range(users))
    )
    result.duration = time.monotonic() - phase.started


def run_one(count: int, args: argparse.Namespace) -> Result:
    result = Result(replicas=count, users=args.users)
    with ExitStack() as stack:
        redis = stack.enter_context(redis_server())
        sandbox = stack.enter_context(sandbox_process(today=date.today(), args=("--list-cache",)))
        rest = stack.enter_context(_rest(sandbox.base_url, sandbox.access_token))
        account = _account(rest)
        rows = _invoices(rest, account)
        open_rows = [
            r
            for r in rows
            if r["vis_state"] == 0 and r["display_status"] != "draft" and Decimal(r["outstanding"]["amount"]) > 1
        ]
        owed = {int(r["id"]): Decimal(r["outstanding"]["amount"]) for r in open_rows[: args.invoices]}
        client_ids = sorted({int(r["customerid"]) for r in rows})[:20]
        paid_before = {i: {p["id"] for p in _payments(rest, account, i)} for i in owed}
        served = stack.enter_context(replicas(count, sandbox=sandbox, store_url=redis.url))
        nginx = stack.enter_context(nginx_proxy(served.ports))
        phase_stats: list[dict[str, int]] = []  # taken when the timed phase starts, after the warm-up
        asyncio.run(
            _drive(
                nginx.url,
                served.token,
                args.users,
                args.duration,
                result,
                list(owed),
                client_ids,
                args.write_share,
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
        for invoice_id, was_owed in owed.items():
            new = [p for p in _payments(rest, account, invoice_id) if p["id"] not in paid_before[invoice_id]]
            result.payments_recorded += len(new)
            if sum((Decimal(p["amount"]["amount"]) for p in new), Decimal(0)) > was_owed:
                result.overpaid_invoices += 1
    return result


def _row(label: str, values: list[str]) -> str:
    return f"| {label} | " + " | ".join(values) + " |"


def report(results: list[Result]) -> str:
    def ms(v: float) -> str:
        return f"{v:,.0f} ms"

    lines = [
        _row("", [f"{r.replicas} replica{'s' if r.replicas > 1 else ''}" for r in results]),
        _row("---", ["---" for _ in results]),
        _row("users, seconds", [f"{r.users}, {r.duration:.0f}" for r in results]),
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
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per configuration")
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--compare", type=int, nargs="*", default=[1], help="other replica counts to run (default 1)")
    parser.add_argument("--write-share", type=float, default=0.2, help="share of calls that are writes")
    parser.add_argument("--invoices", type=int, default=40, help="open invoices the writes share")
    parser.add_argument("--auth", choices=["bearer", "oauth"], default="bearer")
    args = parser.parse_args()
    if args.auth == "oauth":
        parser.error("--auth oauth needs serve --auth oauth (issue #18, built on the hosting-auth branch); use bearer")
    missing = [b for b in ("redis-server", "nginx") if which(b) is None]
    if missing:
        parser.error(f"{', '.join(missing)} not installed: apt-get install redis-server nginx-light")
    results = []
    for count in [args.replicas, *args.compare]:
        print(f"running {args.users} users against {count} replica(s) for {args.duration:.0f} s...", file=sys.stderr)
        result = run_one(count, args)
        print(f"  Redis commands: {result.redis_commands}", file=sys.stderr)
        for line in result.proxy_errors[:5]:
            print(f"  nginx: {line[:300]}", file=sys.stderr)
        for sample in result.error_samples:
            print(f"  error: {sample}", file=sys.stderr)
        results.append(result)
    print(report(results))
    bad = sum(r.errors + r.overpaid_invoices for r in results)
    print(f"\nmedian calls/s {statistics.median(r.calls / r.duration for r in results):,.1f}; errors + overpaid: {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
