"""list_clients and delete_client (#17) through a real MCP client against the sandbox.

Expected values come from the sandbox's own records (sb.db): the classic client.list order
(descending client_id) and filters, FreshBooks' delete (vis_state 1) and its refusal while unpaid.
"""

from __future__ import annotations

from datetime import date
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

DRAFT = 1
VIS = {"active": (0,), "archived": (2,), "deleted": (1,), "any": (0, 2)}


@pytest.fixture
def settings() -> Settings:
    toolsets = ",".join((*DEFAULT_TOOLSETS, "client_admin", "client_directory"))
    return load_settings(environ={"FRESHBOOKS_TOOLSETS": toolsets}, use_dotenv=False)


def owed(sb: Sandbox, client_id: int) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = {}
    for inv in sb.db.invoices.values():
        if inv["customerid"] == client_id and inv["vis_state"] != 1 and inv["status"] != DRAFT:
            amount = Decimal(inv["outstanding"]["amount"])
            if amount > 0:
                sums[inv["currency_code"]] = sums.get(inv["currency_code"], Decimal(0)) + amount
    return sums


def truth(sb: Sandbox, status: str = "active", **want: Any) -> list[int]:
    """Client ids the classic client.list returns: newest (highest id) first."""
    ids = []
    for c in sb.db.clients.values():
        if c["vis_state"] not in VIS[status]:
            continue
        if "email" in want and c["email"].lower() != want["email"].lower():
            continue
        if "username" in want and c["username"].lower() != want["username"].lower():
            continue
        if "organization" in want and want["organization"].lower() not in c["organization"].lower():
            continue
        day = date.fromisoformat(c["updated"][:10])
        if "updated_from" in want and day < date.fromisoformat(want["updated_from"]):
            continue
        if "updated_to" in want and day > date.fromisoformat(want["updated_to"]):
            continue
        ids.append(c["id"])
    return sorted(ids, reverse=True)


async def every_page(mcp: Client, args: dict[str, Any]) -> list[int]:
    ids: list[int] = []
    page = 1
    while True:
        out = await call_ok(mcp, "list_clients", {**args, "page": page})
        ids += [c["id"] for c in out["clients"]]
        if not out["has_more"]:
            return ids
        page = out["next_page"]


@pytest.mark.parametrize("status", ["active", "archived", "deleted", "any"])
async def test_list_clients_newest_first_per_status(mcp: Client, sandbox: Sandbox, status: str) -> None:
    expected = truth(sandbox, status)
    assert expected, f"the seeded books have {status} clients"
    assert await every_page(mcp, {"status": status, "limit": 7}) == expected
    first = await call_ok(mcp, "list_clients", {"status": status, "limit": 7})
    assert first["total"] == len(expected)
    assert not sandbox.ignored_search_keys


async def test_list_clients_filters(mcp: Client, sandbox: Sandbox) -> None:
    rec = next(c for c in sorted(sandbox.db.clients.values(), key=lambda c: c["id"]) if c["email"] and c["id"] > 100001)
    cases: list[dict[str, Any]] = [
        {"email": rec["email"].upper()},
        {"username": rec["username"]},
        {"organization": rec["organization"][1:5].lower()},
        {"updated_from": rec["updated"][:10]},
        {"updated_to": rec["updated"][:10]},
        {"updated_from": rec["updated"][:10], "updated_to": rec["updated"][:10]},
    ]
    for args in cases:
        got = await every_page(mcp, {**args, "limit": 5})
        assert got == truth(sandbox, **args), args
        assert got, args
    assert rec["id"] in await every_page(mcp, {"username": rec["username"]})
    row = (await call_ok(mcp, "list_clients", {"email": rec["email"], "response_format": "detailed"}))["clients"][0]
    assert row["id"] == rec["id"] and {m["code"]: Decimal(m["amount"]) for m in row.get("outstanding", [])} == owed(
        sandbox, rec["id"]
    )
    assert not sandbox.ignored_search_keys


