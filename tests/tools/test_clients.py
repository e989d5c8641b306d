"""Client tools through a real MCP client (both protocol eras) against the sandbox.

Expected values are computed here from the sandbox's own records (sb.db), never with the tools' helpers.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from mcp import Client
from mcp.types import ElicitResult
from tests.conftest import call_error, call_ok

from mcp_server_freshbooks.config import DEFAULT_TOOLSETS, Settings, load_settings
from mcp_server_freshbooks.sandbox import Sandbox
from mcp_server_freshbooks.server import build_server

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings() -> Settings:
    """The default catalog plus client_admin (update, archive, restore are opt-in, #12)."""
    return load_settings(
        environ={"FRESHBOOKS_TOOLSETS": ",".join((*DEFAULT_TOOLSETS, "client_admin"))}, use_dotenv=False
    )


DRAFT_STATUS = 1  # FreshBooks invoice status 1 = draft (fact sheet §4)


# ---------------------------------------------------------------------- sandbox truth


def truth_matches(sb: Sandbox, query: str, *, archived: bool = False) -> list[int]:
    """Client ids FreshBooks' filters should return for `query`: substring of organization, first, last,
    full name, email or username (user_like), or for two words first-name-like AND last-name-like."""
    q = query.strip().lower()
    words = q.split()
    ids = []
    for c in sb.db.clients.values():
        if c["vis_state"] == 1 or (c["vis_state"] == 2 and not archived):
            continue
        hay = [c["organization"], c["fname"], c["lname"], f"{c['fname']} {c['lname']}", c["email"], c["username"]]
        hit = any(q in (h or "").lower() for h in hay)
        if len(words) >= 2:
            hit = hit or (words[0] in c["fname"].lower() and " ".join(words[1:]) in c["lname"].lower())
        if hit:
            ids.append(c["id"])
    return sorted(ids)


def truth_outstanding(sb: Sandbox, client_id: int) -> dict[str, Decimal]:
    """Unpaid amount per currency over the client's sent (non-draft, not deleted) invoices."""
    sums: dict[str, Decimal] = {}
    for inv in sb.db.invoices.values():
        if inv["customerid"] != client_id or inv["vis_state"] == 1 or inv["status"] == DRAFT_STATUS:
            continue
        amount = Decimal(inv["outstanding"]["amount"])
        if amount > 0:
            code = inv["outstanding"]["code"] or inv["currency_code"]
            sums[code] = sums.get(code, Decimal(0)) + amount
    return sums


def as_decimals(money_list: list[dict[str, str]] | None) -> dict[str, Decimal]:
    return {m["code"]: Decimal(m["amount"]) for m in money_list or []}


def writes(sb: Sandbox) -> list[tuple[str, str, int | None]]:
    return [(w.method, w.resource, w.resource_id) for w in sb.write_log]


async def all_pages(client: Client, args: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        out = await call_ok(client, "find_client", {**args, "page": page})
        rows += out["clients"]
        if not out["has_more"]:
            assert out.get("next_page") is None
            return rows
        assert out["next_page"] == page + 1
        page += 1
        assert page < 50, "paging does not terminate"


def client_with(sb: Sandbox, *, vis_state: int = 0, owing: bool | None = None) -> dict[str, Any]:
    for c in sb.db.clients.values():
        if c["vis_state"] != vis_state:
            continue
        if owing is not None and bool(truth_outstanding(sb, c["id"])) != owing:
            continue
        return dict(c)
    raise AssertionError("the seeded sandbox has no such client")


# ---------------------------------------------------------------------- find_client


@pytest.mark.parametrize("query", ["an", "ACME", "@acmewidgets", "mei garcia", "ma ro", "café"])
async def test_find_client_matches_sandbox_truth_across_pages(mcp: Client, sandbox: Sandbox, query: str) -> None:
    expected = truth_matches(sandbox, query)
    rows = await all_pages(mcp, {"query": query, "limit": 2})
    assert [r["id"] for r in rows] == expected
    assert sandbox.ignored_search_keys == {}, "find_client sent a key FreshBooks would ignore"


async def test_find_client_row_values_come_from_the_record(mcp: Client, sandbox: Sandbox) -> None:
    out = await call_ok(mcp, "find_client", {"query": "e", "limit": 100})
    assert out["clients"]
    for row in out["clients"]:
        rec = sandbox.db.clients[row["id"]]
        assert row["organization"] == rec["organization"]
        assert row.get("email") == (rec["email"] or None)
        assert row["currency"] == rec["currency_code"]
        assert as_decimals(row.get("outstanding")) == truth_outstanding(sandbox, row["id"])
        assert "status" not in row  # active only


async def test_find_client_paging_reports_total_and_next_page(mcp: Client, sandbox: Sandbox) -> None:
    expected = truth_matches(sandbox, "e")
    assert len(expected) > 3
    first = await call_ok(mcp, "find_client", {"query": "e", "limit": 3})
    assert [r["id"] for r in first["clients"]] == expected[:3]
    assert first["has_more"] is True and first["next_page"] == 2 and first["total"] == len(expected)
    result = await mcp.call_tool("find_client", {"query": "e", "limit": 3})
    assert "page=2" in result.content[0].text  # type: ignore[union-attr]
    last_page = (len(expected) + 2) // 3
    last = await call_ok(mcp, "find_client", {"query": "e", "limit": 3, "page": last_page})
    assert [r["id"] for r in last["clients"]] == expected[(last_page - 1) * 3 :]
    assert last["has_more"] is False


async def test_find_client_two_word_union_pages_without_duplicates(mcp: Client, sandbox: Sandbox) -> None:
    expected = truth_matches(sandbox, "a s")
    assert len(expected) > 2
    rows = await all_pages(mcp, {"query": "a s", "limit": 2})
    assert [r["id"] for r in rows] == expected


async def test_find_client_archived_only_on_request_and_never_deleted(mcp: Client, sandbox: Sandbox) -> None:
    archived = client_with(sandbox, vis_state=2)
    deleted = client_with(sandbox, vis_state=1)
    for rec, state in ((archived, "archived"), (deleted, "deleted")):
        needle = rec["email"] or rec["organization"]
        plain = await call_ok(mcp, "find_client", {"query": needle})
        assert rec["id"] not in [r["id"] for r in plain["clients"]]
        wide = await call_ok(mcp, "find_client", {"query": needle, "include_archived": True})
        ids = [r["id"] for r in wide["clients"]]
        if state == "archived":
            assert rec["id"] in ids
            assert next(r for r in wide["clients"] if r["id"] == rec["id"])["status"] == "archived"
        else:
            assert rec["id"] not in ids
    everything = await all_pages(mcp, {"query": "@", "include_archived": True, "limit": 100})
    assert [r["id"] for r in everything] == truth_matches(sandbox, "@", archived=True)


@pytest.mark.parametrize("flag", ["has_outstanding", "has_overdue"])
async def test_find_client_balance_flags(mcp: Client, sandbox: Sandbox, flag: str) -> None:
    def owes(cid: int) -> bool:
        if flag == "has_outstanding":
            return bool(truth_outstanding(sandbox, cid))
        return any(
            inv["customerid"] == cid and inv["vis_state"] != 1 and sandbox.invoice_is_overdue(inv, sandbox.today)
            for inv in sandbox.db.invoices.values()
        )

    base = truth_matches(sandbox, "@")
    with_flag = await all_pages(mcp, {"query": "@", flag: True, "limit": 100})
    without = await all_pages(mcp, {"query": "@", flag: False, "limit": 100})
    assert [r["id"] for r in with_flag] == [c for c in base if owes(c)]
    assert [r["id"] for r in without] == [c for c in base if not owes(c)]
    assert with_flag and without
    assert sandbox.ignored_search_keys == {}


async def test_find_client_concise_rows_are_small_and_detailed_is_bigger(mcp: Client) -> None:
    concise = await call_ok(mcp, "find_client", {"query": "e", "limit": 100})
    detailed = await call_ok(mcp, "find_client", {"query": "e", "limit": 100, "response_format": "detailed"})

    def avg(rows: list[dict[str, Any]]) -> float:
        sizes = [len(json.dumps(r, separators=(",", ":"), ensure_ascii=False).encode()) for r in rows]
        return sum(sizes) / len(sizes)

    assert len(concise["clients"]) >= 10
    assert avg(concise["clients"]) <= 200
    assert avg(detailed["clients"]) > avg(concise["clients"])
    assert "bus_phone" in json.dumps(detailed) and "bus_phone" not in json.dumps(concise)


async def test_find_client_no_match_is_not_an_error(mcp: Client) -> None:
    out = await call_ok(mcp, "find_client", {"query": "zzqqxx-no-such-client"})
    assert out["clients"] == [] and out["has_more"] is False


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"query": "a", "limit": 0}, "limit"),
        ({"query": "a", "limit": 101}, "limit"),
        ({"query": "a", "page": 0}, "page"),
        ({"query": ""}, "query"),
        ({"query": "   "}, "query"),
        ({"query": "a", "response_format": "full"}, "response_format"),
    ],
)
async def test_find_client_rejects_bad_arguments(mcp: Client, args: dict[str, Any], needle: str) -> None:
    text = await call_error(mcp, "find_client", args)
    assert needle in text


