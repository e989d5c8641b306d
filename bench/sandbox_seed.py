"""Time seeding of a large sandbox: python bench/sandbox_seed.py"""

from __future__ import annotations

import time
from datetime import date

from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions


def main() -> None:
    for invoices, expenses in ((300, 600), (5000, 10000)):
        t0 = time.perf_counter()
        Sandbox(SandboxOptions(seed=7, today=date(2026, 11, 21), clients=200, invoices=invoices, expenses=expenses))
        print(f"invoices={invoices} expenses={expenses}: {time.perf_counter() - t0:.3f}s")


if __name__ == "__main__":
    main()
