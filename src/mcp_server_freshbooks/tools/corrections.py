"""Corrections: edit and delete invoices, expenses and payments without breaking the books (#19).

Opt-in toolset. Every edit is a pure update sent once through writes.update_verified (a lost reply
is settled by reading the record back); deletes go through writes.delete_verified in the resource's
own delete style. Anything that changes what an invoice owes runs under the invoice's lock, the
same one record_payment holds. Each result lists what changed, field by field, old -> new.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, Elicit, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from ..freshbooks import EXPENSES, INVOICES, PAYMENTS, AppliedError, FreshBooksClient, FreshBooksError, Query
from ..freshbooks.corrections import (
    Change,
    ExpenseTax,
    changes,
    expense_update_wire,
    expense_view,
    invoice_update_wire,
    invoice_view,
    offset_for_due_date,
    payment_update_wire,
    payment_view,
)
from ..freshbooks.expenses import Expense, parse_expense
from ..freshbooks.invoices import Invoice, parse_invoice
from ..freshbooks.lines import as_input, expected_total
from ..freshbooks.payments import Payment, PaymentType, parse_payment
from ..freshbooks.writes import delete_verified, exclusive, invoice_key, record_key, update_verified
from ._base import (
    Confirmation,
    Money,
    Toolset,
    confirm_gate,
    fb,
    load_once,
    require_confirmation,
    respond,
    tool,
    tool_error,
)
from ._inputs import FREE_TEXT, ONE_LINE, PLAIN_AMOUNT, WRITE_DATE
from ._lines import LineIn, TaxIn, bill_lines
from .expenses import _labels_for_categories, _resolve_category
from .invoices import NOT_FOUND_INVOICE, fmt, load_invoice

TOOLSET = Toolset(
    id="corrections",
    description="Correct mistakes: edit or delete invoices, expenses and payments, showing what changed.",
    default=False,
    instructions=(
        "update_invoice, update_expense and update_payment fix a record and report each changed field old -> new; "
        "delete_invoice, delete_expense and delete_payment remove one after the user confirms."
    ),
    resources=(INVOICES, EXPENSES, PAYMENTS),
    # Spans three scope areas; a 403 names the right one because the invoices, payments and
    # expenses toolsets declare these same paths first (the first declared fragment wins).
    scope_area="invoices",
)

NOT_FOUND_EXPENSE = "No expense with that expense_id; nothing was changed. Use list_expenses."
NOT_FOUND_PAYMENT = "No payment with that payment_id; nothing was changed. Use list_payments."
CONFIRM = Annotated[bool, Field(description="true only once the user agreed")]


class FieldChange(BaseModel):
    field: str
    old: str | None = None
    new: str | None = None


class CorrectionOut(BaseModel):
    record: Literal["invoice", "expense", "payment"]
    id: int
    action: Literal["updated", "deleted", "archived", "unchanged"]
    changes: list[FieldChange] = Field(description="Each changed field, old -> new, as re-read from FreshBooks")
    expected_total: Money | None = Field(default=None, description="Invoice total computed here from the lines")
    total_matches: bool | None = None


def _changes(items: list[Change]) -> list[FieldChange]:
    return [FieldChange(field=c.field, old=c.old, new=c.new) for c in items]


def _changes_text(items: list[FieldChange]) -> str:
    return "; ".join(f"{c.field}: {c.old or '(empty)'} -> {c.new or '(empty)'}" for c in items) or "nothing changed"


def _settled_note(settled: bool) -> str:
    return (
        " (FreshBooks' reply was lost; re-reading showed it applied once, so it was not sent again)" if settled else ""
    )


def _name(inv: Invoice, first: bool = False) -> str:
    return f"{'I' if first else 'i'}nvoice #{inv.invoice_number} (id {inv.id}, {inv.client_name})"


# ---------------------------------------------------------------------- update_invoice

_AMOUNT_FIELDS = ("lines", "discount_percent", "client_id")  # change what the client owes
# What a sent invoice's client has already received: changed only after the user confirms.
_SENT_GATED = ("lines", "discount_percent", "client_id", "create_date")


def _asked(**given: Any) -> list[str]:
    return [k for k, v in given.items() if v is not None]


def _refusal(inv: Invoice, fields: list[str]) -> None:
    if not fields:
        raise ToolError("Give at least one field to change; nothing was changed.")
    money = [f for f in fields if f in _AMOUNT_FIELDS]
    if inv.is_paid and money:
        raise ToolError(
            f"{_name(inv, first=True)} is paid: its {', '.join(money)} cannot be changed. Nothing was changed. "
            "To correct it, delete its payments first (delete_payment) or issue a new invoice."
        )


def _revision_question(inv: Invoice, fields: list[str]) -> str | None:
    _refusal(inv, fields)
    gated = [f for f in fields if f in _SENT_GATED]
    if inv.is_draft or not gated:
        return None  # a draft, or notes/terms/PO/due date: nothing the client relied on changes
    fields = gated
    return (
        f"{_name(inv, first=True)} was already sent: the client has received it (status {inv.v3_status}, total "
        f"{fmt(inv.amount)}, outstanding {fmt(inv.outstanding)}). Change its {', '.join(fields)} anyway?"
    )


async def _edit_invoice(
    ctx: Context[Any, Any],
    invoice_id: int,
    *,
    client_id: int | None = None,
    create_date: dt.date | None = None,
    due_date: dt.date | None = None,
    due_offset_days: int | None = None,
    lines: list[LineIn] | None = None,
    notes: str | None = None,
    terms: str | None = None,
    po_number: str | None = None,
    discount_percent: Decimal | None = None,
) -> CallToolResult:
    """One invoice edit under the invoice's lock: checks on the invoice as it is now, one verified PUT."""
    if due_date is not None and due_offset_days is not None:
        raise ToolError("Give due_date or due_offset_days, not both; nothing was changed.")
    asked = _asked(
        client_id=client_id, create_date=create_date, due_date=due_date, due_offset_days=due_offset_days,
        lines=lines, notes=notes, terms=terms, po_number=po_number, discount_percent=discount_percent,
    )  # fmt: skip
    client = fb(ctx)
    key = invoice_key(invoice_id)
    gated = [f for f in asked if f in _SENT_GATED]
    # The invoice as the confirm resolver saw it (same request: no second read).
    asked_about = await load_once(ctx, key, lambda: load_invoice(client, invoice_id, lines=True)) if gated else None
    async with exclusive(client, key):
        inv = await load_once(ctx, key, lambda: load_invoice(client, invoice_id, lines=True), fresh=True)
        _refusal(inv, asked)  # again, on the invoice as it is now (e.g. paid meanwhile)
        if asked_about is not None and asked_about.is_draft and not inv.is_draft:
            # The user was not asked (it was a draft then); the client has received it since.
            raise ToolError(
                f"{_name(inv, first=True)} was sent while this call ran (status {inv.v3_status}): changing its "
                f"{', '.join(gated)} now needs the user's confirmation; call update_invoice again. Nothing was changed."
            )
        issue = create_date or inv.create_date or await client.today()
        offset = due_offset_days
        if due_date is not None:
            offset = offset_for_due_date(issue, due_date)
            if offset < 0:
                raise ToolError(f"due_date {due_date} is before the issue date {issue}; nothing was changed.")
        new_lines = await bill_lines(client, lines, inv.currency_code) if lines is not None else None
        expected: Money | None = None
        if new_lines is not None or discount_percent is not None:
            current_discount = Decimal(str(inv.raw.get("discount_value") or "0"))
            total = expected_total(
                new_lines if new_lines is not None else [as_input(x) for x in inv.lines],
                discount_percent if discount_percent is not None else current_discount,
            )
            expected = Money(amount=total, code=inv.currency_code)
            if total < inv.paid.amount:
                raise ToolError(
                    f"The new total {fmt(expected)} is less than the {fmt(inv.paid)} already paid on {_name(inv)}. "
                    "Delete or change the payment first (delete_payment / update_payment). Nothing was changed."
                )
        body = invoice_update_wire(
            code=inv.currency_code, client_id=client_id, create_date=create_date, due_offset_days=offset,
            lines=new_lines, notes=notes, terms=terms, po_number=po_number, discount_percent=discount_percent,
        )  # fmt: skip
        raw, settled = await update_verified(client, INVOICES, invoice_id, body, includes=("lines",))
        after = parse_invoice(raw)
    out = CorrectionOut(
        record="invoice",
        id=after.id,
        action="updated",
        changes=_changes(changes(invoice_view(inv), invoice_view(after))),
        expected_total=expected,
        total_matches=None if expected is None else expected.amount == after.amount.amount,
    )
    due_note = (
        f" The due date is stored as {offset} day(s) after the issue date (FreshBooks derives due_date from it)."
        if due_date is not None
        else ""
    )
    check = ""
    if expected is not None:
        check = (
            " Total matches the one computed here."
            if out.total_matches
            else f" Total DIFFERS from the {fmt(expected)} computed here: review it with get_invoice."
        )
    text = f"Updated {_name(after)}{_settled_note(settled)}: {_changes_text(out.changes)}.{check}{due_note}"
    return respond(out, text)


