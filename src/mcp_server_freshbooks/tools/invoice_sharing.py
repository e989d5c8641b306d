"""Shareable invoice links (#17): get_invoice_share_link.

Opt-in toolset. FreshBooks gives a link only for an invoice already sent; for a draft the tool says
so before asking FreshBooks, and points to send_invoice.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from ..freshbooks import INVOICES
from ..freshbooks.invoices import invoice_share_link
from ._base import Toolset, fb, respond, tool
from .invoices import NOT_FOUND_INVOICE, load_invoice

TOOLSET = Toolset(
    id="invoice_sharing",
    description="Shareable links to sent invoices (the client opens, views and pays online).",
    default=False,
    instructions="get_invoice_share_link gives a link to a sent invoice; a draft must be sent first (send_invoice).",
    resources=(INVOICES,),
    scope_area="invoices",
)


class ShareLinkOut(BaseModel):
    invoice_id: int
    invoice_number: str
    client_id: int
    link: str = Field(description="Opens the invoice for the client; anyone with it can view the invoice")


@tool(toolset=TOOLSET, title="Get invoice share link", read_only=True, idempotent=True, not_found=NOT_FOUND_INVOICE)
async def get_invoice_share_link(
    ctx: Context[Any, Any],
    invoice_id: Annotated[int, Field(ge=1, description="FreshBooks invoice id")],
) -> Annotated[CallToolResult, ShareLinkOut]:
    """A link where the client views and pays a sent invoice (anyone holding it can). Drafts are refused: send_invoice
    first."""
    client = fb(ctx)
    inv = await load_invoice(client, invoice_id)
    if inv.is_draft:
        raise ToolError(
            f"Invoice {inv.id} (#{inv.invoice_number}) is a draft: FreshBooks shares only sent invoices. "
            "Send it first with send_invoice: with email_to it emails the client; without email_to it only marks "
            "it as sent (status 2, no email; the user is asked to confirm). Then ask for the link again. "
            "Nothing was changed."
        )
    link = await invoice_share_link(client, invoice_id)
    out = ShareLinkOut(invoice_id=inv.id, invoice_number=inv.invoice_number, client_id=inv.client_id, link=link)
    return respond(out, f"Share link for invoice {inv.id} (#{inv.invoice_number}): {link}")


TOOLS = (get_invoice_share_link,)
