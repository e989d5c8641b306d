"""Reports: FreshBooks' own profit and loss, tax summary, payments collected and receivables aging.

Each result states its basis, period, currencies and what it leaves out; money stays per currency.
Without `currency`, a report runs once per currency the business bills clients in.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from ..freshbooks import FreshBooksClient
from ..freshbooks import reports as R
from ..freshbooks.types import MoneyTotals
from ._base import RESPONSE_FORMAT_DESCRIPTION, Money, ResponseFormat, Toolset, fb, respond, tool
from ._inputs import ISO_DATE, ONE_LINE
from .invoices import fmt, fmt_totals

TOOLSET = Toolset(
    id="reports",
    description="FreshBooks reports: profit and loss, tax summary, payments collected, receivables aging.",
    default=False,
    instructions="profit_and_loss, tax_summary, payments_collected and receivables_aging answer from FreshBooks' "
    "own reports, per currency, stating basis, period and what they leave out.",
    paths=("/reports/",),
    scope_area="reports",
)

TOP = 5
MAX_COLUMN_YEARS = 10  # 120 monthly columns
Period = Annotated[R.PeriodName | None, Field(description="Default: this_month or dates")]
DateFrom = Annotated[date | None, Field(description="First day"), ISO_DATE]
DateTo = Annotated[date | None, Field(description="Last day"), ISO_DATE]
Currency = Annotated[str | None, Field(pattern=r"^[A-Za-z]{3}$", description="Default: each in use"), ONE_LINE]


class ReportHeader(BaseModel):
    basis: str = Field(description="accrual, cash or as-of")
    date_from: date
    date_to: date
    not_used: list[str] = Field(default_factory=list, description="Asked-for currencies the business does not use")
    left_out: str = Field(description="What these figures do not include")


async def _range(
    client: FreshBooksClient, period: R.PeriodName | None, lo: date | None, hi: date | None
) -> tuple[date, date]:
    if lo is None and hi is None:
        return R.period_dates(period or "this_month", await client.today())
    if period is not None:
        raise ToolError("Give either period or date_from and date_to, not both.")
    if lo is None or hi is None:
        raise ToolError("Give both date_from and date_to (or a period such as last_month).")
    if lo > hi:
        raise ToolError(f"date_from ({lo}) is after date_to ({hi}); give date_from <= date_to.")
    return lo, hi


class Currencies:
    """The currencies a report runs for, and whether one is in use (the clients are read at most once)."""

    def __init__(self, client: FreshBooksClient) -> None:
        self._client = client
        self._used: list[str] | None = None

    async def used(self) -> list[str]:
        if self._used is None:
            self._used = await R.client_currencies(self._client)
        return self._used

    async def to_report(self, currency: str | None) -> list[str | None]:
        """The asked-for currency, else each one clients are billed in (None: FreshBooks' base currency)."""
        if currency is not None:
            return [currency.upper()]
        return list(await self.used()) or [None]

    async def unused(self, code: str, has_figures: bool) -> bool:
        """Nothing in this report and no client billed in it: the business does not use the currency."""
        return not has_figures and code not in await self.used()


def _not_used_text(codes: list[str]) -> str:
    return "".join(
        f" The business does not use {c}: no client is billed in {c} and this report has nothing in it." for c in codes
    )


# ---------------------------------------------------------------------- profit_and_loss


class ReportLine(BaseModel):
    name: str
    total: Money
    children: list[ReportLine] | None = None


class PnlColumn(BaseModel):
    start: date
    end: date
    income: Money
    expenses: Money
    net_profit: Money


class PnlCurrency(BaseModel):
    currency: str
    income: Money
    expenses: Money
    net_profit: Money
    gross_margin_percent: Decimal | None = None
    columns: list[PnlColumn] | None = Field(default=None, description="One per month or quarter, when asked")
    income_lines: list[ReportLine]
    expense_lines: list[ReportLine] = Field(description="Largest categories first (concise: top 5)")
    other_expenses: Money | None = Field(default=None, description="Categories beyond the top 5")


class ProfitLossOut(ReportHeader):
    currencies: list[PnlCurrency]


def _line(entry: R.PnlEntry, deep: bool) -> ReportLine:
    children = [_line(c, deep) for c in entry.children] if deep and entry.children else None
    return ReportLine(name=entry.description, total=entry.total, children=children)


def _pnl_currency(report: R.ProfitLoss, resolution: R.Resolution, detailed: bool) -> PnlCurrency:
    expenses = sorted(report.expenses, key=lambda e: -e.total.amount)
    shown = expenses if detailed else expenses[:TOP]
    rest = MoneyTotals(e.total for e in expenses[len(shown) :]).as_list()
    columns = None
    if resolution != "none":
        columns = [
            PnlColumn(
                start=start,
                end=end,
                income=report.total_income.data[i],
                expenses=report.total_expenses.data[i],
                net_profit=report.net_profit.data[i],
            )
            for i, (start, end) in enumerate(report.periods)
            if i < min(len(report.total_income.data), len(report.total_expenses.data), len(report.net_profit.data))
        ]
    return PnlCurrency(
        currency=report.currency_code,
        income=report.total_income.total,
        expenses=report.total_expenses.total,
        net_profit=report.net_profit.total,
        gross_margin_percent=report.gross_margin_percent,
        columns=columns,
        income_lines=[_line(e, detailed) for e in report.income],
        expense_lines=[_line(e, detailed) for e in shown],
        other_expenses=rest[0] if rest else None,
    )


def _has_figures(*amounts: Money) -> bool:
    return any(m.amount for m in amounts)


@tool(toolset=TOOLSET, title="Profit and loss", read_only=True, idempotent=True)
async def profit_and_loss(
    ctx: Context[Any, Any],
    period: Period = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    basis: Annotated[Literal["accrual", "cash"], Field(description="Income basis")] = "accrual",
    resolution: Annotated[R.Resolution, Field(description="Columns")] = "none",
    currency: Currency = None,
    response_format: Annotated[ResponseFormat, Field(description=RESPONSE_FORMAT_DESCRIPTION)] = "concise",
) -> Annotated[CallToolResult, ProfitLossOut]:
    """Profit and loss (FreshBooks' report) per currency: income, expenses, net profit, top expense categories,
    optional month/quarter columns. accrual: invoices issued; cash: payments received."""
    client = fb(ctx)
    first, last = await _range(client, period, date_from, date_to)
    if resolution != "none" and last.year - first.year > MAX_COLUMN_YEARS:
        raise ToolError(f"Columns per {resolution} cover at most {MAX_COLUMN_YEARS} years; narrow the dates.")
    currencies = Currencies(client)
    out_rows: list[PnlCurrency] = []
    not_used: list[str] = []
    for code in await currencies.to_report(currency):
        report = await R.profit_loss(client, first, last, code, cash=basis == "cash", resolution=resolution)
        row = _pnl_currency(report, resolution, response_format == "detailed")
        if await currencies.unused(row.currency, _has_figures(row.income, row.expenses)):
            not_used.append(row.currency)
            continue
        out_rows.append(row)
    income_rule = "payments received (credits applied are not new cash)" if basis == "cash" else "invoices issued"
    out = ProfitLossOut(
        basis=basis,
        date_from=first,
        date_to=last,
        not_used=not_used,
        left_out=f"Drafts and deleted records; income is {income_rule}; each currency stands alone (never "
        "converted); currencies no client is billed in unless asked for.",
        currencies=out_rows,
    )
    lines = [f"Profit and loss, {basis} basis, {first} to {last}:"]
    for r in out_rows:
        top = ", ".join(f"{e.name} {fmt(e.total)}" for e in r.expense_lines[:TOP])
        lines.append(
            f"{r.currency}: income {fmt(r.income)}, expenses {fmt(r.expenses)}, net profit {fmt(r.net_profit)}"
            + (f"; top expenses: {top}" if top else "")
        )
        for c in r.columns or []:
            lines.append(
                f"  {c.start}..{c.end}: income {fmt(c.income)}, expenses {fmt(c.expenses)}, net {fmt(c.net_profit)}"
            )
    return respond(out, "\n".join(lines) + _not_used_text(not_used) + f"\nLeft out: {out.left_out}")


# ---------------------------------------------------------------------- tax_summary


class TaxRow(BaseModel):
    tax: str
    collected: Money = Field(description="Tax charged on invoices")
    paid: Money = Field(description="Tax paid on expenses")
    net: Money = Field(description="collected - paid")
    taxable_collected: Money
    taxable_paid: Money


class TaxCurrency(BaseModel):
    currency: str
    total_invoiced: Money
    taxes: list[TaxRow]


class TaxSummaryOut(ReportHeader):
    currencies: list[TaxCurrency]


@tool(toolset=TOOLSET, title="Tax summary", read_only=True, idempotent=True)
async def tax_summary(
    ctx: Context[Any, Any],
    period: Period = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    currency: Currency = None,
) -> Annotated[CallToolResult, TaxSummaryOut]:
    """FreshBooks' sales-tax summary (accrual), per currency and tax: collected on invoices, paid on
    expenses, net owed, taxable amounts; total invoiced."""
    client = fb(ctx)
    first, last = await _range(client, period, date_from, date_to)
    currencies = Currencies(client)
    rows: list[TaxCurrency] = []
    not_used: list[str] = []
    for code in await currencies.to_report(currency):
        report = await R.tax_summary(client, first, last, code)
        taxes = [
            TaxRow(
                tax=t.tax_name,
                collected=t.tax_collected,
                paid=t.tax_paid,
                net=t.net_tax,
                taxable_collected=t.taxable_amount_collected,
                taxable_paid=t.taxable_amount_paid,
            )
            for t in report.taxes
        ]
        figures = _has_figures(report.total_invoiced, *(t.tax_collected for t in report.taxes))
        if await currencies.unused(report.currency_code, figures or bool(taxes)):
            not_used.append(report.currency_code)
            continue
        rows.append(TaxCurrency(currency=report.currency_code, total_invoiced=report.total_invoiced, taxes=taxes))
    out = TaxSummaryOut(
        basis="accrual",
        date_from=first,
        date_to=last,
        not_used=not_used,
        left_out="Drafts and deleted records; cash-basis tax; currencies no client is billed in unless asked for.",
        currencies=rows,
    )
    lines = [f"Tax summary, accrual basis, {first} to {last}:"]
    for r in rows:
        per_tax = "; ".join(
            f"{t.tax}: collected {fmt(t.collected)}, paid {fmt(t.paid)}, net {fmt(t.net)}" for t in r.taxes
        )
        lines.append(f"{r.currency}: invoiced {fmt(r.total_invoiced)}. " + (per_tax or "No tax charged or paid."))
    return respond(out, "\n".join(lines) + _not_used_text(not_used) + f"\nLeft out: {out.left_out}")


# ---------------------------------------------------------------------- payments_collected


class MethodTotal(BaseModel):
    method: str
    count: int
    totals: list[Money]


class ClientTotal(BaseModel):
    client_id: int | None
    name: str | None
    totals: list[Money]


class PaymentsCollectedOut(ReportHeader):
    totals: list[Money] = Field(description="Per currency")
    count: int
    by_method: list[MethodTotal]
    top_clients: list[ClientTotal] = Field(description="Largest payers first (top 5)")


@tool(toolset=TOOLSET, title="Payments collected", read_only=True, idempotent=True)
async def payments_collected(
    ctx: Context[Any, Any],
    period: Period = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    client_id: Annotated[int | None, Field(ge=1, description="Only this client")] = None,
    currency: Currency = None,
) -> Annotated[CallToolResult, PaymentsCollectedOut]:
    """Money received in a period (FreshBooks' payments-collected report): totals per currency, per
    payment method and for the top 5 payers. list_payments lists the payments."""
    client = fb(ctx)
    first, last = await _range(client, period, date_from, date_to)
    code = currency.upper() if currency else None
    report = await R.payments_collected(client, first, last, currency=code, client_id=client_id)
    not_used: list[str] = []
    if code and await Currencies(client).unused(code, bool(report.payments)):
        not_used.append(code)
    methods: dict[str, tuple[int, MoneyTotals]] = {}
    payers: dict[int | None, tuple[str | None, MoneyTotals]] = {}
    for p in report.payments:
        n, sums = methods.setdefault(p.method or "unknown", (0, MoneyTotals()))
        sums.add(p.amount)
        methods[p.method or "unknown"] = (n + 1, sums)
        payers.setdefault(p.client_id, (p.client, MoneyTotals()))[1].add(p.amount)
    ranked = sorted(payers.items(), key=lambda kv: -sum(m.amount for m in kv[1][1].as_list()))
    out = PaymentsCollectedOut(
        basis="cash",
        date_from=first,
        date_to=last,
        not_used=not_used,
        left_out="Deleted payments; money not recorded as a payment in FreshBooks (other income, bank deposits). "
        "Credits applied (from_credit) are included, as list_payments shows them.",
        totals=report.totals,
        count=len(report.payments),
        by_method=[MethodTotal(method=m, count=n, totals=s.as_list()) for m, (n, s) in sorted(methods.items())],
        top_clients=[ClientTotal(client_id=cid, name=name, totals=s.as_list()) for cid, (name, s) in ranked[:TOP]],
    )
    by_method = "; ".join(f"{m.method} {fmt_totals(m.totals)} ({m.count})" for m in out.by_method)
    text = (
        f"Payments collected {first} to {last}: {out.count} totalling {fmt_totals(out.totals)}."
        + (f" By method: {by_method}." if by_method else "")
        + _not_used_text(not_used)
        + f"\nLeft out: {out.left_out}"
    )
    return respond(out, text)


# ---------------------------------------------------------------------- receivables_aging


class AgingClient(BaseModel):
    client_id: int
    name: str
    buckets: dict[str, Money] = Field(description="0-30 (includes not yet due), 31-60, 61-90, 91+ days past due")
    total: Money


class AgingCurrency(BaseModel):
    currency: str
    buckets: dict[str, Money]
    total: Money
    clients: list[AgingClient] = Field(description="Largest balances first (top 5; detailed: all)")


class ReceivablesAgingOut(BaseModel):
    as_of: date
    not_used: list[str] = Field(default_factory=list, description="Asked-for currencies the business does not use")
    counted: str = Field(description="How invoices are aged and counted")
    left_out: str = Field(description="What these figures do not include")
    currencies: list[AgingCurrency]


@tool(toolset=TOOLSET, title="Receivables aging", read_only=True, idempotent=True)
async def receivables_aging(
    ctx: Context[Any, Any],
    as_of: Annotated[date | None, Field(description="Default: today"), ISO_DATE] = None,
    currency: Currency = None,
    response_format: Annotated[ResponseFormat, Field(description=RESPONSE_FORMAT_DESCRIPTION)] = "concise",
) -> Annotated[CallToolResult, ReceivablesAgingOut]:
    """What clients owe (FreshBooks' aging report) per currency: 0-30 days past due (not yet due included), 31-60,
    61-90, 91+, total, top 5 clients (detailed: all)."""
    client = fb(ctx)
    day = as_of or await client.today()
    currencies = Currencies(client)
    rows: list[AgingCurrency] = []
    not_used: list[str] = []
    detailed = response_format == "detailed"
    for code in await currencies.to_report(currency):
        report = await R.accounts_aging(client, day, code)
        if await currencies.unused(report.currency_code, bool(report.accounts)):
            not_used.append(report.currency_code)
            continue
        ranked = sorted(report.accounts, key=lambda a: -a.total.amount)
        rows.append(
            AgingCurrency(
                currency=report.currency_code,
                buckets={k: v for k, v in report.totals.items() if k != "total"},
                total=report.totals["total"],
                clients=[
                    AgingClient(client_id=a.client_id, name=a.name, buckets=a.buckets, total=a.total)
                    for a in (ranked if detailed else ranked[:TOP])
                ],
            )
        )
    out = ReceivablesAgingOut(
        as_of=day,
        not_used=not_used,
        counted="Sent, viewed and partly paid invoices with a balance, aged by days past their due date; "
        "0-30 includes invoices not yet due (current), so 31-60, 61-90 and 91+ match list_overdue_invoices' "
        "buckets and total = overdue + current.",
        left_out="Drafts, deleted invoices, unapplied client credits; currencies no client is billed in unless "
        "asked for.",
        currencies=rows,
    )
    lines = [f"Receivables aging as of {day}:"]
    for r in rows:
        buckets = ", ".join(f"{k}: {fmt(v)}" for k, v in r.buckets.items())
        top = "; ".join(f"{c.name} {fmt(c.total)}" for c in r.clients)
        lines.append(f"{r.currency}: total {fmt(r.total)} ({buckets}). Largest: {top or 'none'}")
    text = "\n".join(lines) + _not_used_text(not_used) + f"\nCounted: {out.counted} Left out: {out.left_out}"
    return respond(out, text)


TOOLS = (profit_and_loss, tax_summary, payments_collected, receivables_aging)