async def _confirm_revision(
    invoice_id: int,
    lines: list[LineIn] | None,
    discount_percent: Decimal | None,
    client_id: int | None,
    create_date: dt.date | None,
    confirm: bool,
    ctx: Context[Any, Any],
) -> Confirmation | Elicit[Confirmation]:
    fields = _asked(lines=lines, discount_percent=discount_percent, client_id=client_id, create_date=create_date)
    if not fields:
        return Confirmation(confirm=True)  # nothing billed changes: no need to load or ask
    return await confirm_gate(
        ctx,
        confirm,
        key=invoice_key(invoice_id),
        load=lambda: load_invoice(fb(ctx), invoice_id, lines=True),
        question=lambda inv: _revision_question(inv, fields),
    )


@tool(
    toolset=TOOLSET, title="Update invoice", read_only=False, destructive=False, idempotent=True,
    not_found=NOT_FOUND_INVOICE,
)  # fmt: skip
async def update_invoice(
    ctx: Context[Any, Any],
    invoice_id: Annotated[int, Field(ge=1, description="FreshBooks invoice id")],
    approval: Annotated[Confirmation, Resolve(_confirm_revision)],
    client_id: Annotated[int | None, Field(ge=1, description="Bill another client")] = None,
    create_date: Annotated[dt.date | None, Field(description="Issue date"), WRITE_DATE] = None,
    due_date: Annotated[dt.date | None, Field(description="Kept as days after issue"), WRITE_DATE] = None,
    due_offset_days: Annotated[int | None, Field(ge=0, le=365, description="Days from issue to due")] = None,
    lines: Annotated[
        list[LineIn] | None, Field(min_length=1, max_length=100, description="The COMPLETE new set; replaces all")
    ] = None,
    notes: Annotated[str | None, Field(max_length=5000, description="Notes"), FREE_TEXT] = None,
    terms: Annotated[str | None, Field(max_length=5000, description="Terms"), FREE_TEXT] = None,
    po_number: Annotated[str | None, Field(max_length=40, description="Client's PO number"), ONE_LINE] = None,
    discount_percent: Annotated[
        Decimal | None, Field(ge=0, le=100, decimal_places=2, description="Off before tax"), PLAIN_AMOUNT
    ] = None,
    confirm: CONFIRM = False,
) -> Annotated[CallToolResult, CorrectionOut]:
    """Edit an invoice; only the fields given change. On a SENT invoice, lines, discount, client or issue date change
    after the user confirms (the client saw the old one). Refused on paid invoices or below what was paid. Returns
    changes old -> new."""
    require_confirmation(approval, "changing the sent invoice")
    return await _edit_invoice(
        ctx, invoice_id, client_id=client_id, create_date=create_date, due_date=due_date,
        due_offset_days=due_offset_days, lines=lines, notes=notes, terms=terms, po_number=po_number,
        discount_percent=discount_percent,
    )  # fmt: skip


