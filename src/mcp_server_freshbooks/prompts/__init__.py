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

from ..config import Settings
from .bookkeeping import PROMPTS


def register_prompts(server: MCPServer[Any], settings: Settings) -> None:
    """Register every bookkeeping prompt whose required tools this configuration exposes."""
    from ..server import select_specs  # late import: server imports this module

    available = frozenset(spec.name for spec in select_specs(settings))
    for definition in PROMPTS:
        if definition.requires <= available:
            server.add_prompt(definition.build(available))


__all__ = ["register_prompts"]