async def test_list_clients_refuses_a_backwards_range(mcp: Client, sandbox: Sandbox) -> None:
    text = await call_error(mcp, "list_clients", {"updated_from": "2026-05-02", "updated_to": "2026-05-01"})
    assert "swap" in text and "updated_from" in text


def writes(sb: Sandbox) -> list[tuple[str, str, int | None]]:
    return [(w.method, w.resource, w.resource_id) for w in sb.write_log]


def client_where(sb: Sandbox, *, owing: bool, vis_state: int = 0) -> dict[str, Any]:
    return next(
        dict(c) for c in sb.db.clients.values() if c["vis_state"] == vis_state and bool(owed(sb, c["id"])) == owing
    )


async def test_delete_client_refuses_unpaid_unless_allowed(mcp: Client, sandbox: Sandbox) -> None:
    rec = client_where(sandbox, owing=True)
    text = await call_error(mcp, "delete_client", {"client_id": rec["id"], "confirm": True})
    assert "unpaid" in text and "allow_outstanding=true" in text and "archive_client" in text
    for code, amount in owed(sandbox, rec["id"]).items():
        assert f"{amount:.2f} {code}" in text
    assert writes(sandbox) == [] and sandbox.db.clients[rec["id"]]["vis_state"] == 0

    question = await call_error(mcp, "delete_client", {"client_id": rec["id"], "allow_outstanding": True})
    assert rec["organization"] in question and "confirm=true" in question and writes(sandbox) == []

    out = await call_ok(mcp, "delete_client", {"client_id": rec["id"], "allow_outstanding": True, "confirm": True})
    assert out["changed"] is True and out["client"]["status"] == "deleted"
    assert sandbox.db.clients[rec["id"]]["vis_state"] == 1  # delete, not archive (2)
    assert writes(sandbox) == [("PUT", "client", rec["id"])]
    assert rec["id"] in await every_page(mcp, {"status": "deleted"})
    assert rec["id"] not in await every_page(mcp, {"status": "any"})

    again = await call_ok(mcp, "delete_client", {"client_id": rec["id"], "confirm": True})
    assert again["changed"] is False and len(writes(sandbox)) == 1

    restored = await call_ok(mcp, "restore_client", {"client_id": rec["id"]})
    assert restored["changed"] is True and sandbox.db.clients[rec["id"]]["vis_state"] == 0


@pytest.mark.parametrize("action", ["accept", "decline"])
async def test_delete_client_asks_through_elicitation(
    sandbox: Sandbox, settings: Settings, mode: str, action: str
) -> None:
    rec = client_where(sandbox, owing=False)
    asked: list[str] = []

    async def on_elicit(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return (
            ElicitResult(action="accept", content={"confirm": True})
            if action == "accept"
            else ElicitResult(action="decline")
        )

    async with Client(build_server(settings, sandbox=sandbox), mode=mode, elicitation_callback=on_elicit) as client:
        result = await client.call_tool("delete_client", {"client_id": rec["id"]})
    assert len(asked) == 1 and rec["organization"] in asked[0] and "restore_client" in asked[0]
    assert result.is_error is (action == "decline")
    assert sandbox.db.clients[rec["id"]]["vis_state"] == (1 if action == "accept" else 0)


async def test_delete_client_not_found(mcp: Client) -> None:
    assert "find_client" in await call_error(mcp, "delete_client", {"client_id": 999999, "confirm": True})


async def test_create_client_says_why_it_takes_no_password(mcp: Client, sandbox: Sandbox) -> None:
    before = len(sandbox.db.clients)
    text = await call_error(
        mcp, "create_client", {"organization": "Login Co", "username": "janedoe", "password": "seCret!7"}
    )
    assert "password" in text and "username" in text and "without a username or password" in text
    assert len(sandbox.db.clients) == before and writes(sandbox) == []
