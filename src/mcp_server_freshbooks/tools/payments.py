"""Payments: record money received against an invoice (confirmed), list payments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from mcp.server.mcpserver import Context, Elicit, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from ..freshbooks import INVOICES, PAYMENTS, AppliedError, FreshBooksError, Query
from ..freshbooks.invoices import Invoice, parse_invoice
from ..freshbooks.payments import Payment, PaymentType, parse_payment
from ..freshbooks.types import MoneyTotals
from ..freshbooks.writes import create_reconciled, exclusive, invoice_key, payment_lookup
from ._base import (
    RESPONSE_FORMAT_DESCRIPTION,
    Confirmation,
    Money,
    ResponseFormat,
    Toolset,
    confirm_gate,
    fb,
    load_once,
    require_confirmation,
    respond,
    tool,
)
from ._inputs import FREE_TEXT, ISO_DATE, PLAIN_AMOUNT, WRITE_DATE
from ._output import Paged, Row, detailed, paging
from .invoices import NOT_FOUND_INVOICE, fmt, fmt_totals, load_invoice

TOOLSET = Toolset(
    id="payments",
    description="Record payments received against invoices and list them.",
    default=True,
    instructions="record_payment records money received on an invoice; list_payments shows what came in.",
    resources=(PAYMENTS,),
    scope_area="payments",
    write_lookup=payment_lookup,
)


class PaymentRow(Row):
    id: int = Field(description="FreshBooks payment id")
    invoice_id: int | None = None
    invoice_number: str | None = None
    client_id: int | None = None
    date: dt.date | None = None
    amount: Money
    type: str | None = None
    note: str | None = detailed()
    from_credit: bool | None = detailed()
    overpayment_credit_id: int | None = detailed()


def payment_row(p: Payment, detailed: bool = False) -> PaymentRow:
    return PaymentRow.of(
        detailed,
        id=p.id,
        invoice_id=p.invoice_id,
        invoice_number=p.invoice_number,
        client_id=p.client_id,
        date=p.date,
        amount=p.amount,
        type=p.type,
        note=p.note,
        from_credit=p.from_credit,
        overpayment_credit_id=p.overpayment_id,
    )


def payment_text(r: PaymentRow) -> str:
    number = f" #{r.invoice_number}" if r.invoice_number else ""
    return (
        f"[id {r.id}] {r.date} {fmt(r.amount)} {r.type or ''} on invoice{number} (id {r.invoice_id}), "
        f"client {r.client_id}"
    )


# ---------------------------------------------------------------------- record_payment


def _refusal(inv: Invoice, amount: Decimal, allow_overpayment: bool) -> str | None:
    """Why this payment must not be recorded on this invoice, or None."""
    name = f"Invoice #{inv.invoice_number} (id {inv.id}, {inv.client_name})"
    if inv.is_draft:
        return f"{name} is a draft: it has not been sent, so nothing is owed yet. Send it first (send_invoice)."
    if inv.is_paid or inv.outstanding.amount <= 0:
        return f"{name} is already paid in full (outstanding {fmt(inv.outstanding)}); nothing was recorded."
    if amount > inv.outstanding.amount and not allow_overpayment:
        return (
            f"{fmt(Money(amount=amount, code=inv.currency_code))} is more than the {fmt(inv.outstanding)} outstanding "
            f"on {name}. Record at most {inv.outstanding.wire()['amount']}, or, if the client really overpaid and the "
            "surplus should become a credit, call again with allow_overpayment=true. Nothing was recorded."
        )
    return None


def _question(inv: Invoice, amount: Decimal, on: dt.date | None, method: str) -> str:
    when = f" dated {on}" if on else ""
    return (
        f"Record a {method} payment of {fmt(Money(amount=amount, code=inv.currency_code))}{when} from "
        f"{inv.client_name} on invoice #{inv.invoice_number} (id {inv.id}, outstanding {fmt(inv.outstanding)})?"
    )


async def _confirm_payment(
    invoice_id: int,
    amount: Decimal,
    date: dt.date | None,
    method: str,
    allow_overpayment: bool,
    confirm: bool,
    ctx: Context[Any, Any],
) -> Confirmation | Elicit[Confirmation]:
    def question(inv: Invoice) -> str:
        reason = _refusal(inv, amount, allow_overpayment)
        if reason:
            raise ToolError(reason)  # refuse before asking the user about something that cannot be done
        return _question(inv, amount, date, method)

    return await confirm_gate(
        ctx,
        confirm,
        key=invoice_key(invoice_id),
        load=lambda: load_invoice(fb(ctx), invoice_id),
        question=question,
    )


class InvoiceAfterPayment(BaseModel):
    id: int
    invoice_number: str
    client_id: int
    client_name: str
    amount: Money
    outstanding: Money = Field(description="Outstanding after this payment (re-read from FreshBooks)")
    status: str = Field(description="v3_status after this payment")


class RecordPaymentOut(BaseModel):
    payment: PaymentRow
    invoice: InvoiceAfterPayment
    overpayment: Money | None = Field(default=None, description="Surplus FreshBooks turned into a client credit")


@tool(
    toolset=TOOLSET,
    title="Record payment",
    read_only=False,
    destructive=False,
    idempotent=False,
    not_found=NOT_FOUND_INVOICE,
)
async def record_payment(
    ctx: Context[Any, Any],
    invoice_id: Annotated[int, Field(ge=1, description="Invoice the money pays")],
    amount: Annotated[
        Decimal,
        Field(
            gt=0,
            decimal_places=2,
            le=Decimal("1000000000"),
            description="Amount received",
        ),
        PLAIN_AMOUNT,
    ],
    approval: Annotated[Confirmation, Resolve(_confirm_payment)],
    date: Annotated[dt.date | None, Field(description="Date received (1970-2100); default today"), WRITE_DATE] = None,
    method: Annotated[PaymentType, Field(description="How it was paid")] = "Check",
    note: Annotated[str | None, Field(max_length=1000, description="Internal note"), FREE_TEXT] = None,
    allow_overpayment: Annotated[bool, Field(description="Surplus becomes client credit")] = False,
    confirm: Annotated[bool, Field(description="true only once the user agreed")] = False,
) -> Annotated[CallToolResult, RecordPaymentOut]:
    """Record money received against a sent invoice, in its currency; user confirms. Refuses drafts, paid invoices and
    overpayment unless allowed. Returns the new balance."""
    require_confirmation(approval, "recording the payment")
    client = fb(ctx)
    # The check and the payment run under the invoice's lock: two payments on one invoice (any
    # session of this process) never both pass the outstanding check, and the loser is refused.
    async with exclusive(client, invoice_key(invoice_id)) as held:
        inv = await load_once(ctx, invoice_key(invoice_id), lambda: load_invoice(client, invoice_id), fresh=True)
        if not held.may_adopt():
            raise ToolError(
                f"An earlier payment on invoice #{inv.invoice_number} (id {inv.id}) has an unknown outcome and may "
                f"still be recorded: check list_payments with invoice_id={inv.id} before recording another. "
                "Nothing was recorded."
            )
        reason = _refusal(inv, amount, allow_overpayment)
        if reason:
            raise ToolError(reason)
        fields: dict[str, Any] = {
            "invoiceid": invoice_id,
            "amount": {"amount": f"{amount:f}", "code": inv.currency_code},
            "date": (date or await client.today()).isoformat(),
            "type": method,
        }
        if note:
            fields["note"] = note
        raw = await create_reconciled(client, PAYMENTS, fields, outer=held)
        payment = parse_payment(raw, inv.currency_code)
        try:
            after = parse_invoice(await client.get(INVOICES, invoice_id))
        except FreshBooksError as exc:
            # Applied: say so, and never advise a retry (that would record the money twice).
            raise AppliedError(
                f"Recorded as payment id {payment.id} ({fmt(payment.amount)} on invoice #{inv.invoice_number}, "
                f"id {inv.id}); could not re-read the invoice ({exc.message.rstrip('.')}). Do not record it again: "
                f"see its new balance with get_invoice invoice_id={inv.id}"
            ) from None
    # What FreshBooks applied to the invoice, from the invoice as re-read after the write (under
    # the lock, nothing else changed it); the rest of the amount became a client credit.
    applied = inv.outstanding.amount - after.outstanding.amount
    surplus = payment.amount.amount - applied
    out = RecordPaymentOut(
        payment=payment_row(payment),
        invoice=InvoiceAfterPayment(
            id=after.id,
            invoice_number=after.invoice_number,
            client_id=after.client_id,
            client_name=after.client_name,
            amount=after.amount,
            outstanding=after.outstanding,
            status=after.v3_status,
        ),
        overpayment=Money(amount=surplus, code=inv.currency_code) if surplus > 0 else None,
    )
    extra = f" The {fmt(out.overpayment)} surplus became a client credit." if out.overpayment else ""
    text = (
        f"Recorded payment [id {payment.id}] of {fmt(payment.amount)} ({payment.type}) on {payment.date} for "
        f"invoice #{after.invoice_number} ({after.client_name}). Outstanding now {fmt(after.outstanding)}, status "
        f"{after.v3_status}.{extra}"
    )
    return respond(out, text)


# ---------------------------------------------------------------------- list_payments


class ListPaymentsOut(Paged):
    payments: list[PaymentRow]
    page_totals: list[Money] = Field(description="Sum of the payments on this page, per currency")


@tool(toolset=TOOLSET, title="List payments", read_only=True, idempotent=True)
async def list_payments(
    ctx: Context[Any, Any],
    client_id: Annotated[int | None, Field(ge=1, description="Only this client's")] = None,
    invoice_id: Annotated[int | None, Field(ge=1, description="Only this invoice's")] = None,
    date_from: Annotated[dt.date | None, Field(description="Received on or after"), ISO_DATE] = None,
    date_to: Annotated[dt.date | None, Field(description="Received on or before"), ISO_DATE] = None,
    limit: Annotated[int, Field(ge=1, le=100, description="Rows per page")] = 20,
    page: Annotated[int, Field(ge=1, description="Page number")] = 1,
    response_format: Annotated[ResponseFormat, Field(description=RESPONSE_FORMAT_DESCRIPTION)] = "concise",
) -> Annotated[CallToolResult, ListPaymentsOut]:
    """List payments received. Rows: id, invoice id and number, client id, date, amount, type; page_totals per
    currency. One invoice's payments: get_invoice."""
    if date_from is not None and date_to is not None and date_from > date_to:
        raise ToolError(f"date_from ({date_from}) is after date_to ({date_to}); give date_from <= date_to.")
    query = Query(PAYMENTS).include("invoice")
    if client_id is not None:
        query.equals("clientid", client_id)
    if invoice_id is not None:
        query.equals("invoiceid", invoice_id)
    query.between_dates("date", date_from, date_to)
    result = await fb(ctx).list_page(PAYMENTS, query, page=page, per_page=limit)
    detailed = response_format == "detailed"
    rows = [payment_row(parse_payment(r), detailed) for r in result.rows]
    totals = MoneyTotals(r.amount for r in rows)
    has_more = page < result.pages
    out = ListPaymentsOut(payments=rows, page_totals=totals.as_list(), **paging(page, limit, has_more, result.total))
    head = (
        f"{result.total} payment(s) match; page {page} of {max(result.pages, 1)} shows {len(rows)} totalling "
        f"{fmt_totals(out.page_totals)}." + (f" More: call again with page={page + 1}." if has_more else "")
    )
    body = "\n".join(payment_text(r) for r in rows)
    return respond(out, f"{head}\n{body}" if body else head)


TOOLS = (record_payment, list_payments)
