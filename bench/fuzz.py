"""Long bad-input run: every tool, arguments generated from its own input schema and beyond it.

    .venv/bin/python bench/fuzz.py [--examples-per-tool N] [--seed-sandbox N] [--era both|modern|legacy]
                                   [--toolsets all|LIST]   (default: the default toolsets)

Same generator and checks as tests/reliability/test_fuzz.py, more cases, in both protocol eras:
modern = 2026-07-28 (mcp.Client's default), legacy = 2025-11-25 (mode="legacy"), each with its own
sandbox and session. Prints cases, successes, clear errors, writes made by accepted calls, calls that
carried a value that must be refused by name (must-ref), problems (must be 0) and time, per tool and
era, then per era side by side. Exit status 1 if any problem was found.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

from anyio.from_thread import start_blocking_portal
from hypothesis import HealthCheck, given, settings
from mcp import Client

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from mcp_server_freshbooks.config import load_settings
from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions
from mcp_server_freshbooks.server import build_server, enforced_input_schemas
from reliability.fuzzing import (
    Case,
    Tally,
    asks_before_writing,
    case_for,
    check,
    confirmed,
    known_from,
    must_refuse,
)

ERAS = {"modern": "auto", "legacy": "legacy"}


def _runner(
    portal: Any, client: Client, sb: Sandbox, tool: str, tally: Tally, schema: Any, known: Any, examples: int
) -> Any:
    props = schema.get("properties", {})

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=case_for(tool, schema, known))
    def run(case: Case) -> None:
        before = len(sb.write_log)
        result = portal.call(client.call_tool, case.tool, case.arguments)
        wrote = len(sb.write_log) - before
        text = " ".join(getattr(c, "text", "") for c in result.content)
        structured = dict(result.structured_content) if result.structured_content is not None else None
        check(case, bool(result.is_error), text, structured, wrote, tally, must_refuse(case.arguments, schema))
        # update_invoice (since #12) asks only before changing what a sent invoice bills: the tests' rule.
        asks_first = asks_before_writing(sb, case)
        if "confirm" in props and asks_first and not confirmed(case.arguments) and wrote:
            tally.problems.append(f"{tool} wrote without confirm=true: {case.arguments!r:.200}")

    return run


def _run_era(
    mode: str, seed: int, examples: int, toolsets: str | None
) -> tuple[list[tuple[str, Tally, float]], Sandbox, float]:
    sb = Sandbox(SandboxOptions(seed=seed, clients=12, invoices=40, expenses=60))
    environ = {"FRESHBOOKS_TOOLSETS": toolsets} if toolsets else {}
    server = build_server(load_settings(environ=environ, use_dotenv=False), sandbox=sb)
    rows: list[tuple[str, Tally, float]] = []
    started = time.perf_counter()
    with (
        start_blocking_portal(backend="asyncio") as portal,
        portal.wrap_async_context_manager(Client(server, mode=mode)) as client,
    ):
        known = known_from(sb)
        enforced = enforced_input_schemas()  # the advertised schemas leave some enforced rules unsaid
        schemas = {t.name: enforced[t.name] for t in portal.call(client.list_tools).tools}
        for tool in sorted(schemas):
            tally = Tally()
            run = _runner(portal, client, sb, tool, tally, schemas[tool], known, examples)
            t0 = time.perf_counter()
            run()
            rows.append((tool, tally, time.perf_counter() - t0))
    return rows, sb, time.perf_counter() - started


def _total(rows: list[tuple[str, Tally, float]]) -> Tally:
    total = Tally()
    for _, t, _ in rows:
        total.cases += t.cases
        total.ok += t.ok
        total.errors += t.errors
        total.writes += t.writes
        total.must_refuse += t.must_refuse
        total.problems += t.problems
        total.by_mutation.update(t.by_mutation)
    return total


HEAD = f"{'era':<8}{'tool':<26}{'cases':>8}{'ok':>7}{'errors':>8}{'writes':>8}{'must-ref':>9}{'problems':>10}{'s':>8}"


def _line(era: str, tool: str, t: Tally, secs: float) -> str:
    return (
        f"{era:<8}{tool:<26}{t.cases:>8}{t.ok:>7}{t.errors:>8}{t.writes:>8}{t.must_refuse:>9}"
        f"{len(t.problems):>10}{secs:>8.1f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples-per-tool", type=int, default=1500)
    parser.add_argument("--seed-sandbox", type=int, default=5)
    parser.add_argument("--era", choices=["both", *ERAS], default="both")
    parser.add_argument("--toolsets", default=None, help="FRESHBOOKS_TOOLSETS for the run, e.g. all")
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL, stream=sys.stderr)
    eras = list(ERAS) if args.era == "both" else [args.era]
    results = {era: _run_era(ERAS[era], args.seed_sandbox, args.examples_per_tool, args.toolsets) for era in eras}
    print(HEAD)
    for era, (rows, _, _) in results.items():
        for tool, t, secs in rows:
            print(_line(era, tool, t, secs))
    print()
    print(HEAD.replace("tool", "    "))
    failed = False
    for era, (rows, sb, wall) in results.items():
        total = _total(rows)
        print(_line(era, "ALL", total, wall) + f"   {total.cases / wall:.0f} cases/s")
        print(f"{'':<8}mutations: {dict(total.by_mutation)}")
        print(f"{'':<8}search keys FreshBooks would ignore: {dict(sb.ignored_search_keys) or 'none'}")
        seen: set[str] = set()
        for problem in total.problems:
            key = problem.split("(", 1)[0] + problem.rsplit(":", 1)[-1][:60]
            if key not in seen:
                seen.add(key)
                print(f"PROBLEM ({era}):", " ".join(problem.split())[:400])
        failed = failed or bool(total.problems or sb.ignored_search_keys)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
