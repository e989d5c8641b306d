"""MCP prompts for bookkeeping workflows."""

from __future__ import annotations

from typing import Any

from mcp.server import MCPServer

from ..config import Settings


def register_prompts(server: MCPServer[Any], settings: Settings) -> None:
    """Register the bookkeeping prompts (filled in by the prompts issue)."""
