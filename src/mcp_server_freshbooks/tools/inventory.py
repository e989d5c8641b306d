"""Every domain, listed once. Adding a domain adds one entry to DOMAINS, then re-generates.

Nothing is registered by importing a module: the server, FRESHBOOKS_TOOLSETS validation, the README
checks and tests/test_architecture.py all read these tuples. Importing this module imports every
domain module (~0.1 s), so start-up code reads the generated `_catalog` instead. After adding or
changing a Toolset or a tool, run `python -m mcp_server_freshbooks.tools.inventory`: it rewrites
`_catalog.py` and, in a checkout, the README's toolsets table; tests fail until you do.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from . import (
    catalogue,
    client_directory,
    clients,
    corrections,
    documents,
    estimates,
    expenses,
    identity,
    invoice_sharing,
    invoices,
    payments,
    projects,
    reports,
    time_tracking,
)
from ._base import Toolset, spec_of

DOMAINS = (
    identity,
    clients,
    client_directory,
    invoices,
    invoice_sharing,
    payments,
    expenses,
    documents,
    corrections,
    reports,
    time_tracking,
    projects,
    estimates,
    catalogue,
)

# A module may split off rarely used tools into an opt-in toolset: it then lists both in TOOLSETS.
TOOLSETS: tuple[Toolset, ...] = tuple(ts for domain in DOMAINS for ts in getattr(domain, "TOOLSETS", (domain.TOOLSET,)))
ALL_TOOLS: tuple[Callable[..., Awaitable[Any]], ...] = tuple(fn for domain in DOMAINS for fn in domain.TOOLS)

CATALOG_PATH = Path(__file__).with_name("_catalog.py")
README_PATH = Path(__file__).resolve().parents[3] / "README.md"  # present in a checkout only
README_BLOCK = re.compile(r"(<!-- toolsets:start[^>]*-->\n)(.*?)(<!-- toolsets:end -->)", re.S)
README_SETTING = re.compile(r"^(\| `FRESHBOOKS_TOOLSETS` \| [^|]+ \| )[^|\n]*( \|)$", re.M)


def render_catalog() -> str:
    """The text of `_catalog.py`: what start-up needs to know about the toolsets, without importing them."""
    rows = "".join(
        f"    ToolsetInfo({ts.id!r}, {ts.default!r}, {ts.description!r}, {ts.instructions!r}),\n" for ts in TOOLSETS
    )
    return (
        '"""Generated from the Toolset values by `python -m mcp_server_freshbooks.tools.inventory`; do not edit.\n\n'
        "Start-up (config validation, server instructions) reads this instead of importing every tool module.\n"
        '"""\n\n'
        "# ruff: noqa: E501\n"
        "from __future__ import annotations\n\n"
        "from typing import NamedTuple\n\n\n"
        "class ToolsetInfo(NamedTuple):\n"
        "    id: str\n"
        "    default: bool\n"
        "    description: str\n"
        "    instructions: str\n\n\n"
        "# fmt: off\n"
        f"TOOLSETS: tuple[ToolsetInfo, ...] = (\n{rows})\n"
    )


def render_readme_toolsets() -> str:
    """The README's toolsets block: the tool count line and one row per toolset."""
    tools = [spec_of(fn) for fn in ALL_TOOLS]
    rows = "".join(
        f"| `{ts.id}` | {'default' if ts.default else 'opt-in'} | {sum(1 for t in tools if t.toolset is ts)} "
        f"| {ts.description} |\n"
        for ts in TOOLSETS
    )
    return (
        f"{len(tools)} tools in {len(TOOLSETS)} toolsets.\n\n"
        "| Toolset | Default | Tools | What it covers |\n| --- | --- | --- | --- |\n" + rows
    )


def render_readme_setting() -> str:
    """The FRESHBOOKS_TOOLSETS row's meaning cell in the README's Configuration table."""
    return "Comma-separated toolsets to expose: " + ", ".join(f"`{ts.id}`" for ts in TOOLSETS) + ", or `all`"


def main() -> int:
    CATALOG_PATH.write_text(render_catalog())
    sys.stderr.write(f"wrote {CATALOG_PATH}\n")
    if README_PATH.exists():
        text = README_PATH.read_text()
        updated, found = README_BLOCK.subn(lambda m: m.group(1) + render_readme_toolsets() + m.group(3), text)
        updated, rows = README_SETTING.subn(lambda m: m.group(1) + render_readme_setting() + m.group(2), updated)
        if (found, rows) != (1, 1):
            sys.stderr.write("README.md lacks the toolsets block or the FRESHBOOKS_TOOLSETS row; not updated\n")
            return 1
        README_PATH.write_text(updated)
        sys.stderr.write(f"wrote the toolsets table in {README_PATH}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
