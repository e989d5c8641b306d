"""Client records as FreshBooks sends them, parsed into typed values, plus input checks for writes.

A client on the wire carries ~60 keys; tools need a handful. `ClientRecord.parse` keeps the ones a
bookkeeper acts on, with balances (from the `*_balance` includes) as `Money` per currency.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .query import CLIENTS, Query
from .types import Money, optional_text

VIS_ACTIVE, VIS_DELETED, VIS_ARCHIVED = 0, 1, 2
STATUS_NAMES = {VIS_ACTIVE: "active", VIS_DELETED: "deleted", VIS_ARCHIVED: "archived"}

BALANCE_INCLUDES = ("outstanding_balance", "overdue_balance", "credit_balance", "draft_balance")

# ISO 4217 codes of currencies in circulation (funds, metals and test codes left out: a client is
# never billed in them). Source: the ISO 4217 list, amendment 179 (2025).
_ISO_4217_CODES = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN
    BZD CAD CDF CHF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL
    GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW
    KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN
    NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK
    SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU
    UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL
"""
ISO_4217 = frozenset(_ISO_4217_CODES.split())

# Deliberately simple: one @, no spaces, a dot in the domain. FreshBooks does its own check too.
_EMAIL = re.compile(
    r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_LANGUAGE = re.compile(r"^[a-z]{2}(?:[-_][A-Za-z]{2,4})?$")


def check_email(value: str, field_name: str = "email") -> str:
    """The address, trimmed; ValueError naming the field when it is not an email address."""
    text = value.strip()
    if len(text) > 254 or not _EMAIL.match(text) or ".." in text:
        raise ValueError(f"{field_name} {value!r} is not a valid email address (expected name@example.com)")
    return text


def check_currency(value: str) -> str:
    """The ISO 4217 code, upper-cased; ValueError naming the field when it is not a real code."""
    code = value.strip().upper()
    if code not in ISO_4217:
        raise ValueError(
            f"currency_code {value!r} is not an ISO 4217 currency code; use a 3-letter code such as "
            "USD, CAD, EUR, GBP, AUD"
        )
    return code


def check_language(value: str) -> str:
    text = value.strip()
    if not _LANGUAGE.match(text):
        raise ValueError(f"language {value!r} is not a language code; use a 2-letter code such as en, fr, es, de")
    return text


def _balances(raw: Any) -> list[Money]:
    """A `*_balance` include: `[{"amount": {"amount": "1.00", "code": "USD"}}, ...]`, zeros dropped."""
    out: list[Money] = []
    if not isinstance(raw, list):
        return out
    for entry in raw:
        money = Money.parse(entry.get("amount") if isinstance(entry, dict) else None)
        if money is not None and money.amount != 0:
            out.append(money)
    return sorted(out, key=lambda m: m.code)


@dataclass
class ClientRecord:
    """The fields of a FreshBooks client the tools use."""

    id: int
    organization: str | None
    fname: str | None
    lname: str | None
    email: str | None
    currency_code: str | None
    vis_state: int
    bus_phone: str | None = None
    mob_phone: str | None = None
    home_phone: str | None = None
    fax: str | None = None
    address: dict[str, str] = field(default_factory=dict)
    language: str | None = None
    note: str | None = None
    signup_date: str | None = None
    updated: str | None = None
    username: str | None = None
    contacts: list[dict[str, Any]] = field(default_factory=list)
    outstanding: list[Money] = field(default_factory=list)
    overdue: list[Money] = field(default_factory=list)
    credit: list[Money] = field(default_factory=list)
    draft: list[Money] = field(default_factory=list)

    @property
    def full_name(self) -> str | None:
        return " ".join(p for p in (self.fname, self.lname) if p) or None

    @property
    def status(self) -> str:
        return STATUS_NAMES.get(self.vis_state, f"vis_state {self.vis_state}")

    @property
    def display_name(self) -> str:
        return self.organization or self.full_name or self.email or f"client {self.id}"

    def describe(self) -> str:
        """One line naming the client for a person: organization (name, email), status."""
        extra = [x for x in (self.full_name if self.full_name != self.organization else None, self.email) if x]
        text = f"client {self.id} {self.display_name!r}"
        if extra:
            text += f" ({', '.join(extra)})"
        return text

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> ClientRecord:
        address = {
            key: text
            for key in ("p_street", "p_street2", "p_city", "p_province", "p_code", "p_country")
            if (text := optional_text(raw.get(key)))
        }
        contacts = []
        for c in raw.get("contacts") or []:
            if isinstance(c, dict):
                contact = {
                    k: v for k in ("fname", "lname", "email", "phone1", "phone2") if (v := optional_text(c.get(k)))
                }
                if contact:
                    contacts.append(contact)
        return cls(
            id=int(raw.get("id") or raw.get("userid") or 0),
            organization=optional_text(raw.get("organization")),
            fname=optional_text(raw.get("fname")),
            lname=optional_text(raw.get("lname")),
            email=optional_text(raw.get("email")),
            currency_code=optional_text(raw.get("currency_code")),
            vis_state=int(raw.get("vis_state") or 0),
            bus_phone=optional_text(raw.get("bus_phone")),
            mob_phone=optional_text(raw.get("mob_phone")),
            home_phone=optional_text(raw.get("home_phone")),
            fax=optional_text(raw.get("fax")),
            address=address,
            language=optional_text(raw.get("language")),
            note=optional_text(raw.get("note")),
            signup_date=optional_text(raw.get("signup_date")),
            updated=optional_text(raw.get("updated")),
            username=optional_text(raw.get("username")),
            contacts=contacts,
            outstanding=_balances(raw.get("outstanding_balance")),
            overdue=_balances(raw.get("overdue_balance")),
            credit=_balances(raw.get("credit_balance")),
            draft=_balances(raw.get("draft_balance")),
        )


# ---------------------------------------------------------------------- the classic client.list (#17)

VIS_BY_STATUS = {"active": VIS_ACTIVE, "archived": VIS_ARCHIVED, "deleted": VIS_DELETED}

# The classic API's client.create took a username and password for the client's login; the JSON API
# has neither as an input (FreshBooks makes the login itself when the client opens what was sent).
NO_LOGIN_FIELDS = (
    "is not taken: FreshBooks' current API creates a client without a username or password (FreshBooks "
    "makes the client's login itself when the client opens an invoice sent to them); leave it out"
)


def client_list_query(
    *,
    status: str,
    email: str | None = None,
    username: str | None = None,
    organization: str | None = None,
    updated_from: date | None = None,
    updated_to: date | None = None,
) -> Query:
    """The classic `client.list` on the JSON API: newest first (descending client id), filtered.

    `status` is active, archived, deleted, or any (FreshBooks' own default: active and archived).
    FreshBooks has no username search: `user_like` (names, organization, email, username) narrows,
    and `matches_username` keeps the exact matches. Update dates are inclusive at both ends.
    """
    q = Query(CLIENTS)
    if status != "any":
        q.equals("vis_state", VIS_BY_STATUS[status])
    if email:
        q.equals("email", email)
    if organization:
        q.like("organization", organization)
    if username:
        q.like("user", username)
    if updated_from or updated_to:
        q.between_dates("updated", updated_from, updated_to)
    return q.sort("client_id", "desc")


def matches_username(raw: dict[str, Any], username: str) -> bool:
    return (optional_text(raw.get("username")) or "").casefold() == username.strip().casefold()


def money_text(amounts: list[Money]) -> str:
    """`1234.50 USD + 80.00 EUR` (never summed across currencies), or `0`."""
    return " + ".join(f"{m.wire()['amount']} {m.code}" for m in amounts) or "0"


# ---------------------------------------------------------------------- duplicate-guard identity

# Letters of other scripts that look like Latin ones (the common homoglyphs of names and emails).
_CONFUSABLES = str.maketrans(
    {
        # Cyrillic
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
        "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "һ": "h",
        "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l",
        # Greek
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
        "τ": "t", "υ": "u", "χ": "x", "γ": "y",
    }
)  # fmt: skip
_TRAILING_PUNCT = ".,;:!?-–—'\"·•"  # "Acme Corp." is "Acme Corp"


def _scripts(word: str) -> set[str]:
    """The scripts of a word's letters, from their Unicode names (LATIN, CYRILLIC, GREEK...)."""
    found = set()
    for ch in word:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            found.add(name.split(" ")[0] if name else "?")
    return found


def _visible(text: str) -> str:
    """NFKC, every Unicode space as one space, invisible format characters (zero-width...) removed."""
    text = unicodedata.normalize("NFKC", text)
    chars = []
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Cf" or (category.startswith("C") and ch not in "\t\n"):
            continue  # zero-width spaces/joiners, bidi marks, controls
        chars.append(" " if ch.isspace() or category == "Zs" else ch)
    return " ".join("".join(chars).split())


def normalize_name(text: str) -> str:
    """An organization or person name as the duplicate guard compares it.

    NFKC (full-width letters become ASCII), casefold, all Unicode spaces collapsed, invisible
    characters removed, trailing punctuation ignored: "ＡＣＭＥ\u00a0Corp." == "acme corp".
    """
    return _visible(text).casefold().rstrip(_TRAILING_PUNCT + " ")


def name_skeleton(text: str) -> str:
    """`normalize_name` without spaces (a zero-width space may stand for one), look-alike letters of
    other scripts mapped to Latin: "Асme\u200bCorp" -> "acmecorp"."""
    return normalize_name(text).replace(" ", "").translate(_CONFUSABLES)


def mixes_scripts(text: str) -> bool:
    """True when one word mixes letters of several scripts (a Cyrillic "о" in a Latin name)."""
    return any(len(_scripts(word)) > 1 for word in _visible(text).split())


def normalize_email(text: str) -> str:
    """An email as the duplicate guard compares it: NFKC, invisible characters out, casefold,
    `+tag` of the local part folded ("Ann+billing@X.com" == "ann@x.com")."""
    email = "".join(_visible(text).split()).casefold()
    local, at, domain = email.rpartition("@")
    if not at:
        return email
    return f"{local.split('+', 1)[0]}@{domain.rstrip('.')}"


def identity_keys(fields: dict[str, Any]) -> tuple[str, ...]:
    """Lock keys of a client create: one per normalized identity it could collide on."""
    keys = []
    if fields.get("email"):
        keys.append("client-identity:email:" + normalize_email(str(fields["email"])).translate(_CONFUSABLES))
    if fields.get("organization"):
        keys.append("client-identity:org:" + name_skeleton(str(fields["organization"])))
    name = " ".join(str(fields[k]) for k in ("fname", "lname") if fields.get(k))
    if name and not keys:
        keys.append("client-identity:name:" + name_skeleton(name))
    return tuple(keys)


def duplicate_of(fields: dict[str, Any], rec: ClientRecord) -> str | None:
    """Why `rec` is (or may be) the client these create fields describe, or None."""
    email = fields.get("email")
    if email and rec.email:
        if normalize_email(str(email)) == normalize_email(rec.email):
            return "email"
        if normalize_email(str(email)).translate(_CONFUSABLES) == normalize_email(rec.email).translate(_CONFUSABLES):
            return "email (look-alike: it mixes letters of different scripts)"
    org = fields.get("organization")
    if org and rec.organization:
        if normalize_name(str(org)).replace(" ", "") == normalize_name(rec.organization).replace(" ", ""):
            return "organization"
        if name_skeleton(str(org)) == name_skeleton(rec.organization):
            return "organization (possible look-alike: letters of different scripts)"
    return None
