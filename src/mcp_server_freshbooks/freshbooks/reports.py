"""Accounting reports, with typed queries whose keys are bare (`start_date=...`), never `search[...]`.

FreshBooks silently ignores a report parameter it does not know: a `search[date_min]` (the form
every other accounting list takes) makes a report fall back to today only, with zeros and ok:true.
A ReportQuery accepts only the parameters declared for its report and has no way to emit
`search[...]` (see ../shared/reference/freshbooks-api-more.md §6).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

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
        return list(self._params)


async def fetch(api: FreshBooksClient, query: ReportQuery) -> dict[str, Any]:
    """The report's result object (the `<result_key>` inside the accounting envelope)."""
    account_id = (await api.business()).account_id
    path = f"/accounting/account/{account_id}/reports/accounting/{query.report.path}"
    body = await api.request("GET", path, params=query.params())
    result = api._result(body).get(query.report.result_key)
    return result if isinstance(result, dict) else {}