# ---------------------------------------------------------------------- get_client


async def test_get_client_concise_and_detailed(mcp: Client, sandbox: Sandbox) -> None:
    rec = client_with(sandbox, owing=True)
    concise = (await call_ok(mcp, "get_client", {"client_id": rec["id"]}))["client"]
    assert concise["id"] == rec["id"]
    assert concise["organization"] == rec["organization"]
    assert concise["email"] == rec["email"]
    assert concise["currency"] == rec["currency_code"]
    assert concise["status"] == "active"
    assert as_decimals(concise["outstanding"]) == truth_outstanding(sandbox, rec["id"])
    assert "address" not in concise and "credit" not in concise
    detailed = (await call_ok(mcp, "get_client", {"client_id": rec["id"], "response_format": "detailed"}))["client"]
    assert detailed["address"]["p_city"] == rec["p_city"]
    assert detailed.get("bus_phone") == (rec["bus_phone"] or None)
    assert "credit" in detailed and "draft" in detailed
    assert len(json.dumps(detailed)) > len(json.dumps(concise))


async def test_get_client_archived_shows_status(mcp: Client, sandbox: Sandbox) -> None:
    rec = client_with(sandbox, vis_state=2)
    out = await call_ok(mcp, "get_client", {"client_id": rec["id"]})
    assert out["client"]["status"] == "archived"


