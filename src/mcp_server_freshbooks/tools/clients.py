"""Client tools: find, read, create, update, archive and restore FreshBooks clients."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, ClassVar

from mcp.server.mcpserver import Context, Elicit, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from ..freshbooks import CLIENTS, FreshBooksClient, FreshBooksError, Query
from ..freshbooks.clients import (
    BALANCE_INCLUDES,
    VIS_ACTIVE,
    VIS_ARCHIVED,
    VIS_DELETED,
    ClientRecord,
    check_currency,
    check_email,
    check_language,
    duplicate_of,
    identity_keys,
    mixes_scripts,
    money_text,
)
from ..freshbooks.writes import client_lookup, create_reconciled, exclusive
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
    tool_error,
)
from ._inputs import FREE_TEXT, ONE_LINE, InputModel
from ._output import Paged, Row, detailed, paging

TOOLSET = Toolset(
    id="clients",
    description="Find, read and create clients (customers).",
    default=True,
    instructions="find_client gives the client_id that the other tools take; get_client shows what one client owes.",
    resources=(CLIENTS,),
    scope_area="clients",
    write_lookup=client_lookup,
)
# Editing, archiving and restoring clients is rare: opt-in, so the default catalog stays small (#12).
CLIENT_ADMIN = Toolset(
    id="client_admin",
    description="Update, archive and restore clients.",
    default=False,
    instructions="update_client changes a client's details; archive_client hides one, restore_client undoes it.",
    resources=(CLIENTS,),
    scope_area="clients",
)

NOT_FOUND = (
    "No client with that client_id exists in this FreshBooks account. Use find_client to look up the "
    "client_id by organization, name or email."
)

# ---------------------------------------------------------------------- output models


class ClientRow(Row):
    """A client: enough to recognise it and act on it."""

    id: int = Field(description="FreshBooks client id (client_id in other tools)")
    organization: str | None = None
    name: str | None = Field(default=None, description="Contact name, when it differs from the organization")
    email: str | None = None
    currency: str | None = Field(default=None, description="Default invoicing currency")
    status: str | None = Field(default=None, description="Only when not active: archived or deleted")
    outstanding: list[Money] | None = Field(default=None, description="Unpaid balance per currency, when any")
    overdue: list[Money] | None = detailed("Overdue balance per currency")
    credit: list[Money] | None = detailed("Unused credit per currency")
    bus_phone: str | None = detailed()
    mob_phone: str | None = detailed()
    city: str | None = detailed()
    country: str | None = detailed()
    updated: str | None = detailed("Last change, US/Eastern")


class FindClientOut(Paged):
    query: str
    clients: list[ClientRow]


class ContactOut(BaseModel):
    fname: str | None = None
    lname: str | None = None
    email: str | None = None
    phone1: str | None = None
    phone2: str | None = None


class ClientDetail(Row):
    """One client. Concise: who it is, status and what it owes; detailed adds address, phones, contacts."""

    id: int
    organization: str | None = None
    fname: str | None = None
    lname: str | None = None
    email: str | None = None
    currency: str | None = None
    status: str = Field(description="active, archived or deleted")
    outstanding: list[Money] = Field(default_factory=list, description="Unpaid balance per currency")
    overdue: list[Money] = Field(default_factory=list, description="Overdue balance per currency")
    credit: list[Money] | None = detailed("Unused credit per currency")
    draft: list[Money] | None = detailed("Total of draft invoices per currency")
    bus_phone: str | None = detailed()
    mob_phone: str | None = detailed()
    home_phone: str | None = detailed()
    fax: str | None = detailed()
    address: dict[str, str] | None = detailed("Billing address: p_street, p_street2, p_city, p_province, p_code, ...")
    language: str | None = detailed()
    note: str | None = detailed()
    contacts: list[ContactOut] | None = detailed()
    signup_date: str | None = detailed()
    updated: str | None = detailed()


class GetClientOut(BaseModel):
    client: ClientDetail


class ClientWriteOut(BaseModel):
    client: ClientRow
    changed: bool = Field(description="false when nothing needed to change (no write was made)")
    message: str


# ---------------------------------------------------------------------- shared helpers


def _nonzero(amounts: list[Money]) -> list[Money] | None:
    return amounts or None


def _row(rec: ClientRecord, detailed: bool) -> ClientRow:
    return ClientRow.of(
        detailed,
        id=rec.id,
        organization=rec.organization,
        name=rec.full_name if rec.full_name != rec.organization else None,
        email=rec.email,
        currency=rec.currency_code,
        status=None if rec.vis_state == VIS_ACTIVE else rec.status,
        outstanding=_nonzero(rec.outstanding),
        bus_phone=rec.bus_phone,
        mob_phone=rec.mob_phone,
        city=rec.address.get("p_city"),
        country=rec.address.get("p_country"),
        overdue=_nonzero(rec.overdue),
        credit=_nonzero(rec.credit),
        updated=rec.updated,
    )


def _detail(rec: ClientRecord, detailed: bool) -> ClientDetail:
    return ClientDetail.of(
        detailed,
        id=rec.id,
        organization=rec.organization,
        fname=rec.fname,
        lname=rec.lname,
        email=rec.email,
        currency=rec.currency_code,
        status=rec.status,
        outstanding=rec.outstanding,
        overdue=rec.overdue,
        credit=rec.credit,
        draft=rec.draft,
        bus_phone=rec.bus_phone,
        mob_phone=rec.mob_phone,
        home_phone=rec.home_phone,
        fax=rec.fax,
        address=rec.address or None,
        language=rec.language,
        note=rec.note,
        contacts=[ContactOut(**c) for c in rec.contacts] or None,
        signup_date=rec.signup_date,
        updated=rec.updated,
    )


def _detail_text(rec: ClientRecord) -> str:
    text = f"{rec.describe().capitalize()[0]}{rec.describe()[1:]}: {rec.status}, currency {rec.currency_code or '?'}"
    text += f", outstanding {money_text(rec.outstanding)}, overdue {money_text(rec.overdue)}."
    return text


async def _fetch(client: FreshBooksClient, client_id: int, *, detailed: bool = False) -> ClientRecord:
    # Exactly what the view shows (#17): concise shows outstanding and overdue; detailed adds the rest.
    includes = (*BALANCE_INCLUDES, "contacts") if detailed else ("outstanding_balance", "overdue_balance")
    return ClientRecord.parse(await client.get(CLIENTS, client_id, includes=includes))


def _clean(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else None


# ---------------------------------------------------------------------- find_client


def _search_queries(text: str, has_outstanding: bool | None, has_overdue: bool | None, archived: bool) -> list[Query]:
    """FreshBooks-side filters whose union is "organization, name, full name or email contains `text`".

    `user_like` matches first/last/full name, organization, email and username. A two-word query
    ("jane doe") also tries first name like "jane" AND last name like "doe", which catches names
    FreshBooks stores differently spaced. Every query sorts by client id so their union can be paged.
    """

    def base() -> Query:
        q = Query(CLIENTS)
        if not archived:
            q.equals("vis_state", VIS_ACTIVE)
        if has_outstanding is not None:
            q.flag("has_outstanding", has_outstanding)
        if has_overdue is not None:
            q.flag("has_overdue", has_overdue)
        return q.sort("client_id", "asc")

    queries = [base().like("user", text)]
    words = text.split()
    if len(words) >= 2:
        queries.append(base().like("fname", words[0]).like("lname", " ".join(words[1:])))
    return queries


async def _search(
    client: FreshBooksClient, queries: list[Query], includes: tuple[str, ...], page: int, limit: int
) -> tuple[list[dict[str, Any]], bool, int | None]:
    """One page of the de-duplicated union of `queries`: (rows, has_more, exact total or None)."""
    queries = [q.copy().include(*includes) for q in queries]
    if len(queries) == 1:
        result = await client.list_page(CLIENTS, queries[0], page=page, per_page=limit)
        return result.rows, page < result.pages, result.total
    # The first page*limit rows of the union are among the first page*limit rows of each query
    # (all sorted by id), so fetching that window from each is exact, and never the whole list.
    need = page * limit + 1
    results = await asyncio.gather(*(client.list_all(CLIENTS, q, max_rows=need) for q in queries))
    merged: dict[int, dict[str, Any]] = {}
    for rows in results:
        for row in rows:
            merged.setdefault(int(row.get("id") or 0), row)
    ordered = [merged[k] for k in sorted(merged)]
    complete = all(len(rows) < need for rows in results)
    window = ordered[(page - 1) * limit : page * limit]
    return window, len(ordered) > page * limit, len(ordered) if complete else None


@tool(toolset=TOOLSET, title="Find client", read_only=True, idempotent=True)
async def find_client(
    ctx: Context[Any, Any],
    query: Annotated[
        str,
        Field(
            min_length=1,
            max_length=100,
            description="Part of organization, name or email",
        ),
        ONE_LINE,
    ],
    has_outstanding: Annotated[bool | None, Field(description="Owing money, or not")] = None,
    has_overdue: Annotated[bool | None, Field(description="With overdue invoices, or not")] = None,
    include_archived: Annotated[bool, Field(description="Also archived clients")] = False,
    limit: Annotated[int, Field(ge=1, le=100, description="Clients per page")] = 10,
    page: Annotated[int, Field(ge=1, le=1000, description="Page number")] = 1,
    response_format: Annotated[ResponseFormat, Field(description=RESPONSE_FORMAT_DESCRIPTION)] = "concise",
) -> Annotated[CallToolResult, FindClientOut]:
    """Find clients whose organization, name or email contains query (active only unless include_archived). Rows: id
    (the client_id other tools take), name, email, currency, unpaid balance. No match: try a shorter fragment."""
    text = query.strip()
    if not text:
        raise ToolError("query is blank: give part of an organization, name or email (1-100 characters).")
    detailed = response_format == "detailed"
    includes = ("outstanding_balance", "overdue_balance", "credit_balance") if detailed else ("outstanding_balance",)
    queries = _search_queries(text, has_outstanding, has_overdue, include_archived)
    rows, has_more, total = await _search(fb(ctx), queries, includes, page, limit)
    records = [ClientRecord.parse(r) for r in rows]
    clients = [_row(r, detailed) for r in records]
    out = FindClientOut(query=text, clients=clients, **paging(page, limit, has_more, total))
    if not records:
        where = "" if include_archived else " active"
        hint = "" if include_archived else " or include_archived=true"
        more = f" on page {page}" if page > 1 else ""
        return respond(out, f"No{where} client matches {text!r}{more}. Try a shorter fragment{hint}.")
    lines = []
    for rec in records:
        parts = [f"{rec.id}: {rec.display_name}"]
        if rec.full_name and rec.full_name != rec.organization:
            parts.append(f"({rec.full_name})")
        if rec.email:
            parts.append(f"<{rec.email}>")
        parts.append(rec.currency_code or "")
        if rec.outstanding:
            parts.append(f"owes {money_text(rec.outstanding)}")
        if rec.vis_state != VIS_ACTIVE:
            parts.append(f"[{rec.status}]")
        lines.append("- " + " ".join(p for p in parts if p))
    of_total = f" of {total}" if total is not None else ""
    head = f"{len(records)}{of_total} clients matching {text!r} (page {page}):"
    tail = f"\nMore matches: call find_client again with page={page + 1}." if has_more else ""
    return respond(out, head + "\n" + "\n".join(lines) + tail)


# ---------------------------------------------------------------------- get_client


@tool(toolset=TOOLSET, title="Get client", read_only=True, idempotent=True, not_found=NOT_FOUND)
async def get_client(
    ctx: Context[Any, Any],
    client_id: Annotated[int, Field(ge=1, description="From find_client")],
    response_format: Annotated[ResponseFormat, Field(description=RESPONSE_FORMAT_DESCRIPTION)] = "concise",
) -> Annotated[CallToolResult, GetClientOut]:
    """One client: status, currency, outstanding and overdue balances per currency. detailed adds credit, address,
    phones, note, language and contacts."""
    detailed = response_format == "detailed"
    rec = await _fetch(fb(ctx), client_id, detailed=detailed)
    return respond(GetClientOut(client=_detail(rec, detailed)), _detail_text(rec))


# ---------------------------------------------------------------------- create / update


class ContactIn(InputModel):
    # Nested fields carry no descriptions: `contacts` says what they are, the names say the rest.
    email: Annotated[str, Field(min_length=3, max_length=254), ONE_LINE]
    fname: Annotated[str | None, Field(max_length=100), ONE_LINE] = None
    lname: Annotated[str | None, Field(max_length=100), ONE_LINE] = None
    phone1: Annotated[str | None, Field(max_length=40), ONE_LINE] = None


_Line20 = Annotated[str | None, Field(max_length=20), ONE_LINE]
_Line40 = Annotated[str | None, Field(max_length=40), ONE_LINE]
_Line100 = Annotated[str | None, Field(max_length=100), ONE_LINE]
_Line200 = Annotated[str | None, Field(max_length=200), ONE_LINE]


class AddressIn(InputModel):
    # The billing address; each part given replaces that part ("" clears it).
    street: _Line200 = None
    street2: _Line200 = None
    city: _Line100 = None
    province: _Line100 = None
    code: _Line20 = None
    country: _Line100 = None

    WIRE: ClassVar[dict[str, str]] = {
        "street": "p_street", "street2": "p_street2", "city": "p_city",
        "province": "p_province", "code": "p_code", "country": "p_country",
    }  # fmt: skip


class PhonesIn(InputModel):
    # Each number given replaces that number ("" clears it).
    business: _Line40 = None
    mobile: _Line40 = None
    home: _Line40 = None
    fax: _Line40 = None

    WIRE: ClassVar[dict[str, str]] = {
        "business": "bus_phone",
        "mobile": "mob_phone",
        "home": "home_phone",
        "fax": "fax",
    }


_S = Field  # short alias for the field declarations below


def _text(max_length: int, description: str) -> Any:
    return Field(max_length=max_length, description=description)


Organization = Annotated[str | None, _text(200, "Company name"), ONE_LINE]
FirstName = Annotated[str | None, _text(100, "First name"), ONE_LINE]
LastName = Annotated[str | None, _text(100, "Last name"), ONE_LINE]
Email = Annotated[str | None, _text(254, "Billing email"), ONE_LINE]
Phones = Annotated[PhonesIn | None, _S(description="business, mobile, home, fax")]
Address = Annotated[AddressIn | None, _S(description="Billing address")]
Currency = Annotated[str | None, _S(min_length=3, max_length=3, description="Default: the business's"), ONE_LINE]
Language = Annotated[str | None, _text(10, "Document language, e.g. fr"), ONE_LINE]
Note = Annotated[str | None, _text(2000, "Private note"), FREE_TEXT]
Contacts = Annotated[list[ContactIn] | None, _S(max_length=20, description="Also get invoices")]


def _flat(phones: PhonesIn | None, address: AddressIn | None) -> dict[str, str | None]:
    """The nested phone and address parts under their FreshBooks field names (None = not given)."""
    out: dict[str, str | None] = {}
    for part in (phones, address):
        if part is not None:
            out |= {part.WIRE[name]: value for name, value in part.model_dump().items()}
    return out


def _fields(**given: Any) -> dict[str, Any]:
    """The wire fields actually given (None = not given), validated; ToolError names the bad field."""
    out: dict[str, Any] = {}
    try:
        for key, value in given.items():
            if value is None:
                continue
            if key == "contacts":
                out[key] = [
                    {k: v for k, v in c.model_dump().items() if v is not None}
                    | {"email": check_email(c.email, f"contacts[{i}].email")}
                    for i, c in enumerate(value)
                ]
                continue
            text = value.strip()
            if key == "email":
                text = check_email(text)
            elif key == "currency_code":
                text = check_currency(text)
            elif key == "language":
                text = check_language(text)
            out[key] = text
    except ValueError as exc:
        raise ToolError(f"{exc}. Nothing was changed.") from None
    return out


def _refuse_if_blank_identity(fields: dict[str, Any]) -> None:
    if not any(fields.get(k) for k in ("organization", "fname", "lname", "email")):
        raise ToolError(
            "Give at least one of organization, fname/lname or email so the client can be recognised. "
            "Nothing was created."
        )


DUPLICATE_SCAN_MAX = 5000


async def _existing_duplicate(client: FreshBooksClient, fields: dict[str, Any]) -> tuple[ClientRecord, str] | None:
    """An active or archived client with the same email or organization, compared normalized.

    FreshBooks' searches compare raw text, so a look-alike ("Acme\u00a0Corp.", "ann+x@acme.com", a
    Cyrillic "о") would slip past them: every client is read (sorted by id, up to 5,000) and
    compared with `duplicate_of` (NFKC, casefold, spaces and invisible characters, +tags, scripts).
    """
    q = Query(CLIENTS).sort("client_id", "asc")
    async for result in client.iter_pages(CLIENTS, q, max_rows=DUPLICATE_SCAN_MAX):
        for row in result.rows:
            rec = ClientRecord.parse(row)
            why = duplicate_of(fields, rec) if rec.vis_state != VIS_DELETED else None
            if why:
                return rec, why
    return None


@tool(toolset=TOOLSET, title="Create client", read_only=False, destructive=False, idempotent=False)
async def create_client(
    ctx: Context[Any, Any],
    organization: Organization = None,
    fname: FirstName = None,
    lname: LastName = None,
    email: Email = None,
    phones: Phones = None,
    address: Address = None,
    currency_code: Currency = None,
    language: Language = None,
    note: Note = None,
    contacts: Contacts = None,
    allow_duplicate: Annotated[bool, _S(description="Create even if one exists")] = False,
) -> Annotated[CallToolResult, ClientWriteOut]:
    """Create a client from an organization, name or email. Refused, naming the client_id, if a client has that email
    or organization, unless allow_duplicate. Returns its id."""
    fields = _fields(
        organization=organization,
        fname=fname,
        lname=lname,
        email=email,
        **_flat(phones, address),
        currency_code=currency_code,
        language=language,
        note=note,
        contacts=contacts,
    )
    _refuse_if_blank_identity(fields)
    client = fb(ctx)
    # The duplicate check and the create run under the lock of every normalized identity they
    # protect, so concurrent creates of one client (any session of this process) make one client.
    async with exclusive(client, *identity_keys(fields)):
        if not allow_duplicate:
            found = await _existing_duplicate(client, fields)
            if found is not None:
                rec, why = found
                raise ToolError(
                    f"Not created: {rec.describe()} ({rec.status}) already has this {why}. Use client_id {rec.id}"
                    + (" (restore_client to make it active again)" if rec.vis_state == VIS_ARCHIVED else "")
                    + ", or call create_client again with allow_duplicate=true if the user wants a second client."
                )
        raw = await create_reconciled(client, CLIENTS, fields, includes=BALANCE_INCLUDES)
    created = ClientRecord.parse(raw)
    if contacts:
        created.contacts = fields["contacts"]
    message = f"Created {created.describe()}, currency {created.currency_code}."
    mixed = [v for v in (organization, fname, lname) if v and mixes_scripts(v)]
    if mixed:
        message += (
            f" Note: {mixed[0]!r} mixes letters of different scripts in one word (for example a Cyrillic 'о' "
            "among Latin letters); check with the user that this is the intended spelling."
        )
    return respond(ClientWriteOut(client=_row(created, True), changed=True, message=message), message)


@tool(toolset=CLIENT_ADMIN, title="Update client", read_only=False, idempotent=True, not_found=NOT_FOUND)
async def update_client(
    ctx: Context[Any, Any],
    client_id: Annotated[int, Field(ge=1, description="From find_client")],
    organization: Organization = None,
    fname: FirstName = None,
    lname: LastName = None,
    email: Email = None,
    phones: Phones = None,
    address: Address = None,
    currency_code: Currency = None,
    language: Language = None,
    note: Note = None,
    contacts: Annotated[
        list[ContactIn] | None, _S(max_length=20, description="Replaces ALL secondary contacts")
    ] = None,
) -> Annotated[CallToolResult, ClientWriteOut]:
    """Change the fields passed ("" clears optional text); contacts replaces the whole list. Returns the updated
    client."""
    fields = _fields(
        organization=organization,
        fname=fname,
        lname=lname,
        email=email,
        **_flat(phones, address),
        currency_code=currency_code,
        language=language,
        note=note,
        contacts=contacts,
    )
    if not fields:
        raise ToolError(
            "Nothing to update: pass at least one field to change (organization, fname, lname, email, phones, "
            "address, currency_code, language, note, contacts). To archive or restore use archive_client / "
            "restore_client."
        )
    client = fb(ctx)
    raw = await client.update(CLIENTS, client_id, fields, includes=BALANCE_INCLUDES)
    updated = ClientRecord.parse(raw) if raw else await _fetch(client, client_id, detailed=True)
    if contacts is not None:
        updated.contacts = fields["contacts"]
    message = f"Updated {updated.describe()}: {', '.join(sorted(fields))}."
    return respond(ClientWriteOut(client=_row(updated, True), changed=True, message=message), message)


# ---------------------------------------------------------------------- archive / restore


async def _load_for_archive(ctx: Context[Any, Any], client_id: int) -> ClientRecord:
    try:
        return await _fetch(fb(ctx), client_id)
    except FreshBooksError as exc:
        raise tool_error(exc, not_found=NOT_FOUND) from None


async def _confirm_archive(
    client_id: int, confirm: bool, ctx: Context[Any, Any]
) -> Confirmation | Elicit[Confirmation]:
    def question(rec: ClientRecord) -> str | None:
        if rec.vis_state == VIS_ARCHIVED:
            return None  # already archived: the tool makes no write, nothing to ask
        if rec.vis_state == VIS_DELETED:
            raise ToolError(f"{rec.describe()} is deleted, not active; nothing to archive. Nothing was changed.")
        owes = f" It still has an open balance of {money_text(rec.outstanding)}." if rec.outstanding else ""
        return (
            f"Archive {rec.describe()}?{owes} Archived clients are hidden from lists but keep their invoices "
            "and payments; restore_client undoes it."
        )

    return await confirm_gate(
        ctx,
        confirm,
        key=f"client:{client_id}",
        load=lambda: _load_for_archive(ctx, client_id),
        question=question,
        retry_hint=f"call archive_client again with client_id={client_id} and confirm=true",
    )


@tool(
    toolset=CLIENT_ADMIN,
    title="Archive client",
    read_only=False,
    destructive=True,
    idempotent=True,
    not_found=NOT_FOUND,
)
async def archive_client(
    ctx: Context[Any, Any],
    client_id: Annotated[int, Field(ge=1, description="From find_client")],
    approval: Annotated[Confirmation, Resolve(_confirm_archive)],
    confirm: Annotated[bool, Field(description="true only once the user agreed")] = False,
) -> Annotated[CallToolResult, ClientWriteOut]:
    """Archive a client (not delete): hidden from active lists, invoices and payments kept; user confirms.
    restore_client undoes it."""
    require_confirmation(approval, f"archiving client {client_id}")
    client = fb(ctx)
    rec = await load_once(ctx, f"client:{client_id}", lambda: _load_for_archive(ctx, client_id))
    if rec.vis_state == VIS_ARCHIVED:
        message = f"{rec.describe()} was already archived; nothing changed."
        return respond(ClientWriteOut(client=_row(rec, False), changed=False, message=message), message)
    if rec.vis_state == VIS_DELETED:
        raise ToolError(f"{rec.describe()} is deleted, not active; nothing to archive. Nothing was changed.")
    raw = await client.update(CLIENTS, client_id, {"vis_state": VIS_ARCHIVED}, includes=BALANCE_INCLUDES)
    rec = ClientRecord.parse(raw) if raw else await _fetch(client, client_id)
    message = f"Archived {rec.describe()}. restore_client undoes it."
    return respond(ClientWriteOut(client=_row(rec, False), changed=True, message=message), message)


@tool(toolset=CLIENT_ADMIN, title="Restore client", read_only=False, idempotent=True, not_found=NOT_FOUND)
async def restore_client(
    ctx: Context[Any, Any],
    client_id: Annotated[int, Field(ge=1, description="find_client include_archived")],
) -> Annotated[CallToolResult, ClientWriteOut]:
    """Make an archived (or deleted) client active again, so it shows in lists and can be invoiced.
    Restoring an active client changes nothing. Returns the client."""
    client = fb(ctx)
    rec = await _fetch(client, client_id)
    if rec.vis_state == VIS_ACTIVE:
        message = f"{rec.describe()} is already active; nothing changed."
        return respond(ClientWriteOut(client=_row(rec, False), changed=False, message=message), message)
    before = rec.status
    raw = await client.update(CLIENTS, client_id, {"vis_state": VIS_ACTIVE}, includes=BALANCE_INCLUDES)
    rec = ClientRecord.parse(raw) if raw else await _fetch(client, client_id)
    message = f"Restored {rec.describe()} (was {before}); it is {rec.status} now."
    return respond(ClientWriteOut(client=_row(rec, False), changed=True, message=message), message)


__all__ = [
    "archive_client",
    "create_client",
    "find_client",
    "get_client",
    "restore_client",
    "update_client",
]


TOOLS = (find_client, get_client, create_client, update_client, archive_client, restore_client)
TOOLSETS = (TOOLSET, CLIENT_ADMIN)
