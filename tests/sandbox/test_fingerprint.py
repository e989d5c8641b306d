"""The seeded books are a fixture every test leans on: for a given seed and date they must stay
byte-identical, so a change to them is deliberate (update the hashes in the same commit and say why).

The fingerprint covers the resources that existed when it was recorded (#13), by name: a resource
added later seeds from its own random stream and does not move these hashes.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

import pytest

from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions

TODAY = date(2026, 11, 21)
TABLES = (
    "clients",
    "invoices",
    "payments",
    "credits",
    "expenses",
    "categories",
    "items",
    "taxes",
    "projects",
    "time_entries",
    "client_contacts",
    "payments_by_invoice",
    "next_ids",
)
# Recorded from the code before the #13 restructure (commit c708766).
EXPECTED = {
    7: "a4b709a9433f7545c8e3d40f8ae3df27c31dd7d62bc8dd43e36f43ba50f74fbe",
    42: "a52197185bcbf1615a284202cbf01060d37aa689252c9109ecb80b7f19e0e607",
}


def fingerprint(sb: Sandbox) -> str:
    books: dict[str, Any] = {name: getattr(sb.db, name) for name in TABLES}
    books["identity"] = [sb.account_id, sb.business_id, sb.business_uuid, sb.identity_id, sb.today.isoformat()]
    text = json.dumps(books, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize("seed", sorted(EXPECTED))
def test_seeded_books_are_unchanged(seed: int) -> None:
    sb = Sandbox(SandboxOptions(seed=seed, today=TODAY))
    assert fingerprint(sb) == EXPECTED[seed]


def test_fingerprint_sees_a_one_cent_change() -> None:
    sb = Sandbox(SandboxOptions(seed=7, today=TODAY))
    before = fingerprint(sb)
    first = next(iter(sb.db.expenses.values()))
    first["amount"] = {**first["amount"], "amount": "0.01"}
    assert fingerprint(sb) != before
