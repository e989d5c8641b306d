"""Long fault soak: ~2,000 tool calls over 8 concurrent MCP sessions against a faulty loopback sandbox.

    .venv/bin/python bench/soak.py [--seed N] [--reads N] [--writes N] [--same-key-rounds N]

Phases: reads (compared with a fault-free twin), writes, read-back, then concurrent same-key writes:
per round 3 payments of 40% each on one invoice, 2 identical expenses, 3 creates of one client and
2 sends with email, each group at once over different sessions (10 calls a round; 100 rounds = 1,000
calls). Prints calls, HTTP requests, retries, failures surfaced, duplicates (must be 0), mismatches
(must be 0), and per same-key kind: reported successes vs applied writes, refusals, duplicates,
overpayments and emails per send. Exit status 1 if any duplicate, mismatch or unguided failure.
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
    parser.add_argument("--same-key-rounds", type=int, default=100)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    for handler in logging.getLogger().handlers:  # the soak counts retries at INFO; print only errors
        handler.setLevel(logging.ERROR)
    cfg = SoakConfig(
        seed=args.seed,
        reads=args.reads,
        writes=args.writes,
        same_key_rounds=args.same_key_rounds,
        clients=60,
        invoices=300,
        expenses=400,
    )
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
        ("  second lookups after a settle delay", report.settle_waits),
        ("failures surfaced", len(report.failures)),
        ("  of which unguided/traceback", len(report.bad_failures)),
        ("duplicates (must be 0)", len(report.duplicates)),
        ("mismatches (must be 0)", len(report.mismatches)),
        ("wall time (s)", f"{report.wall:.1f}"),
    ]
    for name, value in rows:
        print(f"{name:<40}{value:>10}")
    print("calls by tool: " + ", ".join(f"{k}={v}" for k, v in sorted(report.by_tool.items())))
    if report.same_key:
        print(
            f"\nsame-key writes ({cfg.same_key_rounds} rounds; applied = records or emails the sandbox has; "
            "duplicates, overpayments must be 0; emails per send must be 1)"
        )
        head = ("kind", "calls", "successes", "applied", "refused", "failures", "duplicates", "overpaid", "emails/send")
        print("".join(f"{h:>12}" if i else f"{h:<18}" for i, h in enumerate(head)))
        for kind, st in sorted(report.same_key.items()):
            cells = (
                kind,
                st.calls,
                st.reported_successes,
                st.applied,
                st.refused,
                st.failures,
                st.duplicates,
                st.overpayments,
                st.max_emails_per_send if kind == "send" else "-",
            )
            print("".join(f"{c!s:>12}" if i else f"{c!s:<18}" for i, c in enumerate(cells)))
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
