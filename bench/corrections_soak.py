"""Corrections under faults (#19): every correction tool, many times, against a sandbox that drops
replies (half of them after applying the write) and fails requests with 5xx.

    .venv/bin/python bench/corrections_soak.py [--rounds N] [--drop 0.3] [--fail 0.15] [--seed N]

Each round runs the six corrections on fresh records through one MCP session (in-process sandbox).
Per tool it prints: calls, reported done, of which settled by reading back (reply lost, found
applied), refused "nothing was changed", other errors (failed before writing, or outcome unknown), and
the three numbers that must be 0: books wrong after a reported success (the change missing, or applied
twice: e.g. outstanding != amount - live payments), a change present after "nothing was changed", and
books that do not add up after any error. Exit status 1 if any is not 0.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import anyio
import httpx
from mcp import Client

from mcp_server_freshbooks.config import load_settings
from mcp_server_freshbooks.freshbooks import StaticTokenSource
from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions
from mcp_server_freshbooks.server import build_server

D = Decimal
LINES = [{"name": "Design", "qty": "3", "unit_cost": "120.50", "taxes": [{"name": "HST", "percent": "13"}]}]
LINES_TOTAL = D("361.50") + D("47.00")  # 13 % of 361.50 = 46.995 -> 47.00 (half-up)


def live(sb: Sandbox, invoice_id: int) -> list[dict[str, Any]]:
    return [sb.db.payments[p] for p in sb.db.payments_by_invoice[invoice_id] if sb.db.payments[p]["vis_state"] == 0]


def balanced(sb: Sandbox, inv: dict[str, Any]) -> bool:
    paid = sum((D(p["amount"]["amount"]) for p in live(sb, inv["id"])), D(0))
    return D(inv["outstanding"]["amount"]) == D(inv["amount"]["amount"]) - min(paid, D(inv["amount"]["amount"]))


# tool, args, landed (the change is in the books, once), consistent (books add up whatever happened)
Case = tuple[str, dict[str, Any], Callable[[], bool], Callable[[], bool]]


def cases(sb: Sandbox, used: set[int]) -> list[Case]:
    def pick(rows: Any) -> dict[str, Any]:
        row: dict[str, Any] | None = next((r for r in rows if r["id"] not in used), None)
        if row is None:
            raise LookupError("the seeded books have no fresh record of a kind a case needs")
        used.add(row["id"])
        return row

    invs = [i for i in sb.db.invoices.values() if i["vis_state"] == 0]
    draft = pick(i for i in invs if i["v3_status"] == "draft")
    gone = pick(i for i in invs if i["v3_status"] == "draft")
    paid = pick(i for i in invs if i["v3_status"] == "paid" and len(live(sb, i["id"])) == 1)
    pay = live(sb, paid["id"])[0]
    part = pick(i for i in invs if i["v3_status"] in ("partial", "overdue") and len(live(sb, i["id"])) == 1)
    ppay = live(sb, part["id"])[0]
    owed, target = D(part["outstanding"]["amount"]), D(ppay["amount"]["amount"]) + D("1.00")
    exps = (e for e in sb.db.expenses.values() if e["vis_state"] == 0)
    exp, dexp = pick(exps), pick(exps)
    return [
        ("update_invoice", {"invoice_id": draft["id"], "lines": LINES},
         lambda: D(draft["amount"]["amount"]) == LINES_TOTAL and len(draft["lines"]) == 1,
         lambda: balanced(sb, draft)),
        ("delete_invoice", {"invoice_id": gone["id"], "confirm": True}, lambda: gone["vis_state"] == 1, lambda: True),
        ("update_expense", {"expense_id": exp["id"], "amount": "77.70"},
         lambda: exp["amount"]["amount"] == "77.70", lambda: True),
        ("delete_expense", {"expense_id": dexp["id"], "confirm": True}, lambda: dexp["vis_state"] == 1, lambda: True),
        ("update_payment", {"payment_id": ppay["id"], "amount": f"{target}", "confirm": True},
         lambda: D(ppay["amount"]["amount"]) == target and D(part["outstanding"]["amount"]) == owed - 1,
         lambda: balanced(sb, part)),
        ("delete_payment", {"payment_id": pay["id"], "confirm": True},
         lambda: pay["vis_state"] == 1 and paid["outstanding"] == paid["amount"], lambda: balanced(sb, paid)),
    ]  # fmt: skip


async def run(rounds: int, drop: float, fail: float, seed: int) -> tuple[Counter[tuple[str, str]], int]:
    # enough drafts and once-paid invoices for 25 rounds whatever today is (the seed dates books from today)
    sb = Sandbox(SandboxOptions(seed=seed, invoices=1200, expenses=300, drop_rate=drop, fail_rate=fail))
    settings = load_settings(environ={}, use_dotenv=False).with_overrides(
        api_url="http://freshbooks.test", request_timeout=0.2, toolsets="corrections"
    )
    server = build_server(
        settings, transport=httpx.ASGITransport(app=sb.app), token_source=StaticTokenSource(sb.access_token)
    )
    counts: Counter[tuple[str, str]] = Counter()
    used: set[int] = set()
    done = 0
    async with Client(server) as client:
        for _ in range(rounds):
            sb.set_faults(drop_rate=0.0, fail_rate=0.0)
            try:
                todo = cases(sb, used)
            except LookupError as exc:  # another seed may seed fewer drafts or paid invoices: stop there
                sys.stderr.write(f"stopped after {done} rounds: {exc}\n")
                break
            done += 1
            sb.set_faults(drop_rate=drop, fail_rate=fail)
            for tool, args, landed, ok in todo:
                result = await client.call_tool(tool, args)
                text = " ".join(getattr(c, "text", "") for c in result.content)
                counts[(tool, "calls")] += 1
                if not result.is_error:
                    counts[(tool, "done")] += 1
                    counts[(tool, "settled by read-back")] += "reply was lost" in text
                    counts[(tool, "wrong after success")] += not (landed() and ok())
                elif "nothing was changed" in text.lower():
                    counts[(tool, "nothing changed")] += 1
                    counts[(tool, "changed after 'nothing'")] += landed()
                else:
                    counts[(tool, "other error")] += 1  # unknown outcome, or failed before writing
                    counts[(tool, "books inconsistent")] += not ok()
    return counts, done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--drop", type=float, default=0.3)
    parser.add_argument("--fail", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL, stream=sys.stderr)
    counts, done = anyio.run(run, args.rounds, args.drop, args.fail, args.seed)
    cols = ("calls", "done", "settled by read-back", "nothing changed", "other error", "wrong after success",
            "changed after 'nothing'", "books inconsistent")  # fmt: skip
    tools = sorted({t for t, _ in counts})
    sys.stdout.write(f"drop_rate {args.drop}, fail_rate {args.fail}, {done} rounds of {args.rounds}\n")
    sys.stdout.write(f"{'tool':16}" + "".join(f"{c[:12]:>13}" for c in cols) + "\n")
    for tool in tools:
        sys.stdout.write(f"{tool:16}" + "".join(f"{counts[(tool, c)]:>13}" for c in cols) + "\n")
    bad = sum(counts[(t, c)] for t in tools for c in cols[-3:])
    return 1 if bad or not done else 0


if __name__ == "__main__":
    raise SystemExit(main())