# ---------------------------------------------------------------------- delete_invoice


async def _live_payments(client: FreshBooksClient, invoice_id: int, code: str) -> list[Payment]:
    rows = await client.list_all(PAYMENTS, Query(PAYMENTS).equals("invoiceid", invoice_id))
    return [p for p in (parse_payment(r, code) for r in rows) if p.vis_state != 1]


async def _load_for_delete(client: FreshBooksClient, invoice_id: int) -> tuple[Invoice, list[Payment]]:
    inv = await load_invoice(client, invoice_id)
    try:
        return inv, await _live_payments(client, invoice_id, inv.currency_code)
    except FreshBooksError as exc:
        raise tool_error(exc) from None


def _delete_invoice_question(loaded: tuple[Invoice, list[Payment]], archive: bool) -> str:
    inv, payments = loaded
    if payments and not archive:
        listed = ", ".join(f"id {p.id} ({fmt(p.amount)} on {p.date})" for p in payments)
        raise ToolError(
            f"{_name(inv, first=True)} has {len(payments)} payment(s) applied: {listed}. They must be deleted "
            "first (delete_payment), or archive it instead (delete_invoice with archive=true). Nothing was changed."
        )
    verb = "Archive" if archive else "Delete"
    return f"{verb} {_name(inv)}, total {fmt(inv.amount)}, status {inv.v3_status}?"


