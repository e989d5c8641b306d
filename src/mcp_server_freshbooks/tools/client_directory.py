"""The classic client API's list and delete on the JSON API (#17): list_clients and delete_client.

Opt-in toolset: the default catalog's find_client answers "who is X"; this one answers "every
client, newest first" with the classic client.list filters, and deletes (vis_state 1) a client,
which archive_client (vis_state 2) does not. restore_client brings either back.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, Elicit, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from pydantic import Field

from ..freshbooks import CLIENTS, FreshBooksClient, FreshBooksError
from ..freshbooks.clients import (
    BALANCE_INCLUDES,
    NO_LOGIN_FIELDS,
    VIS_ACTIVE,
    VIS_DELETED,
    ClientRecord,
    client_list_query,
    matches_username,
    money_text,
)
from ..freshbooks.writes import delete_verified, exclusive, record_key
from ._base import (
    RESPONSE_FORMAT_DESCRIPTION,
    Confirmation,
    ResponseFormat,
    Toolset,
    confirm_gate,
    fb,
    load_once,
    require_confirmation,
    respond,
    tool,
    tool_error,
)
from ._inputs import ISO_DATE, ONE_LINE, explain_not_taken
from ._output import Paged, paging
from .clients import NOT_FOUND, ClientRow, ClientWriteOut, _row

TOOLSET = Toolset(
    id="client_directory",
    description="List every client (newest first, classic filters) and delete clients.",
    default=False,
    instructions="list_clients pages through all clients newest first; delete_client deletes one after the user "
    "confirms (restore_client undoes it).",
    resources=(CLIENTS,),
    scope_area="clients",
)

# A caller who knows the classic client.create passes a username/password: say why it is refused.
explain_not_taken("create_client", ("username", "password"), NO_LOGIN_FIELDS)

# Enough to page through a username's matches locally (FreshBooks has no username search).
USERNAME_SCAN_MAX = 2000


class ListClientsOut(Paged):
    clients: list[ClientRow]


@tool(toolset=TOOLSET, title="List clients", read_only=True, idempotent=True)
async def list_clients(
    ctx: Context[Any, Any],
    status: Annotated[
        Literal["active", "archived", "deleted", "any"], Field(description="any = active and archived")
    ] = "active",
    email: Annotated[str | None, Field(max_length=254, description="Exact email"), ONE_LINE] = None,
    username: Annotated[str | None, Field(max_length=100, description="Exact login username"), ONE_LINE] = None,
    organization: Annotated[str | None, Field(max_length=200, description="Part of the organization"), ONE_LINE] = None,
    updated_from: Annotated[dt.date | None, Field(description="Changed on or after"), ISO_DATE] = None,
    updated_to: Annotated[dt.date | None, Field(description="Changed on or before"), ISO_DATE] = None,
    limit: Annotated[int, Field(ge=1, le=100, description="Clients per page")] = 25,
    page: Annotated[int, Field(ge=1, description="Page number")] = 1,
    response_format: Annotated[ResponseFormat, Field(description=RESPONSE_FORMAT_DESCRIPTION)] = "concise",
) -> Annotated[CallToolResult, ListClientsOut]:
    """Every client, newest first, optionally filtered (find_client searches by name). Rows: id, organization, contact,
    email, currency, unpaid balance."""
    if updated_from and updated_to and updated_from > updated_to:
        raise ToolError(f"updated_from ({updated_from}) is after updated_to ({updated_to}); swap them.")
    email, username, organization = (v.strip() if v and v.strip() else None for v in (email, username, organization))
    detailed = response_format == "detailed"
    includes = ("outstanding_balance", "overdue_balance", "credit_balance") if detailed else ("outstanding_balance",)
    query = client_list_query(
        status=status,
        email=email,
        username=username,
        organization=organization,
        updated_from=updated_from,
        updated_to=updated_to,
    ).include(*includes)
    client = fb(ctx)
    if username:
        found = await client.list_all(CLIENTS, query, max_rows=USERNAME_SCAN_MAX)
        rows = [r for r in found if matches_username(r, username)]
        total: int | None = len(rows)
        has_more = len(rows) > page * limit
        rows = rows[(page - 1) * limit : page * limit]
    else:
        result = await client.list_page(CLIENTS, query, page=page, per_page=limit)
        rows, total, has_more = result.rows, result.total, page < result.pages
    records = [ClientRecord.parse(r) for r in rows]
    out = ListClientsOut(clients=[_row(r, detailed) for r in records], **paging(page, limit, has_more, total))
    if not records:
        which = "" if status == "any" else f" {status}"
        return respond(out, f"No{which} clients match on page {page}.")
    lines = []
    for rec in records:
        parts = [f"- {rec.id}: {rec.display_name}", f"<{rec.email}>" if rec.email else "", rec.currency_code or ""]
        if rec.username:
            parts.append(f"user {rec.username}")
        if rec.outstanding:
            parts.append(f"owes {money_text(rec.outstanding)}")
        if rec.vis_state != VIS_ACTIVE:
            parts.append(f"[{rec.status}]")
        lines.append(" ".join(p for p in parts if p))
    more = f"\nMore: call list_clients again with page={page + 1}." if has_more else ""
    return respond(out, f"{len(records)} of {total} clients, newest first (page {page}):\n" + "\n".join(lines) + more)


# ---------------------------------------------------------------------- delete_client


async def _load(client: FreshBooksClient, client_id: int) -> ClientRecord:
    try:
        return ClientRecord.parse(await client.get(CLIENTS, client_id, includes=BALANCE_INCLUDES))
    except FreshBooksError as exc:
        raise tool_error(exc, not_found=NOT_FOUND) from None


def _delete_question(rec: ClientRecord, allow_outstanding: bool) -> str | None:
    if rec.vis_state == VIS_DELETED:
        return None  # already deleted: no write, nothing to ask
    if rec.outstanding and not allow_outstanding:
        raise ToolError(
            f"{rec.describe()} has unpaid invoices ({money_text(rec.outstanding)} outstanding); not deleted. "
            "Record the payments first, archive it instead (archive_client), or call delete_client again with "
            "allow_outstanding=true if the user wants it deleted anyway. Nothing was changed."
        )
    owes = f" It still has {money_text(rec.outstanding)} unpaid." if rec.outstanding else ""
    return f"Delete {rec.describe()}?{owes} Deleted clients leave every list; restore_client brings one back."


async def _confirm_delete(
    client_id: int, allow_outstanding: bool, confirm: bool, ctx: Context[Any, Any]
) -> Confirmation | Elicit[Confirmation]:
    return await confirm_gate(
        ctx,
        confirm,
        key=record_key(CLIENTS, client_id),
        load=lambda: _load(fb(ctx), client_id),
        question=lambda rec: _delete_question(rec, allow_outstanding),
    )


@tool(toolset=TOOLSET, title="Delete client", read_only=False, destructive=True, idempotent=True, not_found=NOT_FOUND)
async def delete_client(
    ctx: Context[Any, Any],
    client_id: Annotated[int, Field(ge=1, description="From find_client")],
    approval: Annotated[Confirmation, Resolve(_confirm_delete)],
    allow_outstanding: Annotated[bool, Field(description="Delete even with unpaid invoices")] = False,
    confirm: Annotated[bool, Field(description="true only once the user agreed")] = False,
) -> Annotated[CallToolResult, ClientWriteOut]:
    """Delete a client (not archive); user confirms. Refused while it has unpaid invoices unless allow_outstanding.
    restore_client undoes it."""
    require_confirmation(approval, f"deleting client {client_id}")
    client = fb(ctx)
    key = record_key(CLIENTS, client_id)
    async with exclusive(client, key):  # the balance checked is the balance at the moment of the delete
        rec = await load_once(ctx, key, lambda: _load(client, client_id), fresh=True)
        if rec.vis_state == VIS_DELETED:
            message = f"{rec.describe()} was already deleted; nothing changed."
            return respond(ClientWriteOut(client=_row(rec, False), changed=False, message=message), message)
        _delete_question(rec, allow_outstanding)
        settled = await delete_verified(client, CLIENTS, client_id)
    rec.vis_state = VIS_DELETED
    note = " (the reply was lost; reading the client back shows it deleted)" if settled else ""
    message = f"Deleted {rec.describe()}{note}. restore_client brings it back."
    return respond(ClientWriteOut(client=_row(rec, False), changed=True, message=message), message)


TOOLS = (list_clients, delete_client)