async def test_get_client_not_found_suggests_find_client(mcp: Client) -> None:
    text = await call_error(mcp, "get_client", {"client_id": 999999})
    assert "find_client" in text and "No client" in text


async def test_get_client_rejects_non_positive_id(mcp: Client) -> None:
    assert "client_id" in await call_error(mcp, "get_client", {"client_id": 0})


# ---------------------------------------------------------------------- create_client


async def test_create_client_happy_path_with_contacts(mcp: Client, sandbox: Sandbox) -> None:
    before = set(sandbox.db.clients)
    args = {
        "organization": "Lumen Optics Inc.",
        "fname": "Rosa",
        "lname": "Delgado",
        "email": "rosa@lumen-optics.example.com",
        "phones": {"business": "+1-555-010-2000"},
        "address": {
            "street": "12 Main St",
            "city": "Halifax",
            "province": "Nova Scotia",
            "code": "B3H 1A1",
            "country": "Canada",
        },
        "currency_code": "cad",
        "language": "fr",
        "note": "Pays by cheque",
        "contacts": [{"email": "ap@lumen-optics.example.com", "fname": "Accounts", "lname": "Payable"}],
    }
    out = await call_ok(mcp, "create_client", args)
    new_ids = set(sandbox.db.clients) - before
    assert len(new_ids) == 1
    cid = new_ids.pop()
    rec = sandbox.db.clients[cid]
    assert out["client"]["id"] == cid and out["changed"] is True
    for key in ("organization", "fname", "lname", "email", "note", "language"):
        assert rec[key] == args[key], key
    assert (rec["bus_phone"], rec["p_street"], rec["p_city"], rec["p_province"], rec["p_code"], rec["p_country"]) == (
        "+1-555-010-2000",
        "12 Main St",
        "Halifax",
        "Nova Scotia",
        "B3H 1A1",
        "Canada",
    )
    assert rec["currency_code"] == "CAD"
    assert sandbox.db.client_contacts[cid][0]["email"] == "ap@lumen-optics.example.com"
    assert writes(sandbox) == [("POST", "client", cid)]
    got = await call_ok(mcp, "get_client", {"client_id": cid, "response_format": "detailed"})
    assert got["client"]["contacts"][0]["email"] == "ap@lumen-optics.example.com"


