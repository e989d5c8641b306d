"""Invoice-shaped lines (invoices now; estimates and invoice profiles use the same shape)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .._wire import JSON, dec, money, parse_bool, pct_str
from ..fields import invalid, money_input, pct_field


def make_line(invoiceid: int, n: int, raw: JSON, qty: Decimal, unit: Decimal, code: str, when: str) -> JSON:
    t1 = pct_field(raw.get("taxAmount1"), "taxAmount1", "line")
    t2 = pct_field(raw.get("taxAmount2"), "taxAmount2", "line")
    return {
        "amount": money(qty * unit, code),
        "basecampid": 0,
        "compounded_tax": bool(t2) and parse_bool(raw.get("compounded_tax")) is True,
        "date": None,
        "description": raw.get("description") or "",
        "expenseid": int(raw.get("expenseid") or 0),
        "invoiceid": invoiceid,
        "lineid": n,
        "modern_project_id": None,
        "modern_time_entries": [],
        "name": raw.get("name") or "",
        "qty": pct_str(qty),
        "retainer_id": None,
        "retainer_period_id": None,
        "taskno": n,
        "taxAmount1": pct_str(t1),
        "taxAmount2": pct_str(t2),
        "taxName1": raw.get("taxName1") or ("" if not t1 else None),
        "taxName2": raw.get("taxName2") or ("" if not t2 else None),
        "taxNumber1": raw.get("taxNumber1"),
        "taxNumber2": raw.get("taxNumber2"),
        "type": int(raw.get("type") or 0),
        "unit_cost": money(unit, code),
        "updated": when,
    }


def build_lines(raw_lines: Any, invoiceid: int, code: str, when: str) -> list[JSON]:
    if not isinstance(raw_lines, list):
        raise invalid("lines", "invoice", raw_lines)
    lines: list[JSON] = []
    for n, raw in enumerate(raw_lines, start=1):
        if not isinstance(raw, dict):
            raise invalid("lines", "invoice", raw)
        qty = dec(raw.get("qty", "1"))
        if qty is None:
            raise invalid("qty", "line", raw.get("qty"))
        unit, _ = money_input(raw.get("unit_cost", "0"), "unit_cost", "line")
        lines.append(make_line(invoiceid, n, raw, qty, unit, code, when))
    return lines
