"""Estimates (quotes): the resource, its statuses, the parsed record, and what converting one to an
invoice sends (fact sheet "more" §4).

FreshBooks has no convert endpoint: a conversion is a new draft invoice carrying the estimate's
lines, taxes, discount, currency, notes and terms, with `estimateid` set; once that invoice is sent
FreshBooks shows the estimate as status 6 (invoiced). Lines are invoice-shaped (lines.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from .invoices import client_display_name
from .lines import InvoiceLine, as_input, document_totals, line_wire, parse_lines
from .query import Query, Resource
from .types import Money, parse_date, to_decimal, to_int

if TYPE_CHECKING:
    from .writes import Lookup

__all__ = [
    "ESTIMATES",
    "ESTIMATE_STATUSES",
    "Estimate",
    "EstimateStatus",
    "estimate_key",
    "estimate_lookup",
    "invoice_from_estimate",
    "parse_estimate",
]

ESTIMATES = Resource(
    path="estimates/estimates",
    singular="estimate",
    plural="estimates",
    # [DOC:estimates]; notes is a "like" search under its bare name. No client or date key is documented.
    search_keys=frozenset({"estimateid", "estimate_number", "estimate_number_like", "notes", "statusid"}),
    list_keys=frozenset({"estimateids", "statusids"}),
    includes=frozenset(
        {"audit_logs", "comments", "contacts", "direct_links", "lines", "owner", "presentation", "project", "invoices"}
    ),
    delete_style="http",
)

EstimateStatus = Literal["draft", "sent", "viewed", "replied", "accepted", "invoiced"]
ESTIMATE_STATUSES: dict[EstimateStatus, int] = {
    "draft": 1,
    "sent": 2,
    "viewed": 3,
    "replied": 4,
    "accepted": 5,
    "invoiced": 6,  # an invoice made from it was sent
}
_STATUS_NAMES = {v: k for k, v in ESTIMATE_STATUSES.items()}


@dataclass(frozen=True)
class Estimate:
    id: int
    estimate_number: str
    client_id: int
    client_name: str
    currency_code: str
    create_date: date | None
    status: int
    ui_status: str  # as FreshBooks words it ("open" was seen live for a viewed one)
    amount: Money
    discount_percent: Decimal
    discount_total: Money
    accepted: bool
    vis_state: int
    notes: str | None = None
    terms: str | None = None
    po_number: str | None = None
    lines: tuple[InvoiceLine, ...] = field(default_factory=tuple)

    @property
    def status_name(self) -> str:
        return _STATUS_NAMES.get(self.status, self.ui_status or str(self.status))

    def computed_total(self) -> Decimal:
        """The total by our arithmetic (lines.document_totals) from the stored lines and discount."""
        return document_totals((as_input(line) for line in self.lines), self.discount_percent).total


def _str(value: Any) -> str | None:
    text = None if value is None else str(value)
    return text if text and text.strip() else None


def parse_estimate(raw: dict[str, Any]) -> Estimate:
    amount_raw = raw.get("amount")
    code = str(
        raw.get("currency_code") or (amount_raw.get("code") if isinstance(amount_raw, dict) else None) or "USD"
    ).upper()
    zero = {"amount": "0", "code": code}
    return Estimate(
        id=to_int(raw.get("id") or raw.get("estimateid")),
        estimate_number=str(raw.get("estimate_number") or ""),
        client_id=to_int(raw.get("customerid")),
        client_name=client_display_name(raw),
        currency_code=code,
        create_date=parse_date(raw.get("create_date")),
        status=to_int(raw.get("status")),
        ui_status=str(raw.get("ui_status") or raw.get("display_status") or ""),
        amount=Money.parse(amount_raw or zero, default_code=code) or Money(amount=Decimal(0), code=code),
        discount_percent=to_decimal(raw.get("discount_value") or "0"),
        discount_total=Money.parse(raw.get("discount_total") or zero, default_code=code)
        or Money(amount=Decimal(0), code=code),
        accepted=bool(raw.get("accepted")),
        vis_state=to_int(raw.get("vis_state")),
        notes=_str(raw.get("notes")),
        terms=_str(raw.get("terms")),
        po_number=_str(raw.get("po_number")),
        lines=parse_lines(raw.get("lines"), code),
    )


def estimate_key(estimate_id: int) -> str:
    """Lock key for a check on one estimate and the write it guards (convert, send, accept)."""
    return f"estimate:{int(estimate_id)}"


def invoice_from_estimate(est: Estimate, create_date: date) -> dict[str, Any]:
    """The wire body of the draft invoice a conversion creates: every line (with its taxes by name and
    percent, compound flag), the discount, currency, notes, terms and PO, and `estimateid`."""
    body: dict[str, Any] = {
        "customerid": est.client_id,
        "create_date": create_date.isoformat(),
        "currency_code": est.currency_code,
        "estimateid": est.id,
        "discount_value": f"{est.discount_percent.normalize():f}",
        "lines": [line_wire(as_input(line), est.currency_code) for line in est.lines],
    }
    for key, value in (("notes", est.notes), ("terms", est.terms), ("po_number", est.po_number)):
        if value is not None:
            body[key] = value
    return body


def _line_key(line: Any) -> tuple[str, Decimal, Decimal]:
    unit = line.get("unit_cost")
    unit = unit.get("amount") if isinstance(unit, Mapping) else unit
    qty = line.get("qty")
    return (
        str(line.get("name") or "").strip().lower(),
        to_decimal(qty if qty not in (None, "") else "1"),
        to_decimal(unit or "0"),
    )


def _same_lines(sent: Any, got: Any) -> bool:
    if not isinstance(sent, list):
        return True
    if not isinstance(got, list):
        return False
    return sorted(map(_line_key, sent), key=repr) == sorted(map(_line_key, got), key=repr)


def estimate_lookup(fields: Mapping[str, Any]) -> Lookup:
    """How create_reconciled finds an estimate whose create reply was lost: no client or date search key
    is documented, so read the newest estimates with lines (by number when one was sent) and match the
    client, date, currency and lines exactly."""
    from .writes import Lookup  # writes registers this lookup, so it cannot be imported at the top

    customer = to_int(fields.get("customerid"))
    day = str(fields.get("create_date"))
    q = Query(ESTIMATES).include("lines")
    if fields.get("estimate_number"):
        q.equals("estimate_number", str(fields["estimate_number"]))

    def matches(rec: dict[str, Any]) -> bool:
        if to_int(rec.get("customerid")) != customer or str(rec.get("create_date")) != day:
            return False
        if fields.get("currency_code") and str(rec.get("currency_code")).upper() != str(fields["currency_code"]):
            return False
        return _same_lines(fields.get("lines"), rec.get("lines"))

    n = len(fields.get("lines") or ())
    what = f"an estimate for client id {customer} dated {day} with {n} line(s)"
    return Lookup(q, matches, what, f"list_estimates with client_id={customer}")
