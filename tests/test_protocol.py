"""Protocol answers in both eras (#11): unknown prompts are invalid params, argument errors are plain
sentences, and only capabilities the server serves are advertised."""

from __future__ import annotations

import re

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, METHOD_NOT_FOUND
from tests.conftest import call_error

from mcp_server_freshbooks.config import DEFAULT_TOOLSETS, Settings, load_settings
from mcp_server_freshbooks.sandbox import Sandbox

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings() -> Settings:
    """The default catalog plus the opt-in client_admin and expenses toolsets (#12): the tools used here."""
    everyday = ",".join((*DEFAULT_TOOLSETS, "client_admin", "expenses"))
    return load_settings(environ={"FRESHBOOKS_TOOLSETS": everyday}, use_dotenv=False)


# what pydantic's own text would leak: its docs link, its wording, our argument-model class names
LEAKS = re.compile(
    r"https?://|pydantic|errors\.pydantic|input_value|input_type|Arguments\b|LineIn|TaxIn|ContactIn|\[type="
)


async def test_unknown_prompt_is_invalid_params(mcp: Client) -> None:
    with pytest.raises(MCPError) as info:
        await mcp.get_prompt("no_such_prompt", {})
    assert info.value.error.code == INVALID_PARAMS
    assert "no_such_prompt" in info.value.error.message


async def test_prompt_without_its_required_argument_is_invalid_params(mcp: Client) -> None:
    prompts = (await mcp.list_prompts()).prompts
    prompt = next(p for p in prompts if any(a.required for a in p.arguments or []))
    with pytest.raises(MCPError) as info:
        await mcp.get_prompt(prompt.name, {})
    assert info.value.error.code == INVALID_PARAMS
    required = [a.name for a in prompt.arguments or [] if a.required]
    assert all(name in info.value.error.message for name in required)


async def test_resources_are_not_advertised_and_not_served(sandbox: Sandbox, settings: object, mode: str) -> None:
    from mcp_server_freshbooks.server import build_server

    async with Client(build_server(settings, sandbox=sandbox), mode=mode) as client:  # type: ignore[arg-type]
        caps = client.server_capabilities
        assert caps is not None and caps.resources is None
        assert caps.tools is not None and caps.prompts is not None
        with pytest.raises(MCPError) as info:
            await client.list_resources()
        assert info.value.error.code == METHOD_NOT_FOUND


@pytest.mark.parametrize(
    ("tool", "arguments", "expected"),
    [
        ("find_client", {"query": 5}, ["query must be a string"]),
        ("find_client", {"query": "acme", "limit": "many"}, ["limit must be a whole number"]),
        ("find_client", {"query": "acme", "limit": 1000}, ["limit must be less than or equal to 100"]),
        ("find_client", {"query": "acme", "clientid": 3}, ["clientid is not an argument", "query"]),
        ("find_client", {}, ["query is required"]),
        ("get_client", {"client_id": "abc"}, ["client_id must be a whole number"]),
        ("list_invoices", {"status": "bogus"}, ["status must be one of"]),
        (
            "create_invoice",
            {"client_id": 1, "lines": [{"name": "x", "qty": "1", "unit_cost": "1.001"}]},
            ["lines[0].unit_cost must have no more than 2 decimal places"],
        ),
        ("create_invoice", {"client_id": 1, "lines": "one line"}, ["lines must be a list"]),
        ("create_invoice", {"client_id": 1, "lines": [7]}, ["lines[0] must be an object"]),
        ("list_expenses", {"date_from": "2026-02-30"}, ["date_from must be a real calendar date"]),
        # a key an object argument does not take is refused (additionalProperties: false), naming what it takes
        (
            "create_invoice",
            {"client_id": 1, "lines": [{"name": "x", "qty": "1", "unit_cost": "1", "price": "2"}]},
            ["lines[0].price is not a field there (its fields: description, item, name, qty, taxes, unit_cost)"],
        ),
        (
            "create_client",
            {"organization": "X Co", "address": {"town": "Halifax"}},
            ["address.town is not a field there (its fields: city, code, country, province, street, street2)"],
        ),
        ("create_client", {"organization": "X Co", "phones": {"cell": "1"}}, ["phones.cell is not a field there"]),
    ],
)
async def test_argument_errors_are_plain_sentences(
    mcp: Client, tool: str, arguments: dict[str, object], expected: list[str]
) -> None:
    text = await call_error(mcp, tool, arguments)
    for part in expected:
        assert part in text, text
    assert not LEAKS.search(text), text
    assert text.startswith(f"Invalid arguments for {tool}: ") and len(text.splitlines()) == 1


async def test_a_confirmation_refusal_names_the_tool_that_was_called(mcp: Client, sandbox: Sandbox) -> None:
    # The hint comes from the call itself (server.call_tool), not from each tool's resolver.
    open_inv = next(i for i in sandbox.db.invoices.values() if i["outstanding"]["amount"] not in ("0", "0.00"))
    writes = len(sandbox.write_log)
    text = await call_error(mcp, "record_payment", {"invoice_id": open_inv["id"], "amount": "1.00"})
    assert text.endswith("call record_payment again with the same arguments and confirm=true."), text
    assert len(sandbox.write_log) == writes
