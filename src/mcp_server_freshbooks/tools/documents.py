"""Documents and online payments (#17): receipts on expenses, a logo on an invoice, card/bank payments.

Opt-in toolset. One `attach_file` serves both uploads: the target (expense_id or invoice_id) decides
what the file becomes (a receipt, image or PDF; a logo, image only). One tool instead of
attach_receipt + set_invoice_logo keeps the catalog ~500 B smaller and the path/base64 rules in one
place. create_expense takes a receipt too (expenses toolset).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from ..freshbooks import EXPENSES, FreshBooksError, NotFoundError
from ..freshbooks.expenses import parse_expense
from ..freshbooks.online_payments import GATEWAY_NAMES, Gateway, GatewayNotSetUpError, set_invoice_payment_options
from ..freshbooks.uploads import LOGO_TYPES, RECEIPT_TYPES, attach_receipt, set_invoice_logo, upload
from ._base import Toolset, fb, respond, tool, tool_error
from ._files import FileParam, read_file
from .invoices import NOT_FOUND_INVOICE, load_invoice

TOOLSET = Toolset(
    id="documents",
    description="Receipts on expenses, a logo on an invoice, online card/bank payments on an invoice.",
    default=False,
    instructions="attach_file puts a receipt on an expense or a logo on an invoice; set_online_payments lets "
    "a client pay an invoice online.",
    # No search keys of its own. Scope hints: online payments' endpoints need user:online_payments:*;
    # FreshBooks lists no scope for /uploads/, so a 403 there gets no guessed hint.
    paths=("/payment_options",),
    scope_area="online_payments",
)
NOT_FOUND_EXPENSE = "No expense with that expense_id in this business. Find it with list_expenses."


class AttachOut(BaseModel):
    attached_to: Literal["expense", "invoice"]
    id: int
    role: Literal["receipt", "logo"]
    file: str = Field(description="File name sent")
    media_type: str
    size_bytes: int
    has_receipt: bool | None = None
    logo_src: str | None = None


async def _expense(ctx: Context[Any, Any], expense_id: int) -> dict[str, Any]:
    try:
        raw = await fb(ctx).get(EXPENSES, expense_id)
    except FreshBooksError as exc:
        raise tool_error(exc, not_found=NOT_FOUND_EXPENSE) from None
    if parse_expense(raw).vis_state == 1:
        raise ToolError(f"Expense {expense_id} is deleted; restore it before attaching a receipt.")
    return raw


@tool(toolset=TOOLSET, title="Attach file", read_only=False, destructive=False, idempotent=True)
async def attach_file(
    ctx: Context[Any, Any],
    file: FileParam,
    expense_id: Annotated[int | None, Field(ge=1, description="Expense: the file is its receipt")] = None,
    invoice_id: Annotated[int | None, Field(ge=1, description="Invoice: the image is its logo")] = None,
) -> Annotated[CallToolResult, AttachOut]:
    """Attach a receipt (image or PDF) to an expense, or set an image as an invoice's logo; replaces the one there.
    file: a local path over stdio; over HTTP a data URI."""
    if (expense_id is None) == (invoice_id is None):
        raise ToolError("Give exactly one of expense_id (receipt) or invoice_id (logo). Nothing was changed.")
    client = fb(ctx)
    if expense_id is not None:
        local = read_file(ctx, file, allowed=RECEIPT_TYPES, what="receipt", param="file")
        await _expense(ctx, expense_id)
        up = await upload(client, "attachments", local.name, local.content, local.media_type)
        raw, _ = await attach_receipt(client, expense_id, up)
        exp = parse_expense(raw)
        out = AttachOut(
            attached_to="expense",
            id=expense_id,
            role="receipt",
            file=local.name,
            media_type=up.media_type,
            size_bytes=len(local.content),
            has_receipt=exp.has_receipt,
        )
        return respond(out, f"Receipt {local.name} ({up.media_type}) attached to expense {expense_id}.")
    assert invoice_id is not None
    local = read_file(ctx, file, allowed=LOGO_TYPES, what="logo", param="file")
    inv = await load_invoice(client, invoice_id)
    up = await upload(client, "images", local.name, local.content, local.media_type)
    try:
        raw, _ = await set_invoice_logo(client, invoice_id, up)
    except NotFoundError:
        raise ToolError(NOT_FOUND_INVOICE) from None
    found = raw.get("presentation")
    presentation: dict[str, Any] = found if isinstance(found, dict) else {}
    out = AttachOut(
        attached_to="invoice",
        id=invoice_id,
        role="logo",
        file=local.name,
        media_type=up.media_type,
        size_bytes=len(local.content),
        logo_src=str(presentation.get("image_logo_src") or "") or None,
    )
    return respond(out, f"Logo {local.name} set on invoice #{inv.invoice_number} (id {invoice_id}).")


class OnlinePaymentsOut(BaseModel):
    invoice_id: int
    invoice_number: str
    gateway: str
    credit_card: bool
    bank_transfer: bool
    partial_payments: bool
    enabled: bool = Field(description="true: the client can pay this invoice online")


@tool(
    toolset=TOOLSET,
    title="Set online payments",
    read_only=False,
    destructive=False,
    idempotent=True,
    not_found=NOT_FOUND_INVOICE,
)
async def set_online_payments(
    ctx: Context[Any, Any],
    invoice_id: Annotated[int, Field(ge=1, description="Invoice id")],
    accept: Annotated[Literal["card", "card_bank", "off"], Field(description="Methods")] = "card",
    gateway: Annotated[Gateway, Field(description="Processor")] = "fbpay",
) -> Annotated[CallToolResult, OnlinePaymentsOut]:
    """Let a client pay an invoice online by card (card_bank: +ACH) via fbpay (FreshBooks Payments) or Stripe;
    off stops it. The gateway must be set up in FreshBooks."""
    client = fb(ctx)
    inv = await load_invoice(client, invoice_id)
    try:
        opts = await set_invoice_payment_options(
            client,
            invoice_id,
            gateway,
            credit_card=accept != "off",
            bank_transfer=accept == "card_bank",
            partial_payments=False,
        )
    except GatewayNotSetUpError:
        raise ToolError(
            f"{GATEWAY_NAMES[gateway]} is not set up for this business, so invoices cannot take online payments "
            "through it yet. The owner must first connect it in FreshBooks (Settings > Online Payments: the "
            "'Know Your Client' sign-up with business and bank details); this cannot be done through the API. "
            "Nothing was changed."
        ) from None
    out = OnlinePaymentsOut(
        invoice_id=inv.id,
        invoice_number=inv.invoice_number,
        gateway=opts.gateway or gateway,
        credit_card=opts.credit_card,
        bank_transfer=opts.bank_transfer,
        partial_payments=opts.partial_payments,
        enabled=opts.enabled,
    )
    ways = " and ".join(w for w, on in (("card", opts.credit_card), ("bank transfer", opts.bank_transfer)) if on)
    name = GATEWAY_NAMES.get(out.gateway, out.gateway)
    text = (
        f"Invoice #{inv.invoice_number} (id {inv.id}) can now be paid online by {ways} through {name}"
        + (", partial payments allowed." if opts.partial_payments else ".")
        if opts.enabled
        else f"Online payment is off for invoice #{inv.invoice_number} (id {inv.id})."
    )
    return respond(out, text)


TOOLS = (attach_file, set_online_payments)
