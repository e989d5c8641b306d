"""The `tools/list` result is checked in, one JSON file per tool; drift fails here.

After an intended change to a tool's name, description, schemas or annotations, refresh with:
    UPDATE_SNAPSHOTS=1 python -m pytest tests/test_schema_snapshot.py
and review the diff of tests/snapshots/tools/ before committing.

Also checked here: every advertised input schema follows the compact, portable rules of
`tools/_schema.py`, and agrees with the argument model the SDK validates with.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from mcp_server_freshbooks.config import load_settings
from mcp_server_freshbooks.sandbox import Sandbox
from mcp_server_freshbooks.server import build_server

pytestmark = pytest.mark.anyio

SNAPSHOTS = Path(__file__).parent / "snapshots" / "tools"


async def test_tools_list_matches_snapshots(sandbox: Sandbox) -> None:
    every = load_settings(environ={"FRESHBOOKS_TOOLSETS": "all"}, use_dotenv=False)
    async with Client(build_server(every, sandbox=sandbox)) as client:
        tools = (await client.list_tools()).tools
    current = {t.name: t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools}
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOTS.mkdir(parents=True, exist_ok=True)
        for stale in SNAPSHOTS.glob("*.json"):
            if stale.stem not in current:
                stale.unlink()
        for name, data in current.items():
            (SNAPSHOTS / f"{name}.json").write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    stored = {p.stem: json.loads(p.read_text()) for p in SNAPSHOTS.glob("*.json")}
    assert sorted(current) == sorted(stored), "tools added or removed: refresh the snapshots (see module doc)"
    drifted = [name for name in current if current[name] != stored[name]]
    assert not drifted, f"tool schemas drifted: {drifted}; refresh the snapshots (see module doc)"


def _objects(schema: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema node below `schema` (dicts reached through properties, items and combinators)."""
    if not isinstance(schema, dict):
        return
    yield path, schema
    for name, sub in schema.get("properties", {}).items():
        yield from _objects(sub, f"{path}.{name}")
    if isinstance(schema.get("items"), dict):
        yield from _objects(schema["items"], f"{path}[]")
    for key in ("anyOf", "oneOf", "allOf"):
        for i, sub in enumerate(schema.get(key, [])):
            yield from _objects(sub, f"{path}|{key}{i}")


def _compact_rule_breaks(name: str, schema: dict[str, Any]) -> list[str]:
    problems = []
    text = json.dumps(schema)
    for word in ('"$ref"', '"$defs"', '"oneOf"', '"allOf"'):
        if word in text:
            problems.append(f"{name}: {word} in the input schema")
    for path, node in _objects(schema):
        where = f"{name}{path or ' (root)'}"
        if "title" in node:  # the keyword; a parameter may be named title (create_project)
            problems.append(f"{where}: title")
        if {"type": "null"} in node.get("anyOf", []):
            problems.append(f"{where}: anyOf with null")
        if node.get("type") == "object" and node.get("additionalProperties") is not False:
            problems.append(f"{where}: object without additionalProperties: false")
        if path and "type" not in node:
            problems.append(f"{where}: no top-level type")
        if "default" in node and node["default"] is None:
            problems.append(f"{where}: default null")
    required = set(schema.get("required", []))
    for param, prop in schema["properties"].items():
        if not prop.get("description"):
            problems.append(f"{name}.{param}: no description")
        if param in required and "default" in prop:
            problems.append(f"{name}.{param}: required but has a default")
        if param not in required and prop.get("nullable") is not True:
            problems.append(f"{name}.{param}: optional without nullable: true (smolagents requires it)")
    return problems


async def test_input_schemas_are_compact_and_portable(sandbox: Sandbox) -> None:
    every = load_settings(environ={"FRESHBOOKS_TOOLSETS": "all"}, use_dotenv=False)
    async with Client(build_server(every, sandbox=sandbox)) as client:
        tools = (await client.list_tools()).tools
    assert tools
    problems = [p for t in tools for p in _compact_rule_breaks(t.name, t.input_schema)]
    assert problems == []


def _violations(prop: dict[str, Any]) -> list[tuple[str, Any]]:
    """A value breaking each constraint the property advertises (constraint name, value)."""
    out: list[tuple[str, Any]] = []
    if "minimum" in prop:
        out.append(("minimum", prop["minimum"] - 1))
    if "exclusiveMinimum" in prop:
        out.append(("exclusiveMinimum", prop["exclusiveMinimum"]))
    if "maximum" in prop:
        out.append(("maximum", prop["maximum"] + 1))
    if "maxLength" in prop:
        out.append(("maxLength", "x" * (prop["maxLength"] + 1)))
    if prop.get("minLength", 0) >= 1:
        out.append(("minLength", ""))
    if "enum" in prop:
        out.append(("enum", "not-one-of-them"))
    if "pattern" in prop:
        out.append(("pattern", "\n"))
    if prop.get("format") == "date":
        out.append(("format", "2024-13-45"))
    if "maxItems" in prop:
        out.append(("maxItems", [None] * (prop["maxItems"] + 1)))
    return out


def test_advertised_input_schema_agrees_with_the_argument_model() -> None:
    """What is advertised is what the SDK enforces: required set, defaults, and every top-level constraint."""
    from pydantic import ValidationError

    from mcp_server_freshbooks.server import _tools

    for name, built in _tools().items():
        model = built.fn_metadata.arg_model
        advertised = built.parameters
        required = {p for p, f in model.model_fields.items() if f.is_required()}
        assert set(advertised.get("required", [])) == required, name
        base = {p: 1 for p in required}  # placeholder values: only the broken parameter's error is looked at
        for param, field in model.model_fields.items():
            prop = advertised["properties"][param]
            if not field.is_required() and field.default is not None:
                assert prop["default"] == field.default, (name, param)
            if prop.get("nullable"):  # advertised as nullable: null must mean "not given", not an error
                try:
                    model.model_validate({**base, param: None})
                except ValidationError as exc:
                    assert not any(e["loc"][:1] == (param,) for e in exc.errors()), (name, param, "null")
            for constraint, value in _violations(prop):
                try:
                    model.model_validate({**base, param: value})
                except ValidationError as exc:
                    assert any(e["loc"][:1] == (param,) for e in exc.errors()), (name, param, constraint)
                else:
                    raise AssertionError(f"{name}.{param}: advertises {constraint} but accepts {value!r}")
