"""Expense parsing and the streaming aggregator, on real FreshBooks payloads (seed 002) and edge cases."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from mcp_server_freshbooks.freshbooks.expenses import (
    CategoryIndex,
    CategoryLookupError,
    ExpenseAggregator,
    parse_expense,
    staff_id_from_me,
)

SEEDS = Path("/work/shared/seeds")


def _seed_expenses() -> list[dict[str, Any]]:
    """The `List Expenses` response of seed 002, parsed from the documentation text as FreshBooks sent it."""
    files = sorted(SEEDS.glob("002_*.txt"))
    if not files:
        pytest.skip("seed 002 not available")
    text = files[0].read_text()
    section = text[text.index("List Expenses") :]
    start = section.index("{")
    body, _ = json.JSONDecoder().raw_decode(section[start:])
    rows = body["response"]["result"]["expenses"]
    assert isinstance(rows, list)
    return rows


def test_seed_expenses_parse_exactly() -> None:
    rows = _seed_expenses()
    expenses = [parse_expense(r) for r in rows]
    assert [e.id for e in expenses] == [7934236, 7934237]
    assert sum((e.amount.amount for e in expenses), Decimal(0)) == Decimal("823.24")
    assert {e.amount.code for e in expenses} == {"USD"}
    first = expenses[0]
    assert first.amount.amount == Decimal("762.68")
    assert first.category_id == 72311
    assert first.client_id is None  # clientid 0 means no client
    assert first.project_id is None
    assert first.vendor is None
    assert first.staff_id == 1
    assert first.status == "internal"
    assert first.is_cogs is True
    assert first.taxes == ()
    assert first.date is not None and first.date.isoformat() == "2022-01-04"
    assert first.updated is not None and first.updated.startswith("2022-01-04T06:16:24-05:00")


def test_seed_expenses_aggregate_to_823_24() -> None:
    agg = ExpenseAggregator("category")
    agg.add_rows(_seed_expenses())
    res = agg.result(top=10)
    assert res.count == 2
    assert [(m.code, m.amount) for m in res.totals] == [("USD", Decimal("823.24"))]
    assert {g.key: g.totals[0].amount for g in res.groups} == {
        "72311": Decimal("762.68"),
        "72293": Decimal("60.56"),
    }
    assert [g.key for g in res.groups] == ["72311", "72293"]  # largest first


def _row(eid: int, amount: Any, code: str = "USD", **extra: Any) -> dict[str, Any]:
    return {"id": eid, "amount": {"amount": amount, "code": code}, "date": "2024-02-10", **extra}


def test_float_amounts_are_refused() -> None:
    with pytest.raises(ValueError, match="float"):
        parse_expense(_row(1, 10.1))
    agg = ExpenseAggregator("vendor")
    with pytest.raises(ValueError):
        agg.add(_row(1, 10.1))


def test_long_precision_is_kept() -> None:
    e = parse_expense(_row(1, "7.60133524082021936099189318"))
    assert e.amount.amount == Decimal("7.60133524082021936099189318")


def test_currencies_are_never_added() -> None:
    agg = ExpenseAggregator("vendor")
    agg.add_rows(
        [
            _row(1, "10.00", "USD", vendor="Shell"),
            _row(2, "0.10", "CAD", vendor="shell "),
            _row(3, "0.20", "USD", vendor="SHELL"),
            _row(4, "5.00", "EUR", vendor=None),
        ]
    )
    res = agg.result(top=10)
    assert [(m.code, m.amount) for m in res.totals] == [
        ("CAD", Decimal("0.10")),
        ("EUR", Decimal("5.00")),
        ("USD", Decimal("10.20")),
    ]
    shell = res.groups[0]
    assert shell.key == "shell" and shell.count == 3
    assert [(m.code, m.amount) for m in shell.totals] == [("CAD", Decimal("0.10")), ("USD", Decimal("10.20"))]
    assert res.main_currency == "USD"
    assert res.groups[1].key == "none"  # no USD at all: after every group with some USD


def test_top_folds_the_rest_into_other_without_losing_anything() -> None:
    agg = ExpenseAggregator("client")
    for n in range(1, 8):
        agg.add(_row(n, f"{n}.00", clientid=n))
    agg.add(_row(99, "100.00", clientid=0))
    res = agg.result(top=3)
    assert [g.key for g in res.groups] == ["none", "7", "6"]
    assert res.other is not None and res.other_group_count == 5
    assert res.other.count == 5 and res.other.totals[0].amount == Decimal("15.00")
    kept = sum((g.totals[0].amount for g in res.groups), Decimal(0))
    assert kept + res.other.totals[0].amount == res.totals[0].amount == Decimal("128.00")


def test_month_and_quarter_are_chronological_and_not_folded() -> None:
    rows = [
        {"id": 1, "amount": {"amount": "1.00", "code": "USD"}, "date": "2024-12-31"},
        {"id": 2, "amount": {"amount": "9.00", "code": "USD"}, "date": "2024-01-01"},
        {"id": 3, "amount": {"amount": "2.00", "code": "USD"}, "date": "2024-04-01"},
        {"id": 4, "amount": {"amount": "2.00", "code": "USD"}, "date": "2024-03-31"},
    ]
    months = ExpenseAggregator("month")
    months.add_rows(rows)
    assert [g.key for g in months.result(top=1).groups] == ["2024-01", "2024-03", "2024-04", "2024-12"]
    quarters = ExpenseAggregator("quarter")
    quarters.add_rows(rows)
    res = quarters.result(top=1)
    assert [(g.key, g.count) for g in res.groups] == [("2024-Q1", 2), ("2024-Q2", 1), ("2024-Q4", 1)]
    assert res.other is None


def test_vendor_fragment_is_applied_while_aggregating() -> None:
    agg = ExpenseAggregator("category", vendor="hort")
    agg.add_rows(
        [
            _row(1, "3.00", vendor="Tim Hortons", categoryid=5),
            _row(2, "4.00", vendor="Starbucks", categoryid=5),
            _row(3, "5.00", vendor=None, categoryid=5),
        ]
    )
    res = agg.result(top=10)
    assert res.count == 1 and res.rows_seen == 3
    assert res.totals[0].amount == Decimal("3.00")


CATEGORY_ROWS = [
    {"id": 1, "category": "Car & Truck Expenses", "parentid": None, "is_cogs": False},
    {"id": 2, "category": "Fuel", "parentid": 1, "is_cogs": False},
    {"id": 3, "category": "Office Expenses & Postage", "parentid": None, "is_cogs": False},
    {"id": 4, "category": "Other", "parentid": 1},
    {"id": 5, "category": "Other", "parentid": 3},
    {"id": 6, "category": "Travel", "parentid": None},
]


def test_category_lookup() -> None:
    index = CategoryIndex.from_rows(CATEGORY_ROWS)
    assert index.resolve("fuel").id == 2
    assert index.resolve(" FUEL ").id == 2
    assert index.resolve("6").name == "Travel"
    assert index.resolve("truck").id == 1  # a unique fragment
    with pytest.raises(CategoryLookupError) as ambiguous:
        index.resolve("expenses")
    assert "ambiguous" in ambiguous.value.message
    assert set(ambiguous.value.suggestions) == {"Car & Truck Expenses", "Office Expenses & Postage"}
    with pytest.raises(CategoryLookupError) as same_name:
        index.resolve("other")  # two categories with the same name under different parents
    assert "under Car & Truck Expenses, id 4" in same_name.value.message
    assert "under Office Expenses & Postage, id 5" in same_name.value.message
    with pytest.raises(CategoryLookupError) as unknown:
        index.resolve("Travle")
    assert unknown.value.suggestions == ["Travel"]
    with pytest.raises(CategoryLookupError, match="no expense category has id 99"):
        index.resolve("99")


def test_staff_id_comes_from_the_account_role_not_the_identity() -> None:
    body = {
        "response": {
            "id": 5551234,
            "identity_id": 5551234,
            "roles": [
                {"id": 1, "role": "admin", "userid": 7, "accountid": "OTHER1"},
                {"id": 2, "role": "admin", "userid": 1, "accountid": "ACM123"},
            ],
        }
    }
    assert staff_id_from_me(body, "ACM123") == 1
    assert staff_id_from_me(body, "OTHER1") == 7
    assert staff_id_from_me({"response": {"id": 1}}, "ACM123") is None


def test_seed_text_is_what_we_think() -> None:
    """Guard the extraction above: the seed really shows two expenses in a list of 364."""
    rows = _seed_expenses()
    text = sorted(SEEDS.glob("002_*.txt"))[0].read_text()
    assert re.search(r'"total": 364', text)
    assert len(rows) == 2
