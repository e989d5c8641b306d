"""Public value types of the sandbox: options and write-log entries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class SandboxOptions:
    """Knobs for one sandbox instance. Everything is deterministic given ``seed`` and ``today``."""

    seed: int = 7
    today: date | None = None  # None -> date.today() at construction
    clients: int = 40
    invoices: int = 300
    expenses: int = 600
    time_entries: int = 0  # extra: a year of several team members' time (0 keeps the seeded books as they were)
    token_ttl: int = 43200  # seconds; FreshBooks access tokens live 12 h
    latency_ms: int = 0
    jitter_ms: int = 0
    fail_rate: float = 0.0
    rate_limit: int | None = None  # max requests per 1-second window
    drop_rate: float = 0.0
    write_latency_ms: int = 0  # sleep before applying a write; it lands even if the client gave up
    write_latency_match: str | None = None  # regex on "METHOD /path" selecting the delayed writes
    access_token: str | None = None
    two_businesses: bool = False
    per_page_default: int = 15
    # Serve repeated list queries from a cache cleared by every applied write, the way FreshBooks'
    # indexed database answers them: each page then costs ~1 ms instead of a scan of every record.
    # Off by default so tests that edit `sb.db` directly never read a stale list; benches turn it on.
    list_cache: bool = False
    # Online-payment gateways the business has set up (FreshBooks' "Know Your Client" step done), the
    # first being the default; () is a business with none, whose payment-options POSTs are refused (#17).
    gateways: tuple[str, ...] = ("fbpay", "stripe")


@dataclass(frozen=True)
class WriteLogEntry:
    """One applied write (POST/PUT/DELETE that changed the books)."""

    method: str
    path: str
    resource: str
    resource_id: int | None
    status: int
    time: datetime


@dataclass(frozen=True)
class EmailLogEntry:
    """One email FreshBooks would have sent (``action_email`` on an invoice)."""

    resource: str
    resource_id: int
    time: datetime
