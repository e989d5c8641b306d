"""Business-family and report queries accept only the keys FreshBooks applies, in the form it applies them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from mcp_server_freshbooks.freshbooks.business import PROJECTS, TIME_ENTRIES, BusinessQuery, BusinessResource
from mcp_server_freshbooks.freshbooks.query import EXPENSES, Query
from mcp_server_freshbooks.freshbooks.reports import PAYMENTS_COLLECTED, PROFIT_LOSS, ReportQuery
from mcp_server_freshbooks.sandbox.resources import RESOURCES


def test_business_query_sends_bare_checked_keys() -> None:
    query = BusinessQuery(PROJECTS).equals("client_id", 7).equals("active", True).sort("due_date", "desc")
    assert query.params() == [("client_id", "7"), ("active", "true"), ("sort", "-due_date")]
    entries = BusinessQuery(TIME_ENTRIES).equals("started_from", datetime(2026, 1, 2, 3, 4, 5, 999))
    assert entries.params() == [("started_from", "2026-01-02T03:04:05")]


@pytest.mark.parametrize("key", ["title_like", "search[client_id]", "clientid", "internal"])
def test_business_query_refuses_a_filter_freshbooks_would_ignore(key: str) -> None:
    with pytest.raises(ValueError, match="silently ignored"):
        BusinessQuery(PROJECTS).equals(key, "x")


def test_time_entries_take_no_sort_because_freshbooks_ignores_it() -> None:
    with pytest.raises(ValueError, match="ignores sorting"):
        BusinessQuery(TIME_ENTRIES).sort("started_at")


@pytest.mark.parametrize("resource", [PROJECTS, TIME_ENTRIES], ids=lambda r: r.plural)
def test_every_business_filter_is_one_the_sandbox_implements(resource: BusinessResource) -> None:
    served = next(res for res in RESOURCES if res.family == "business" and res.plural == resource.plural)
    assert resource.filters <= set(served.search)
    assert resource.sorts <= set(served.sorts)


def test_report_query_keys_are_bare_and_checked() -> None:
    query = ReportQuery(PROFIT_LOSS).dates(date(2026, 1, 1), date(2026, 3, 31)).set("currency_code", "USD")
    assert query.params() == [("start_date", "2026-01-01"), ("end_date", "2026-03-31"), ("currency_code", "USD")]
    assert not any("search[" in key for key, _ in query.params())
    with pytest.raises(ValueError, match="silently ignored"):
        ReportQuery(PROFIT_LOSS).set("date_min", "2026-01-01")
    with pytest.raises(ValueError):
        ReportQuery(PROFIT_LOSS).in_list("clientids", [1])
    assert ReportQuery(PAYMENTS_COLLECTED).in_list("clientids", [1, 2]).params() == [
        ("clientids[]", "1"),
        ("clientids[]", "2"),
    ]


def test_inclusive_ranges_become_freshbooks_exclusive_max() -> None:
    query = Query(EXPENSES).between_dates("date", date(2026, 1, 1), date(2026, 1, 31))
    query.between_amounts("amount", None, Decimal("10.00"))
    assert query.params() == [
        ("search[date_min]", "2026-01-01"),
        ("search[date_max]", "2026-02-01"),
        ("search[amount_max]", "10.01"),
    ]
    assert Query(EXPENSES).between_dates("date", None, date.max).params() == []


@pytest.mark.parametrize(
    ("tz", "day_from", "day_to"),
    [("Europe/Berlin", date(1, 1, 1), None), ("America/Toronto", None, date(9999, 12, 31))],
)
def test_a_local_day_beyond_what_a_datetime_holds_is_no_bound(tz: str, day_from: date, day_to: date) -> None:
    # 0001-01-01 00:00 in Berlin is in year 0 in UTC; 9999-12-31 23:59 in Toronto is in year 10000.
    from mcp_server_freshbooks.freshbooks.time_entries import utc_bounds

    assert utc_bounds(day_from, day_to, tz) == (None, None)
    lo, hi = utc_bounds(date(2026, 3, 1), date(2026, 3, 1), tz)
    assert lo is not None and hi is not None and (hi - lo).total_seconds() == 86399
