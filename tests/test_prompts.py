"""The bookkeeping prompts render through a real MCP client and only name tools that exist.

Every prompt writes its tool calls as `` `tool_name(param=value, ...)` ``. The checker below extracts
them and fails on an unknown tool, an unknown parameter, or a quoted value outside the parameter's
enum, in every configuration (full, read-only, a subset of toolsets).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from mcp_server_freshbooks.config import DEFAULT_TOOLSETS, Settings, load_settings
from mcp_server_freshbooks.sandbox import Sandbox
from mcp_server_freshbooks.server import build_server

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings() -> Settings:
    """The default catalog plus the opt-in client_admin and expenses toolsets (#12): the tools used here."""
    everyday = ",".join((*DEFAULT_TOOLSETS, "client_admin", "expenses"))
    return load_settings(environ={"FRESHBOOKS_TOOLSETS": everyday}, use_dotenv=False)


ALL_PROMPTS = {
    "month_end_close",
    "chase_overdue_invoices",
    "expense_review",
    "new_client_onboarding",
    "cash_position_snapshot",
}

# Arguments that render every prompt (several variants where the plan branches).
SAMPLE_ARGS: dict[str, list[dict[str, str]]] = {
    "month_end_close": [{"month": "2024-02"}],
    "chase_overdue_invoices": [{}, {"client": "Acme", "tone": "firm"}, {"tone": "friendly"}],
    "expense_review": [{"date_from": "2024-01-01", "date_to": "2024-03-31"}],
    "new_client_onboarding": [{"organization": "Bright Pixel LLC", "email": "ap@brightpixel.example"}],
    "cash_position_snapshot": [{}],
}

CALL = re.compile(r"`([a-z][a-z0-9_]*)\(([^`]*)\)`")
PARAM = re.compile(r"(?:^|,\s*)([a-z_][a-z0-9_]*)=")
QUOTED_PARAM = re.compile(r'(?:^|,\s*)([a-z_][a-z0-9_]*)="([^"<]*)"')
BARE_IDENT = re.compile(r"`([a-z]+(?:_[a-z0-9]+)+)`")


def _enum_values(schema: dict[str, Any]) -> set[Any] | None:
    if "enum" in schema:
        return set(schema["enum"])
    for branch in schema.get("anyOf", []):
        found = _enum_values(branch)
        if found is not None:
            return found
    return None


def check_text(text: str, tools: dict[str, dict[str, Any]]) -> tuple[list[str], list[str]]:
    """(problems, tools called) for a prompt text against tools/list input schemas."""
    problems: list[str] = []
    called: list[str] = []
    for name, args in CALL.findall(text):
        called.append(name)
        if name not in tools:
            problems.append(f"unknown tool {name}")
            continue
        props = tools[name].get("properties", {})
        for param in PARAM.findall(args):
            if param not in props:
                problems.append(f"{name} has no parameter {param}")
        for param, value in QUOTED_PARAM.findall(args):
            allowed = _enum_values(props.get(param, {}))
            if allowed is not None and value not in allowed:
                problems.append(f"{name}({param}={value!r}) is not one of {sorted(allowed)}")
    all_params = {p for schema in tools.values() for p in schema.get("properties", {})}
    for ident in BARE_IDENT.findall(text):
        if ident not in tools and ident not in all_params:
            problems.append(f"backticked name {ident} is neither a tool nor a parameter")
    return problems, called


def test_checker_can_fail() -> None:
    tools = {"find_client": {"properties": {"query": {}, "limit": {}, "kind": {"enum": ["a", "b"]}}}}
    problems, called = check_text(
        '`find_client(query="x", page=2, kind="c")` then `find_clients(query="x")` and `no_such_thing`', tools
    )
    assert called == ["find_client", "find_clients"]
    assert problems == [
        "find_client has no parameter page",
        "find_client(kind='c') is not one of ['a', 'b']",
        "unknown tool find_clients",
        "backticked name no_such_thing is neither a tool nor a parameter",
    ]


async def _render_all(client: Client) -> tuple[set[str], dict[str, list[str]], dict[str, dict[str, Any]]]:
    tools = {t.name: t.input_schema for t in (await client.list_tools()).tools}
    prompts = (await client.list_prompts()).prompts
    texts: dict[str, list[str]] = {}
    for prompt in prompts:
        assert prompt.title and prompt.description, prompt.name
        for argument in prompt.arguments or []:
            assert argument.description, f"{prompt.name}.{argument.name} has no description"
        for args in SAMPLE_ARGS[prompt.name]:
            result = await client.get_prompt(prompt.name, args)
            assert len(result.messages) == 1 and result.messages[0].role == "user"
            content = result.messages[0].content
            assert content.type == "text"
            texts.setdefault(prompt.name, []).append(content.text)
    return {p.name for p in prompts}, texts, tools


async def test_every_prompt_names_only_real_tools_and_parameters(mcp: Client) -> None:
    names, texts, tools = await _render_all(mcp)
    assert names == ALL_PROMPTS
    for name, variants in texts.items():
        for text in variants:
            problems, called = check_text(text, tools)
            assert not problems, f"{name}: {problems}"
            assert len(called) >= 2, f"{name} should plan with tools: {text}"


async def test_prompt_arguments_are_declared(mcp: Client) -> None:
    prompts = {p.name: p for p in (await mcp.list_prompts()).prompts}
    declared = {name: {(a.name, bool(a.required)) for a in p.arguments or []} for name, p in prompts.items()}
    assert declared == {
        "month_end_close": {("month", True)},
        "chase_overdue_invoices": {("client", False), ("tone", False)},
        "expense_review": {("date_from", True), ("date_to", True)},
        "new_client_onboarding": {("organization", True), ("email", True)},
        "cash_position_snapshot": set(),
    }


async def test_month_end_close_uses_the_months_real_boundaries(mcp: Client) -> None:
    text = (await mcp.get_prompt("month_end_close", {"month": "2024-02"})).messages[0].content.text  # type: ignore[union-attr]
    # leap year: February 2024 ends on the 29th; the previous month is January
    assert 'issue_date_from="2024-02-01", issue_date_to="2024-02-29"' in text
    assert 'list_overdue_invoices(as_of="2024-02-29")' in text
    assert 'date_from="2024-01-01", date_to="2024-01-31"' in text
    assert "confirm=true" in text  # writes are available here: the plan says how they are confirmed
    text = (await mcp.get_prompt("month_end_close", {"month": "2023-12"})).messages[0].content.text  # type: ignore[union-attr]
    assert 'issue_date_to="2023-12-31"' in text and 'date_from="2023-11-01", date_to="2023-11-30"' in text


async def test_chase_prompt_targets_the_named_client_and_tone(mcp: Client) -> None:
    firm = (await mcp.get_prompt("chase_overdue_invoices", {"client": 'Acme "West"', "tone": "firm"})).messages[0]
    text = firm.content.text  # type: ignore[union-attr]
    assert 'find_client(query="Acme \\"West\\"")' in text  # the name is quoted safely
    assert "list_overdue_invoices(client_id=<client_id>)" in text
    assert "firm" in text
    friendly = (await mcp.get_prompt("chase_overdue_invoices", {})).messages[0].content.text  # type: ignore[union-attr]
    assert "find_client" not in friendly and "`list_overdue_invoices(limit=500)`" in friendly and "warm" in friendly


@pytest.mark.parametrize(
    ("prompt", "args", "expected"),
    [
        ("month_end_close", {"month": "2024-13"}, ["month='2024-13'", "YYYY-MM", "01-12"]),
        ("month_end_close", {"month": "March"}, ["month='March'", "YYYY-MM"]),
        ("month_end_close", {"month": "2024-00"}, ["month='2024-00'"]),
        ("chase_overdue_invoices", {"tone": "rude"}, ["tone='rude'", "friendly or firm"]),
        ("expense_review", {"date_from": "2024-03-31", "date_to": "2024-03-01"}, ["date_from", "after date_to"]),
        ("expense_review", {"date_from": "2024-02-30", "date_to": "2024-03-01"}, ["date_from='2024-02-30'"]),
        ("expense_review", {"date_from": "2024-01-01", "date_to": "soon"}, ["date_to='soon'", "YYYY-MM-DD"]),
        ("new_client_onboarding", {"organization": "Acme", "email": "not-an-email"}, ["email='not-an-email'"]),
        ("new_client_onboarding", {"organization": "  ", "email": "a@b.example"}, ["organization"]),
    ],
)
async def test_bad_arguments_get_a_clear_error(
    mcp: Client, prompt: str, args: dict[str, str], expected: list[str]
) -> None:
    with pytest.raises(MCPError) as caught:
        await mcp.get_prompt(prompt, args)
    assert caught.value.code == -32602  # invalid params
    for fragment in expected:
        assert fragment in caught.value.message, caught.value.message


async def test_missing_or_unknown_arguments_are_named(mcp: Client) -> None:
    with pytest.raises(MCPError) as caught:
        await mcp.get_prompt("expense_review", {"date_from": "2024-01-01"})
    assert caught.value.code == -32602
    assert "missing required argument(s): date_to" in caught.value.message
    with pytest.raises(MCPError) as caught:
        await mcp.get_prompt("month_end_close", {"month": "2024-01", "year": "2024"})
    assert caught.value.code == -32602
    assert "unknown argument(s): year" in caught.value.message and "month (required)" in caught.value.message


async def test_read_only_prompts_mention_no_write_tool(sandbox: Sandbox, settings: Settings) -> None:
    async with Client(build_server(settings, sandbox=sandbox)) as full:
        write_tools = {
            t.name for t in (await full.list_tools()).tools if t.annotations and not t.annotations.read_only_hint
        }
    assert {"create_client", "send_invoice", "record_payment", "create_expense"} <= write_tools
    async with Client(build_server(settings.with_overrides(read_only=True), sandbox=sandbox)) as client:
        names, texts, tools = await _render_all(client)
    # onboarding cannot be done without create_client: it is not offered at all
    assert names == ALL_PROMPTS - {"new_client_onboarding"}
    for name, variants in texts.items():
        for text in variants:
            problems, called = check_text(text, tools)
            assert not problems, f"{name}: {problems}"
            assert not set(called) & write_tools
            assert "read-only" in text and "confirm=true" not in text


@pytest.mark.parametrize(
    ("toolsets", "expected"),
    [
        ("identity,clients", {"new_client_onboarding"}),
        ("identity,invoices", {"month_end_close", "cash_position_snapshot"}),
        ("expenses", {"expense_review"}),
        ("identity,clients,invoices", ALL_PROMPTS - {"expense_review"}),
    ],
)
async def test_prompts_follow_the_toolsets(
    sandbox: Sandbox, settings: Settings, toolsets: str, expected: set[str]
) -> None:
    async with Client(build_server(settings.with_overrides(toolsets=toolsets), sandbox=sandbox)) as client:
        names, texts, tools = await _render_all(client)
    assert names == expected
    for name, variants in texts.items():
        for text in variants:
            problems, _ = check_text(text, tools)
            assert not problems, f"{name} with toolsets {toolsets}: {problems}"


def test_sample_args_cover_every_prompt() -> None:
    assert set(SAMPLE_ARGS) == ALL_PROMPTS
    json.dumps(SAMPLE_ARGS)  # plain strings only, as MCP prompt arguments are
