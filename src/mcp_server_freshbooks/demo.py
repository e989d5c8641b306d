"""`mcp-server-freshbooks demo`: a tour of the tools on the embedded sandbox, through a real MCP session."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

# (tool, arguments, what it shows). Tools that this build lacks are skipped.
TOUR: list[tuple[str, dict[str, Any], str]] = [
    ("whoami", {}, "Who is signed in, and which books the tools work on"),
    ("find_client", {"query": "an", "limit": 3}, "Find clients by name, organization or email"),
    ("list_overdue_invoices", {"limit": 5}, "Who owes us what, and since when (totals per currency and age)"),
    ("summarize_expenses", {"group_by": "category", "top": 5}, "What did we spend, on what (last 90 days)"),
    ("list_invoices", {"limit": 3}, "Recent invoices"),
]


def _say(text: str = "") -> None:
    """The tour's own output: a CLI command for a person, not the MCP stdio server."""
    sys.stdout.write(text + "\n")


def _claude_config() -> dict[str, Any]:
    # Desktop hosts start servers with a near-empty PATH: name the script by its absolute path,
    # preferring the one installed beside the interpreter running this demo (the user's venv).
    beside = Path(sys.executable).with_name("mcp-server-freshbooks")
    command = str(beside) if beside.exists() else shutil.which("mcp-server-freshbooks") or "mcp-server-freshbooks"
    return {"mcpServers": {"freshbooks-demo": {"command": command, "args": ["serve", "--demo"]}}}


async def _tour() -> int:
    from datetime import date, timedelta

    from mcp import Client

    from .config import load_settings
    from .server import build_server

    today = date.today()
    extra: dict[str, dict[str, Any]] = {
        "summarize_expenses": {"date_from": (today - timedelta(days=90)).isoformat(), "date_to": today.isoformat()},
    }
    async with Client(build_server(load_settings(environ={}, use_dotenv=False), demo=True)) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        _say(f"FreshBooks MCP server demo: {len(names)} tools, running on the embedded sandbox books.\n")
        failures = 0
        for name, arguments, caption in TOUR:
            if name not in names:
                continue
            arguments = {**arguments, **extra.get(name, {})}
            _say(f"== {caption}\n   {name}({json.dumps(arguments)})")
            result = await client.call_tool(name, arguments)
            if result.is_error:
                failures += 1
                _say("   error: " + " ".join(getattr(c, "text", "") for c in result.content))
            else:
                text = "\n".join(getattr(c, "text", "") for c in result.content)
                lines = text.splitlines()
                shown = "\n".join(lines[:14]) + ("\n... (cut for the tour)" if len(lines) > 14 else "")
                _say("   " + shown.replace("\n", "\n   "))
            _say()
    _say("Attach it to Claude Desktop (claude_desktop_config.json), then restart Claude Desktop:")
    _say(json.dumps(_claude_config(), indent=2))
    return 1 if failures else 0


def run_demo() -> int:
    import anyio

    try:
        return anyio.run(_tour)
    except Exception as exc:  # pragma: no cover - the tour should never crash silently
        sys.stderr.write(f"demo failed: {type(exc).__name__}: {exc}\n")
        return 1
