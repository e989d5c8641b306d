"""Accounting reports, with typed queries whose keys are bare (`start_date=...`), never `search[...]`.

FreshBooks silently ignores a report parameter it does not know: a `search[date_min]` (the form
every other accounting list takes) makes a report fall back to today only, with zeros and ok:true.
A ReportQuery accepts only the parameters declared for its report and has no way to emit
`search[...]` (see ../shared/reference/freshbooks-api-more.md §6).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from .query import CLIENTS
from .types import Money, MoneyTotals, optional_text, parse_date, to_int

if TYPE_CHECKING:
    from .api import FreshBooksClient

ReportValue = str | int | bool | date


@dataclass(frozen=True)
class Report:
    """A report under `/accounting/account/{account_id}/reports/accounting/`: its path, body key, parameters."""

    path: str
    result_key: str
    params: frozenset[str]  # single-valued bare parameters
    list_params: frozenset[str] = frozenset()  # repeatable `key[]=v` parameters

    def __post_init__(self) -> None:
        for key in self.params | self.list_params:
            if not key.isidentifier():  # no `search[...]`, no brackets: bare names only
                raise ValueError(f"report {self.path}: {key!r} is not a bare parameter name")


PROFIT_LOSS = Report(
    path="profitloss_entity",
    result_key="profitloss",
    params=frozenset({"start_date", "end_date", "currency_code", "cash_based", "resolution"}),
)
TAX_SUMMARY = Report(
    path="taxsummary",
    result_key="taxsummary",
    params=frozenset({"start_date", "end_date", "currency_code", "cash_based"}),
)
PAYMENTS_COLLECTED = Report(
    path="payments_collected",
    result_key="payments_collected",
    params=frozenset({"start_date", "end_date", "currency_code", "payment_method"}),
    list_params=frozenset({"clientids"}),
)
ACCOUNTS_AGING = Report(
    path="accounts_aging",
    result_key="accounts_aging",
    params=frozenset({"start_date", "end_date", "currency_code"}),
)


def _bare(value: ReportValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@dataclass
class ReportQuery:
    """Parameters for one report, checked against the ones FreshBooks applies to it."""

    report: Report
    _params: list[tuple[str, str]] = field(default_factory=list)

    def set(self, key: str, value: ReportValue) -> ReportQuery:
        if key not in self.report.params:
            raise ValueError(
                f"report {self.report.path}: parameter {key!r} is not one FreshBooks applies; it would be "
                f"silently ignored. Allowed: {', '.join(sorted(self.report.params | self.report.list_params))}"
            )
        self._params = [p for p in self._params if p[0] != key]
        self._params.append((key, _bare(value)))
        return self

    def dates(self, first: date, last: date) -> ReportQuery:
        """Both ends inclusive (FreshBooks' report range is inclusive, unlike search[...]_max)."""
        return self.set("start_date", first).set("end_date", last)

    def in_list(self, key: str, values: Iterable[ReportValue]) -> ReportQuery:
        if key not in self.report.list_params:
            raise ValueError(f"report {self.report.path}: {key!r} is not a list parameter of this report")
        self._params.extend((f"{key}[]", _bare(v)) for v in values)
        return self

    def params(self) -> list[tuple[str, str]]:
        # Only set()/in_list() add pairs and both check the key; this guards a direct edit of _params.
        if any(key.startswith("search") for key, _ in self._params):
            raise ValueError(f"report {self.report.path}: search[...] parameters are ignored by FreshBooks reports")
        return list(self._params)


async def fetch(api: FreshBooksClient, query: ReportQuery) -> dict[str, Any]:
    """The report's result object (the `<result_key>` inside the accounting envelope)."""
    account_id = (await api.business()).account_id
    path = f"/accounting/account/{account_id}/reports/accounting/{query.report.path}"
    body = await api.request("GET", path, params=query.params())
    result = api._result(body).get(query.report.result_key)
    return result if isinstance(result, dict) else {}


# ---------------------------------------------------------------------- periods

PeriodName = Literal["this_month", "last_month", "this_quarter", "last_quarter", "this_year", "last_year", "ytd"]
Resolution = Literal["none", "month", "quarter"]
# FreshBooks' resolution values (documented: `m`, `3m`); none = one column for the whole range.
RESOLUTION_WIRE: dict[str, str] = {"month": "m", "quarter": "3m"}


def _month_start(day: date, back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def period_dates(name: PeriodName, today: date) -> tuple[date, date]:
    """The first and last day (inclusive) of a named period around `today`."""
    if name == "this_month":
        first = _month_start(today)
        return first, _month_start(today, -1) - timedelta(days=1)
    if name == "last_month":
        return _month_start(today, 1), _month_start(today) - timedelta(days=1)
    quarter_start = _month_start(today, (today.month - 1) % 3)
    if name == "this_quarter":
        return quarter_start, _month_start(quarter_start, -3) - timedelta(days=1)
    if name == "last_quarter":
        return _month_start(quarter_start, 3), quarter_start - timedelta(days=1)
    if name == "this_year":
        return date(today.year, 1, 1), date(today.year, 12, 31)
    if name == "last_year":
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    return date(today.year, 1, 1), today  # ytd


# ---------------------------------------------------------------------- typed results


class ReportModel(BaseModel):
    model_config = ConfigDict(frozen=True)


class PnlEntry(ReportModel):
    """One line of the profit-and-loss tree: its total and one amount per period column."""

    description: str
    total: Money
    data: list[Money]
    children: list[PnlEntry]


class ProfitLoss(ReportModel):
    currency_code: str
    cash_based: bool
    start_date: date | None
    end_date: date | None
    periods: list[tuple[date, date]]  # one per column of `data` (calendar-aligned; may start before start_date)
    income: list[PnlEntry]
    expenses: list[PnlEntry]
    total_income: PnlEntry
    total_expenses: PnlEntry
    net_profit: PnlEntry
    gross_margin_percent: Decimal | None


class TaxLine(ReportModel):
    tax_name: str
    tax_collected: Money
    tax_paid: Money
    net_tax: Money
    taxable_amount_collected: Money
    taxable_amount_paid: Money
    net_taxable_amount: Money


class TaxSummary(ReportModel):
    currency_code: str
    cash_based: bool
    start_date: date | None
    end_date: date | None
    taxes: list[TaxLine]
    total_invoiced: Money


class CollectedPayment(ReportModel):
    date: date | None
    amount: Money
    client: str | None
    client_id: int | None
    method: str | None
    invoice_id: int | None
    invoice_number: str | None
    from_credit: bool


class PaymentsCollected(ReportModel):
    start_date: date | None
    end_date: date | None
    payments: list[CollectedPayment]
    totals: list[Money]


AGING_COLUMNS = ("0-30", "31-60", "61-90", "91+")


class AgingAccount(ReportModel):
    client_id: int
    name: str
    buckets: dict[str, Money]  # keyed by AGING_COLUMNS
    total: Money


class AccountsAging(ReportModel):
    currency_code: str
    end_date: date | None
    accounts: list[AgingAccount]
    totals: dict[str, Money]  # AGING_COLUMNS plus "total"


def _money(raw: Any, code: str) -> Money:
    parsed = Money.parse(raw, default_code=code)
    if parsed is None:
        return Money(amount=Decimal(0), code=code)
    # FreshBooks stamps the P&L's gross margin with code "%": keep the report's currency on money lines.
    return parsed if parsed.code != "%" else Money(amount=parsed.amount, code=code)


def _entry(raw: Any, code: str) -> PnlEntry:
    raw = raw if isinstance(raw, dict) else {}
    return PnlEntry(
        description=optional_text(raw.get("description")) or "",
        total=_money(raw.get("total"), code),
        data=[_money(v, code) for v in raw.get("data") or []],
        children=[_entry(c, code) for c in raw.get("children") or [] if isinstance(c, dict)],
    )


def _code(raw: dict[str, Any], asked: str | None) -> str:
    return str(raw.get("currency_code") or asked or "").upper()


def parse_profit_loss(raw: dict[str, Any], asked: str | None = None) -> ProfitLoss:
    code = _code(raw, asked)
    periods = [
        (start, end)
        for d in raw.get("dates") or []
        if isinstance(d, dict)
        and (start := parse_date(d.get("start_date"))) is not None
        and (end := parse_date(d.get("end_date"))) is not None
    ]
    margin = raw.get("gross_margin")
    margin_total = margin.get("total") if isinstance(margin, dict) else None
    percent = Money.parse(margin_total, default_code="%") if isinstance(margin_total, dict) else None
    return ProfitLoss(
        currency_code=code,
        cash_based=bool(raw.get("cash_based")),
        start_date=parse_date(raw.get("start_date")),
        end_date=parse_date(raw.get("end_date")),
        periods=periods,
        income=[_entry(e, code) for e in raw.get("income") or []],
        expenses=[_entry(e, code) for e in raw.get("expenses") or []],
        total_income=_entry(raw.get("total_income"), code),
        total_expenses=_entry(raw.get("total_expenses"), code),
        net_profit=_entry(raw.get("net_profit"), code),
        gross_margin_percent=percent.amount if percent is not None else None,
    )


def parse_tax_summary(raw: dict[str, Any], asked: str | None = None) -> TaxSummary:
    code = _code(raw, asked)
    fields = ("tax_collected", "tax_paid", "net_tax", "taxable_amount_collected", "taxable_amount_paid")
    taxes = [
        TaxLine(
            tax_name=optional_text(t.get("tax_name")) or "(unnamed tax)",
            net_taxable_amount=_money(t.get("net_taxable_amount"), code),
            **{f: _money(t.get(f), code) for f in fields},
        )
        for t in raw.get("taxes") or []
        if isinstance(t, dict)
    ]
    return TaxSummary(
        currency_code=code,
        cash_based=bool(raw.get("cash_based")),
        start_date=parse_date(raw.get("start_date")),
        end_date=parse_date(raw.get("end_date")),
        taxes=taxes,
        total_invoiced=_money(raw.get("total_invoiced"), code),
    )


def parse_payments_collected(raw: dict[str, Any]) -> PaymentsCollected:
    payments = []
    for p in raw.get("payments") or []:
        if not isinstance(p, dict):
            continue
        amount = Money.parse(p.get("amount"))
        if amount is None:
            continue
        payments.append(
            CollectedPayment(
                date=parse_date(p.get("date")),
                amount=amount,
                client=optional_text(p.get("client")),
                client_id=to_int(p.get("clientid")) or None,
                method=optional_text(p.get("method")),
                invoice_id=to_int(p.get("invoiceid")) or None,
                invoice_number=optional_text(p.get("invoice_number")),
                from_credit=bool(p.get("from_credit")),
            )
        )
    totals = [m for t in raw.get("totals") or [] if (m := Money.parse(t)) is not None]
    return PaymentsCollected(
        start_date=parse_date(raw.get("start_date")),
        end_date=parse_date(raw.get("end_date")),
        payments=payments,
        totals=MoneyTotals(totals).as_list(),
    )


def parse_accounts_aging(raw: dict[str, Any], asked: str | None = None) -> AccountsAging:
    code = _code(raw, asked)
    accounts = []
    for a in raw.get("accounts") or []:
        if not isinstance(a, dict):
            continue
        person = " ".join(x for x in (optional_text(a.get("fname")), optional_text(a.get("lname"))) if x)
        accounts.append(
            AgingAccount(
                client_id=to_int(a.get("userid")),
                name=optional_text(a.get("organization")) or person or f"client {a.get('userid')}",
                buckets={col: _money(a.get(col), code) for col in AGING_COLUMNS},
                total=_money(a.get("total"), code),
            )
        )
    totals_raw = raw.get("totals") if isinstance(raw.get("totals"), dict) else {}
    assert isinstance(totals_raw, dict)
    return AccountsAging(
        currency_code=code,
        end_date=parse_date(raw.get("end_date")),
        accounts=accounts,
        totals={col: _money(totals_raw.get(col), code) for col in (*AGING_COLUMNS, "total")},
    )


# ---------------------------------------------------------------------- the four reports


def _in(query: ReportQuery, currency: str | None) -> ReportQuery:
    """None: FreshBooks' default, the business's base currency."""
    return query.set("currency_code", currency) if currency else query


async def profit_loss(
    api: FreshBooksClient, first: date, last: date, currency: str | None, *, cash: bool, resolution: Resolution
) -> ProfitLoss:
    query = _in(ReportQuery(PROFIT_LOSS).dates(first, last), currency).set("cash_based", cash)
    if resolution != "none":
        query.set("resolution", RESOLUTION_WIRE[resolution])
    return parse_profit_loss(await fetch(api, query), currency)


async def tax_summary(api: FreshBooksClient, first: date, last: date, currency: str | None) -> TaxSummary:
    query = _in(ReportQuery(TAX_SUMMARY).dates(first, last), currency).set("cash_based", False)
    return parse_tax_summary(await fetch(api, query), currency)


async def payments_collected(
    api: FreshBooksClient,
    first: date,
    last: date,
    *,
    currency: str | None = None,
    client_id: int | None = None,
    method: str | None = None,
) -> PaymentsCollected:
    query = _in(ReportQuery(PAYMENTS_COLLECTED).dates(first, last), currency)
    if client_id is not None:
        query.in_list("clientids", [client_id])
    if method is not None:
        query.set("payment_method", method)
    return parse_payments_collected(await fetch(api, query))


async def accounts_aging(api: FreshBooksClient, as_of: date, currency: str | None) -> AccountsAging:
    # The report's as-of date is end_date (the documented sample answers with end_date only).
    query = _in(ReportQuery(ACCOUNTS_AGING).set("end_date", as_of), currency)
    return parse_accounts_aging(await fetch(api, query), currency)


async def client_currencies(api: FreshBooksClient) -> list[str]:
    """The currencies the business bills its clients in (FreshBooks has no list of currencies in use)."""
    codes = {
        str(row["currency_code"]).upper()
        for row in await api.list_all(CLIENTS)
        if isinstance(row.get("currency_code"), str) and row["currency_code"].strip()
    }
    return sorted(codes)
