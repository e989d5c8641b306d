"""Every domain, listed once. Adding a domain adds one entry to DOMAINS (and re-generates _catalog.py).

Nothing is registered by importing a module: the server, FRESHBOOKS_TOOLSETS validation, the README
checks and tests/test_architecture.py all read these tuples. Importing this module imports every
domain module (~0.1 s), so start-up code reads the generated `_catalog` instead; run
`python -m mcp_server_freshbooks.tools.inventory` after changing a Toolset, and the architecture
test fails until you do.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from . import clients, expenses, identity, invoices, payments
from ._base import Toolset

DOMAINS = (identity, clients, invoices, payments, expenses)

TOOLSETS: tuple[Toolset, ...] = tuple(domain.TOOLSET for domain in DOMAINS)
ALL_TOOLS: tuple[Callable[..., Awaitable[Any]], ...] = tuple(fn for domain in DOMAINS for fn in domain.TOOLS)

CATALOG_PATH = Path(__file__).with_name("_catalog.py")


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


def main() -> int:
    CATALOG_PATH.write_text(render_catalog())
    sys.stderr.write(f"wrote {CATALOG_PATH}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
