"""Hosting for a team (issue #18): MCP sign-in with FreshBooks, per-user books, shared stores."""
