"""The FreshBooks client against the sandbox, in-process (ASGI) and over real loopback HTTP."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from mcp_server_freshbooks.freshbooks import (
    CLIENTS,
    EXPENSES,
    INVOICES,
    PAYMENTS,
    BusinessSelectionError,
    FreshBooksClient,
    NotFoundError,
    Query,
    RetryPolicy,
    ServerError,
    StaticTokenSource,
    ValidationError,
    WriteOutcomeUnknownError,
)
from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions, serve_on_loopback

pytestmark = pytest.mark.anyio

FAST_RETRY = RetryPolicy(max_attempts=8, base_delay=0.01, max_delay=0.05, total_budget=20)


@asynccontextmanager
async def connect(sb: Sandbox, how: str, **kwargs: Any) -> AsyncIterator[FreshBooksClient]:
    """A client on the sandbox: `inprocess` through httpx's ASGI transport, `loopback` over TCP."""
    kwargs.setdefault("retry", FAST_RETRY)
    kwargs.setdefault("rng", random.Random(1))
    if how == "inprocess":
        client = FreshBooksClient(
            api_url="http://sandbox.local",
            token_source=StaticTokenSource(sb.access_token),
            transport=httpx.ASGITransport(app=sb.app),
            **kwargs,
        )
        async with client:
            yield client
    else:
        async with (
            serve_on_loopback(sb) as base_url,
            FreshBooksClient(api_url=base_url, token_source=StaticTokenSource(sb.access_token), **kwargs) as client,
        ):
            yield client