async def _confirm_delete_invoice(
    invoice_id: int, archive: bool, confirm: bool, ctx: Context[Any, Any]
) -> Confirmation | Elicit[Confirmation]:
    return await confirm_gate(
        ctx,
        confirm,
        key=invoice_key(invoice_id),
        load=lambda: _load_for_delete(fb(ctx), invoice_id),
        question=lambda loaded: _delete_invoice_question(loaded, archive),
    )


@tool(
    toolset=TOOLSET, title="Delete invoice", read_only=False, destructive=True, idempotent=False,
    not_found=NOT_FOUND_INVOICE,
)  # fmt: skip
async def delete_invoice(
    ctx: Context[Any, Any],
    invoice_id: Annotated[int, Field(ge=1, description="FreshBooks invoice id")],
    approval: Annotated[Confirmation, Resolve(_confirm_delete_invoice)],
    archive: Annotated[bool, Field(description="Archive (hide, keep in reports) instead of delete")] = False,
    confirm: CONFIRM = False,
) -> Annotated[CallToolResult, CorrectionOut]:
    """Delete an invoice, or archive=true to archive it; user confirms. Refused while payments are applied
    (delete_payment them, or archive)."""
    require_confirmation(approval, "deleting the invoice")
    client = fb(ctx)
    key = invoice_key(invoice_id)
    async with exclusive(client, key):  # no payment lands between the check and the delete
        loaded = await load_once(ctx, key, lambda: _load_for_delete(client, invoice_id), fresh=True)
        _delete_invoice_question(loaded, archive)
        inv = loaded[0]
        settled = await delete_verified(client, INVOICES, invoice_id, vis_state=2 if archive else 1)
    state = "archived" if archive else "deleted"
    old = "archived" if inv.vis_state == 2 else "active"
    out = CorrectionOut(
        record="invoice", id=inv.id, action=state, changes=[FieldChange(field="state", old=old, new=state)]
    )
    return respond(out, f"{state.capitalize()} {_name(inv)}, total {fmt(inv.amount)}{_settled_note(settled)}.")


# ---------------------------------------------------------------------- expenses


async def _load_expense(client: FreshBooksClient, expense_id: int) -> Expense:
    try:
        exp = parse_expense(await client.get(EXPENSES, expense_id))
    except FreshBooksError as exc:
        raise tool_error(exc, not_found=NOT_FOUND_EXPENSE) from None
    if exp.vis_state == 1:
        raise ToolError(f"Expense {expense_id} is deleted; nothing can be changed on it.")
    return exp


async def _expense_view(ctx: Context[Any, Any], exp: Expense) -> dict[str, str | None]:
    index = await _labels_for_categories(ctx, {exp.category_id} if exp.category_id else set())
    return expense_view(exp, index.name_of(exp.category_id))


