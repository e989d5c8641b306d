"""MCP server for FreshBooks."""

__version__ = "0.1.0"
