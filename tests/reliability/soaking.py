"""Fault soak: seeded tool calls over 8 concurrent MCP sessions against a faulty sandbox on loopback.

Shared by tests/reliability/test_soak.py (short, CI) and bench/soak.py (long). Phases:
1. reads: each result must equal the same call on a fault-free sandbox with the same seed;
2. writes (creates with unique markers, updates, payments, archives with confirm=true);
3. reads again + the sandbox's own records: every write asked for is there, none twice.
A call that finally fails must say why and what to do (no traceback, no empty success).
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import anyio
from mcp import Client

from mcp_server_freshbooks.config import load_settings
from mcp_server_freshbooks.freshbooks import StaticTokenSource
from mcp_server_freshbooks.freshbooks.writes import reconcile_stats
from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions, serve_on_loopback
from mcp_server_freshbooks.server import build_server

JSON = dict[str, Any]
VOLATILE = frozenset({"from_cache"})  # per-session cache state, not books
CRASH = ("Traceback", "Unexpected server error", 'File "')
GUIDANCE = ("try again", "check", "wait", "retry", "look")


@dataclass(frozen=True)
class SoakConfig:
    seed: int = 20261121
    reads: int = 80
    writes: int = 50
    sessions: int = 8
    fail_rate: float = 0.1
    drop_rate: float = 0.05
    rate_limit: int = 20
    latency_ms: int = 20
    jitter_ms: int = 20
    today: date = date(2026, 6, 15)
    clients: int = 30
    invoices: int = 120
    expenses: int = 200
    # Phase 4: rounds of concurrent same-key writes (each round: 3 payments on one invoice, 2 identical
    # expenses, 3 creates of one client, 2 sends under dropped replies), spread over the sessions.
    same_key_rounds: int = 0
    request_timeout: float = 3.0  # a lost write is looked up again 1.25x this later


@dataclass
class Call:
    tool: str
    args: JSON
    marker: str = ""
    is_error: bool = False
    text: str = ""
    structured: JSON | None = None


@dataclass
class KindStats:
    """One kind of same-key write: what the tools reported against what the books show."""

    calls: int = 0
    reported_successes: int = 0
    applied: int = 0  # records (or emails) the sandbox has
    refused: int = 0  # refused with a reason, nothing applied (the loser of a payment race...)
    failures: int = 0  # other errors (each must say what to check when it may have applied)
    duplicates: int = 0  # more records than successes, or two calls reporting one record
    overpayments: int = 0  # invoices paid beyond what was owed
    max_emails_per_send: int = 0

    def row(self) -> str:
        return (
            f"calls={self.calls} successes={self.reported_successes} applied={self.applied} refused={self.refused} "
            f"failures={self.failures} duplicates={self.duplicates} overpayments={self.overpayments}"
            + (f" max_emails_per_send={self.max_emails_per_send}" if self.max_emails_per_send else "")
        )


@dataclass
class SoakReport:
    calls: int = 0
    retries: int = 0
    requests: int = 0
    failures: list[str] = field(default_factory=list)  # surfaced, with their text
    bad_failures: list[str] = field(default_factory=list)  # traceback-like, unguided, or empty success
    duplicates: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    unknown_outcomes: int = 0
    found_applied: int = 0
    resent: int = 0
    wall: float = 0.0
    by_tool: Counter[str] = field(default_factory=Counter)
    same_key: dict[str, KindStats] = field(default_factory=dict)
    settle_waits: int = 0

    def summary(self) -> str:
        return (
            f"calls={self.calls} http_requests={self.requests} retries={self.retries} "
            f"failures_surfaced={len(self.failures)} bad_failures={len(self.bad_failures)} "
            f"duplicates={len(self.duplicates)} mismatches={len(self.mismatches)} "
            f"unknown_outcomes_reconciled={self.unknown_outcomes} (found_applied={self.found_applied}, "
            f"resent_after_proven_absent={self.resent}) wall={self.wall:.1f}s"
        )


class _RetryCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("retrying "):
            self.count += 1


def _sandbox(cfg: SoakConfig, faulty: bool) -> Sandbox:
    return Sandbox(
        SandboxOptions(
            seed=cfg.seed,
            today=cfg.today,
            clients=cfg.clients,
            invoices=cfg.invoices,
            expenses=cfg.expenses,
            fail_rate=cfg.fail_rate if faulty else 0.0,
            drop_rate=cfg.drop_rate if faulty else 0.0,
            rate_limit=cfg.rate_limit if faulty else None,
            latency_ms=cfg.latency_ms if faulty else 0,
            jitter_ms=cfg.jitter_ms if faulty else 0,
        )
    )


# ---------------------------------------------------------------------- plans


def read_plan(sb: Sandbox, cfg: SoakConfig, rng: random.Random) -> list[Call]:
    clients = sorted(sb.db.clients.values(), key=lambda c: c["id"])
    invoices = sorted(sb.db.invoices, key=int)
    today = cfg.today
    makers: list[Callable[[], Call]] = [
        lambda: Call("whoami", {}),
        lambda: Call("find_client", {"query": rng.choice(clients)["organization"][:5] or "a"}),
        lambda: Call(
            "get_client",
            {"client_id": rng.choice(clients)["id"], "response_format": rng.choice(["concise", "detailed"])},
        ),
        lambda: Call("list_invoices", {"client_id": rng.choice(clients)["id"]}),
        lambda: Call("list_invoices", {"status": rng.choice(["paid", "sent", "draft"]), "limit": 25}),
        lambda: Call("get_invoice", {"invoice_id": rng.choice(invoices)}),
        lambda: Call("list_overdue_invoices", {}),
        lambda: Call("list_overdue_invoices", {"client_id": rng.choice(clients)["id"], "min_days_overdue": 30}),
        lambda: Call("list_payments", {"invoice_id": rng.choice(invoices)}),
        lambda: Call("list_payments", {"client_id": rng.choice(clients)["id"], "limit": 50}),
        lambda: Call(
            "list_expenses",
            {"date_from": (today - timedelta(days=rng.randint(30, 400))).isoformat(), "date_to": today.isoformat()},
        ),
        lambda: Call(
            "summarize_expenses",
            {
                "date_from": (today - timedelta(days=365)).isoformat(),
                "date_to": today.isoformat(),
                "group_by": rng.choice(["category", "vendor", "month", "quarter"]),
            },
        ),
        lambda: Call("list_expense_categories", {}),
    ]
    return [rng.choice(makers)() for _ in range(cfg.reads)]


def write_plan(sb: Sandbox, cfg: SoakConfig, rng: random.Random) -> list[Call]:
    active = [c for c in sorted(sb.db.clients.values(), key=lambda c: c["id"]) if c["vis_state"] == 0]
    rng.shuffle(active)
    payable = [
        i["id"]
        for i in sorted(sb.db.invoices.values(), key=lambda i: i["id"])
        if i["vis_state"] == 0 and i["display_status"] != "draft" and Decimal(i["outstanding"]["amount"]) >= 50
    ]
    categories = [c["category"] for c in sorted(sb.db.categories.values(), key=lambda c: c["id"])]
    # distinct clients for updates and archives, so the final state of each is unambiguous
    to_update, to_archive, for_invoices = active[0::3], active[1::3], active[2::3] or active
    plan: list[Call] = []
    for n in range(cfg.writes):
        m = f"soak{cfg.seed % 10000}n{n}"
        kind = rng.choice(["client", "payment", "expense", "invoice", "update", "archive"])
        if kind == "update" and to_update:
            plan.append(Call("update_client", {"client_id": to_update.pop()["id"], "note": f"note {m}"}, m))
        elif kind == "archive" and to_archive:
            plan.append(Call("archive_client", {"client_id": to_archive.pop()["id"], "confirm": True}, m))
        elif kind == "payment" and payable:
            args = {"invoice_id": rng.choice(payable), "amount": "1.25", "note": m, "confirm": True}
            plan.append(Call("record_payment", args, m))
        elif kind == "expense":
            args = {
                "amount": f"{rng.randint(100, 99999) / 100:.2f}",
                "date": (cfg.today - timedelta(days=rng.randint(0, 60))).isoformat(),
                "category": rng.choice(categories),
                "vendor": f"Vendor {m}",
                "notes": m,
            }
            plan.append(Call("create_expense", args, m))
        elif kind == "invoice":
            args = {
                "client_id": rng.choice(for_invoices)["id"],
                "lines": [{"name": f"Work {m}", "qty": "2", "unit_cost": "40.00"}],
                "notes": m,
            }
            plan.append(Call("create_invoice", args, m))
        else:
            plan.append(Call("create_client", {"organization": f"Soak {m}", "email": f"{m}@soak.example"}, m))
    return plan


# ---------------------------------------------------------------------- running


async def _call(client: Client, call: Call) -> None:
    result = await client.call_tool(call.tool, call.args)
    call.is_error = bool(result.is_error)
    call.text = " ".join(getattr(c, "text", "") for c in result.content)
    call.structured = dict(result.structured_content) if result.structured_content is not None else None


async def _run_spread(clients: list[Client], calls: list[Call]) -> None:
    queues: list[list[Call]] = [calls[i :: len(clients)] for i in range(len(clients))]

    async def worker(client: Client, queue: list[Call]) -> None:
        for call in queue:
            await _call(client, call)

    async with anyio.create_task_group() as tg:
        for client, queue in zip(clients, queues, strict=True):
            tg.start_soon(worker, client, queue)


def _norm(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_norm(v) for v in value]
    return value


def _judge_failure(call: Call, report: SoakReport) -> None:
    line = f"{call.tool}({call.args}) -> {call.text[:240]}"
    report.failures.append(line)
    low = call.text.lower()
    if any(m in call.text for m in CRASH) or not call.text.strip() or not any(g in low for g in GUIDANCE):
        report.bad_failures.append(line)


def _verify_writes(sb: Sandbox, writes: list[Call], report: SoakReport) -> None:
    db = sb.db
    for call in writes:
        m = call.marker
        if call.tool in ("create_client", "create_expense", "create_invoice", "record_payment"):
            if call.tool == "create_client":
                found = [c for c in db.clients.values() if c["email"] == f"{m}@soak.example"]
            elif call.tool == "create_expense":
                found = [e for e in db.expenses.values() if e.get("notes") == m]
            elif call.tool == "create_invoice":
                found = [i for i in db.invoices.values() if i.get("notes") == m]
            else:
                found = [p for p in db.payments.values() if p.get("note") == m]
            if len(found) > 1:
                report.duplicates.append(f"{call.tool} {m}: {len(found)} records {[r['id'] for r in found]}")
            if not call.is_error and len(found) != 1:
                report.mismatches.append(f"{call.tool} {m}: reported success but {len(found)} records exist")
            honest = ("unknown", "may or may not")
            if call.is_error and found and not any(h in call.text.lower() for h in honest):
                report.mismatches.append(f"{call.tool} {m}: reported failure but it was applied: {call.text[:200]}")
            if not call.is_error and len(found) == 1 and call.structured is not None:
                if str(found[0]["id"]) not in repr(call.structured):
                    report.mismatches.append(f"{call.tool} {m}: result does not carry id {found[0]['id']}")
                if call.tool == "record_payment" and Decimal(found[0]["amount"]["amount"]) != Decimal("1.25"):
                    report.mismatches.append(f"record_payment {m}: amount {found[0]['amount']}")
                if call.tool == "create_expense" and Decimal(found[0]["amount"]["amount"]) != Decimal(
                    call.args["amount"]
                ):
                    report.mismatches.append(f"create_expense {m}: amount {found[0]['amount']}")
        elif call.tool == "update_client" and not call.is_error:
            note = db.clients[call.args["client_id"]]["note"]
            if note != f"note {m}":
                report.mismatches.append(f"update_client {m}: note is {note!r}")
        elif call.tool == "archive_client" and not call.is_error:
            vis = db.clients[call.args["client_id"]]["vis_state"]
            if vis != 2:
                report.mismatches.append(f"archive_client {m}: vis_state {vis}")


async def _read_back(clients: list[Client], sb: Sandbox, writes: list[Call], report: SoakReport) -> list[Call]:
    """Phase 3: what the tools now say about each successful write matches the books."""
    checks: list[tuple[Call, Callable[[JSON], bool]]] = []
    for call in writes:
        if call.is_error or call.structured is None:
            continue
        m = call.marker
        if call.tool == "create_client":
            cid = call.structured["client"]["id"]
            checks.append(
                (Call("get_client", {"client_id": cid}), lambda s, m=m: s["client"]["email"] == f"{m}@soak.example")
            )
        elif call.tool == "update_client":
            cid = call.args["client_id"]
            checks.append(
                (
                    Call("get_client", {"client_id": cid, "response_format": "detailed"}),
                    lambda s, m=m: s["client"].get("note") == f"note {m}",
                )
            )
        elif call.tool == "archive_client":
            cid = call.args["client_id"]
            checks.append((Call("get_client", {"client_id": cid}), lambda s: s["client"]["status"] == "archived"))
        elif call.tool == "record_payment":
            iid = call.args["invoice_id"]
            pid = call.structured["payment"]["id"]
            checks.append(
                (
                    Call("list_payments", {"invoice_id": iid, "limit": 100}),
                    lambda s, pid=pid: sum(1 for p in s["payments"] if p["id"] == pid) == 1,
                )
            )
        elif call.tool == "create_invoice":
            iid = call.structured["invoice"]["id"]
            checks.append((Call("get_invoice", {"invoice_id": iid}), lambda s, iid=iid: repr(iid) in repr(s)))
    calls = [c for c, _ in checks]
    await _run_spread(clients, calls)
    for call, ok in checks:
        if call.is_error:
            _judge_failure(call, report)
        elif call.structured is None or not ok(call.structured):
            report.mismatches.append(f"read-back {call.tool}({call.args}): {call.text[:200]}")
    return calls


async def run_soak(cfg: SoakConfig) -> SoakReport:
    report = SoakReport()
    rng = random.Random(cfg.seed)
    clean_sb, faulty_sb = _sandbox(cfg, False), _sandbox(cfg, True)
    reads = read_plan(clean_sb, cfg, rng)
    writes = write_plan(clean_sb, cfg, rng)
    settings = load_settings(environ={"FRESHBOOKS_TOOLSETS": "all"}, use_dotenv=False)

    # Expected read results, from the fault-free twin (in-process).
    expected = [Call(c.tool, dict(c.args)) for c in reads]
    async with Client(build_server(settings, sandbox=clean_sb)) as clean:  # type: ignore[arg-type]
        for call in expected:
            await _call(clean, call)

    counter = _RetryCounter()
    client_log = logging.getLogger("mcp_server_freshbooks.freshbooks.api")
    old_level = client_log.level
    client_log.setLevel(logging.INFO)
    client_log.addHandler(counter)
    before = (
        reconcile_stats.unknown_outcomes,
        reconcile_stats.found_applied,
        reconcile_stats.resent,
        reconcile_stats.settle_waits,
    )
    started = time.perf_counter()
    try:
        async with serve_on_loopback(faulty_sb) as base_url:
            server_settings = settings.with_overrides(api_url=base_url, request_timeout=cfg.request_timeout)
            async with _sessions(server_settings, faulty_sb, cfg.sessions) as clients:
                await _run_spread(clients, reads)
                await _run_spread(clients, writes)
                again = await _read_back(clients, faulty_sb, writes, report)
                same_key = same_key_plan(faulty_sb, cfg, rng)
                await _run_spread(clients, [c for group in same_key for c in group.calls])
                for _ in range(200):  # writes the sandbox still holds back (none unless write latency is on)
                    if faulty_sb.writes_in_flight == 0:
                        break
                    await anyio.sleep(0.05)
    finally:
        client_log.removeHandler(counter)
        client_log.setLevel(old_level)
    report.wall = time.perf_counter() - started
    report.retries = counter.count
    report.requests = faulty_sb.request_count
    report.unknown_outcomes = reconcile_stats.unknown_outcomes - before[0]
    report.found_applied = reconcile_stats.found_applied - before[1]
    report.resent = reconcile_stats.resent - before[2]
    report.settle_waits = reconcile_stats.settle_waits - before[3]

    for got, want in zip(reads, expected, strict=True):
        if got.is_error:
            _judge_failure(got, report)
        elif want.is_error:
            report.mismatches.append(f"{got.tool}({got.args}): fault-free twin failed: {want.text[:200]}")
        elif got.structured is None:
            report.bad_failures.append(f"{got.tool}({got.args}): success without structured content")
        elif _norm(got.structured) != _norm(want.structured):
            report.mismatches.append(f"{got.tool}({got.args}): differs from the fault-free result")
    for call in writes:
        if call.is_error:
            _judge_failure(call, report)
        elif call.structured is None:
            report.bad_failures.append(f"{call.tool}({call.args}): success without structured content")
    _verify_writes(faulty_sb, writes, report)
    if faulty_sb.ignored_search_keys:
        report.mismatches.append(f"search keys FreshBooks would ignore: {dict(faulty_sb.ignored_search_keys)}")
    _verify_same_key(faulty_sb, same_key, report)
    same_key_calls = [c for group in same_key for c in group.calls]
    report.calls = len(reads) + len(writes) + len(again) + len(same_key_calls)
    report.by_tool = Counter(c.tool for c in [*reads, *writes, *again, *same_key_calls])
    return report


# ---------------------------------------------------------------------- phase 4: same-key writes


@dataclass
class Group:
    """Calls that contend for one key (one invoice, one client identity, one content), sent at once."""

    kind: str  # payment | identical_create | duplicate_client | send
    calls: list[Call]
    invoice: JSON | None = None
    owed: Decimal = Decimal(0)
    marker: str = ""


REFUSALS = ("already paid", "nothing was recorded", "Not created:", "is more than the")


def same_key_plan(sb: Sandbox, cfg: SoakConfig, rng: random.Random) -> list[Group]:
    """Rounds of contending writes. Calls of one group sit next to each other, so `_run_spread`
    hands them to different sessions and they run at the same time."""
    db = sb.db
    payable = [
        i
        for i in sorted(db.invoices.values(), key=lambda i: i["id"])
        if i["vis_state"] == 0 and i["display_status"] != "draft" and Decimal(i["outstanding"]["amount"]) >= 10
    ]
    sendable = [i for i in sorted(db.invoices.values(), key=lambda i: i["id"]) if i["vis_state"] == 0]
    rng.shuffle(payable)
    rng.shuffle(sendable)
    categories = [c["category"] for c in sorted(db.categories.values(), key=lambda c: c["id"])]
    groups: list[Group] = []
    used: set[int] = set()
    for n in range(cfg.same_key_rounds):
        m = f"sk{cfg.seed % 10000}r{n}"
        if payable:
            inv = payable.pop()
            used.add(inv["id"])
            owed = Decimal(inv["outstanding"]["amount"])
            part = (owed * Decimal("0.4")).quantize(Decimal("0.01"))  # three of these exceed what is owed
            calls = [
                Call("record_payment", {"invoice_id": inv["id"], "amount": f"{part:f}", "note": m, "confirm": True}, m)
                for _ in range(3)
            ]
            groups.append(Group("payment", calls, inv, owed, m))
        args = {
            "amount": "31.70",
            "date": (cfg.today - timedelta(days=rng.randint(0, 30))).isoformat(),
            "category": rng.choice(categories),
            "vendor": f"Taxi {m}",
            "notes": m,
        }
        groups.append(Group("identical_create", [Call("create_expense", dict(args), m) for _ in range(2)], marker=m))
        client_args = {"organization": f"Same Key {m} Ltd", "email": f"{m}@samekey.example"}
        groups.append(
            Group("duplicate_client", [Call("create_client", dict(client_args), m) for _ in range(3)], marker=m)
        )
        for _ in range(2):
            candidates = [i for i in sendable if i["id"] not in used]
            if candidates:
                inv = candidates[0]
                sendable.remove(inv)
                used.add(inv["id"])
                args = {"invoice_id": inv["id"], "email_to": [f"ap-{m}@samekey.example"], "confirm": True}
                groups.append(Group("send", [Call("send_invoice", args, m)], inv, marker=m))
    return groups


def _verify_same_key(sb: Sandbox, groups: list[Group], report: SoakReport) -> None:
    db = sb.db
    for group in groups:
        stats = report.same_key.setdefault(group.kind, KindStats())
        stats.calls += len(group.calls)
        ok = [c for c in group.calls if not c.is_error]
        stats.reported_successes += len(ok)
        for call in group.calls:
            if not call.is_error:
                continue
            if any(r in call.text for r in REFUSALS):
                stats.refused += 1
            else:
                stats.failures += 1
                _judge_failure(call, report)
        if group.kind == "payment":
            assert group.invoice is not None
            found = [p for p in db.payments.values() if p.get("note") == group.marker and p["vis_state"] == 0]
            paid = sum((Decimal(p["amount"]["amount"]) for p in found), Decimal(0))
            over = paid > group.owed or any(p.get("overpaymentid") for p in found)
        elif group.kind == "identical_create":
            found = [e for e in db.expenses.values() if e.get("notes") == group.marker]
            over = False
        elif group.kind == "duplicate_client":
            found = [c for c in db.clients.values() if c["email"] == f"{group.marker}@samekey.example"]
            over = False
            if len(found) > 1:
                stats.duplicates += len(found) - 1
        else:
            assert group.invoice is not None
            emails = sb.emails_sent(group.invoice["id"])
            stats.applied += emails
            stats.max_emails_per_send = max(stats.max_emails_per_send, emails)
            call = group.calls[0]
            if emails > 1:
                stats.duplicates += emails - 1
                report.duplicates.append(f"send_invoice {call.args}: {emails} emails")
            if not call.is_error and emails != 1:
                report.mismatches.append(f"send_invoice {call.args}: reported emailed, {emails} emails went out")
            if call.is_error and emails and "may have been emailed" not in call.text:
                report.mismatches.append(f"send_invoice {call.args}: emailed but answered {call.text[:200]}")
            continue
        stats.applied += len(found)
        if over:
            stats.overpayments += 1
            report.mismatches.append(f"{group.kind} {group.marker}: paid {paid} on {group.owed} owed")
        ids = [str(r["id"]) for r in found]
        key = {"payment": "payment", "identical_create": "expense", "duplicate_client": "client"}[group.kind]
        claimed = [str(c.structured[key]["id"]) for c in ok if c.structured is not None and key in c.structured]
        if any(i not in ids for i in claimed):
            report.mismatches.append(f"{group.kind} {group.marker}: a success names a record that does not exist")
        if len(found) != len(ok):
            honest = all("unknown" in c.text or "may have" in c.text for c in group.calls if c.is_error and c not in ok)
            if len(found) < len(ok) or not honest:
                stats.duplicates += max(0, len(found) - len(ok))
                report.mismatches.append(
                    f"{group.kind} {group.marker}: {len(ok)} successes reported, {len(found)} records {ids}"
                )
        if len(claimed) != len(set(claimed)):
            stats.duplicates += len(claimed) - len(set(claimed))
            report.mismatches.append(f"{group.kind} {group.marker}: two calls reported the same record {claimed}")


@asynccontextmanager
async def _sessions(settings: Any, sb: Sandbox, n: int) -> AsyncIterator[list[Client]]:
    """N concurrent MCP sessions (half in each protocol era), each its own server and FreshBooks client."""
    async with AsyncExitStack() as stack:
        clients = []
        for i in range(n):
            server = build_server(settings, token_source=StaticTokenSource(sb.access_token))
            mode = "auto" if i % 2 == 0 else "legacy"
            clients.append(await stack.enter_async_context(Client(server, mode=mode)))  # type: ignore[arg-type]
        yield clients
