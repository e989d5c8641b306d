"""Time seeding of a large sandbox: python bench/sandbox_seed.py [runs]

Prints the best and median of N runs per size (the machine is shared; the best is the figure).
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import date

from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    for invoices, expenses in ((300, 600), (5000, 10000)):
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            Sandbox(SandboxOptions(seed=7, today=date(2026, 11, 21), clients=200, invoices=invoices, expenses=expenses))
            times.append(time.perf_counter() - t0)
        print(
            f"invoices={invoices} expenses={expenses}: best {min(times):.3f}s "
            f"median {statistics.median(times):.3f}s over {runs} runs"
        )


if __name__ == "__main__":
    main()
