"""The write primitive: every write to FreshBooks goes through here, classified by its effect.

Effects (`classify`): a pure UPDATE sets values, so the HTTP client may re-send it after a lost
reply; a CREATE makes a record; an ACTION emails or moves money (a payment, `action_email`, mark
as sent). Creates and actions are never re-sent blindly. After a lost reply, a timeout or a 5xx:

1. BEFORE sending, snapshot what a narrow lookup for "this write" returns (the ids of the payments
   on this invoice; the invoice's version stamp). A separate identical write made earlier is in
   that snapshot and can never be mistaken for ours.
2. After an unknown outcome, look again: exactly one NEW match (or the action's mark on the
   record) means it was applied once: return it. Nothing yet: the request may still be in flight,
   so wait a settle delay longer than one attempt's own deadline and look once more; only when
   that still shows nothing is it re-sent. Several new matches, a failed lookup or an action whose
   effect cannot be seen on the record: raise `WriteOutcomeUnknownError` naming what to check.

Both API families go through it: accounting resources (`Resource`, `search[...]` lookups) and the
business family's projects and time entries (`BusinessResource`, bare-key lookups, POST bodies
`{"<singular>": {...}}` at the item path); a lost business create is settled the same way.

Checks and the writes they guard run under keyed locks (locks.py): per invoice for payments and
sends, per normalized identity for client creates, per lookup fingerprint for identical creates
(so two identical creates never interleave). A record is adopted as ours only when no other write
on the same key gave up with an unknown outcome that may still land (`Held.may_adopt`).

Matching is deliberately lenient on formatting (case, surrounding spaces, "12.3" vs "12.30") and
strict on identity (amount, date, invoice, category...), because a false "absent" re-sends (a
duplicate) while the snapshot already rules out confusing older records.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from .api import FreshBooksClient, is_pure_update
from .business import BusinessQuery, BusinessResource
from .business import list_page as business_list_page
from .catalogue import item_lookup, tax_lookup
from .errors import (
    AppliedError,
    FreshBooksError,
    NotFoundError,
    ServerError,
    TransportError,
    WriteOutcomeUnknownError,
)
from .estimates import ESTIMATES, estimate_lookup
from .locks import Held
from .query import CLIENTS, EXPENSES, INVOICES, ITEMS, PAYMENTS, TAXES, Query, Resource
from .types import to_int

log = logging.getLogger(__name__)

__all__ = [
    "Action",
    "Effect",
    "Lookup",
    "ReconcileStats",
    "act",
    "changed_since",
    "classify",
    "client_lookup",
    "create_reconciled",
    "delete_verified",
    "exclusive",
    "expense_lookup",
    "fingerprint_key",
    "invoice_key",
    "invoice_lookup",
    "lookup_for",
    "payment_lookup",
    "reconcile_stats",
    "record_key",
    "resendable",
    "settle_delay",
    "shows",
    "update",
    "update_verified",
]

JSON = dict[str, Any]
LOOKUP_MAX_ROWS = 2000
Target = Resource | BusinessResource  # what a create makes: an accounting or a business-family record


@dataclass(frozen=True)
class Lookup:
    """How to find the record one create would have made.

    `query` narrows server-side (documented search keys only: a `Query` for accounting resources,
    a `BusinessQuery` for projects and time entries); `matches` compares the fields we
    sent exactly; `what` names the record for a person ("a payment of 12.00 on invoice 123 dated
    2026-11-21"); `check` says where to look ("list_payments with invoice_id=123").
    """

    query: Query | BusinessQuery
    matches: Callable[[JSON], bool]
    what: str
    check: str


@dataclass
class ReconcileStats:
    """Process-wide counters (for soak runs and benches)."""

    unknown_outcomes: int = 0
    found_applied: int = 0
    resent: int = 0
    unresolved: int = 0
    settle_waits: int = 0


reconcile_stats = ReconcileStats()


# ---------------------------------------------------------------------- comparisons


def _text(value: Any) -> str:
    return " ".join(str(value).split()).casefold() if value is not None else ""


def _dec(value: Any) -> Decimal | None:
    if isinstance(value, Mapping):
        value = value.get("amount")
    if value is None or isinstance(value, float):
        return None
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None


def _same_amount(sent: Any, got: Any) -> bool:
    a, b = _dec(sent), _dec(got)
    return a is not None and b is not None and a == b


def _code(value: Any) -> str | None:
    if isinstance(value, Mapping) and value.get("code"):
        return str(value["code"]).upper()
    return None


def _same_text_fields(fields: Mapping[str, Any], record: Mapping[str, Any], keys: tuple[str, ...]) -> bool:
    """Every key we sent (non-empty) equals the record's value, ignoring case and spacing."""
    for key in keys:
        if key in fields and _text(fields[key]) and _text(fields[key]) != _text(record.get(key)):
            return False
    return True


def _on_day(q: Query, key: str, iso: str) -> Query:
    """`key` on that day: _min inclusive, _max exclusive (the day after; none after 9999-12-31)."""
    day = date.fromisoformat(iso)
    return q.between(key, day, day + timedelta(days=1) if day < date.max else None)


def _amount_text(money: Any) -> str:
    amount = _dec(money)
    code = _code(money)
    text = f"{amount:f}" if amount is not None else "?"
    return f"{text} {code}" if code else text


# ---------------------------------------------------------------------- lookups per resource


def client_lookup(fields: Mapping[str, Any]) -> Lookup:
    """By email (equals) when given, else organization (like) then exact compare of the names."""
    email, org = fields.get("email"), fields.get("organization")
    fname, lname = fields.get("fname"), fields.get("lname")
    q = Query(CLIENTS)
    if email:
        q.equals("email", str(email))
    elif org:
        q.like("organization", str(org))
    elif lname:
        q.like("lname", str(lname))
    elif fname:
        q.like("fname", str(fname))
    else:
        raise ValueError("a client create needs an email, organization or name to be looked up")
    q.sort("client_id", "asc")

    def matches(rec: JSON) -> bool:
        return _same_text_fields(fields, rec, ("email", "organization", "fname", "lname"))

    name = org or " ".join(str(p) for p in (fname, lname) if p) or email
    what = f"a client {name!r}" + (f" <{email}>" if email and name != email else "")
    check = f"find_client with query={str(email or org or lname or fname)!r}"
    return Lookup(q, matches, what, check)


def payment_lookup(fields: Mapping[str, Any]) -> Lookup:
    """The payments of the invoice, matched on amount, date, type and note."""
    invoice_id = to_int(fields.get("invoiceid"))
    q = Query(PAYMENTS).equals("invoiceid", invoice_id)
    amount = fields.get("amount")

    def matches(rec: JSON) -> bool:
        if to_int(rec.get("invoiceid")) != invoice_id or not _same_amount(amount, rec.get("amount")):
            return False
        code = _code(amount)
        if code and _code(rec.get("amount")) not in (None, code):
            return False
        if fields.get("date") and str(rec.get("date")) != str(fields["date"]):
            return False
        if fields.get("type") and _text(rec.get("type")) != _text(fields["type"]):
            return False
        return _text(fields.get("note")) == _text(rec.get("note")) if "note" in fields else True

    what = f"a payment of {_amount_text(amount)} on invoice id {invoice_id} dated {fields.get('date')}"
    if fields.get("note"):
        what += f" with note {str(fields['note'])[:60]!r}"
    return Lookup(q, matches, what, f"list_payments with invoice_id={invoice_id}")


def expense_lookup(fields: Mapping[str, Any]) -> Lookup:
    """Expenses of that category on that day, matched on amount, vendor, notes, client and staff."""
    day = str(fields.get("date"))
    category = to_int(fields.get("categoryid"))
    q = _on_day(Query(EXPENSES).equals("categoryid", category), "date", day)
    amount = fields.get("amount")

    def matches(rec: JSON) -> bool:
        if to_int(rec.get("categoryid")) != category or str(rec.get("date")) != day:
            return False
        if not _same_amount(amount, rec.get("amount")):
            return False
        for key in ("clientid", "projectid", "staffid"):
            if key in fields and to_int(fields[key]) != to_int(rec.get(key)):
                return False
        return _same_text_fields(fields, rec, ("vendor", "notes"))

    what = f"an expense of {_amount_text(amount)} dated {day} in category id {category}"
    if fields.get("vendor"):
        what += f" from {str(fields['vendor'])[:60]!r}"
    return Lookup(q, matches, what, f"list_expenses with date_from={day} and date_to={day}")


def _line_key(line: Mapping[str, Any]) -> tuple[str, Decimal | None, Decimal | None]:
    return (
        _text(line.get("name")),
        _dec(line.get("qty") if line.get("qty") is not None else "1"),
        _dec(line.get("unit_cost")),
    )


def invoice_lookup(fields: Mapping[str, Any]) -> Lookup:
    """The client's invoices of that issue date, matched on currency, lines, notes, terms and PO."""
    customer = to_int(fields.get("customerid"))
    day = str(fields.get("create_date"))
    q = _on_day(Query(INVOICES).equals("customerid", customer), "date", day).include("lines")
    sent_lines = fields.get("lines")

    def matches(rec: JSON) -> bool:
        if to_int(rec.get("customerid")) != customer or str(rec.get("create_date")) != day:
            return False
        if fields.get("currency_code") and _text(rec.get("currency_code")) != _text(fields["currency_code"]):
            return False
        if not _same_text_fields(fields, rec, ("notes", "terms", "po_number", "invoice_number")):
            return False
        if isinstance(sent_lines, list):
            got = rec.get("lines")
            if not isinstance(got, list):
                return False
            want = sorted(map(_line_key, (x for x in sent_lines if isinstance(x, Mapping))), key=repr)
            have = sorted(map(_line_key, (x for x in got if isinstance(x, Mapping))), key=repr)
            if want != have:
                return False
        return True

    n = len(sent_lines) if isinstance(sent_lines, list) else 0
    what = f"an invoice for client id {customer} dated {day} with {n} line(s)"
    if fields.get("po_number"):
        what += f", PO {fields['po_number']!r}"
    return Lookup(q, matches, what, f"list_invoices with client_id={customer} (look at invoices dated {day})")


_LOOKUPS: dict[str, Callable[[Mapping[str, Any]], Lookup]] = {
    CLIENTS.path: client_lookup,
    PAYMENTS.path: payment_lookup,
    EXPENSES.path: expense_lookup,
    INVOICES.path: invoice_lookup,
    ESTIMATES.path: estimate_lookup,
    ITEMS.path: item_lookup,
    TAXES.path: tax_lookup,
}


def lookup_for(resource: Target, fields: Mapping[str, Any]) -> Lookup:
    """The default lookup for a create of `resource` with these wire fields (business-family creates
    pass theirs: a time entry's needs the business's time zone)."""
    build = _LOOKUPS.get(resource.path) if isinstance(resource, Resource) else None
    if build is None:
        raise ValueError(f"no reconciling lookup for {resource.plural}; pass lookup=")
    return build(fields)


# ---------------------------------------------------------------------- effects and keys


class Effect(StrEnum):
    """What a write does when it lands, which decides what may be done after a lost reply."""

    UPDATE = "update"  # sets values: landing twice is landing once; the client may re-send it
    CREATE = "create"  # makes a record: settled by looking it up, re-sent only once proven absent
    ACTION = "action"  # emails or moves money: settled by looking it up, never re-sent blindly


def classify(method: str, resource: Target, body: Any) -> Effect:
    """The effect of one request, by what it does rather than its HTTP method."""
    method = method.upper()
    if method == "POST":
        return Effect.ACTION if isinstance(resource, Resource) and resource.path == PAYMENTS.path else Effect.CREATE
    if method == "PUT" and not is_pure_update(body):
        return Effect.ACTION
    return Effect.UPDATE


def invoice_key(invoice_id: int) -> str:
    """Lock key for everything that checks then changes what one invoice owes or whether it was sent."""
    return f"invoice:{int(invoice_id)}"


def _path(resource: Target) -> str:
    return resource.path if isinstance(resource, Resource) else f"{resource.family}/{resource.list_path}"


def fingerprint_key(resource: Target, lookup: Lookup) -> str:
    """Lock key shared by every create whose lookup reads the same records (identical creates)."""
    params = sorted(lookup.query.params())
    digest = hashlib.sha256(repr((_path(resource), params)).encode()).hexdigest()[:24]
    return f"create:{_path(resource)}:{digest}"


@asynccontextmanager
async def exclusive(client: FreshBooksClient, *keys: str) -> AsyncIterator[Held]:
    """Hold these keys (scoped to the client's business) for a check and the write it guards."""
    # Two businesses (or two sandboxes) never contend; across replicas the same key meets itself.
    scope = f"{client.api_url}|{(await client.business()).account_id}|"
    async with client.locks.hold(*(scope + k for k in keys)) as held:
        yield held


# ---------------------------------------------------------------------- the reconciled create


async def _lookup_rows(client: FreshBooksClient, resource: Target, lookup: Lookup) -> list[JSON]:
    query = lookup.query
    if isinstance(query, BusinessQuery):
        rows: list[JSON] = []
        page, pages = 1, 1
        while page <= pages and len(rows) < LOOKUP_MAX_ROWS:
            got = await business_list_page(client, query, page=page)
            rows += got.rows
            page, pages = page + 1, got.pages
    else:
        assert isinstance(resource, Resource)
        rows = await client.list_all(resource, query.copy(), max_rows=LOOKUP_MAX_ROWS)
    if len(rows) >= LOOKUP_MAX_ROWS:
        raise FreshBooksError(f"too many {resource.plural} match the lookup to reconcile safely")
    return rows


async def _candidate_ids(client: FreshBooksClient, resource: Target, lookup: Lookup) -> set[int]:
    return {to_int(r.get("id")) for r in await _lookup_rows(client, resource, lookup)}


async def _new_matches(client: FreshBooksClient, resource: Target, lookup: Lookup, before: set[int]) -> list[JSON]:
    rows = await _lookup_rows(client, resource, lookup)
    return [r for r in rows if to_int(r.get("id")) not in before and lookup.matches(r)]


async def _post(client: FreshBooksClient, resource: Target, fields: dict[str, Any], includes: tuple[str, ...]) -> JSON:
    """One create request (never re-sent by the HTTP client: a POST's lost reply is an unknown outcome)."""
    if isinstance(resource, Resource):
        return await client.create(resource, fields, includes=includes)
    body = await client.business_request(
        "POST", resource.family, resource.create_path, json={resource.singular: fields}
    )
    record = body.get(resource.singular) if isinstance(body, dict) else None
    if not isinstance(record, dict):
        raise FreshBooksError(f"FreshBooks did not return the created {resource.singular}.")
    return record


def _unknown(lookup: Lookup, why: str, effect: Effect = Effect.CREATE) -> WriteOutcomeUnknownError:
    verb = "recording" if effect is Effect.ACTION else "creating"
    return WriteOutcomeUnknownError(
        f"The outcome of {verb} {lookup.what} is unknown ({why}). Check with {lookup.check} whether it "
        f"exists before {verb} it again."
    )


def settle_delay(client: FreshBooksClient, error: FreshBooksError) -> float:
    """How long to wait before the second lookup after `error`.

    A lost reply or a timeout may leave the request still in flight: wait longer than one attempt's
    deadline (`client.settle_delay`). A 5xx is an answer, so the request is over; a short pause
    covers a gateway that answered while the backend was still finishing.
    """
    if isinstance(error, WriteOutcomeUnknownError):
        return client.settle_delay
    return min(client.settle_delay, 1.0)


async def create_reconciled(
    client: FreshBooksClient,
    resource: Target,
    fields: dict[str, Any],
    *,
    includes: tuple[str, ...] = (),
    lookup: Lookup | None = None,
    attempts: int = 3,
    keys: tuple[str, ...] = (),
    outer: Held | None = None,
) -> JSON:
    """`client.create(resource, fields, includes=...)`, applied exactly once even when replies are lost.

    Runs under the lock of its content fingerprint (plus `keys`), so identical creates in this
    process never interleave; the caller may already hold other keys (`exclusive`) for its own
    checks: pass that hold as `outer` so its unsettled marks count too. Returns the created record
    (read back with `includes` when it was found by lookup; accounting resources only).
    Raises the client's own errors for refusals (validation, auth...), `ServerError` when FreshBooks
    kept failing and each lookup proved nothing was created, and `WriteOutcomeUnknownError` (with
    what to check) when the outcome could not be established.
    """
    if includes and not isinstance(resource, Resource):
        raise ValueError(f"{resource.plural}: FreshBooks takes no includes on this create")
    lookup = lookup or lookup_for(resource, fields)
    effect = classify("POST", resource, fields)
    async with exclusive(client, fingerprint_key(resource, lookup), *keys) as held:
        both: Held = held if outer is None else _Both(held, outer)
        try:
            return await _create_held(client, resource, fields, includes, lookup, attempts, effect, both)
        except asyncio.CancelledError:
            both.leave_unsettled(client.settle_delay)  # abandoned mid-write: what was sent may still land
            raise


@dataclass(frozen=True)
class _Both:
    """Two holds seen as one: adopt only when both allow it; leave marks on both."""

    inner: Held
    outer: Held

    @property
    def keys(self) -> tuple[str, ...]:
        return self.inner.keys + self.outer.keys

    def may_adopt(self) -> bool:
        return self.inner.may_adopt() and self.outer.may_adopt()

    def leave_unsettled(self, seconds: float) -> None:
        self.inner.leave_unsettled(seconds)
        self.outer.leave_unsettled(seconds)


async def _create_held(
    client: FreshBooksClient,
    resource: Target,
    fields: dict[str, Any],
    includes: tuple[str, ...],
    lookup: Lookup,
    attempts: int,
    effect: Effect,
    held: Held,
) -> JSON:
    # Fails before anything is sent when FreshBooks cannot be read: nothing is changed then.
    before = await _candidate_ids(client, resource, lookup)
    last: FreshBooksError | None = None
    for attempt in range(1, max(1, attempts) + 1):
        try:
            return await _post(client, resource, fields, includes)
        except (WriteOutcomeUnknownError, ServerError) as exc:
            last = exc
            reconcile_stats.unknown_outcomes += 1
            log.info("create %s: outcome unknown on attempt %d (%s); looking it up", resource.singular, attempt, exc)
        found: list[JSON] = []
        for look in range(2):
            if look:
                # Nothing yet: the request may still be in flight. Look again once it can no longer land.
                reconcile_stats.settle_waits += 1
                await asyncio.sleep(settle_delay(client, last))
            try:
                found = await _new_matches(client, resource, lookup, before)
            except FreshBooksError as exc:
                reconcile_stats.unresolved += 1
                held.leave_unsettled(client.settle_delay)
                raise _unknown(
                    lookup, f"{last.message.rstrip('.')}; the lookup failed too: {exc.message.rstrip('.')}", effect
                ) from None
            if found:
                break
        if len(found) == 1 and not held.may_adopt():
            # An earlier identical write gave up with an unknown outcome and may have landed since:
            # this record may be that one, so it is not adopted as ours.
            reconcile_stats.unresolved += 1
            held.leave_unsettled(client.settle_delay)
            raise _unknown(
                lookup,
                f"{last.message.rstrip('.')}; a matching new record (id {found[0].get('id')}) appeared, but an "
                "earlier identical request whose outcome is unknown may have made it",
                effect,
            )
        if len(found) == 1:
            reconcile_stats.found_applied += 1
            record = found[0]
            log.info("create %s: found it applied once as id %s", resource.singular, record.get("id"))
            if not includes or not isinstance(resource, Resource):
                return record
            try:
                return await client.get(resource, to_int(record.get("id")), includes=includes)
            except FreshBooksError as exc:
                raise AppliedError(
                    f"Created {lookup.what} as {resource.singular} id {record.get('id')}, but reading it back "
                    f"failed ({exc.message.rstrip('.')}). Do not create it again; look it up with {lookup.check}."
                ) from None
        if len(found) > 1:
            reconcile_stats.unresolved += 1
            held.leave_unsettled(client.settle_delay)
            ids = ", ".join(str(r.get("id")) for r in found)
            raise _unknown(
                lookup,
                f"{last.message.rstrip('.')}; {len(found)} identical new records appeared meanwhile (ids {ids}), "
                "at most one of them from this call",
                effect,
            )
        if attempt < attempts:
            reconcile_stats.resent += 1
            log.info("create %s: verified absent after settling; sending again", resource.singular)
    reconcile_stats.unresolved += 1
    assert last is not None
    if isinstance(last, WriteOutcomeUnknownError):
        # Every lookup, after the settle delay, proved absence: nothing was created.
        raise ServerError(
            f"FreshBooks did not complete creating {lookup.what} after {attempts} attempt(s); each time a lookup "
            "confirmed nothing was created. Try again shortly.",
            method="POST",
        )
    last.message = (
        f"{last.message.rstrip('.')}. Tried {attempts} time(s); a lookup confirmed {lookup.what} was not created."
    )
    last.args = (last.message,)
    raise last


# ---------------------------------------------------------------------- actions and updates


@dataclass(frozen=True)
class Action:
    """One action on one record (PUT with `action_*`): what it does and how to tell it landed.

    `landed(before, after)` compares the record read before the action with a fresh read: True
    (it landed), False (provably not), or None (cannot tell from the record). `what` names the
    effect for a person ("invoice #0042 may have been emailed to ann@x.com"); `check` says what to
    look at before doing it again.
    """

    resource: Resource
    resource_id: int
    fields: dict[str, Any]
    landed: Callable[[JSON, JSON], bool | None]
    what: str
    check: str


def changed_since(before: JSON, after: JSON) -> bool | None:
    """Whether the record was written after `before` was read (FreshBooks' version/updated stamps)."""
    for key in ("version", "updated"):
        old, new = before.get(key), after.get(key)
        if old and new:
            return bool(old != new)
    return None


async def act(client: FreshBooksClient, action: Action, before: JSON, held: Held) -> tuple[JSON, bool]:
    """Send an action once; after a lost reply or 5xx settle it by re-reading the record.

    Must run under `exclusive(...)` on the key the action protects (e.g. `invoice_key`), with
    `before` read under it, so no other write of this process changes the record meanwhile.
    Re-sends at most once, and only when a read after the settle delay shows it did not land.
    Returns the record (as FreshBooks answered, or as re-read) and whether the outcome was settled
    by re-reading it (the reply was lost or failed, but the action had landed once).
    """
    if classify("PUT", action.resource, action.fields) is not Effect.ACTION:
        raise ValueError("act() is for actions; use update() for pure updates")
    try:
        return await _act_held(client, action, before, held)
    except asyncio.CancelledError:
        held.leave_unsettled(client.settle_delay)  # abandoned mid-write: what was sent may still land
        raise


async def _act_held(client: FreshBooksClient, action: Action, before: JSON, held: Held) -> tuple[JSON, bool]:
    for attempt in (1, 2):
        try:
            return await client.update(action.resource, action.resource_id, action.fields), False
        except (WriteOutcomeUnknownError, ServerError) as exc:
            last: FreshBooksError = exc
            reconcile_stats.unknown_outcomes += 1
            log.info("action on %s %s: outcome unknown (%s)", action.resource.singular, action.resource_id, exc)
        verdict: bool | None = None
        after: JSON = {}
        for look in range(2):
            if look:
                reconcile_stats.settle_waits += 1
                await asyncio.sleep(settle_delay(client, last))
            try:
                after = await client.get(action.resource, action.resource_id)
            except FreshBooksError:
                verdict = None
                break
            verdict = action.landed(before, after)
            if verdict is not False:
                break
        if verdict is True and held.may_adopt():
            reconcile_stats.found_applied += 1
            return after, True
        if verdict is False and attempt == 1:
            reconcile_stats.resent += 1
            log.info("action on %s %s: did not land; sending once more", action.resource.singular, action.resource_id)
            continue
        if verdict is False:
            # Both attempts provably did not land: nothing happened, so trying again later is safe.
            raise ServerError(
                f"{last.message.rstrip('.')}. Tried twice; re-reading the {action.resource.singular} shows neither "
                "attempt went through, so nothing was done",
                method="PUT",
            )
        reconcile_stats.unresolved += 1
        held.leave_unsettled(client.settle_delay)
        raise WriteOutcomeUnknownError(
            f"{last.message.rstrip('.')}. The outcome is unknown: {action.what}. {action.check}",
            method="PUT",
        )
    raise AssertionError("unreachable")  # pragma: no cover


async def update(
    client: FreshBooksClient,
    resource: Resource,
    resource_id: int,
    fields: dict[str, Any],
    *,
    includes: tuple[str, ...] = (),
) -> JSON:
    """A pure update (sets values): safe to re-send, so the client retries it itself."""
    if classify("PUT", resource, fields) is not Effect.UPDATE:
        raise ValueError("update() is for pure updates; send actions with act()")
    return await client.update(resource, resource_id, fields, includes=includes)


async def resendable(
    client: FreshBooksClient,
    method: str,
    path: str,
    *,
    json: Any = None,
    files: dict[str, tuple[str, bytes, str]] | None = None,
) -> Any:
    """A write whose repeat is harmless, so the client re-sends it after a lost reply or a 5xx (#17).

    For writes that set values on a sub-resource rather than make a record: an invoice's payment
    options (a POST that sets flags: sending it twice sets them once) and an upload (a second copy
    of the same file is an unreferenced blob nobody sees; what matters is the jwt the caller then
    attaches with an update). Never for creates of records or actions.
    """
    return await client.request(method, path, json=json, files=files, resend=True)


# ---------------------------------------------------------------------- corrections (#19)


def record_key(resource: Resource, resource_id: int) -> str:
    """Lock key for a check-then-edit of one record that moves no money (an expense's fields)."""
    return f"{resource.singular}:{int(resource_id)}"


def shows(fields: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    """Whether a record read back carries every value an edit sent (lenient on formatting).

    FreshBooks recomputes some of what it stores (a line's amount, a tax amount), so only the sent
    keys are compared: money by amount, lines by name/qty/unit cost, ids as ints, the rest as text.
    """
    for key, sent in fields.items():
        got = record.get(key)
        if key == "lines" and isinstance(sent, list):
            have = got if isinstance(got, list) else []
            want = sorted(map(_line_key, (x for x in sent if isinstance(x, Mapping))), key=repr)
            if want != sorted(map(_line_key, (x for x in have if isinstance(x, Mapping))), key=repr):
                return False
        elif isinstance(sent, Mapping) and "amount" not in sent:
            # A nested object (an expense's attachment, an invoice's presentation): its sent keys.
            if not isinstance(got, Mapping) or not shows(sent, got):
                return False
        elif isinstance(sent, Mapping):
            if not _same_amount(sent, got):
                return False
        elif isinstance(sent, int) and not isinstance(sent, bool):
            if to_int(got) != sent:
                return False
        elif _dec(sent) is not None and _dec(got) is not None:
            if _dec(sent) != _dec(got):
                return False
        elif _text(sent) != _text(got):
            return False
    return True


async def _settled(
    client: FreshBooksClient,
    resource: Resource,
    resource_id: int,
    error: FreshBooksError,
    landed: Callable[[JSON | None], bool],
    includes: tuple[str, ...] = (),
) -> tuple[bool, JSON | None]:
    """After a write whose outcome is unknown: (True, the record or None when gone) if it shows the
    write landed; (False, None) when a read after the settle delay still shows it did not."""
    for look in range(2):
        if look:
            reconcile_stats.settle_waits += 1
            await asyncio.sleep(settle_delay(client, error))
        try:
            record: JSON | None = await client.get(resource, resource_id, includes=includes)
        except NotFoundError:
            record = None
        except FreshBooksError as exc:
            reconcile_stats.unresolved += 1
            raise WriteOutcomeUnknownError(
                f"{error.message.rstrip('.')}; re-reading {resource.singular} {resource_id} failed too "
                f"({exc.message.rstrip('.')}). The change may or may not have been applied: look at the "
                f"{resource.singular} before repeating it",
                method="PUT",
            ) from None
        if landed(record):
            reconcile_stats.found_applied += 1
            return True, record
    return False, None


async def update_verified(
    client: FreshBooksClient,
    resource: Resource,
    resource_id: int,
    fields: dict[str, Any],
    *,
    includes: tuple[str, ...] = (),
) -> tuple[JSON, bool]:
    """A correction (pure update) applied once, with its outcome established.

    Setting values twice is setting them once, so the client re-sends it after a lost reply or a
    5xx. When it gave up, the record is read back: it shows the values -> applied (returned with
    True: settled by reading back); it still does not after the settle delay -> nothing changed
    (ServerError, safe to try again). A `vis_state` in `fields` is refused (it would discard the rest).
    """
    if "vis_state" in fields:
        raise ValueError("update_verified() edits fields; a vis_state would discard them: use delete_verified()")
    try:
        return await update(client, resource, resource_id, fields, includes=includes), False
    except (TransportError, ServerError) as exc:  # lost replies of a re-sendable write end as TransportError
        reconcile_stats.unknown_outcomes += 1
        # Lines are served only when included: read them back to compare what was sent.
        wanted = tuple(sorted({*includes, *(("lines",) if "lines" in fields else ())}))
        ok, found = await _settled(
            client, resource, resource_id, exc, lambda r: r is not None and shows(fields, r), wanted
        )
        if not ok or found is None:
            reconcile_stats.unresolved += 1
            raise ServerError(
                f"{exc.message.rstrip('.')}. Re-reading {resource.singular} {resource_id} shows the change did not "
                "go through; nothing was changed",
                method="PUT",
            ) from None
        return found, True


async def delete_verified(
    client: FreshBooksClient, resource: Resource, resource_id: int, *, vis_state: int = 1
) -> bool:
    """Delete (vis_state 1, in the resource's delete style) or archive (vis_state 2) once.

    The body holds vis_state alone (FreshBooks' phase quirk); DELETE and a vis_state PUT are
    re-sent by the client after a lost reply (deleting twice is deleting once). When it gave up,
    the record is read back. Returns whether the outcome was settled by reading back.
    """
    try:
        if vis_state == 1:
            await client.delete(resource, resource_id)
        else:
            await update(client, resource, resource_id, {"vis_state": vis_state})
        return False
    except (TransportError, ServerError) as exc:  # lost replies of a re-sendable write end as TransportError
        reconcile_stats.unknown_outcomes += 1
        ok, _ = await _settled(
            client, resource, resource_id, exc, lambda r: r is None or to_int(r.get("vis_state")) == vis_state
        )
        if not ok:
            reconcile_stats.unresolved += 1
            raise ServerError(
                f"{exc.message.rstrip('.')}. Re-reading {resource.singular} {resource_id} shows it was not "
                f"{'deleted' if vis_state == 1 else 'archived'}; nothing was changed",
                method="PUT",
            ) from None
        return True
