"""Accounting reports computed from the sandbox's own books, in FreshBooks' documented shapes.

Each report reads the raw tables (invoices, payments, expenses, categories, clients) directly, so a
test can check a report tool against the records without trusting the tools that list them. Rules
(the sandbox's choices where FreshBooks documents none):

* drafts and deleted records (vis_state 1) never count; archived ones (vis_state 2) do;
* profit and loss, accrual: income = the total (``amount``, tax included) of every sent invoice
  issued in the range; cash: the payments received in the range, credits applied (from_credit) left
  out since that money came in earlier; expenses = every expense dated in the range (``amount``);
* tax summary: collected = per invoice line, percent of the discounted line rounded to the cent (the
  invoice total's own rule); paid = the expenses' ``taxAmountN``; taxable = the lines / expenses taxed;
* payments collected: every payment dated in the range (from_credit included, flagged);
* accounts aging as of ``end_date``: every sent invoice issued by then with a balance after the
  payments dated by then, aged by days past its due date; not-yet-due ("current") invoices are in
  ``0-30``, so ``31-60``, ``61-90`` and ``91+`` are exactly the invoices 31+ days overdue;
* one currency per report (``currency_code``, default the base currency), except payments collected,
  which lists every currency unless asked for one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

from ._wire import JSON, money, q2
from .books import Books
from .fields import HUNDRED, ZERO

Params = dict[str, list[str]]


def _first(params: Params, key: str) -> str | None:
    values = params.get(key)
    return values[-1] if values else None


def _flag(params: Params, key: str) -> bool:
    return (_first(params, key) or "").strip().lower() in ("true", "1", "yes")


def _live(rec: JSON) -> bool:
    return bool(rec.get("vis_state", 0) != 1)


def _sent_invoices(books: Books, code: str, first: date, last: date) -> Iterator[JSON]:
    lo, hi = first.isoformat(), last.isoformat()
    for inv in books.db.invoices.values():
        live = _live(inv) and inv["display_status"] != "draft" and inv["currency_code"] == code
        if live and lo <= inv["create_date"] <= hi:
            yield inv


def _expenses(books: Books, code: str, first: date, last: date) -> Iterator[JSON]:
    lo, hi = first.isoformat(), last.isoformat()
    for exp in books.db.expenses.values():
        if _live(exp) and exp["amount"]["code"] == code and lo <= exp["date"] <= hi:
            yield exp


def _payments(books: Books, first: date, last: date) -> Iterator[JSON]:
    lo, hi = first.isoformat(), last.isoformat()
    for pay in books.db.payments.values():
        if _live(pay) and lo <= pay["date"] <= hi:
            yield pay


# ---------------------------------------------------------------- profit and loss


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _periods(first: date, last: date, resolution: str | None) -> list[tuple[date, date]]:
    """Calendar-aligned columns covering the range (the first may start before ``first``)."""
    months = {"m": 1, "3m": 3, "12m": 12}.get(resolution or "")
    if months is None:
        return [(first, last)]
    index = _month_index(first) - (first.month - 1) % months
    out: list[tuple[date, date]] = []
    while True:
        start = _month_start(index)
        if start is None or start > last:
            return out
        end_index = index + months
        after = _month_start(end_index)
        out.append((start, after - timedelta(days=1) if after else date.max))
        index = end_index


def _month_start(index: int) -> date | None:
    """The first day of month `index` (see _month_index); None past 9999-12, the last month a date holds."""
    return date(index // 12, index % 12 + 1, 1) if index // 12 <= date.max.year else None


class _Column:
    """One P&L line: its amounts per period column."""

    def __init__(self, n: int) -> None:
        self.data = [ZERO] * n

    def add(self, column: int, amount: Decimal) -> None:
        self.data[column] += amount

    def entry(self, description: str, kind: str, code: str, children: list[JSON] | None = None) -> JSON:
        return {
            "description": description,
            "entry_type": kind,
            "total": money(sum(self.data, ZERO), code),
            "data": [money(v, code) for v in self.data],
            "children": children or [],
        }


def profit_loss(books: Books, params: Params, first: date, last: date, code: str) -> JSON:
    cash = _flag(params, "cash_based")
    resolution = _first(params, "resolution")
    periods = _periods(first, last, resolution)

    def column(day: str) -> int:
        d = date.fromisoformat(day)
        return next(i for i, (s, e) in enumerate(periods) if s <= d <= e)

    sales = _Column(len(periods))
    if cash:
        for pay in _payments(books, first, last):
            if pay["amount"]["code"] == code and not pay.get("from_credit"):
                sales.add(column(pay["date"]), Decimal(pay["amount"]["amount"]))
    else:
        for inv in _sent_invoices(books, code, first, last):
            sales.add(column(inv["create_date"]), Decimal(inv["amount"]["amount"]))

    cats = books.db.categories
    by_parent: dict[int, dict[int, _Column]] = {}
    cogs = _Column(len(periods))
    spent = _Column(len(periods))
    for exp in _expenses(books, code, first, last):
        cat = cats[exp["categoryid"]]
        parent = cat["parentid"] or cat["id"]
        col, amount = column(exp["date"]), Decimal(exp["amount"]["amount"])
        by_parent.setdefault(parent, {}).setdefault(cat["id"], _Column(len(periods))).add(col, amount)
        spent.add(col, amount)
        if exp.get("is_cogs"):
            cogs.add(col, amount)

    expenses: list[JSON] = []
    for parent_id in sorted(by_parent, key=lambda c: cats[c]["category"]):
        subs = by_parent[parent_id]
        total = _Column(len(periods))
        children = []
        for cid in sorted(subs, key=lambda c: cats[c]["category"]):
            for i, v in enumerate(subs[cid].data):
                total.add(i, v)
            if cid != parent_id:
                children.append(subs[cid].entry(cats[cid]["category"], "debit", code))
        expenses.append(total.entry(cats[parent_id]["category"], "debit", code, children))

    net = _Column(len(periods))
    margin = _Column(len(periods))
    for i in range(len(periods)):
        net.data[i] = sales.data[i] - spent.data[i]
        income = sales.data[i]
        margin.data[i] = q2((income - cogs.data[i]) * HUNDRED / income) if income else ZERO
    income_total = sum(sales.data, ZERO)
    margin_total = q2((income_total - sum(cogs.data, ZERO)) * HUNDRED / income_total) if income_total else ZERO
    gross_margin = margin.entry("Gross Margin", "none", "%")
    gross_margin["total"] = money(margin_total, "%")
    return {
        "cash_based": cash,
        "company_name": books.business_name,
        "currency_code": code,
        "start_date": first.isoformat(),
        "end_date": last.isoformat(),
        "resolution": resolution,
        "labels": [s.isoformat() for s, _ in periods],
        "dates": [{"start_date": s.isoformat(), "end_date": e.isoformat()} for s, e in periods],
        "income": [sales.entry("Sales", "credit", code)],
        "expenses": expenses,
        "total_income": sales.entry("Total Income", "credit", code),
        "total_expenses": spent.entry("Total Expenses", "debit", code),
        "gross_margin": gross_margin,
        "net_profit": net.entry(f"Net Profit ({code})", "none", code),
    }


# ---------------------------------------------------------------- tax summary


def tax_summary(books: Books, params: Params, first: date, last: date, code: str) -> JSON:
    """Accrual figures (cash_based is accepted and echoed; the sandbox models no cash-basis tax)."""
    sums: dict[str, dict[str, Decimal]] = {}

    def row(name: str) -> dict[str, Decimal]:
        return sums.setdefault(name, {"collected": ZERO, "paid": ZERO, "taxable_collected": ZERO, "taxable_paid": ZERO})

    invoiced = ZERO
    for inv in _sent_invoices(books, code, first, last):
        invoiced += Decimal(inv["amount"]["amount"])
        factor = (HUNDRED - Decimal(inv.get("discount_value") or "0")) / HUNDRED
        for line in inv["lines"]:
            amount = Decimal(line["amount"]["amount"])
            for n in ("1", "2"):
                pct = Decimal(line.get("taxAmount" + n) or "0")
                if pct:
                    r = row(line.get("taxName" + n) or "")
                    r["collected"] += q2(amount * factor * pct / HUNDRED)
                    r["taxable_collected"] += q2(amount * factor)
    for exp in _expenses(books, code, first, last):
        for n in ("1", "2"):
            tax = exp.get("taxAmount" + n)
            if isinstance(tax, dict) and exp.get("taxName" + n):
                r = row(exp["taxName" + n])
                r["paid"] += Decimal(tax["amount"])
                r["taxable_paid"] += Decimal(exp["amount"]["amount"])
    taxes = [
        {
            "tax_name": name,
            "tax_collected": money(r["collected"], code),
            "tax_paid": money(r["paid"], code),
            "net_tax": money(r["collected"] - r["paid"], code),
            "taxable_amount_collected": money(r["taxable_collected"], code),
            "taxable_amount_paid": money(r["taxable_paid"], code),
            "net_taxable_amount": money(r["taxable_collected"] - r["taxable_paid"], code),
        }
        for name, r in sorted(sums.items())
    ]
    return {
        "cash_based": _flag(params, "cash_based"),
        "company_name": books.business_name,
        "currency_code": code,
        "start_date": first.isoformat(),
        "end_date": last.isoformat(),
        "taxes": taxes,
        "total_invoiced": money(invoiced, code),
    }


# ---------------------------------------------------------------- payments collected


def _client_name(books: Books, client_id: int) -> str:
    c = books.db.clients.get(client_id) or {}
    return str(c.get("organization") or f"{c.get('fname', '')} {c.get('lname', '')}".strip())


def _ids(params: Params, key: str) -> set[int]:
    values = [v for k in (key, key + "[]") for raw in params.get(k, []) for v in raw.split(",")]
    return {int(v) for v in values if v.strip().isdigit()}


def payments_collected(books: Books, params: Params, first: date, last: date, code: str | None) -> JSON:
    clients = _ids(params, "clientids")
    method = _first(params, "payment_method")
    rows: list[JSON] = []
    totals: dict[str, Decimal] = {}
    for pay in sorted(_payments(books, first, last), key=lambda p: (p["date"], p["id"])):
        if clients and pay["clientid"] not in clients:
            continue
        if method and pay["type"] != method:
            continue
        if code and pay["amount"]["code"] != code:
            continue
        inv = books.db.invoices.get(pay["invoiceid"]) or {}
        rows.append(
            {
                "amount": dict(pay["amount"]),
                "client": _client_name(books, pay["clientid"]),
                "clientid": pay["clientid"],
                "date": pay["date"],
                "description": pay.get("note") or "",
                "method": pay["type"],
                "from_credit": bool(pay.get("from_credit")),
                "invoice_number": inv.get("invoice_number"),
                "invoiceid": pay["invoiceid"],
                "credit_number": None,
                "creditid": pay.get("creditid"),
            }
        )
        c = pay["amount"]["code"]
        totals[c] = totals.get(c, ZERO) + Decimal(pay["amount"]["amount"])
    return {
        "start_date": first.isoformat(),
        "end_date": last.isoformat(),
        "clientids": sorted(clients),
        "currency_codes": [code] if code else [],
        "payment_methods": [method] if method else [],
        "summary_only": False,
        "payments": rows,
        "totals": [money(v, c) for c, v in sorted(totals.items())],
    }


# ---------------------------------------------------------------- accounts aging


def aging_column(days_past_due: int) -> str:
    if days_past_due <= 30:
        return "0-30"  # current (not yet due) invoices too
    if days_past_due <= 60:
        return "31-60"
    if days_past_due <= 90:
        return "61-90"
    return "91+"


AGING_COLUMNS = ("0-30", "31-60", "61-90", "91+")


def accounts_aging(books: Books, params: Params, as_of: date, code: str) -> JSON:
    day = as_of.isoformat()
    per_client: dict[int, dict[str, Decimal]] = {}
    for inv in books.db.invoices.values():
        if not _live(inv) or inv["display_status"] == "draft" or inv["currency_code"] != code:
            continue
        if inv["create_date"] > day:
            continue
        paid = sum(
            (
                Decimal(books.db.payments[pid]["amount"]["amount"])
                for pid in books.db.payments_by_invoice.get(inv["id"], ())
                if _live(books.db.payments[pid]) and books.db.payments[pid]["date"] <= day
            ),
            ZERO,
        )
        balance = Decimal(inv["amount"]["amount"]) - paid
        if balance <= ZERO:
            continue
        days = (as_of - date.fromisoformat(inv["due_date"])).days
        row = per_client.setdefault(inv["customerid"], dict.fromkeys(AGING_COLUMNS, ZERO))
        row[aging_column(days)] += balance
    accounts = []
    totals = dict.fromkeys(AGING_COLUMNS, ZERO)
    for cid in sorted(per_client):
        row = per_client[cid]
        client = books.db.clients.get(cid) or {}
        account: JSON = {col: money(row[col], code) for col in AGING_COLUMNS}
        account.update(
            email=client.get("email"),
            fname=client.get("fname"),
            lname=client.get("lname"),
            organization=client.get("organization"),
            total=money(sum(row.values(), ZERO), code),
            userid=cid,
        )
        accounts.append(account)
        for col in AGING_COLUMNS:
            totals[col] += row[col]
    return {
        "accounts": accounts,
        "company_name": books.business_name,
        "currency_code": code,
        "end_date": day,
        "totals": {
            **{col: money(v, code) for col, v in totals.items()},
            "total": money(sum(totals.values(), ZERO), code),
        },
    }
