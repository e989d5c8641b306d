"""Clients (``users/clients``): the model, its balances, search keys, sorts, includes and seeding."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from .. import query as Q
from .._wire import EASTERN, JSON, fmt_dt, money
from ..books import Books
from ..fields import ZERO, invalid
from ..resource import Resource, Seeding
from ..seed_data import CITIES, FIRST, LAST, ORGS, eastern, utc_of
from .invoices import DRAFT, invoice_is_overdue

CLIENT_TEMPLATE: JSON = {
    "accounting_systemid": "",
    "allow_email_include_pdf": False,
    "allow_late_fees": True,
    "allow_late_notifications": True,
    "bus_phone": "",
    "company_industry": None,
    "company_size": None,
    "currency_code": "USD",
    "direct_link_token": None,
    "email": "",
    "exceeds_client_limit": 0,
    "fax": "",
    "fname": "",
    "has_retainer": None,
    "home_phone": None,
    "id": 0,
    "language": "en",
    "last_activity": None,
    "last_login": None,
    "level": 0,
    "lname": "",
    "mob_phone": "",
    "note": None,
    "notified": False,
    "num_logins": 0,
    "organization": "",
    "p_city": "",
    "p_code": "",
    "p_country": "",
    "p_province": "",
    "p_street": "",
    "p_street2": "",
    "pref_email": True,
    "pref_gmail": False,
    "retainer_id": None,
    "role": "client",
    "s_city": "",
    "s_code": "",
    "s_country": "",
    "s_province": "",
    "s_street": "",
    "s_street2": "",
    "signup_date": "",
    "statement_token": None,
    "subdomain": None,
    "updated": "",
    "userid": 0,
    "username": "",
    "uuid": "",
    "vat_name": None,
    "vat_number": None,
    "vis_state": 0,
}
CLIENT_WRITABLE = frozenset(
    k
    for k in CLIENT_TEMPLATE
    if k not in {"accounting_systemid", "id", "userid", "signup_date", "updated", "uuid", "role", "vis_state"}
)
# Empty-string defaults: a JSON null sent for these is stored as "" (as the seed 000 reply shows).
CLIENT_STR_FIELDS = frozenset(k for k, v in CLIENT_TEMPLATE.items() if v == "")

# Seed 000's example client, reproduced exactly by client 1 of every seeded sandbox.
SEED_000_CLIENT: JSON = {
    "fname": "first1",
    "lname": "last1",
    "email": "email1@freshbooks.com",
    "organization": "company1",
    "p_street": "1655 Dupont St. W.",
    "p_city": "Toronto",
    "p_province": "Ontario",
    "p_country": "Canada",
    "p_code": "M6P 3T1",
    "currency_code": "USD",
    "vat_number": "",
    "username": "first1last13",
}
BALANCE_INCLUDES = {
    "outstanding_balance": "outstanding",
    "overdue_balance": "overdue",
    "credit_balance": "credit",
    "draft_balance": "draft",
    "grand_total_balance": "grand_total",
}


# ---------------------------------------------------------------- model
def build_client(books: Books, fields: JSON, signup_utc: datetime, updated_et: datetime) -> JSON:
    cid = books.next_id("client", 100001)
    rec = dict(CLIENT_TEMPLATE)
    for key, value in fields.items():
        if key in CLIENT_WRITABLE:
            rec[key] = "" if value is None and key in CLIENT_STR_FIELDS else value
    if not rec["organization"]:
        # Server-side fill (PY SDK fixture create_client_response): org := email, else the name.
        rec["organization"] = rec["email"] or f"{rec['fname']} {rec['lname']}".strip()
    if not rec["username"]:
        base = f"{rec['fname']}{rec['lname']}".lower().replace(" ", "") or "client"
        rec["username"] = f"{base}{cid % 100}"
    rec.update(
        id=cid,
        userid=cid,
        accounting_systemid=books.account_id,
        signup_date=fmt_dt(signup_utc),
        updated=fmt_dt(updated_et),
        uuid=books.new_uuid(),
        vis_state=int(fields.get("vis_state", 0) or 0),
    )
    books.db.clients[cid] = rec
    return rec


def create_client(books: Books, body: JSON) -> JSON:
    cur = body.get("currency_code")
    if cur is not None and (not isinstance(cur, str) or len(cur) != 3):
        raise invalid("currency_code", "client", cur)
    email = body.get("email")
    if email is not None and not isinstance(email, str):
        raise invalid("email", "client", email)
    now = books.now()
    signup = now.replace(tzinfo=EASTERN)
    fields = {k: v for k, v in body.items() if k in CLIENT_WRITABLE}
    if not fields.get("currency_code"):
        fields["currency_code"] = books.base_currency
    rec = build_client(books, fields, signup.astimezone(UTC).replace(tzinfo=None), now)
    contacts = body.get("contacts")
    if isinstance(contacts, list):
        books.db.client_contacts[rec["id"]] = [c for c in contacts if isinstance(c, dict)]
    return rec


def update_client(books: Books, rec: JSON, body: JSON) -> None:
    cur = body.get("currency_code")
    if "currency_code" in body and (not isinstance(cur, str) or len(cur) != 3):
        raise invalid("currency_code", "client", cur)
    for key, value in body.items():
        if key in CLIENT_WRITABLE:
            rec[key] = "" if value is None and key in CLIENT_STR_FIELDS else value
    if isinstance(body.get("contacts"), list):
        books.db.client_contacts[rec["id"]] = [c for c in body["contacts"] if isinstance(c, dict)]
    rec["updated"] = fmt_dt(books.now())


# ---------------------------------------------------------------- derived: balances
Balances = dict[int, dict[str, dict[str, Decimal]]]


def compute_balances(books: Books) -> Balances:
    """Per client, per balance kind, per currency. One pass over invoices and credits."""
    out: Balances = {}

    def bucket(cid: int, kind: str, code: str, value: Decimal) -> None:
        per = out.setdefault(cid, {}).setdefault(kind, {})
        per[code] = per.get(code, ZERO) + value

    for inv in books.db.invoices.values():
        cid = inv["customerid"]
        if inv["vis_state"] == 1:
            continue
        code = inv["currency_code"]
        if inv["status"] == DRAFT:
            bucket(cid, "draft", code, Decimal(inv["amount"]["amount"]))
            continue
        outstanding = Decimal(inv["outstanding"]["amount"])
        bucket(cid, "grand_total", code, Decimal(inv["amount"]["amount"]))
        if outstanding > ZERO:
            bucket(cid, "outstanding", code, outstanding)
            if invoice_is_overdue(inv, books.today):
                bucket(cid, "overdue", code, outstanding)
    for credit in books.db.credits.values():
        if credit["vis_state"] != 1:
            bucket(credit["clientid"], "credit", credit["amount"]["code"], Decimal(credit["amount"]["amount"]))
    return out


def balances(books: Books, cid: int) -> dict[str, dict[str, Decimal]]:
    per: dict[str, dict[str, Decimal]] = books.derive("client_balances", compute_balances).get(cid, {})
    return per


def has_balance(kind: str) -> Q.SearchKey:
    return Q.boolean(lambda books, r, flag: any(v > 0 for v in balances(books, r["id"]).get(kind, {}).values()) == flag)


def balance_total(kind: str) -> Q.SortKey:
    return lambda books, r: sum(balances(books, r["id"]).get(kind, {}).values(), Decimal(0))


def balance_include(kind: str) -> Any:
    def include(books: Books, rec: JSON) -> list[JSON]:
        per = balances(books, rec["id"]).get(kind, {})
        return [{"amount": money(v, code)} for code, v in sorted(per.items())]

    return include


# ---------------------------------------------------------------- search, sorts, includes
ADDRESS = tuple(
    f"{side}_{part}" for side in "ps" for part in ("street", "street2", "city", "province", "country", "code")
)
SEARCH: dict[str, Q.SearchKey] = {
    "email": Q.eq_str("email"),
    "userid": Q.eq_int("id"),
    "userids": Q.in_int("id"),
    "address_like": Q.like(*ADDRESS),
    "fname_like": Q.like("fname"),
    "lname_like": Q.like("lname"),
    "note_like": Q.like("note"),
    "organization_like": Q.like("organization"),
    "phone_like": Q.like("bus_phone", "home_phone", "mob_phone", "fax"),
    "user_like": Q.like(
        "fname", "lname", "organization", "email", "username", extra=lambda _b, r: [f"{r['fname']} {r['lname']}"]
    ),
    "has_credit": has_balance("credit"),
    "has_draft": has_balance("draft"),
    "has_outstanding": has_balance("outstanding"),
    "has_overdue": has_balance("overdue"),
    "vis_state": Q.vis_state(),
    "updated_min": Q.date_bound("updated", False),
    "updated_max": Q.date_bound("updated", True),
}


def _fullname(_books: Books, r: JSON) -> str:
    return f"{r['fname']} {r['lname']}".lower()


SORTS: dict[str, Q.SortKey] = {
    "client_id": Q.by("id"),
    "organization_name": Q.by("organization", lower=True),
    "email": Q.by("email", lower=True),
    "bus_phone": lambda _b, r: r["bus_phone"] or "",
    "updated": Q.by("updated"),
    "fullname": _fullname,
    "primarycontact": _fullname,
    "outstanding": balance_total("outstanding"),
    "overdue": balance_total("overdue"),
    "credit": balance_total("credit"),
}
INCLUDES: dict[str, Any] = {
    **{name: balance_include(kind) for name, kind in BALANCE_INCLUDES.items()},
    "late_reminders": lambda _b, r: [],
    "late_fee": lambda _b, r: None,
    "contacts": lambda books, r: list(books.db.client_contacts.get(r["id"], [])),
}


# ---------------------------------------------------------------- seeding
def _seeded_fields(rng: random.Random, n: int) -> JSON:
    fname = FIRST[(n * 7 + rng.randint(0, 3)) % len(FIRST)]
    lname = LAST[n % len(LAST)] if n % 9 else "Smith"
    # orgs are unique; past the list (and every 11th client) clients are individuals
    org = ORGS[n - 1] if n - 1 < len(ORGS) and n % 11 else f"{fname} {lname}"
    roll = rng.random()
    code = "USD" if roll < 0.65 else "CAD" if roll < 0.85 else "EUR"
    city, prov, country, postal = rng.choice(CITIES[code])
    dom = (org or f"{fname}{lname}").lower()
    dom = "".join(ch for ch in dom if ch.isascii() and ch.isalnum())[:18] or "example"
    return {
        "fname": fname,
        "lname": lname,
        "organization": org,
        "email": f"{fname.lower()}.{lname.lower().replace(chr(39), '')}@{dom}.example.com"
        if rng.random() > 0.05
        else "",
        "p_street": f"{rng.randint(1, 999)} {rng.choice(['King St', 'Main St', 'Elm Ave', 'Rue Saint-Denis'])}",
        "p_city": city,
        "p_province": prov,
        "p_country": country,
        "p_code": postal,
        "currency_code": code,
        "bus_phone": f"+1-555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
        "note": rng.choice([None, None, "Prefers email", "Net 30 agreed"]),
        "vat_name": "VAT Number" if code == "EUR" else None,
    }


def seed(s: Seeding) -> None:
    """Clients in USD/CAD/EUR; #1 is seed 000's client; a few archived and one deleted."""
    books, rng, today, n_clients = s.books, s.rng, s.books.today, s.clients
    for n in range(n_clients):
        signup_et = eastern(today - timedelta(days=rng.randint(200, 900)), rng)
        fields = dict(SEED_000_CLIENT) if n == 0 else _seeded_fields(rng, n)
        if n_clients >= 10 and n in (n_clients - 2, n_clients - 5, n_clients - 8):
            fields["vis_state"] = 2  # a few archived clients
        build_client(books, fields, utc_of(signup_et), signup_et + timedelta(minutes=rng.randint(0, 600)))
    if n_clients >= 10:
        # one deleted client, no invoices (lists hide it; GET by id still returns it)
        gone_et = eastern(today - timedelta(days=300), rng)
        gone = {"fname": "Dana", "lname": "Gone", "organization": "Defunct Ventures", "vis_state": 1}
        build_client(books, {**gone, "email": "dana@defunct.example.com"}, utc_of(gone_et), gone_et)


def seeded_ids(books: Books) -> list[int]:
    """The clients other resources' seeding picks from: every seeded one but the deleted one."""
    return [cid for cid, c in books.db.clients.items() if c["vis_state"] != 1]


RESOURCE = Resource(
    name="client",
    plural="clients",
    family="accounting",
    table="clients",
    path="users/clients",
    extra_tables=("client_contacts",),
    id_field="userid",
    not_found="Client not found.",
    search=SEARCH,
    sorts=SORTS,
    includes=INCLUDES,
    create=create_client,
    update=update_client,
    seed=seed,
    seed_order=40,
    quirks=(
        "organization defaults to the email, else 'fname lname'; username to fname+lname+id%100",
        "a JSON null for a text field is stored as an empty string",
        "no email_like search key (email is a case-insensitive equality)",
        "balance includes are lists of {amount: money} per currency, empty when zero",
    ),
)