@tool(
    toolset=TOOLSET, title="Update expense", read_only=False, destructive=False, idempotent=True,
    not_found=NOT_FOUND_EXPENSE,
)  # fmt: skip
async def update_expense(
    ctx: Context[Any, Any],
    expense_id: Annotated[int, Field(ge=1, description="FreshBooks expense id")],
    amount: Annotated[
        Decimal | None, Field(gt=0, max_digits=14, decimal_places=2, description="New amount"), PLAIN_AMOUNT
    ] = None,
    date: Annotated[dt.date | None, Field(description="New date (1970-2100)"), WRITE_DATE] = None,
    category: Annotated[
        str | None, Field(min_length=1, max_length=100, description="Category name or id"), ONE_LINE
    ] = None,
    vendor: Annotated[str | None, Field(min_length=1, max_length=200, description="Who was paid"), ONE_LINE] = None,
    notes: Annotated[str | None, Field(max_length=2000, description="Notes"), FREE_TEXT] = None,
    client_id: Annotated[int | None, Field(ge=0, description="Client to bill it to; 0 = none")] = None,
    project_id: Annotated[int | None, Field(ge=0, description="Project; 0 = none")] = None,
    taxes: Annotated[
        list[TaxIn] | None, Field(max_length=2, description="Taxes (name, percent); [] clears them")
    ] = None,
) -> Annotated[CallToolResult, CorrectionOut]:
    """Correct an expense's amount (same currency), date, category, vendor, notes, client, project or taxes; only those
    given change. Returns changes old -> new."""
    if all(v is None for v in (amount, date, category, vendor, notes, client_id, project_id, taxes)):
        raise ToolError("Give at least one field to change; nothing was changed.")
    client = fb(ctx)
    category_id = (await _resolve_category(ctx, category))[0].id if category is not None else None
    async with exclusive(client, record_key(EXPENSES, expense_id)):
        exp = await _load_expense(client, expense_id)
        body = expense_update_wire(
            code=exp.amount.code, amount=amount, day=date, category_id=category_id, vendor=vendor, notes=notes,
            client_id=client_id, project_id=project_id,
            taxes=_taxes_for(exp, amount, taxes),
        )  # fmt: skip
        raw, settled = await update_verified(client, EXPENSES, expense_id, body)
        after = parse_expense(raw)
    out = CorrectionOut(
        record="expense",
        id=after.id,
        action="updated",
        changes=_changes(changes(await _expense_view(ctx, exp), await _expense_view(ctx, after))),
    )
    return respond(out, f"Updated expense {after.id}{_settled_note(settled)}: {_changes_text(out.changes)}.")


def _taxes_for(exp: Expense, amount: Decimal | None, taxes: list[TaxIn] | None) -> list[ExpenseTax] | None:
    """The taxes to send: as given; else, when the amount changes, the current rates again so that
    FreshBooks recomputes the tax amounts from the new amount."""
    if taxes is not None:
        return [ExpenseTax(name=t.name, percent=t.percent) for t in taxes]
    if amount is None or not any(t.percent for t in exp.taxes):
        return None
    return [ExpenseTax(name=t.name or "Tax", percent=Decimal(t.percent or "0")) for t in exp.taxes]


def _expense_text(exp: Expense) -> str:
    vendor = f" from {exp.vendor}" if exp.vendor else ""
    return f"expense {exp.id}: {fmt(exp.amount)} on {exp.date}{vendor}"


async def _confirm_delete_expense(
    expense_id: int, confirm: bool, ctx: Context[Any, Any]
) -> Confirmation | Elicit[Confirmation]:
    return await confirm_gate(
        ctx,
        confirm,
        key=record_key(EXPENSES, expense_id),
        load=lambda: _load_expense(fb(ctx), expense_id),
        question=lambda exp: f"Delete {_expense_text(exp)}?",
    )


@tool(
    toolset=TOOLSET, title="Delete expense", read_only=False, destructive=True, idempotent=False,
    not_found=NOT_FOUND_EXPENSE,
)  # fmt: skip
async def delete_expense(
    ctx: Context[Any, Any],
    expense_id: Annotated[int, Field(ge=1, description="FreshBooks expense id")],
    approval: Annotated[Confirmation, Resolve(_confirm_delete_expense)],
    confirm: CONFIRM = False,
) -> Annotated[CallToolResult, CorrectionOut]:
    """Delete an expense recorded by mistake; user confirms (amount, date and vendor shown)."""
    require_confirmation(approval, "deleting the expense")
    client = fb(ctx)
    key = record_key(EXPENSES, expense_id)
    async with exclusive(client, key):
        exp = await load_once(ctx, key, lambda: _load_expense(client, expense_id), fresh=True)
        settled = await delete_verified(client, EXPENSES, expense_id)
    out = CorrectionOut(
        record="expense", id=exp.id, action="deleted", changes=[FieldChange(field="state", old="active", new="deleted")]
    )
    return respond(out, f"Deleted {_expense_text(exp)}{_settled_note(settled)}.")


