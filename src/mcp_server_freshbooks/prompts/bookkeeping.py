"""The bookkeeping prompts: plans a careful bookkeeper would follow, using the real tools.

Conventions (tests/test_prompts.py relies on them):
* every tool call is written in backticks as `` `tool_name(param=value, other=value)` ``, with the
  tool's real parameter names and, for enums, a real value in double quotes;
* a step that needs a tool this configuration does not register is left out or rewritten as a
  recommendation for the user; a prompt whose core tools are missing is not registered at all.

Prompts are pure templates: rendering one never calls FreshBooks, so it cannot fail on sign-in.
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any

from mcp.server.mcpserver.prompts.base import Prompt
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS
from pydantic import Field

__all__ = ["PROMPTS", "PromptDef"]

Available = frozenset[str]


@dataclass(frozen=True)
class PromptDef:
    """A prompt and the tools it cannot do without (it is not registered when one is missing)."""

    name: str
    requires: frozenset[str]
    build: Callable[[Available], Prompt]


def _bad_argument(message: str) -> MCPError:
    """A JSON-RPC invalid-params error: the client shows this message as is (nothing else is hidden)."""
    return MCPError(code=INVALID_PARAMS, message=message)


class BookkeepingPrompt(Prompt):
    """A Prompt whose missing or unknown arguments are reported by name (the SDK says only "Internal error")."""

    async def render(self, arguments: dict[str, Any] | None, context: Any) -> Any:
        declared = {a.name: a for a in self.arguments or []}
        given = set(arguments or {})
        missing = sorted(name for name, a in declared.items() if a.required and name not in given)
        unknown = sorted(given - set(declared))
        if missing or unknown:
            takes = ", ".join(f"{n} ({'required' if a.required else 'optional'})" for n, a in declared.items())
            problems = [f"missing required argument(s): {', '.join(missing)}"] if missing else []
            problems += [f"unknown argument(s): {', '.join(unknown)}"] if unknown else []
            raise _bad_argument(f"Prompt {self.name}: {'; '.join(problems)}. It takes: {takes or 'no arguments'}.")
        return await super().render(arguments, context)


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def parse_month(value: str) -> tuple[date, date]:
    """`YYYY-MM` -> (first day, last day); a clear error naming the argument otherwise."""
    match = _MONTH.match(value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
        raise _bad_argument(
            f"Invalid argument month={value!r}: expected a calendar month as YYYY-MM with month 01-12, e.g. 2024-03."
        )
    year, month = int(match.group(1)), int(match.group(2))
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def parse_day(name: str, value: str) -> date:
    text = value.strip()
    try:
        if not _DATE.match(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise _bad_argument(
            f"Invalid argument {name}={value!r}: expected a date as YYYY-MM-DD, e.g. 2024-03-31."
        ) from None


def _steps(items: list[str]) -> str:
    return "\n".join(f"{n}. {text}" for n, text in enumerate(items, 1))


def _house_rules(available: Available) -> str:
    writes = any(name in available for name in _WRITE_TOOLS)
    lines = [
        "House rules:",
        "- Money: quote amounts exactly as the tools return them (decimal strings with their currency "
        "code). Report totals per currency; never add amounts in different currencies together and never "
        "convert them unless the user asks and gives the rate.",
        "- Cite the invoice number and client name for every figure tied to an invoice, and keep the "
        "FreshBooks id of every record you mention so the user can find it.",
        "- If a list result says has_more, page on (page=<next_page>, or cursor=<next_cursor> where the "
        "result gives one) or narrow the filters before you draw conclusions; never present a partial list "
        "as complete. Overdue totals cover every overdue invoice even when rows are left out.",
        "- Do not guess: if a tool result does not show it, say it is unknown.",
    ]
    if writes:
        lines.append(
            "- Changes: propose every change first (what, which record, which amount) and wait for the "
            "user's explicit yes for that record. Pass confirm=true to a tool only after the user has "
            "agreed in this conversation. If a write fails, look the record up before retrying."
        )
    else:
        lines.append(
            "- This server is read-only: make no changes. Where something needs fixing, list it as a "
            "recommendation for the user to do in FreshBooks."
        )
    return "\n".join(lines)


_WRITE_TOOLS = frozenset(
    {
        "create_client",
        "update_client",
        "archive_client",
        "restore_client",
        "create_invoice",
        "send_invoice",
        "record_payment",
        "create_expense",
        "invoice_unbilled_time",
        "create_estimate",
        "update_estimate",
        "send_estimate",
        "accept_estimate",
        "convert_estimate_to_invoice",
    }
)


# ---------------------------------------------------------------------------- month_end_close

MONTH_END_REQUIRES = frozenset({"whoami", "list_invoices", "list_overdue_invoices"})


def month_end_close_text(month: str, available: Available) -> str:
    first, last = parse_month(month)
    prev_last = first - timedelta(days=1)
    prev_first = prev_last.replace(day=1)
    label = first.strftime("%B %Y")
    steps = [
        "Call `whoami()` and confirm with the user that this is the right business. Note `today`: if "
        f"{last.isoformat()} has not passed yet, say the close is provisional.",
        f'Invoicing: call `list_invoices(issue_date_from="{first}", issue_date_to="{last}", limit=100)` '
        "and page on until has_more is false. Count the invoices and total them per currency. Then "
        f'`list_invoices(status="draft", issue_date_from="{first}", issue_date_to="{last}", limit=100)`: '
        "drafts were never sent, so name each with its invoice number and client.",
    ]
    if "payments_collected" in available:
        steps.append(
            f'Receipts: call `payments_collected(date_from="{first}", date_to="{last}")` for the month\'s totals '
            "per currency and payment method (FreshBooks' own report)."
        )
    if "list_payments" in available:
        steps.append(
            f'Receipts: call `list_payments(date_from="{first}", date_to="{last}", limit=100)`. Total the '
            "payments received per currency and check each one is applied to the invoice the user expects."
        )
    steps.append(
        f'Receivables at month end: call `list_overdue_invoices(as_of="{last}")`. Report what is overdue '
        "per currency and per aging bucket, and name the five largest overdue invoices (invoice number, "
        "client, days overdue, amount outstanding)."
    )
    if "receivables_aging" in available:
        steps.append(
            f'Everything owed at month end, not yet due included: `receivables_aging(as_of="{last}")` (its 0-30 '
            "column holds the current invoices, so its total is the overdue total plus what is not yet due)."
        )
    if "profit_and_loss" in available:
        steps.append(
            f'Results: call `profit_and_loss(date_from="{first}", date_to="{last}", basis="accrual")` for '
            "income, expenses and net profit per currency, and say which basis it is."
        )
    if "tax_summary" in available:
        steps.append(
            f'Sales tax: call `tax_summary(date_from="{first}", date_to="{last}")` and report, per tax and '
            "currency, tax collected, tax paid and the net owed."
        )
    if "summarize_expenses" in available:
        steps.append(
            f'Expenses: call `summarize_expenses(date_from="{first}", date_to="{last}", group_by="category")` '
            f'and the same for the previous month, `summarize_expenses(date_from="{prev_first}", '
            f'date_to="{prev_last}", group_by="category")`. Point out categories that moved a lot.'
        )
    if "list_expenses" in available:
        steps.append(
            f'Look for problems: `list_expenses(date_from="{first}", date_to="{last}", sort="amount_desc", '
            "limit=25)` for the largest items; flag likely duplicates (same vendor, amount and date), "
            "missing vendors and expenses that look miscategorised."
        )
    fixes = []
    if "send_invoice" in available:
        fixes.append(
            'email a draft invoice to the client with `send_invoice(invoice_id=<invoice_id>, email_to="<address>")` '
            "(without email_to it is only marked as sent)"
        )
    if "record_payment" in available:
        fixes.append(
            "record a payment the user received but FreshBooks lacks with `record_payment(invoice_id=<invoice_id>, "
            'amount="<amount>", date="<YYYY-MM-DD>", method="<method>")`'
        )
    if "create_expense" in available:
        fixes.append(
            'add a missing expense with `create_expense(amount="<amount>", date="<YYYY-MM-DD>", '
            'category="<category>", vendor="<vendor>")`'
        )
    if fixes:
        steps.append(
            "Fix-ups, one at a time and only after the user agrees to each: " + "; ".join(fixes) + ". These "
            "tools ask the user to confirm; do not pass confirm=true unless the user already said yes."
        )
    steps.append(
        f"Close report for {label}: per currency, invoiced / collected / overdue at month end (by aging "
        "bucket) / expenses by category"
        + (" / net profit and sales tax owed" if "profit_and_loss" in available else "")
        + "; then the open items (drafts, suspected duplicates, disputes) with "
        "invoice numbers and ids; then every change you made, with the record ids."
    )
    return (
        f"Help me close the books for {label} ({first} to {last}) in FreshBooks.\n\n"
        f"{_steps(steps)}\n\n{_house_rules(available)}"
    )


def _month_end_close(available: Available) -> Prompt:
    def month_end_close(
        month: Annotated[str, Field(description="The month to close, as YYYY-MM (e.g. 2024-03).")],
    ) -> str:
        return month_end_close_text(month, available)

    return BookkeepingPrompt.from_function(
        month_end_close,
        name="month_end_close",
        title="Month-end close",
        description=(
            "Walk through closing a month: invoices issued, payments received, receivables and aging at "
            "month end, expenses by category against the previous month, suspected problems, and a close "
            "report per currency."
        ),
    )


# ---------------------------------------------------------------------------- chase_overdue_invoices

CHASE_REQUIRES = frozenset({"list_overdue_invoices", "find_client", "get_client"})
TONES = ("friendly", "firm")


def chase_overdue_invoices_text(client: str | None, tone: str, available: Available) -> str:
    tone_value = (tone or "friendly").strip().lower()
    if tone_value not in TONES:
        raise _bad_argument(f"Invalid argument tone={tone!r}: allowed values are {' or '.join(TONES)}.")
    who = (client or "").strip()
    steps: list[str] = []
    if who:
        steps.append(
            f"Call `find_client(query={json.dumps(who)})`. If more than one client matches, ask me which one; if none, "
            "say so and stop."
        )
        steps.append("Call `list_overdue_invoices(client_id=<client_id>)` for that client.")
    else:
        steps.append(
            "Call `list_overdue_invoices(limit=500)` (if left_out is above 0, work client by client with "
            "client_id). Group the invoices by client, largest total overdue first."
        )
    if "list_payments" in available:
        steps.append(
            "For each client, check `list_payments(client_id=<client_id>, limit=20)` for a recent payment "
            "that may not be applied yet; if you find one, tell me instead of chasing that invoice."
        )
    steps.append(
        "For each client, call `get_client(client_id=<client_id>)` to get the billing contact's name and email address."
    )
    style = (
        "warm and brief: assume an oversight, thank them for their business, and offer help (a copy of the "
        "invoice, another way to pay)"
        if tone_value == "friendly"
        else "polite but firm: state the amounts and how late they are, ask for payment or a payment date "
        "within 7 days, and say what happens next if there is no reply (no threats I have not approved)"
    )
    steps.append(
        f"Draft one email per client, {style}. List every overdue invoice with its invoice number, due date, "
        "days overdue and the amount outstanding with its currency, then the total per currency. Use only "
        "figures from the tool results."
    )
    if "send_invoice" in available:
        steps.append(
            "Show me the drafts. Nothing is sent unless I ask. If I want FreshBooks to e-mail an invoice again, "
            'use `send_invoice(invoice_id=<invoice_id>, email_to="<address>")` for that invoice only, after '
            "I confirm the recipient."
        )
    else:
        steps.append("Show me the drafts; I will send them myself. Do not attempt to send anything.")
    target = f" from {who}" if who else ""
    return (
        f"Help me chase overdue invoices{target} with a {tone_value} reminder.\n\n"
        f"{_steps(steps)}\n\n{_house_rules(available)}"
    )


def _chase_overdue_invoices(available: Available) -> Prompt:
    def chase_overdue_invoices(
        client: Annotated[
            str | None,
            Field(description="Optional: part of the client's organization or contact name. Empty: every client."),
        ] = None,
        tone: Annotated[
            str, Field(description="friendly (default) or firm: how the reminder emails should sound.")
        ] = "friendly",
    ) -> str:
        return chase_overdue_invoices_text(client, tone, available)

    return BookkeepingPrompt.from_function(
        chase_overdue_invoices,
        name="chase_overdue_invoices",
        title="Chase overdue invoices",
        description=(
            "Find overdue invoices (for one client or all), check for unapplied payments, and draft one "
            "reminder email per client citing invoice numbers and amounts per currency. Sends nothing "
            "without approval."
        ),
    )


# ---------------------------------------------------------------------------- expense_review

EXPENSE_REVIEW_REQUIRES = frozenset({"summarize_expenses", "list_expenses"})


def expense_review_text(date_from: str, date_to: str, available: Available) -> str:
    start = parse_day("date_from", date_from)
    end = parse_day("date_to", date_to)
    if start > end:
        raise _bad_argument(
            f"Invalid arguments: date_from ({start}) is after date_to ({end}); date_from must be on or before date_to."
        )
    steps = [
        f'Call `summarize_expenses(date_from="{start}", date_to="{end}", group_by="category")` for '
        "spending per category and currency.",
        f'Call `summarize_expenses(date_from="{start}", date_to="{end}", group_by="vendor", top=10)` for '
        "the biggest vendors.",
    ]
    if "list_expense_categories" in available:
        steps.append("Call `list_expense_categories()` so you use FreshBooks' category names exactly.")
    steps.append(
        f'Call `list_expenses(date_from="{start}", date_to="{end}", sort="amount_desc", limit=25)` and '
        "review the largest items one by one. Then page through "
        f'`list_expenses(date_from="{start}", date_to="{end}", limit=100, page=<page>)` to look for: likely '
        "duplicates (same vendor, amount and date), missing vendors or notes, personal-looking spending, and "
        "items in a category that does not fit the vendor."
    )
    if "create_expense" in available:
        steps.append(
            "If I give you receipts that are missing from FreshBooks, add each one with "
            '`create_expense(amount="<amount>", date="<YYYY-MM-DD>", category="<category>", vendor="<vendor>", '
            'notes="<what it was>")` only after I confirm its details. Do not change or delete anything else; '
            "list corrections as recommendations."
        )
    steps.append(
        "Report: totals per category and per currency, the top vendors, then a numbered list of questions "
        "and suspected problems, each with the expense id, date, vendor and amount."
    )
    return f"Review our expenses from {start} to {end} in FreshBooks.\n\n{_steps(steps)}\n\n{_house_rules(available)}"


def _expense_review(available: Available) -> Prompt:
    def expense_review(
        date_from: Annotated[str, Field(description="First day to review, YYYY-MM-DD (inclusive).")],
        date_to: Annotated[str, Field(description="Last day to review, YYYY-MM-DD (inclusive).")],
    ) -> str:
        return expense_review_text(date_from, date_to, available)

    return BookkeepingPrompt.from_function(
        expense_review,
        name="expense_review",
        title="Expense review",
        description=(
            "Review expenses in a date range: spending by category and vendor, the largest items, likely "
            "duplicates and miscategorised items, with a list of questions for the owner."
        ),
    )


# ---------------------------------------------------------------------------- new_client_onboarding

ONBOARDING_REQUIRES = frozenset({"find_client", "create_client", "get_client"})


def new_client_onboarding_text(organization: str, email: str, available: Available) -> str:
    org = organization.strip()
    if not org:
        raise _bad_argument("Invalid argument organization='': give the client's business name.")
    address = email.strip()
    if not _EMAIL.match(address):
        raise _bad_argument(
            f"Invalid argument email={email!r}: expected one email address such as billing@example.com."
        )
    steps = [
        f"Check for duplicates: `find_client(query={json.dumps(org)}, include_archived=true)` and "
        f"`find_client(query={json.dumps(address)}, include_archived=true)`. If the client exists, show me the match "
        "and stop."
    ]
    if "restore_client" in available:
        steps[0] = steps[0].removesuffix(" and stop.") + (
            "; if it is archived, offer `restore_client(client_id=<client_id>)` instead of creating a new one."
        )
    steps.append(
        "Ask me for what is missing before creating anything: the contact's first and last name, the "
        "invoicing currency (e.g. USD, CAD, EUR), and optionally phone and billing address."
    )
    steps.append(
        f"Read the details back to me. When I confirm, call `create_client(organization={json.dumps(org)}, "
        f'email={json.dumps(address)}, fname="<first name>", lname="<last name>", currency_code="<currency>")` once. '
        "If it reports a possible duplicate, show it to me; use allow_duplicate=true only if I say so."
    )
    steps.append("Call `get_client(client_id=<client_id>)` and show me the saved record with its id.")
    if "create_invoice" in available:
        steps.append(
            "Ask whether to prepare a first invoice. If yes, agree the lines with me, then "
            '`create_invoice(client_id=<client_id>, lines=<lines>, currency_code="<currency>")`; it is a '
            "draft until sent."
        )
    if "send_invoice" in available:
        steps.append('Only if I ask, send it with `send_invoice(invoice_id=<invoice_id>, email_to="<address>")`.')
    return f"Set up {org} <{address}> as a new client in FreshBooks.\n\n{_steps(steps)}\n\n{_house_rules(available)}"


def _new_client_onboarding(available: Available) -> Prompt:
    def new_client_onboarding(
        organization: Annotated[str, Field(description="The new client's business name, e.g. Acme Corp.")],
        email: Annotated[str, Field(description="The client's billing email address.")],
    ) -> str:
        return new_client_onboarding_text(organization, email, available)

    return BookkeepingPrompt.from_function(
        new_client_onboarding,
        name="new_client_onboarding",
        title="New client onboarding",
        description=(
            "Add a new client safely: check for duplicates (including archived clients), collect the "
            "missing details, create the client after confirmation, optionally prepare a first invoice."
        ),
    )


# ---------------------------------------------------------------------------- cash_position_snapshot

CASH_REQUIRES = frozenset({"whoami", "list_overdue_invoices", "list_invoices"})


def cash_position_snapshot_text(available: Available) -> str:
    steps = [
        "Call `whoami()` for the business and today's date; use the last 30 days up to today as the period.",
        "Receivables: call `list_overdue_invoices()` for what is overdue, per currency and aging bucket. "
        'Then `list_invoices(due_date_from="<today>", due_date_to="<today plus 30 days>", limit=100)` '
        "(page on with cursor=<next_cursor>) and keep the invoices with an outstanding amount above zero: "
        "that is what falls due in the next 30 days.",
    ]
    if "receivables_aging" in available:
        steps.append(
            "Everything owed: `receivables_aging()` gives the total per currency with its 0-30 / 31-60 / 61-90 "
            "/ 91+ columns (0-30 includes invoices not yet due)."
        )
    if "payments_collected" in available:
        steps.append(
            'Money in: call `payments_collected(date_from="<today minus 30 days>", date_to="<today>")`: its '
            "totals are per currency and payment method."
        )
    elif "list_payments" in available:
        steps.append(
            'Money in: call `list_payments(date_from="<today minus 30 days>", date_to="<today>", limit=100)` '
            "and total it per currency."
        )
    if "summarize_expenses" in available:
        steps.append(
            'Money out: call `summarize_expenses(date_from="<today minus 30 days>", date_to="<today>", '
            'group_by="category")`.'
        )
    steps.append(
        "Snapshot, per currency: overdue receivables (by aging bucket), receivables due in the next 30 days, "
        "payments received and expenses recorded in the last 30 days, and the three largest overdue invoices "
        "(invoice number, client, amount). Say plainly that FreshBooks does not know the bank balance: this "
        "is the receivables side plus recorded flows, not cash in the bank."
    )
    return f"Give me a quick cash position snapshot from FreshBooks.\n\n{_steps(steps)}\n\n{_house_rules(available)}"


def _cash_position_snapshot(available: Available) -> Prompt:
    def cash_position_snapshot() -> str:
        return cash_position_snapshot_text(available)

    return BookkeepingPrompt.from_function(
        cash_position_snapshot,
        name="cash_position_snapshot",
        title="Cash position snapshot",
        description=(
            "A quick read of money owed and money moving: overdue and upcoming receivables, payments in and "
            "expenses out over the last 30 days, per currency."
        ),
    )


# ---------------------------------------------------------------------------- bill_unbilled_time

BILL_TIME_REQUIRES = frozenset({"summarize_time", "list_time_entries", "invoice_unbilled_time"})


def bill_unbilled_time_text(client: str | None, available: Available) -> str:
    who = (client or "").strip()
    if len(who) > 100:
        raise _bad_argument("Invalid argument client: at most 100 characters (a name or a client id).")
    steps = []
    if who and "find_client" in available and not who.isdigit():
        steps.append(f'Call `find_client(query="{who}")` to get the client id (ask me if several match).')
    if not who:
        steps.append(
            'Call `summarize_time(group_by="client")` and list the clients with unbilled billable hours '
            "(unbilled_billable_hours above 0), largest first; ask me which to bill."
        )
    steps += [
        "For the client: call `list_time_entries(client_id=<id>, billed=false, billable=true, limit=100)` "
        "(page on while has_more) and review the entries: no note, over 10 hours in one entry, dates in the "
        "future, or work that looks non-billable. Raise them with me before billing.",
        'Call `summarize_time(group_by="service", client_id=<id>)` and check the value: entries with no rate '
        "(unrated_hours) need a rate from me.",
        'Call `invoice_unbilled_time(client_id=<id>, group_by="service")`. It shows the hours, lines and total '
        "and asks me to confirm before it writes; it makes a draft invoice and marks exactly those entries "
        "billed. If it fails part-way, call it again with the same client: it finishes the earlier run and "
        "never invoices an entry twice.",
    ]
    if "get_invoice" in available:
        steps.append("Show me the draft with `get_invoice(invoice_id=<invoice_id>)`; do not send it unless I ask.")
    steps.append("Report: the invoice number, hours, lines and total, and any entries left unbilled and why.")
    target = f"client {who}" if who else "my clients"
    return f"Bill the unbilled time of {target} in FreshBooks.\n\n{_steps(steps)}\n\n{_house_rules(available)}"


def _bill_unbilled_time(available: Available) -> Prompt:
    def bill_unbilled_time(
        client: Annotated[
            str | None, Field(description="Client name or id; leave out to see who has unbilled time.")
        ] = None,
    ) -> str:
        return bill_unbilled_time_text(client, available)

    return BookkeepingPrompt.from_function(
        bill_unbilled_time,
        name="bill_unbilled_time",
        title="Bill my unbilled time",
        description=(
            "Turn a client's unbilled billable hours into a draft invoice: review the entries, check rates, "
            "invoice them once and mark them billed."
        ),
    )


# ---------------------------------------------------------------------------- quote_to_invoice

QUOTE_REQUIRES = frozenset({"create_estimate", "get_estimate", "convert_estimate_to_invoice"})


def quote_to_invoice_text(client: str | None, available: Available) -> str:
    who = (client or "").strip()
    if len(who) > 100:
        raise _bad_argument("Invalid argument client: at most 100 characters (a name or a client id).")
    steps = []
    if who and not who.isdigit() and "find_client" in available:
        steps.append(f"Call `find_client(query={json.dumps(who)})` for the client id (ask me if several match).")
    if "list_estimates" in available:
        steps.append(
            'If I already quoted this work, find the estimate with `list_estimates(client_id=<id>, status="accepted")` '
            "(or without status) and go to the conversion step."
        )
    if "list_items" in available:
        steps.append(
            'For work in the catalogue, find it with `list_items(query="<words>")`: a line may then name the item '
            '({"item": "<item name>", "qty": <qty>}) and take its unit_cost, description and taxes; give any of '
            "them on the line only to change them."
        )
    steps += [
        "Agree the quote with me: each line's name, qty, unit_cost and taxes (name and percent; a second tax may "
        "be compound, charged on the first), and any discount percent (it comes off before tax).",
        "Call `create_estimate(client_id=<id>, lines=<lines>, discount_percent=<percent>)` once. Show me the "
        "lines and the total; if total_matches is false, stop and show me both totals.",
    ]
    if "send_estimate" in available:
        steps.append('Only if I ask, email it: `send_estimate(estimate_id=<id>, email_to=["<address>"])`.')
    if "accept_estimate" in available:
        steps.append("When I say the client accepted, record it with `accept_estimate(estimate_id=<id>)`.")
    steps += [
        "Convert it: `convert_estimate_to_invoice(estimate_id=<id>)` makes a draft invoice with every line, tax "
        "and discount. Check that totals_equal is true and both totals match to the cent. If it says the "
        "estimate was already converted, show me that invoice; use allow_again=true only if I ask for a second "
        "invoice.",
    ]
    if "get_invoice" in available:
        steps.append("Show me the draft with `get_invoice(invoice_id=<invoice_id>)`.")
    if "send_invoice" in available:
        steps.append('Send it only if I ask: `send_invoice(invoice_id=<invoice_id>, email_to=["<address>"])`.')
    target = f"client {who}" if who else "a client (ask me which)"
    return f"Quote work for {target}, then invoice it from the quote.\n\n{_steps(steps)}\n\n{_house_rules(available)}"


def _quote_to_invoice(available: Available) -> Prompt:
    def quote_to_invoice(
        client: Annotated[str | None, Field(description="Client name or id (optional).")] = None,
    ) -> str:
        return quote_to_invoice_text(client, available)

    return BookkeepingPrompt.from_function(
        quote_to_invoice,
        name="quote_to_invoice",
        title="Quote to invoice",
        description=(
            "Quote work as an estimate, send it, record the client's acceptance, then convert it into a draft "
            "invoice with the same lines, taxes and discount, totals checked to the cent."
        ),
    )


PROMPTS: tuple[PromptDef, ...] = (
    PromptDef("month_end_close", MONTH_END_REQUIRES, _month_end_close),
    PromptDef("chase_overdue_invoices", CHASE_REQUIRES, _chase_overdue_invoices),
    PromptDef("expense_review", EXPENSE_REVIEW_REQUIRES, _expense_review),
    PromptDef("new_client_onboarding", ONBOARDING_REQUIRES, _new_client_onboarding),
    PromptDef("cash_position_snapshot", CASH_REQUIRES, _cash_position_snapshot),
    PromptDef("bill_unbilled_time", BILL_TIME_REQUIRES, _bill_unbilled_time),
    PromptDef("quote_to_invoice", QUOTE_REQUIRES, _quote_to_invoice),
)
