"""Creates whose outcome is unknown are resolved by looking the record up, never by re-sending blindly.

A POST can fail in two ways that leave us not knowing whether FreshBooks applied it: the connection
broke after the request was sent (`WriteOutcomeUnknownError`), or FreshBooks answered 5xx (real
FreshBooks may fail *after* applying). Re-sending could record a payment twice; giving up could
lose a write the user believes was made. So:

1. BEFORE the POST, snapshot the ids of records that a narrow search for "this write" returns
   (e.g. the payments on this invoice). A legitimately separate identical write made earlier is in
   that snapshot and can never be mistaken for ours.
2. Send the POST. On an unknown outcome, run the same search and keep the records that are NEW
   (not in the snapshot) and match the fields we sent.
   - exactly one new match: it was applied once; return it (read back with the caller's includes);
   - none: provably absent, so re-send (no longer blind), up to `attempts` POSTs in all;
   - several: someone else created an identical record meanwhile; we cannot tell which is ours,
     so raise an error naming the ids to check;
   - the lookup itself fails: raise `WriteOutcomeUnknownError` naming exactly what to look for.

Matching is deliberately lenient on formatting (case, surrounding spaces, "12.3" vs "12.30") and
strict on identity (amount, date, invoice, category...), because a false "absent" re-sends (a
duplicate) while the snapshot already rules out confusing older records.

Updates (PUT) are idempotent and retried by the client itself; they do not come through here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from .api import FreshBooksClient
from .errors import FreshBooksError, ServerError, WriteOutcomeUnknownError
from .query import CLIENTS, EXPENSES, INVOICES, PAYMENTS, Query, Resource
from .types import to_int

log = logging.getLogger(__name__)

__all__ = [
    "Lookup",
    "ReconcileStats",
    "client_lookup",
    "create_reconciled",
    "expense_lookup",
    "invoice_lookup",
    "lookup_for",
    "payment_lookup",
    "reconcile_stats",
]

JSON = dict[str, Any]
LOOKUP_MAX_ROWS = 2000


@dataclass(frozen=True)
class Lookup:
    """How to find the record one create would have made.

    `query` narrows server-side (documented search keys only); `matches` compares the fields we
    sent exactly; `what` names the record for a person ("a payment of 12.00 on invoice 123 dated
    2026-11-21"); `check` says where to look ("list_payments with invoice_id=123").
    """

    query: Query
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
}


def lookup_for(resource: Resource, fields: Mapping[str, Any]) -> Lookup:
    """The default lookup for a create of `resource` with these wire fields."""
    build = _LOOKUPS.get(resource.path)
    if build is None:
        raise ValueError(f"no reconciling lookup for {resource.plural}; pass lookup=")
    return build(fields)


# ---------------------------------------------------------------------- the reconciled create


async def _candidate_ids(client: FreshBooksClient, resource: Resource, lookup: Lookup) -> set[int]:
    rows = await client.list_all(resource, lookup.query.copy(), max_rows=LOOKUP_MAX_ROWS)
    if len(rows) >= LOOKUP_MAX_ROWS:
        raise FreshBooksError(f"too many {resource.plural} match the lookup to reconcile safely")
    return {to_int(r.get("id")) for r in rows}


async def _new_matches(client: FreshBooksClient, resource: Resource, lookup: Lookup, before: set[int]) -> list[JSON]:
    rows = await client.list_all(resource, lookup.query.copy(), max_rows=LOOKUP_MAX_ROWS)
    if len(rows) >= LOOKUP_MAX_ROWS:
        raise FreshBooksError(f"too many {resource.plural} match the lookup to reconcile safely")
    return [r for r in rows if to_int(r.get("id")) not in before and lookup.matches(r)]


def _unknown(lookup: Lookup, why: str) -> WriteOutcomeUnknownError:
    return WriteOutcomeUnknownError(
        f"The outcome of creating {lookup.what} is unknown ({why}). Check with {lookup.check} whether it "
        "exists before creating it again."
    )


async def create_reconciled(
    client: FreshBooksClient,
    resource: Resource,
    fields: dict[str, Any],
    *,
    includes: tuple[str, ...] = (),
    lookup: Lookup | None = None,
    attempts: int = 3,
) -> JSON:
    """`client.create(resource, fields, includes=...)`, applied exactly once even when replies are lost.

    Returns the created record (read back with `includes` when it was found by lookup). Raises the
    client's own errors for refusals (validation, auth...), `ServerError` when FreshBooks kept
    failing and each lookup proved nothing was created, and `WriteOutcomeUnknownError` (with what
    to check) when the outcome could not be established.
    """
    lookup = lookup or lookup_for(resource, fields)
    # Fails before anything is sent when FreshBooks cannot be read: nothing is changed then.
    before = await _candidate_ids(client, resource, lookup)
    last: FreshBooksError | None = None
    for attempt in range(1, max(1, attempts) + 1):
        try:
            return await client.create(resource, fields, includes=includes)
        except (WriteOutcomeUnknownError, ServerError) as exc:
            last = exc
            reconcile_stats.unknown_outcomes += 1
            log.info("create %s: outcome unknown on attempt %d (%s); looking it up", resource.singular, attempt, exc)
        try:
            found = await _new_matches(client, resource, lookup, before)
        except FreshBooksError as exc:
            reconcile_stats.unresolved += 1
            raise _unknown(
                lookup, f"{last.message.rstrip('.')}; the lookup failed too: {exc.message.rstrip('.')}"
            ) from None
        if len(found) == 1:
            reconcile_stats.found_applied += 1
            record = found[0]
            log.info("create %s: found it applied once as id %s", resource.singular, record.get("id"))
            if not includes:
                return record
            try:
                return await client.get(resource, to_int(record.get("id")), includes=includes)
            except FreshBooksError as exc:
                raise FreshBooksError(
                    f"Created {lookup.what} as {resource.singular} id {record.get('id')}, but reading it back "
                    f"failed ({exc.message.rstrip('.')}). Do not create it again; look it up with {lookup.check}."
                ) from None
        if len(found) > 1:
            reconcile_stats.unresolved += 1
            ids = ", ".join(str(r.get("id")) for r in found)
            raise _unknown(
                lookup,
                f"{last.message.rstrip('.')}; {len(found)} identical new records appeared meanwhile (ids {ids}), "
                "at most one of them from this call",
            )
        if attempt < attempts:
            reconcile_stats.resent += 1
            log.info("create %s: verified absent; sending again", resource.singular)
    reconcile_stats.unresolved += 1
    assert last is not None
    if isinstance(last, WriteOutcomeUnknownError):
        # Every lookup proved absence: nothing was created.
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