# ---------------------------------------------------------------------- payments


async def _load_payment(client: FreshBooksClient, payment_id: int) -> tuple[Payment, Invoice]:
    try:
        pay = parse_payment(await client.get(PAYMENTS, payment_id))
    except FreshBooksError as exc:
        raise tool_error(exc, not_found=NOT_FOUND_PAYMENT) from None
    if pay.vis_state == 1:
        raise ToolError(f"Payment {payment_id} is already deleted; nothing was changed.")
    if pay.invoice_id is None:
        raise ToolError(f"Payment {payment_id} is not on an invoice; correct it in FreshBooks. Nothing was changed.")
    return pay, await load_invoice(client, pay.invoice_id)


def _balance(inv: Invoice) -> dict[str, str | None]:
    return {"invoice outstanding": fmt(inv.outstanding), "invoice status": inv.v3_status}


def _payment_refusal(pay: Payment, inv: Invoice, amount: Decimal | None) -> None:
    """record_payment's overpayment guard, for a changed amount."""
    if amount is None or amount <= pay.amount.amount:
        return
    room = inv.outstanding.amount + pay.amount.amount
    if amount > room:
        raise ToolError(
            f"{fmt(Money(amount=amount, code=pay.amount.code))} is more than the "
            f"{fmt(Money(amount=room, code=inv.currency_code))} "
            f"this payment can cover on {_name(inv)} (outstanding {fmt(inv.outstanding)} plus its current "
            f"{fmt(pay.amount)}). Record the surplus with record_payment and allow_overpayment. Nothing was changed."
        )


def _payment_question(
    loaded: tuple[Payment, Invoice],
    amount: Decimal | None,
    date: dt.date | None,
    method: str | None,
    note: str | None,
) -> str:
    """Every payment correction is asked first (a payment is money on the books); refusals before asking."""
    pay, inv = loaded
    if all(v is None for v in (amount, date, method, note)):
        raise ToolError("Give at least one field to change; nothing was changed.")
    _payment_refusal(pay, inv, amount)
    parts = []
    if amount is not None:
        parts.append(f"amount {fmt(pay.amount)} -> {fmt(Money(amount=amount, code=pay.amount.code))}")
    if date is not None:
        parts.append(f"date {pay.date} -> {date}")
    if method is not None:
        parts.append(f"method {pay.type} -> {method}")
    if note is not None:
        parts.append("note")
    return f"Correct payment {pay.id} on {_name(inv)} (outstanding {fmt(inv.outstanding)}): {'; '.join(parts)}?"


async def _confirm_payment_edit(
    payment_id: int,
    amount: Decimal | None,
    date: dt.date | None,
    method: str | None,
    note: str | None,
    confirm: bool,
    ctx: Context[Any, Any],
) -> Confirmation | Elicit[Confirmation]:
    return await confirm_gate(
        ctx,
        confirm,
        key=f"payment:{payment_id}",
        load=lambda: _load_payment(fb(ctx), payment_id),
        question=lambda loaded: _payment_question(loaded, amount, date, method, note),
    )


async def _invoice_after(client: FreshBooksClient, pay: Payment, inv: Invoice, done: str) -> Invoice:
    try:
        return parse_invoice(await client.get(INVOICES, inv.id))
    except FreshBooksError as exc:
        raise AppliedError(
            f"{done}; could not re-read {_name(inv)} ({exc.message.rstrip('.')}). Do not repeat it: see the invoice's "
            f"balance with get_invoice invoice_id={inv.id}"
        ) from None


