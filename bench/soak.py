"""Long fault soak: 1,000 tool calls over 8 concurrent MCP sessions against a faulty loopback sandbox.

    .venv/bin/python bench/soak.py [--seed N] [--reads N] [--writes N]

Prints calls, HTTP requests, retries, failures surfaced, duplicates (must be 0), mismatches (must
be 0) and wall time. Exit status 1 if any duplicate, mismatch or unguided failure was found.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from reliability.soaking import SoakConfig, run_soak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--reads", type=int, default=550)
    parser.add_argument("--writes", type=int, default=300)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    cfg = SoakConfig(seed=args.seed, reads=args.reads, writes=args.writes, clients=60, invoices=300, expenses=400)
    report = anyio.run(run_soak, cfg)
    print(
        f"faults: fail_rate={cfg.fail_rate} drop_rate={cfg.drop_rate} rate_limit={cfg.rate_limit}/s "
        f"latency={cfg.latency_ms}ms jitter={cfg.jitter_ms}ms sessions={cfg.sessions} seed={cfg.seed}"
    )
    rows = [
        ("tool calls", report.calls),
        ("HTTP requests", report.requests),
        ("retries", report.retries),
        ("create outcomes unknown -> reconciled", report.unknown_outcomes),
        ("  found applied once", report.found_applied),
        ("  re-sent after proven absent", report.resent),
        ("failures surfaced", len(report.failures)),
        ("  of which unguided/traceback", len(report.bad_failures)),
        ("duplicates (must be 0)", len(report.duplicates)),
        ("mismatches (must be 0)", len(report.mismatches)),
        ("wall time (s)", f"{report.wall:.1f}"),
    ]
    for name, value in rows:
        print(f"{name:<40}{value:>10}")
    print("calls by tool: " + ", ".join(f"{k}={v}" for k, v in sorted(report.by_tool.items())))
    for title, items in (
        ("FAILURES", report.failures),
        ("DUPLICATES", report.duplicates),
        ("MISMATCHES", report.mismatches),
    ):
        for line in items[:20]:
            print(f"{title}: {' '.join(line.split())[:300]}")
    return 1 if report.duplicates or report.mismatches or report.bad_failures else 0


if __name__ == "__main__":
    sys.exit(main())
