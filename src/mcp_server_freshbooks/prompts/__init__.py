"""MCP prompts for bookkeeping workflows (month-end close, chasing overdue invoices, ...).

Each prompt renders a plan (one user message) that names the real tools with their real parameter
names, written as `` `tool_name(param=value, ...)` `` so tests/test_prompts.py can check every call
against `tools/list`. Prompts only mention tools this configuration registers: in read-only mode or
with a subset of toolsets, steps that need a missing tool are left out (or replaced by "recommend
it to the user"), and a prompt whose core tools are missing is not registered at all.
"""

from __future__ import annotations

from typing import Any

from mcp.server import MCPServer

from .bookkeeping import PROMPTS


def register_prompts(
    server: MCPServer[Any], available: frozenset[str], *, skip: frozenset[str] = frozenset()
) -> set[str]:
    """Register every bookkeeping prompt whose required tools are `available` (tool names the server
    exposes), except those named in `skip` (already registered); return the names registered."""
    registered: set[str] = set()
    for definition in PROMPTS:
        if definition.requires <= available and definition.name not in skip:
            server.add_prompt(definition.build(available))
            registered.add(definition.name)
    return registered


__all__ = ["register_prompts"]
