"""Report tools vs the books, side by side: per seed, period and currency, what each report tool says
and what the raw sandbox records (or the list tools) say, plus the FreshBooks requests each call made.

Run: .venv/bin/python bench/reports_crosscheck.py   (about 20 s; last line: mismatches and ignored keys)
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import anyio
from mcp import Client

from mcp_server_freshbooks.config import load_settings
from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions
from mcp_server_freshbooks.server import build_server

SEEDS = (7, 11, 23)
PERIODS: tuple[dict[str, str], ...] = ({"period": "last_quarter"}, {"period": "this_year"})
D = Decimal


async def call(client: Client, name: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(name, args)
    assert not result.is_error and result.structured_content is not None, result.content
    return dict(result.structured_content)


def raw_income(sb: Sandbox, first: str, last: str) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = defaultdict(D)
    for inv in sb.db.invoices.values():
        if inv["vis_state"] != 1 and inv["display_status"] != "draft" and first <= inv["create_date"] <= last:
            sums[inv["currency_code"]] += D(inv["amount"]["amount"])
    return sums


async def list_payments_total(client: Client, first: str, last: str) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = defaultdict(D)
    page = 1
    while True:
        out = await call(client, "list_payments", {"date_from": first, "date_to": last, "limit": 100, "page": page})
        for m in out["page_totals"]:
            sums[m["code"]] += D(m["amount"])
        if not out["has_more"]:
            return sums
        page += 1


async def main() -> None:
    mismatches = 0
    ignored = 0
    print(f"{'seed':>4} {'check':<34} {'cur':<4} {'report':>14} {'books/tools':>14} {'requests':>8}")
    settings = load_settings(environ={"FRESHBOOKS_TOOLSETS": "all"}, use_dotenv=False)
    for seed in SEEDS:
        sb = Sandbox(SandboxOptions(seed=seed))
        async with Client(build_server(settings, sandbox=sb)) as client:

            def row(check: str, code: str, got: Decimal, want: Decimal, requests: int, seed: int = seed) -> None:
                nonlocal mismatches
                mismatches += got != want
                flag = "" if got == want else "  MISMATCH"
                print(f"{seed:>4} {check:<34} {code:<4} {got:>14} {want:>14} {requests:>8}{flag}")

            for span in PERIODS:
                label = span["period"]
                before = sb.request_count
                pnl = await call(client, "profit_and_loss", span)
                used = sb.request_count - before
                income = raw_income(sb, pnl["date_from"], pnl["date_to"])
                for r in pnl["currencies"]:
                    row(f"P&L income {label}", r["currency"], D(r["income"]["amount"]), income[r["currency"]], used)
                before = sb.request_count
                collected = await call(client, "payments_collected", span)
                used = sb.request_count - before
                listed = await list_payments_total(client, collected["date_from"], collected["date_to"])
                for m in collected["totals"]:
                    row(f"payments_collected {label}", m["code"], D(m["amount"]), listed[m["code"]], used)
            before = sb.request_count
            aging = await call(client, "receivables_aging", {})
            used = sb.request_count - before
            overdue = await call(client, "list_overdue_invoices", {"as_of": aging["as_of"], "limit": 500})
            buckets = {b["bucket"]: {m["code"]: D(m["amount"]) for m in b["outstanding"]} for b in overdue["buckets"]}
            for r in aging["currencies"]:
                got = D(r["buckets"]["91+"]["amount"])
                row("aging 91+ vs overdue 90+", r["currency"], got, buckets["90+"].get(r["currency"], D(0)), used)
            ignored += sum(sb.ignored_search_keys.values())
    print(f"mismatches: {mismatches}; report parameters FreshBooks would ignore: {ignored}")


if __name__ == "__main__":
    anyio.run(main)