@pytest.fixture(params=["inprocess", "loopback"])
def how(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_identity_and_business(how: str) -> None:
    sb = Sandbox(SandboxOptions(seed=3))
    async with connect(sb, how) as fb:
        business = await fb.business()
        assert business.account_id == sb.account_id
        assert business.business_id == sb.business_id
        identity = await fb.identity()
        assert identity.identity_id
        assert len(identity.businesses) == 1


async def test_two_businesses_picks_the_one_with_books_and_explains_otherwise() -> None:
    sb = Sandbox(SandboxOptions(seed=3, two_businesses=True))
    async with connect(sb, "inprocess") as fb:
        identity = await fb.identity()
        assert len(identity.businesses) == 2
        assert [b for b in identity.businesses if b.account_id is None], "one membership has no account"
        assert (await fb.business()).account_id == sb.account_id
    clientless = next(b for b in identity.businesses if b.account_id is None)
    async with connect(sb, "inprocess", business=clientless.name) as fb:
        with pytest.raises(BusinessSelectionError, match="no accounting account"):
            await fb.business()
    async with connect(sb, "inprocess", account_id="NOPE42") as fb:
        with pytest.raises(BusinessSelectionError, match=sb.account_id):
            await fb.business()


async def test_list_all_pages_match_the_books(how: str) -> None:
    sb = Sandbox(SandboxOptions(seed=11, invoices=430))
    progress: list[tuple[int, int]] = []
    async with connect(sb, how) as fb:
        rows = await fb.list_all(INVOICES, on_progress=lambda done, total: progress.append((done, total)))
    live = [i for i in sb.db.invoices.values() if i["vis_state"] != 1]
    assert sorted(r["id"] for r in rows) == sorted(i["id"] for i in live)
    assert len(rows) == len(live)
    assert progress[-1][0] == progress[-1][1] == 5  # 430 rows -> 5 pages of 100
    assert [p[0] for p in progress] == [1, 2, 3, 4, 5]
    assert not sb.ignored_search_keys


async def test_pages_come_in_order_and_max_rows_stops_early() -> None:
    sb = Sandbox(SandboxOptions(seed=11, invoices=430))
    async with connect(sb, "inprocess") as fb:
        pages = [p.page async for p in fb.iter_pages(INVOICES)]
        assert pages == [1, 2, 3, 4, 5]
        before = sb.request_count
        rows = await fb.list_all(INVOICES, max_rows=150)
        assert len(rows) == 150
        assert sb.request_count - before == 2  # two pages, not five


async def test_per_page_is_capped_and_totals_are_right() -> None:
    sb = Sandbox(SandboxOptions(seed=5, clients=130))
    async with connect(sb, "inprocess") as fb:
        page = await fb.list_page(CLIENTS, per_page=150)
    listed = [c for c in sb.db.clients.values() if c["vis_state"] != 1]
    assert page.per_page == 100
    assert len(page.rows) == 100
    assert page.total == len(listed)
    assert page.pages == -(-len(listed) // 100)


async def test_server_side_filters_narrow_and_send_no_ignored_keys() -> None:
    sb = Sandbox(SandboxOptions(seed=5))
    some = next(c for c in sb.db.clients.values() if c["vis_state"] == 0 and c["organization"])
    fragment = some["organization"][1:5].upper()
    async with connect(sb, "inprocess") as fb:
        found = await fb.list_all(CLIENTS, Query(CLIENTS).like("organization", fragment))
        by_email = await fb.list_all(CLIENTS, Query(CLIENTS).equals("email", some["email"]))
        start = sb.today - timedelta(days=90)
        expenses = await fb.list_all(EXPENSES, Query(EXPENSES).between("date", start, sb.today))
    expected = {
        c["id"] for c in sb.db.clients.values() if c["vis_state"] != 1 and fragment.lower() in c["organization"].lower()
    }
    assert {c["id"] for c in found} == expected
    assert some["id"] in {c["id"] for c in by_email}
    expected_expenses = {
        e["id"]
        for e in sb.db.expenses.values()
        if e["vis_state"] != 1 and start <= date.fromisoformat(e["date"]) < sb.today
    }
    assert {e["id"] for e in expenses} == expected_expenses
    assert not sb.ignored_search_keys


def test_undocumented_search_keys_are_refused_before_sending() -> None:
    with pytest.raises(ValueError, match="not documented"):
        Query(INVOICES).equals("status", "paid")  # FreshBooks would ignore it and return everything
    with pytest.raises(ValueError, match="not documented"):
        Query(CLIENTS).like("email", "x")  # there is no email_like
    assert Query(INVOICES).equals("v3_status", "overdue").params() == [("search[v3_status]", "overdue")]


async def test_not_found_and_validation_errors_are_typed(how: str) -> None:
    sb = Sandbox(SandboxOptions(seed=2))
    async with connect(sb, how) as fb:
        with pytest.raises(NotFoundError) as missing:
            await fb.get(CLIENTS, 999_999_999)
        assert missing.value.errno == 1012
        assert missing.value.status == 404
        with pytest.raises(ValidationError) as invalid:
            await fb.create(EXPENSES, {"amount": {"amount": "10.00", "code": "USD"}})  # no categoryid/staffid/date
        assert invalid.value.errno == 1001
        assert invalid.value.field
    assert not [w for w in sb.write_log if w.method == "POST"], "a refused create wrote nothing"


async def test_reads_survive_faults_and_no_post_is_repeated(how: str) -> None:
    """--fail-rate 0.2 and a rate limit: 200 reads all succeed; POSTs are never sent twice."""
    sb = Sandbox(SandboxOptions(seed=9, fail_rate=0.2, rate_limit=40))
    ids = sorted(c["id"] for c in sb.db.clients.values())
    async with connect(sb, how, retry=RetryPolicy(max_attempts=10, base_delay=0.01, max_delay=0.1)) as fb:
        import asyncio

        results = await asyncio.gather(*(fb.get(CLIENTS, ids[i % len(ids)]) for i in range(200)))
        assert [r["id"] for r in results] == [ids[i % len(ids)] for i in range(200)]
        assert fb.stats.retries > 0, "faults were injected, so some reads must have been retried"
        invoice = next(i for i in sb.db.invoices.values() if i["v3_status"] in ("sent", "viewed", "overdue", "partial"))
        outcomes: Counter[str] = Counter()
        for n in range(20):
            try:
                await fb.create(
                    PAYMENTS,
                    {
                        "invoiceid": invoice["id"],
                        "amount": {"amount": "0.01"},
                        "date": sb.today.isoformat(),
                        "type": "Cash",
                        "note": f"fault-test-{n}",
                    },
                )
                outcomes["ok"] += 1
            except ServerError:
                outcomes["5xx"] += 1
    posts = [w for w in sb.write_log if w.method == "POST"]
    assert len(posts) == outcomes["ok"], "every applied POST was answered once; failed ones were not re-sent"
    assert outcomes["5xx"] > 0 and outcomes["ok"] > 0
    notes = Counter(p["note"] for p in sb.db.payments.values() if str(p.get("note", "")).startswith("fault-test"))
    assert all(count == 1 for count in notes.values())


async def test_a_dropped_post_is_reported_as_unknown_not_resent() -> None:
    sb = Sandbox(SandboxOptions(seed=4, drop_rate=1.0))
    async with connect(sb, "inprocess") as fb:
        sb.set_faults(drop_rate=0.0)
        await fb.business()
        sb.set_faults(drop_rate=1.0)
        for _ in range(6):
            with pytest.raises(WriteOutcomeUnknownError):
                await fb.create(CLIENTS, {"organization": "Dropped Ltd", "email": "drop@example.com"})
    posts = [w for w in sb.write_log if w.method == "POST"]
    created = [c for c in sb.db.clients.values() if c["organization"] == "Dropped Ltd"]
    assert len(posts) == len(created) <= 6, "each create was sent once; some were applied before the drop"


async def test_reads_survive_dropped_connections(how: str) -> None:
    sb = Sandbox(SandboxOptions(seed=4, drop_rate=0.3))
    async with connect(sb, how) as fb:
        rows = await fb.list_all(CLIENTS)
    assert len(rows) == len([c for c in sb.db.clients.values() if c["vis_state"] != 1])


class CountingRefresh:
    def __init__(self, first: str, fresh: str) -> None:
        self.token = first
        self.fresh = fresh
        self.refreshes = 0

    async def get_token(self) -> str:
        return self.token

    async def refresh_after_unauthorized(self, rejected_token: str) -> str | None:
        self.refreshes += 1
        self.token = self.fresh
        return self.fresh


async def test_a_401_triggers_exactly_one_refresh() -> None:
    sb = Sandbox(SandboxOptions(seed=4))
    tokens = CountingRefresh("expired-or-bogus", sb.access_token)
    async with FreshBooksClient(
        api_url="http://sandbox.local", token_source=tokens, transport=httpx.ASGITransport(app=sb.app)
    ) as fb:
        assert (await fb.business()).account_id == sb.account_id
        await fb.list_page(CLIENTS)
    assert tokens.refreshes == 1


async def test_a_401_without_refresh_says_how_to_sign_in() -> None:
    from mcp_server_freshbooks.freshbooks import AuthError

    sb = Sandbox(SandboxOptions(seed=4))
    async with FreshBooksClient(
        api_url="http://sandbox.local",
        token_source=StaticTokenSource("bogus"),
        transport=httpx.ASGITransport(app=sb.app),
    ) as fb:
        with pytest.raises(AuthError, match="auth login"):
            await fb.identity()


async def test_rate_limit_retry_after_is_honoured() -> None:
    sb = Sandbox(SandboxOptions(seed=4, rate_limit=5))
    async with connect(sb, "inprocess") as fb:
        import asyncio

        await asyncio.gather(*(fb.list_page(CLIENTS, per_page=5) for _ in range(15)))
        assert fb.stats.by_status.get(429, 0) > 0
        assert fb.stats.by_status.get(200, 0) >= 15