@tool(
    toolset=TOOLSET, title="Update payment", read_only=False, destructive=False, idempotent=False,
    not_found=NOT_FOUND_PAYMENT,
)  # fmt: skip
async def update_payment(
    ctx: Context[Any, Any],
    payment_id: Annotated[int, Field(ge=1, description="FreshBooks payment id")],
    approval: Annotated[Confirmation, Resolve(_confirm_payment_edit)],
    amount: Annotated[
        Decimal | None,
        Field(gt=0, decimal_places=2, le=Decimal("1000000000"), description="Corrected amount"),
        PLAIN_AMOUNT,
    ] = None,
    date: Annotated[dt.date | None, Field(description="Date received (1970-2100)"), WRITE_DATE] = None,
    method: Annotated[PaymentType | None, Field(description="How it was paid")] = None,
    note: Annotated[str | None, Field(max_length=1000, description="Internal note"), FREE_TEXT] = None,
    confirm: CONFIRM = False,
) -> Annotated[CallToolResult, CorrectionOut]:
    """Correct a payment's amount, date, method or note; user confirms. The amount is at most what the invoice owes
    plus this payment. Returns changes old -> new and the invoice balance."""
    require_confirmation(approval, "correcting the payment")
    if all(v is None for v in (amount, date, method, note)):
        raise ToolError("Give at least one field to change; nothing was changed.")
    client = fb(ctx)
    first, _ = await load_once(ctx, f"payment:{payment_id}", lambda: _load_payment(client, payment_id))
    assert first.invoice_id is not None
    async with exclusive(client, invoice_key(first.invoice_id)):  # record_payment's lock: one guard
        pay, inv = await _load_payment(client, payment_id)
        _payment_refusal(pay, inv, amount)
        body = payment_update_wire(code=pay.amount.code, amount=amount, day=date, method=method, note=note)
        raw, settled = await update_verified(client, PAYMENTS, payment_id, body)
        after_pay = parse_payment(raw, pay.amount.code)
        after_inv = await _invoice_after(client, pay, inv, f"Updated payment {pay.id}")
    out = CorrectionOut(
        record="payment",
        id=pay.id,
        action="updated",
        changes=_changes(
            changes({**payment_view(pay), **_balance(inv)}, {**payment_view(after_pay), **_balance(after_inv)})
        ),
    )
    return respond(
        out, f"Updated payment {pay.id} on {_name(inv)}{_settled_note(settled)}: {_changes_text(out.changes)}."
    )


async def _confirm_delete_payment(
    payment_id: int, confirm: bool, ctx: Context[Any, Any]
) -> Confirmation | Elicit[Confirmation]:
    def question(loaded: tuple[Payment, Invoice]) -> str:
        pay, inv = loaded
        return (
            f"Delete payment {pay.id} of {fmt(pay.amount)} ({pay.type or 'payment'}, {pay.date}) on {_name(inv)}? "
            f"Its outstanding goes back up from {fmt(inv.outstanding)}."
        )

    return await confirm_gate(
        ctx,
        confirm,
        key=f"payment:{payment_id}",
        load=lambda: _load_payment(fb(ctx), payment_id),
        question=question,
    )


@tool(
    toolset=TOOLSET, title="Delete payment", read_only=False, destructive=True, idempotent=False,
    not_found=NOT_FOUND_PAYMENT,
)  # fmt: skip
async def delete_payment(
    ctx: Context[Any, Any],
    payment_id: Annotated[int, Field(ge=1, description="FreshBooks payment id")],
    approval: Annotated[Confirmation, Resolve(_confirm_delete_payment)],
    confirm: CONFIRM = False,
) -> Annotated[CallToolResult, CorrectionOut]:
    """Delete a payment recorded by mistake (the invoice owes it again); user confirms. Returns the invoice's
    outstanding before and after."""
    require_confirmation(approval, "deleting the payment")
    client = fb(ctx)
    first, _ = await load_once(ctx, f"payment:{payment_id}", lambda: _load_payment(client, payment_id))
    assert first.invoice_id is not None
    async with exclusive(client, invoice_key(first.invoice_id)):
        pay, inv = await _load_payment(client, payment_id)
        settled = await delete_verified(client, PAYMENTS, payment_id)
        after = await _invoice_after(client, pay, inv, f"Deleted payment {pay.id}")
    out = CorrectionOut(
        record="payment",
        id=pay.id,
        action="deleted",
        changes=[
            FieldChange(field="state", old="active", new="deleted"),
            *_changes(changes(_balance(inv), _balance(after))),
        ],
    )
    return respond(
        out,
        f"Deleted payment {pay.id} of {fmt(pay.amount)} on {_name(inv)}{_settled_note(settled)}. Outstanding "
        f"{fmt(inv.outstanding)} -> {fmt(after.outstanding)}, status {inv.v3_status} -> {after.v3_status}.",
    )


TOOLS = (
    update_invoice,
    delete_invoice,
    update_expense,
    delete_expense,
    update_payment,
    delete_payment,
)
