"""README.md and .env.example stay true to the code: tools, prompts, settings, commands, flags."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest
from mcp import Client

from mcp_server_freshbooks.cli import COMMANDS, build_parser
from mcp_server_freshbooks.config import DEFAULT_TOOLSETS, ENV_PREFIX, KNOWN_TOOLSETS, Settings, load_settings
from mcp_server_freshbooks.sandbox import Sandbox
from mcp_server_freshbooks.sandbox.cli import build_parser as build_sandbox_parser
from mcp_server_freshbooks.server import build_server
from mcp_server_freshbooks.tools._base import all_specs
from mcp_server_freshbooks.tools.inventory import TOOLSETS, render_readme_toolsets

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
ENV_EXAMPLE = (ROOT / ".env.example").read_text()
CI = (ROOT / ".ci" / "run").read_text()

# Variables read outside Settings (the CLI reads the log level before settings load).
EXTRA_ENV = {"FRESHBOOKS_LOG_LEVEL"}
SETTINGS_ENV = {ENV_PREFIX + name.upper() for name in Settings.model_fields}


def _section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.S | re.M)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def _table_rows(text: str) -> list[list[str]]:
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows]
    return [r for r in cells[1:] if not set("".join(r)) <= set("- ")]  # drop header and separator


def _tools_table() -> dict[str, tuple[str, str]]:
    block = re.search(r"<!-- tools:start.*?-->\n(.*?)<!-- tools:end -->", README, re.S)
    assert block, "README lost its tools table markers"
    table: dict[str, tuple[str, str]] = {}
    for name, toolset, kind, what in _table_rows(block.group(1)):
        assert what, f"{name} has no description in the README"
        table[name.strip("`")] = (toolset, kind)
    return table


@pytest.mark.anyio
async def test_tools_table_matches_tools_list(sandbox: Sandbox, settings: Settings) -> None:
    async with Client(build_server(settings.with_overrides(toolsets="all"), sandbox=sandbox)) as client:
        tools = (await client.list_tools()).tools
    toolsets = {spec.name: spec.toolset.id for spec in all_specs()}
    expected = {}
    for tool in tools:
        read_only = bool(tool.annotations and tool.annotations.read_only_hint)
        confirm = "confirm" in tool.input_schema.get("properties", {})
        kind = "read" if read_only else "write (confirm)" if confirm else "write"
        expected[tool.name] = (toolsets[tool.name], kind)
    table = _tools_table()
    assert sorted(table) == sorted(expected), "README tools table: add or remove rows to match tools/list"
    wrong = {name: (table[name], expected[name]) for name in expected if table[name] != expected[name]}
    assert not wrong, f"README tools table rows (README, actual): {wrong}"
    count = re.search(r"^(\d+) tools in (\d+) toolsets", _section("Tools"), re.M)
    assert count and int(count.group(1)) == len(tools)
    assert int(count.group(2)) == len({toolsets[t.name] for t in tools})


def test_toolsets_table_matches_the_declarations() -> None:
    block = re.search(r"<!-- toolsets:start.*?-->\n(.*?)<!-- toolsets:end -->", README, re.S)
    assert block, "README lost its toolsets table markers"
    rows = {row[0].strip("`"): row[1:] for row in _table_rows(block.group(1))}
    counts = {ts.id: sum(1 for spec in all_specs() if spec.toolset is ts) for ts in TOOLSETS}
    expected = {ts.id: ["default" if ts.default else "opt-in", str(counts[ts.id]), ts.description] for ts in TOOLSETS}
    assert rows == expected, "README toolsets table (README vs Toolset declarations)"
    assert block.group(1) == render_readme_toolsets(), "run: python -m mcp_server_freshbooks.tools.inventory"


def test_readme_promises_no_command_that_needs_an_unpublished_release() -> None:
    # `uvx mcp-server-freshbooks` / `pip install mcp-server-freshbooks` need a PyPI release: only in a
    # paragraph that says so; every runnable example uses a checkout (`--from`, `.venv/bin`) or a wheel.
    for paragraph in README.split("\n\n"):
        if re.search(r"uvx mcp-server-freshbooks|pip install\s+mcp-server-freshbooks", paragraph):
            assert "PyPI" in paragraph and "not yet" in paragraph, paragraph


@pytest.mark.anyio
async def test_prompts_table_matches_prompts_list(sandbox: Sandbox, settings: Settings) -> None:
    everyday = settings.with_overrides(toolsets=",".join((*DEFAULT_TOOLSETS, "client_admin", "expenses")))  # #12
    async with Client(build_server(everyday, sandbox=sandbox)) as client:
        prompts = (await client.list_prompts()).prompts
    rows = {row[0].strip("`"): row[1] for row in _table_rows(_section("Prompts"))}
    assert sorted(rows) == sorted(p.name for p in prompts)
    for prompt in prompts:
        for argument in prompt.arguments or []:
            assert f"`{argument.name}`" in rows[prompt.name], f"{prompt.name}: argument {argument.name} not documented"
        if not prompt.arguments:
            assert rows[prompt.name] == "none"


def test_every_setting_is_documented_in_readme_and_env_example() -> None:
    documented = set(re.findall(r"`(FRESHBOOKS_[A-Z_]+)`", _section("Configuration")))
    assert documented == SETTINGS_ENV | EXTRA_ENV, "README Configuration table vs Settings"
    example_keys = set(re.findall(r"^#?\s*(FRESHBOOKS_[A-Z_]+)=", ENV_EXAMPLE, re.M))
    assert example_keys == SETTINGS_ENV | EXTRA_ENV, ".env.example keys vs Settings"
    mentioned = set(re.findall(r"\bFRESHBOOKS_[A-Z_]+\b", README))
    assert mentioned <= SETTINGS_ENV | EXTRA_ENV, f"README mentions unknown variables: {mentioned - SETTINGS_ENV}"


def test_env_example_is_a_valid_configuration(tmp_path: Path) -> None:
    settings = load_settings(environ={}, dotenv_path=ROOT / ".env.example")
    assert settings.read_only is False and settings.toolsets is None
    assert settings.token_file.name == "tokens.json" and settings.token_file.is_absolute()


def test_toolsets_named_in_readme_exist() -> None:
    line = next(row for row in _table_rows(_section("Configuration")) if row[0] == "`FRESHBOOKS_TOOLSETS`")
    named = set(re.findall(r"`([a-z_]+)`", line[2])) - {"all"}
    assert named == set(KNOWN_TOOLSETS)


def test_the_two_commands_are_what_ci_runs() -> None:
    two = _section("Two commands")
    assert "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/mcp-server-freshbooks demo" in two
    assert "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest" in two
    assert "pip install --quiet -e '.[test]'" in CI and "\npython -m pytest\n" in CI


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def test_cli_commands_and_flags_in_readme_exist() -> None:
    used = set(re.findall(r"mcp-server-freshbooks ([a-z]+)\b(?!-)", README))
    assert used <= set(COMMANDS) | {"auth"}, f"README uses unknown commands: {used - set(COMMANDS)}"
    auth_used = set(re.findall(r"mcp-server-freshbooks auth ([a-z]+)", README))
    assert auth_used <= set(_subparsers(_subparsers(build_parser())["auth"]))
    serve_flags = {opt for a in _subparsers(build_parser())["serve"]._actions for opt in a.option_strings}
    for flag in re.findall(r"(?<![\w-])(--(?:transport|host|port|stateless|read-only|toolsets|demo))\b", README):
        assert flag in serve_flags
    sandbox_flags = {opt for a in build_sandbox_parser()._actions for opt in a.option_strings}
    flag_cells = [row[0] for row in _table_rows(_section("The sandbox (for people building on FreshBooks)"))]
    documented = set(re.findall(r"`(--[a-z-]+)", " ".join(flag_cells)))
    assert documented, "sandbox flags table is missing"
    assert documented <= sandbox_flags, f"README documents unknown sandbox flags: {documented - sandbox_flags}"
    undocumented = sandbox_flags - documented - {"-h", "--help", "--allow-remote"}
    assert not undocumented, f"sandbox flags missing from the README: {undocumented}"


def test_benchmarks_section_has_placeholders_and_commands() -> None:
    bench = _section("Benchmarks")
    for name in ("server", "overdue", "expenses", "soak"):
        assert f"<!-- bench:{name} -->" in bench
    for script in ("bench/server_bench.py", "bench/overdue_bench.py", "bench/expenses_bench.py"):
        assert script in bench