async def test_create_client_with_email_only(mcp: Client, sandbox: Sandbox) -> None:
    out = await call_ok(mcp, "create_client", {"email": "solo@new-client.example.com"})
    assert sandbox.db.clients[out["client"]["id"]]["email"] == "solo@new-client.example.com"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"organization": "X Co", "email": "not-an-email"}, "email"),
        ({"organization": "X Co", "email": "a@b"}, "email"),
        ({"organization": "X Co", "currency_code": "ABC"}, "currency_code"),
        ({"organization": "X Co", "currency_code": "US"}, "currency_code"),
        ({"organization": "X Co", "contacts": [{"email": "broken"}]}, "contacts[0].email"),
        ({"organization": "X Co", "language": "english please"}, "language"),
        ({"phones": {"business": "555"}}, "organization"),
        ({}, "organization"),
        ({"organization": "   "}, "organization"),
    ],
)
async def test_create_client_validation_changes_nothing(
    mcp: Client, sandbox: Sandbox, args: dict[str, Any], needle: str
) -> None:
    count = len(sandbox.db.clients)
    text = await call_error(mcp, "create_client", args)
    assert needle in text
    assert len(sandbox.db.clients) == count and writes(sandbox) == []


async def test_create_client_duplicate_email_of_active_client_is_refused(mcp: Client, sandbox: Sandbox) -> None:
    existing = client_with(sandbox)
    text = await call_error(mcp, "create_client", {"organization": "Other", "email": existing["email"].upper()})
    assert str(existing["id"]) in text and "allow_duplicate" in text
    assert writes(sandbox) == []


async def test_create_client_duplicate_organization_of_archived_client_is_refused(
    mcp: Client, sandbox: Sandbox
) -> None:
    archived = client_with(sandbox, vis_state=2)
    text = await call_error(mcp, "create_client", {"organization": archived["organization"].lower()})
    assert str(archived["id"]) in text and "restore_client" in text
    assert writes(sandbox) == []


async def test_create_client_similar_but_not_equal_organization_is_allowed(mcp: Client, sandbox: Sandbox) -> None:
    existing = client_with(sandbox)
    out = await call_ok(mcp, "create_client", {"organization": existing["organization"] + " West"})
    assert out["client"]["id"] != existing["id"]


async def test_create_client_allow_duplicate(mcp: Client, sandbox: Sandbox) -> None:
    existing = client_with(sandbox)
    out = await call_ok(
        mcp,
        "create_client",
        {"organization": existing["organization"], "email": existing["email"], "allow_duplicate": True},
    )
    assert out["client"]["id"] != existing["id"]
    assert sandbox.db.clients[out["client"]["id"]]["email"] == existing["email"]


# ---------------------------------------------------------------------- update_client


async def test_update_client_changes_only_given_fields(mcp: Client, sandbox: Sandbox) -> None:
    rec = client_with(sandbox)
    before = dict(sandbox.db.clients[rec["id"]])
    out = await call_ok(
        mcp,
        "update_client",
        {"client_id": rec["id"], "address": {"city": "Ottawa"}, "phones": {"mobile": "+1-555-0000"}},
    )
    after = sandbox.db.clients[rec["id"]]
    assert after["p_city"] == "Ottawa" and after["mob_phone"] == "+1-555-0000"
    changed = {k for k in after if after[k] != before.get(k)}
    assert changed == {"p_city", "mob_phone", "updated"}
    assert out["client"]["city"] == "Ottawa"
    assert writes(sandbox) == [("PUT", "client", rec["id"])]


async def test_update_client_refuses_empty_update(mcp: Client, sandbox: Sandbox) -> None:
    rec = client_with(sandbox)
    text = await call_error(mcp, "update_client", {"client_id": rec["id"]})
    assert "Nothing to update" in text
    assert writes(sandbox) == []


async def test_update_client_cannot_set_vis_state(mcp: Client, sandbox: Sandbox) -> None:
    rec = client_with(sandbox)
    result = await mcp.call_tool("update_client", {"client_id": rec["id"], "vis_state": 2})
    assert result.is_error
    assert sandbox.db.clients[rec["id"]]["vis_state"] == 0 and writes(sandbox) == []


