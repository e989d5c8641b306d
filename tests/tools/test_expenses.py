"""Expense tools through the real MCP protocol (both eras) against the sandbox.

Expected values are computed here from the sandbox's own records (sb.db), never with the tools' helpers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from mcp import Client

from conftest import call_error, call_ok
from mcp_server_freshbooks.config import DEFAULT_TOOLSETS, Settings, load_settings
from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions
from mcp_server_freshbooks.server import build_server

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings() -> Settings:
    """The default catalog plus the opt-in client_admin and expenses toolsets (#12): the tools used here."""
    everyday = ",".join((*DEFAULT_TOOLSETS, "client_admin", "expenses"))
    return load_settings(environ={"FRESHBOOKS_TOOLSETS": everyday}, use_dotenv=False)


Totals = dict[str, Decimal]


@pytest.fixture(autouse=True)
def _no_ignored_search_keys(sandbox: Sandbox) -> Iterator[None]:
    """FreshBooks silently ignores unknown search keys: our client must never send one."""
    yield
    assert not sandbox.ignored_search_keys, dict(sandbox.ignored_search_keys)


# ---------------------------------------------------------------------- ground truth from sb.db


def visible(sb: Sandbox) -> list[dict[str, Any]]:
    return [e for e in sb.db.expenses.values() if e["vis_state"] != 1]


def in_range(e: dict[str, Any], start: date | None, end: date | None) -> bool:
    d = date.fromisoformat(e["date"])
    return (start is None or d >= start) and (end is None or d <= end)


def totals_of(rows: list[dict[str, Any]]) -> Totals:
    out: Totals = defaultdict(Decimal)
    for e in rows:
        out[e["amount"]["code"]] += Decimal(e["amount"]["amount"])
    return dict(out)


def as_totals(items: list[dict[str, str]]) -> Totals:
    assert len({m["code"] for m in items}) == len(items), f"a currency appears twice: {items}"
    return {m["code"]: Decimal(m["amount"]) for m in items}


def client_name(sb: Sandbox, cid: int) -> str:
    c = sb.db.clients[cid]
    return c["organization"] or f"{c['fname']} {c['lname']}"


def group_key(sb: Sandbox, e: dict[str, Any], group_by: str) -> str:
    d = date.fromisoformat(e["date"])
    if group_by == "category":
        return str(e["categoryid"])
    if group_by == "vendor":
        return " ".join(e["vendor"].casefold().split()) if e["vendor"] else "none"
    if group_by == "month":
        return f"{d.year}-{d.month:02d}"
    if group_by == "quarter":
        return f"{d.year}-Q{(d.month - 1) // 3 + 1}"
    if group_by == "client":
        return str(e["clientid"]) if e["clientid"] else "none"
    return str(e["projectid"]) if e["projectid"] else "none"


def expected_label(sb: Sandbox, group_by: str, key: str) -> str | None:
    if key == "none":
        return None
    if group_by == "category":
        return str(sb.db.categories[int(key)]["category"])
    if group_by == "client":
        return client_name(sb, int(key))
    if group_by == "project":
        return str(sb.db.projects[int(key)]["title"])
    if group_by in ("month", "quarter"):
        return key
    return None


async def list_all_ids(client: Client, args: dict[str, Any]) -> list[int]:
    ids: list[int] = []
    page: int | None = 1
    while page is not None:
        out = await call_ok(client, "list_expenses", {**args, "limit": 100, "page": page})
        ids += [r["id"] for r in out["expenses"]]
        page = out.get("next_page")
        assert out["has_more"] == (page is not None)
    return ids


@pytest.fixture
async def custom() -> AsyncIterator[Any]:
    """Open a client on a custom sandbox: `async with custom(sb, mode) as client`."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def open_(sb: Sandbox, mode: str = "auto", **kw: Any) -> AsyncIterator[Client]:
        everyday = ",".join((*DEFAULT_TOOLSETS, "client_admin", "expenses"))  # expenses is opt-in (#12)
        settings = load_settings(environ={"FRESHBOOKS_TOOLSETS": everyday}, use_dotenv=False)
        async with Client(build_server(settings, sandbox=sb), mode=mode, **kw) as client:  # type: ignore[arg-type]
            yield client

    yield open_


# ---------------------------------------------------------------------- categories


async def test_categories_listed_and_cached(mcp: Client, sandbox: Sandbox) -> None:
    out = await call_ok(mcp, "list_expense_categories")
    db = sandbox.db.categories
    assert out["count"] == len(db)
    assert {c["id"]: c["name"] for c in out["categories"]} == {i: c["category"] for i, c in db.items()}
    for c in out["categories"]:
        assert c["is_cogs"] == db[c["id"]]["is_cogs"]
        assert c.get("parent_id") == db[c["id"]]["parentid"]
        if c.get("parent_id"):
            assert c["parent"] == db[c["parent_id"]]["category"]
    assert out["from_cache"] is False
    before = sandbox.request_count
    again = await call_ok(mcp, "list_expense_categories")
    assert again["from_cache"] is True and again["categories"] == out["categories"]
    assert sandbox.request_count == before  # served from the cache: no request to FreshBooks
    # A category added in FreshBooks shows up only with refresh=true.
    new_id = max(db) + 1
    db[new_id] = {**db[max(db)], "id": new_id, "categoryid": new_id, "category": "Bank Fees", "parentid": None}
    assert "Bank Fees" not in {c["name"] for c in (await call_ok(mcp, "list_expense_categories"))["categories"]}
    refreshed = await call_ok(mcp, "list_expense_categories", {"refresh": True})
    assert refreshed["from_cache"] is False and "Bank Fees" in {c["name"] for c in refreshed["categories"]}


# ---------------------------------------------------------------------- list_expenses


async def test_list_pages_through_everything_newest_first(mcp: Client, sandbox: Sandbox) -> None:
    first = await call_ok(mcp, "list_expenses")
    expected = visible(sandbox)
    assert first["total"] == len(expected)
    assert len(first["expenses"]) == 20 and first["has_more"] is True and first["next_page"] == 2
    row = first["expenses"][0]
    assert set(row) <= {
        "id",
        "date",
        "vendor",
        "category",
        "category_id",
        "amount",
        "client_id",
        "client",
        "project_id",
        "project",
        "has_receipt",
    }
    newest = max(e["date"] for e in expected)
    assert row["date"] == newest
    ids = await list_all_ids(mcp, {})
    assert len(ids) == len(set(ids)) == len(expected)
    assert set(ids) == {e["id"] for e in expected}
    # Each row is the sandbox's record, resolved to names.
    for r in first["expenses"]:
        e = sandbox.db.expenses[r["id"]]
        assert r["amount"] == {"amount": e["amount"]["amount"], "code": e["amount"]["code"]}
        assert r["category"] == sandbox.db.categories[e["categoryid"]]["category"]
        assert r["has_receipt"] == e["has_receipt"]
        assert r.get("vendor") == e["vendor"]
        if e["clientid"]:
            assert r["client"] == client_name(sandbox, e["clientid"])
        if e["projectid"]:
            assert r["project"] == sandbox.db.projects[e["projectid"]]["title"]
    page_sum = totals_of([sandbox.db.expenses[r["id"]] for r in first["expenses"]])
    assert as_totals(first["page_totals"]) == page_sum


async def test_list_filters_match_the_books(mcp: Client, sandbox: Sandbox) -> None:
    today = sandbox.today
    start, end = today - timedelta(days=200), today - timedelta(days=20)
    # date range (inclusive both ends), parent category includes its subcategories
    travel = next(c for c in sandbox.db.categories.values() if c["category"] == "Travel")
    family = {travel["id"]} | {c["id"] for c in sandbox.db.categories.values() if c["parentid"] == travel["id"]}
    ids = await list_all_ids(mcp, {"date_from": str(start), "date_to": str(end), "category": "travel"})
    expected = {e["id"] for e in visible(sandbox) if in_range(e, start, end) and e["categoryid"] in family}
    assert set(ids) == expected and expected
    # the boundaries are inclusive: a one-day range returns that day's expenses
    day = date.fromisoformat(visible(sandbox)[0]["date"])
    one_day = await list_all_ids(mcp, {"date_from": str(day), "date_to": str(day)})
    assert set(one_day) == {e["id"] for e in visible(sandbox) if e["date"] == day.isoformat()}
    # a subcategory by id, client and project
    fuel = next(c for c in sandbox.db.categories.values() if c["category"] == "Fuel")
    by_id = await list_all_ids(mcp, {"category": str(fuel["id"])})
    assert set(by_id) == {e["id"] for e in visible(sandbox) if e["categoryid"] == fuel["id"]}
    with_client = next(e for e in visible(sandbox) if e["clientid"])
    got = await list_all_ids(mcp, {"client_id": with_client["clientid"]})
    assert set(got) == {e["id"] for e in visible(sandbox) if e["clientid"] == with_client["clientid"]}
    with_project = next(e for e in visible(sandbox) if e["projectid"])
    got = await list_all_ids(mcp, {"project_id": with_project["projectid"]})
    assert set(got) == {e["id"] for e in visible(sandbox) if e["projectid"] == with_project["projectid"]}
    # amount range, both ends inclusive
    lo, hi = Decimal(with_client["amount"]["amount"]), Decimal(with_client["amount"]["amount"]) + 100
    got = await list_all_ids(mcp, {"amount_min": str(lo), "amount_max": str(hi)})
    assert set(got) == {e["id"] for e in visible(sandbox) if lo <= Decimal(e["amount"]["amount"]) <= hi}
    assert with_client["id"] in got


async def test_list_vendor_fragment_is_matched_client_side(mcp: Client, sandbox: Sandbox) -> None:
    expected = sorted(
        (e for e in visible(sandbox) if e["vendor"] and "hort" in e["vendor"].lower()),
        key=lambda e: e["date"],
        reverse=True,
    )
    assert len(expected) > 5
    ids = await list_all_ids(mcp, {"vendor": "HORT"})
    assert set(ids) == {e["id"] for e in expected} and len(ids) == len(expected)
    page2 = await call_ok(mcp, "list_expenses", {"vendor": "hort", "limit": 3, "page": 2})
    assert [r["date"] for r in page2["expenses"]] == [e["date"] for e in expected[3:6]]
    assert page2["has_more"] is (len(expected) > 6)
    assert "vendor" in page2["note"]


async def test_list_sort_and_detailed(mcp: Client, sandbox: Sandbox) -> None:
    out = await call_ok(mcp, "list_expenses", {"sort": "amount_desc", "limit": 5, "response_format": "detailed"})
    biggest = sorted((Decimal(e["amount"]["amount"]) for e in visible(sandbox)), reverse=True)[:5]
    assert [Decimal(r["amount"]["amount"]) for r in out["expenses"]] == biggest
    row = out["expenses"][0]
    e = sandbox.db.expenses[row["id"]]
    assert row["status"] in ("internal", "outstanding", "invoiced", "recouped")
    assert row["staff_id"] == e["staffid"] and "updated" in row and "is_cogs" in row
    concise = await call_ok(mcp, "list_expenses", {"sort": "amount_desc", "limit": 5})
    assert len(str(concise)) < len(str(out))
    assert "status" not in concise["expenses"][0]


async def test_list_bad_input_and_unknown_or_ambiguous_category_are_refused(mcp: Client) -> None:
    text = await call_error(mcp, "list_expenses", {"date_from": "2025-03-01", "date_to": "2025-02-01"})
    assert "date_to" in text and "date_from" in text and "backwards" in text
    text = await call_error(mcp, "list_expenses", {"amount_min": "50", "amount_max": "10"})
    assert "amount_max" in text
    text = await call_error(mcp, "list_expenses", {"limit": 101})
    assert "limit" in text
    text = await call_error(mcp, "list_expenses", {"category": "Travle"})
    assert "Travle" in text and "Travel" in text and "list_expense_categories" in text
    text = await call_error(
        mcp, "summarize_expenses", {"date_from": "2025-01-01", "date_to": "2025-12-31", "category": "expenses"}
    )
    assert "ambiguous" in text
    assert "Car & Truck Expenses" in text and "Office Expenses & Postage" in text


# ---------------------------------------------------------------------- summarize_expenses


def check_summary(
    sb: Sandbox, out: dict[str, Any], start: date, end: date, group_by: str, rows: list[dict[str, Any]]
) -> None:
    assert out["expense_count"] == len(rows)
    assert as_totals(out["totals"]) == totals_of(rows)
    by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in rows:
        by_key[group_key(sb, e, group_by)].append(e)
    listed = {g["key"]: g for g in out["groups"]}
    for key, g in listed.items():
        assert g["count"] == len(by_key[key]), (group_by, key)
        assert as_totals(g["totals"]) == totals_of(by_key[key]), (group_by, key)
        label = expected_label(sb, group_by, key)
        if label is not None:
            assert g["label"] == label
    rest = [e for k, es in by_key.items() if k not in listed for e in es]
    if rest:
        assert out["other"]["count"] == len(rest)
        assert as_totals(out["other"]["totals"]) == totals_of(rest)
    else:
        assert "other" not in out
    if group_by in ("month", "quarter"):
        assert [g["key"] for g in out["groups"]] == sorted(by_key)
    else:
        main = out["main_currency"]
        in_main = [as_totals(g["totals"]).get(main, Decimal(0)) for g in out["groups"]]
        assert in_main == sorted(in_main, reverse=True)
        # the kept groups are the largest: nothing in `other` beats the smallest kept group
        if rest and in_main:
            assert all(
                totals_of(es).get(main, Decimal(0)) <= in_main[-1] for k, es in by_key.items() if k not in listed
            )


@pytest.mark.parametrize("seed", [3, 11, 29])
async def test_summaries_equal_the_books_for_several_seeds(custom: Any, seed: int) -> None:
    sb = Sandbox(SandboxOptions(seed=seed, clients=25, invoices=20, expenses=450))
    today = sb.today
    ranges = [
        (today - timedelta(days=90), today),
        (today - timedelta(days=400), today - timedelta(days=120)),
        (today - timedelta(days=3000), today + timedelta(days=1)),
    ]
    async with custom(sb) as client:
        for start, end in ranges:
            rows = [e for e in visible(sb) if in_range(e, start, end)]
            for group_by in ("category", "vendor", "month", "quarter", "client", "project"):
                out = await call_ok(
                    client,
                    "summarize_expenses",
                    {"date_from": str(start), "date_to": str(end), "group_by": group_by, "top": 4},
                )
                check_summary(sb, out, start, end, group_by, rows)
    assert len(totals_of(visible(sb))) >= 2  # the books really mix currencies
    assert not sb.ignored_search_keys


async def test_summary_filters(mcp: Client, sandbox: Sandbox) -> None:
    start, end = sandbox.today - timedelta(days=365), sandbox.today
    base = {"date_from": str(start), "date_to": str(end)}
    rows = [e for e in visible(sandbox) if in_range(e, start, end)]
    cars = next(c for c in sandbox.db.categories.values() if c["category"] == "Car & Truck Expenses")
    family = {cars["id"]} | {c["id"] for c in sandbox.db.categories.values() if c["parentid"] == cars["id"]}
    out = await call_ok(mcp, "summarize_expenses", {**base, "category": "car & truck expenses", "group_by": "vendor"})
    check_summary(sandbox, out, start, end, "vendor", [e for e in rows if e["categoryid"] in family])
    out = await call_ok(mcp, "summarize_expenses", {**base, "vendor": "star", "group_by": "month"})
    check_summary(sandbox, out, start, end, "month", [e for e in rows if e["vendor"] and "star" in e["vendor"].lower()])
    cid = next(e["clientid"] for e in rows if e["clientid"])
    out = await call_ok(mcp, "summarize_expenses", {**base, "client_id": cid, "group_by": "category"})
    check_summary(sandbox, out, start, end, "category", [e for e in rows if e["clientid"] == cid])
    pid = next(e["projectid"] for e in rows if e["projectid"])
    out = await call_ok(mcp, "summarize_expenses", {**base, "project_id": pid, "group_by": "project"})
    check_summary(sandbox, out, start, end, "project", [e for e in rows if e["projectid"] == pid])
    assert out["groups"][0]["label"] == sandbox.db.projects[pid]["title"]


async def test_summary_mixed_currencies_are_kept_apart(mcp: Client, sandbox: Sandbox) -> None:
    start, end = sandbox.today - timedelta(days=600), sandbox.today
    out = await call_ok(
        mcp, "summarize_expenses", {"date_from": str(start), "date_to": str(end), "group_by": "category"}
    )
    codes = {m["code"] for m in out["totals"]}
    assert {"USD", "CAD", "EUR"} <= codes
    rows = [e for e in visible(sandbox) if in_range(e, start, end)]
    assert as_totals(out["totals"]) == totals_of(rows)
    assert out["main_currency"] == "USD"
    for g in out["groups"] + [out["other"]]:
        assert all(set(m) == {"amount", "code"} and "." in m["amount"] for m in g["totals"])


async def test_summary_reports_increasing_progress(mcp: Client, sandbox: Sandbox) -> None:
    seen: list[tuple[float, float | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total))

    start, end = sandbox.today - timedelta(days=600), sandbox.today
    result = await mcp.call_tool(
        "summarize_expenses",
        {"date_from": str(start), "date_to": str(end)},
        progress_callback=on_progress,
    )
    assert not result.is_error
    pages = -(-len([e for e in visible(sandbox) if in_range(e, start, end)]) // 100)
    assert pages >= 3
    assert [p for p, _ in seen] == list(range(1, pages + 1))
    assert all(t == pages for _, t in seen)


async def test_summary_range_is_checked(mcp: Client, sandbox: Sandbox) -> None:
    before = sandbox.request_count
    text = await call_error(mcp, "summarize_expenses", {"date_from": "2025-06-01", "date_to": "2025-05-31"})
    assert "backwards" in text and "date_from" in text and "date_to" in text
    text = await call_error(mcp, "summarize_expenses", {"date_from": "2014-01-01", "date_to": "2024-01-01"})
    assert "10 years" in text
    assert sandbox.request_count == before  # refused before asking FreshBooks anything
    # the far end of the calendar is handled, not crashed on
    out = await call_ok(mcp, "summarize_expenses", {"date_from": "9995-01-01", "date_to": "9999-12-31"})
    assert out["expense_count"] == 0 and out["groups"] == []
    text = await call_error(mcp, "list_expenses", {"date_from": "9999-12-31", "date_to": "0001-01-01"})
    assert "backwards" in text
    # exactly ten years minus a day is allowed
    await call_ok(mcp, "summarize_expenses", {"date_from": "2014-01-02", "date_to": "2024-01-01"})
    text = await call_error(
        mcp, "summarize_expenses", {"date_from": "2025-01-01", "date_to": "2025-02-01", "group_by": "day"}
    )
    assert "group_by" in text


async def test_summary_reads_again_when_books_change_midway(custom: Any) -> None:
    """Rows shifting between concurrently read pages would miscount: the tool re-reads once."""
    sb = Sandbox(SandboxOptions(seed=5, clients=10, invoices=5, expenses=350, latency_ms=5))
    state = {"calls": 0}
    db = sb.db
    victim = next(e for e in db.expenses.values() if e["vis_state"] == 0)

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        state["calls"] += 1
        if state["calls"] == 1:
            victim["vis_state"] = 1  # deleted in FreshBooks while we read

    async with custom(sb) as client:
        start, end = sb.today - timedelta(days=600), sb.today
        result = await client.call_tool(
            "summarize_expenses", {"date_from": str(start), "date_to": str(end)}, progress_callback=on_progress
        )
        out = dict(result.structured_content or {})
        rows = [e for e in visible(sb) if in_range(e, start, end)]
        assert out["expense_count"] == len(rows)
        assert as_totals(out["totals"]) == totals_of(rows)


# ---------------------------------------------------------------------- create_expense


async def test_create_expense(mcp: Client, sandbox: Sandbox) -> None:
    cid = next(iter(c for c in sandbox.db.clients.values() if c["vis_state"] == 0))["id"]
    pid = next(iter(sandbox.db.projects))
    out = await call_ok(
        mcp,
        "create_expense",
        {
            "amount": "1234.50",
            "date": "2025-03-04",
            "category": "HOTEL",
            "vendor": "Marriott",
            "notes": "Conference",
            "client_id": cid,
            "project_id": pid,
            "currency_code": "cad",
        },
    )
    x = out["expense"]
    rec = sandbox.db.expenses[x["id"]]
    hotel = next(c for c in sandbox.db.categories.values() if c["category"] == "Hotel")
    assert rec["amount"] == {"amount": "1234.50", "code": "CAD"}
    assert x["amount"] == {"amount": "1234.50", "code": "CAD"}
    assert rec["categoryid"] == hotel["id"] and x["category"] == "Hotel"
    assert rec["date"] == "2025-03-04" and rec["vendor"] == "Marriott" and rec["notes"] == "Conference"
    assert rec["clientid"] == cid and x["client"] == client_name(sandbox, cid)
    assert rec["projectid"] == pid and x["project"] == sandbox.db.projects[pid]["title"]
    assert rec["staffid"] == sandbox.staff_id  # the account's staff id, not the identity id
    assert [w.method for w in sandbox.write_log] == ["POST"]
    # default currency: the business's
    out = await call_ok(mcp, "create_expense", {"amount": 9.99, "date": "2025-03-05", "category": "Fuel"})
    assert sandbox.db.expenses[out["expense"]["id"]]["amount"] == {"amount": "9.99", "code": "USD"}


async def test_create_expense_refuses_bad_input_and_changes_nothing(mcp: Client, sandbox: Sandbox) -> None:
    count = len(sandbox.db.expenses)
    text = await call_error(mcp, "create_expense", {"amount": "10.00", "date": "2025-03-04", "category": "Hotle"})
    assert "Hotel" in text  # suggestion
    text = await call_error(mcp, "create_expense", {"amount": "10.00", "date": "2025-03-04", "category": "expenses"})
    assert "ambiguous" in text
    text = await call_error(mcp, "create_expense", {"amount": "0", "date": "2025-03-04", "category": "Fuel"})
    assert "amount" in text
    text = await call_error(mcp, "create_expense", {"amount": "1.005", "date": "2025-03-04", "category": "Fuel"})
    assert "amount" in text
    text = await call_error(
        mcp, "create_expense", {"amount": "10", "date": "2025-03-04", "category": "Fuel", "client_id": 999999}
    )
    assert "clientid" in text or "Client" in text
    assert len(sandbox.db.expenses) == count and sandbox.write_log == []


async def test_read_only_server_has_no_create(sandbox: Sandbox, settings: Settings, mode: str) -> None:
    server = build_server(settings.with_overrides(read_only=True), sandbox=sandbox)
    async with Client(server, mode=mode) as client:  # type: ignore[arg-type]
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert {"list_expenses", "summarize_expenses", "list_expense_categories"} <= set(tools)
    assert "create_expense" not in tools
    assert tools["summarize_expenses"].annotations.read_only_hint is True
    assert tools["summarize_expenses"].output_schema is not None