async def test_update_client_validation_and_not_found(mcp: Client, sandbox: Sandbox) -> None:
    rec = client_with(sandbox)
    assert "email" in await call_error(mcp, "update_client", {"client_id": rec["id"], "email": "nope"})
    assert "currency_code" in await call_error(mcp, "update_client", {"client_id": rec["id"], "currency_code": "XYZ"})
    assert "find_client" in await call_error(mcp, "update_client", {"client_id": 999999, "address": {"city": "X"}})
    assert writes(sandbox) == []


# ---------------------------------------------------------------------- archive / restore


async def test_archive_without_elicitation_names_the_client_then_confirm_works(mcp: Client, sandbox: Sandbox) -> None:
    rec = client_with(sandbox, owing=True)
    text = await call_error(mcp, "archive_client", {"client_id": rec["id"]})
    assert rec["organization"] in text and rec["email"] in text and "confirm=true" in text
    for code, amount in truth_outstanding(sandbox, rec["id"]).items():
        assert f"{amount:.2f} {code}" in text
    assert sandbox.db.clients[rec["id"]]["vis_state"] == 0 and writes(sandbox) == []

    out = await call_ok(mcp, "archive_client", {"client_id": rec["id"], "confirm": True})
    assert out["changed"] is True and out["client"]["status"] == "archived"
    assert sandbox.db.clients[rec["id"]]["vis_state"] == 2
    assert writes(sandbox) == [("PUT", "client", rec["id"])]

    again = await call_ok(mcp, "archive_client", {"client_id": rec["id"]})
    assert again["changed"] is False
    assert len(writes(sandbox)) == 1


async def test_archive_not_found(mcp: Client) -> None:
    assert "find_client" in await call_error(mcp, "archive_client", {"client_id": 999999, "confirm": True})


@pytest.mark.parametrize("action", ["accept", "decline"])
async def test_archive_with_elicitation(sandbox: Sandbox, settings: Settings, mode: str, action: str) -> None:
    rec = client_with(sandbox, owing=True)
    asked: list[str] = []

    async def on_elicit(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        if action == "accept":
            return ElicitResult(action="accept", content={"confirm": True})
        return ElicitResult(action="decline")

    server = build_server(settings, sandbox=sandbox)
    async with Client(server, mode=mode, elicitation_callback=on_elicit) as client:  # type: ignore[arg-type]
        result = await client.call_tool("archive_client", {"client_id": rec["id"]})
    assert len(asked) == 1 and rec["organization"] in asked[0] and rec["email"] in asked[0]
    if action == "accept":
        assert not result.is_error
        assert sandbox.db.clients[rec["id"]]["vis_state"] == 2
    else:
        assert result.is_error
        assert sandbox.db.clients[rec["id"]]["vis_state"] == 0 and writes(sandbox) == []


async def test_archive_accepted_form_with_false_changes_nothing(
    sandbox: Sandbox, settings: Settings, mode: str
) -> None:
    rec = client_with(sandbox)

    async def on_elicit(context: Any, params: Any) -> ElicitResult:
        return ElicitResult(action="accept", content={"confirm": False})

    async with Client(build_server(settings, sandbox=sandbox), mode=mode, elicitation_callback=on_elicit) as client:  # type: ignore[arg-type]
        result = await client.call_tool("archive_client", {"client_id": rec["id"]})
    assert result.is_error and "did not confirm" in result.content[0].text  # type: ignore[union-attr]
    assert writes(sandbox) == []


async def test_restore_client_is_idempotent(mcp: Client, sandbox: Sandbox) -> None:
    rec = client_with(sandbox, vis_state=2)
    out = await call_ok(mcp, "restore_client", {"client_id": rec["id"]})
    assert out["changed"] is True and "status" not in out["client"]  # rows name only a non-active status
    assert sandbox.db.clients[rec["id"]]["vis_state"] == 0
    again = await call_ok(mcp, "restore_client", {"client_id": rec["id"]})
    assert again["changed"] is False
    assert writes(sandbox) == [("PUT", "client", rec["id"])]
    assert "find_client" in await call_error(mcp, "restore_client", {"client_id": 999999})
