"""Strict inputs through a real MCP client, both eras (#11): dates are YYYY-MM-DD strings (writes 1970-2100),
text has no control or direction characters, amounts have no separators; every refusal names the field
and the rule and writes nothing; no date at the calendar's ends crashes a read."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from mcp import Client

from conftest import call_error, call_ok
from mcp_server_freshbooks.config import Settings, load_settings
from mcp_server_freshbooks.sandbox import Sandbox

pytestmark = pytest.mark.anyio

CRASH = ("Unexpected server error", "Traceback", "whether a write happened")


@pytest.fixture
def settings() -> Settings:
    """Every toolset: opt-in tools (update_client is in client_admin, #12) get the same refusals."""
    return load_settings(environ={"FRESHBOOKS_TOOLSETS": "all"}, use_dotenv=False)


@pytest.fixture(autouse=True)
def _no_ignored_search_keys(sandbox: Sandbox) -> Iterator[None]:
    yield
    assert not sandbox.ignored_search_keys, f"FreshBooks would ignore: {dict(sandbox.ignored_search_keys)}"


def _open_invoice(sb: Sandbox) -> dict[str, Any]:
    return next(
        i
        for i in sb.db.invoices.values()
        if i["vis_state"] == 0
        and i["v3_status"] in ("sent", "viewed", "overdue", "partial")
        and Decimal(i["outstanding"]["amount"]) > 10
    )


def _client_id(sb: Sandbox) -> int:
    return int(next(c["id"] for c in sb.db.clients.values() if c["vis_state"] == 0))


def _category(sb: Sandbox) -> str:
    return str(next(iter(sb.db.categories.values()))["category"])


async def _refused(mcp: Client, sb: Sandbox, tool: str, args: dict[str, Any], *expected: str) -> str:
    before = len(sb.write_log)
    text = await call_error(mcp, tool, args)
    for part in expected:
        assert part in text, text
    assert not any(marker in text for marker in CRASH), text
    assert "https://" not in text and "pydantic" not in text
    assert len(sb.write_log) == before, f"{tool} wrote although refused"
    return text


# ---------------------------------------------------------------------- dates


@pytest.mark.parametrize("bad", [0, 1_700_000_000, 20260105, 1.5, True])
async def test_a_number_is_not_a_date(mcp: Client, sandbox: Sandbox, bad: object) -> None:
    args = {"amount": "12.00", "date": bad, "category": _category(sandbox)}
    await _refused(mcp, sandbox, "create_expense", args, "date must be a date written as a YYYY-MM-DD string")
    inv = _open_invoice(sandbox)
    pay = {"invoice_id": inv["id"], "amount": "1.00", "date": bad, "confirm": True}
    await _refused(mcp, sandbox, "record_payment", pay, "date must be a date written as a YYYY-MM-DD string")
    await _refused(mcp, sandbox, "list_invoices", {"issue_date_from": bad}, "issue_date_from must be a date")


@pytest.mark.parametrize("bad", ["2026-1-5", "2026/01/05", "05-01-2026", "2026-01-05T00:00:00", "٢٠٢٦-٠١-٠٥", ""])
async def test_only_the_iso_form_is_a_date(mcp: Client, sandbox: Sandbox, bad: str) -> None:
    args = {"amount": "12.00", "date": bad, "category": _category(sandbox)}
    await _refused(mcp, sandbox, "create_expense", args, "date must be a date written YYYY-MM-DD, e.g. 2026-03-31")


@pytest.mark.parametrize("day", ["0001-01-01", "1969-12-31", "2101-01-01", "9999-12-31"])
async def test_writes_refuse_dates_outside_1970_2100(mcp: Client, sandbox: Sandbox, day: str) -> None:
    rule = "must be between 1970-01-01 and 2100-12-31"
    expense = {"amount": "12.00", "date": day, "category": _category(sandbox)}
    await _refused(mcp, sandbox, "create_expense", expense, f"date {rule}")
    inv = _open_invoice(sandbox)
    pay = {"invoice_id": inv["id"], "amount": "1.00", "date": day, "confirm": True}
    await _refused(mcp, sandbox, "record_payment", pay, f"date {rule}")
    lines = [{"name": "Work", "qty": "1", "unit_cost": "10.00"}]
    invoice = {"client_id": _client_id(sandbox), "lines": lines, "create_date": day}
    await _refused(mcp, sandbox, "create_invoice", invoice, f"create_date {rule}")


async def test_writes_accept_the_window_edges(mcp: Client, sandbox: Sandbox) -> None:
    for day in ("1970-01-01", "2100-12-31"):
        out = await call_ok(mcp, "create_expense", {"amount": "3.00", "date": day, "category": _category(sandbox)})
        assert sandbox.db.expenses[out["expense"]["id"]]["date"] == day


async def test_the_schema_states_the_date_rules(mcp: Client) -> None:
    tools = {t.name: t.input_schema for t in (await mcp.list_tools()).tools}
    write = tools["create_expense"]["properties"]["date"]
    read = tools["list_invoices"]["properties"]["issue_date_from"]
    # #12: a date advertises `format: date` (the write window in words); the argument model keeps the
    # patterns (test_writes_refuse_dates_outside_1970_2100) and the decimal rules.
    assert write["format"] == "date" and "pattern" not in write
    assert "1970-2100" in write["description"]
    assert read["format"] == "date" and "pattern" not in read
    amount = tools["create_expense"]["properties"]["amount"]
    assert "pattern" not in amount and amount["exclusiveMinimum"] == 0


READS_AT_THE_ENDS: list[tuple[str, dict[str, Any]]] = [
    ("list_overdue_invoices", {"as_of": "0001-01-01", "min_days_overdue": 2}),
    ("list_overdue_invoices", {"as_of": "0001-01-01", "min_days_overdue": 3650}),
    ("list_overdue_invoices", {"as_of": "9999-12-31", "min_days_overdue": 1}),
    ("list_invoices", {"issue_date_from": "0001-01-01", "issue_date_to": "9999-12-31"}),
    ("list_invoices", {"due_date_from": "0001-01-01", "due_date_to": "9999-12-31"}),
    ("list_expenses", {"date_from": "0001-01-01", "date_to": "9999-12-31"}),
    ("summarize_expenses", {"date_from": "9999-01-01", "date_to": "9999-12-31", "group_by": "month"}),
    ("summarize_expenses", {"date_from": "0001-01-01", "date_to": "0001-12-31", "group_by": "quarter"}),
    ("list_payments", {"date_from": "0001-01-01", "date_to": "9999-12-31"}),
    ("list_time_entries", {"date_from": "0001-01-01", "date_to": "9999-12-31"}),  # was OverflowError
    ("summarize_time", {"date_from": "2027-11-22", "date_to": "9999-12-31"}),
    ("profit_and_loss", {"date_from": "9999-01-01", "date_to": "9999-12-31", "resolution": "month"}),  # ValueError
    ("profit_and_loss", {"date_from": "9999-01-01", "date_to": "9999-12-31", "resolution": "quarter"}),
]


@pytest.mark.parametrize(
    ("tool", "args"), READS_AT_THE_ENDS, ids=[f"{t}-{i}" for i, (t, _) in enumerate(READS_AT_THE_ENDS)]
)
async def test_reads_at_the_calendars_ends_answer(mcp: Client, tool: str, args: dict[str, Any]) -> None:
    result = await mcp.call_tool(tool, args)
    text = " ".join(getattr(c, "text", "") for c in result.content)
    assert not any(marker in text for marker in CRASH), text  # was OverflowError for list_overdue_invoices
    if result.is_error:  # a clear refusal is fine (e.g. a range too long); a crash is not
        assert "date" in text
    elif tool == "list_overdue_invoices" and args["as_of"] == "0001-01-01":
        assert result.structured_content is not None and result.structured_content["overdue_count"] == 0


# ---------------------------------------------------------------------- text


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ("Acme\x00Corp", "control character U+0000"),
        ("\x1b[31mAcme\x1b[0m", "control character U+001B"),
        ("Acme\u202eCBA", "text-direction control U+202E"),
        ("Acme\u2066Corp", "text-direction control U+2066"),
        ("Acme\nCorp", "control character U+000A"),
        ("Acme\x7f", "control character U+007F"),
    ],
)
async def test_names_refuse_control_and_direction_characters(
    mcp: Client, sandbox: Sandbox, value: str, what: str
) -> None:
    await _refused(mcp, sandbox, "create_client", {"organization": value}, f"organization contains the {what}")
    cid = _client_id(sandbox)
    await _refused(mcp, sandbox, "update_client", {"client_id": cid, "fname": value}, f"fname contains the {what}")
    expense = {"amount": "5.00", "date": "2026-01-05", "category": _category(sandbox), "vendor": value}
    await _refused(mcp, sandbox, "create_expense", expense, f"vendor contains the {what}")
    lines = [{"name": value, "qty": "1", "unit_cost": "5.00"}]
    await _refused(
        mcp, sandbox, "create_invoice", {"client_id": cid, "lines": lines}, f"lines[0].name contains the {what}"
    )


async def test_contacts_are_checked_like_names(mcp: Client, sandbox: Sandbox) -> None:
    contacts = [{"email": "ok@example.com", "fname": "Ann\u202e"}]
    await _refused(
        mcp, sandbox, "create_client", {"organization": "Contact Test", "contacts": contacts}, "contacts[0].fname"
    )


async def test_notes_keep_newlines_and_tabs_but_refuse_other_controls(mcp: Client, sandbox: Sandbox) -> None:
    category = _category(sandbox)
    out = await call_ok(
        mcp, "create_expense", {"amount": "5.00", "date": "2026-01-05", "category": category, "notes": "a\n\tb"}
    )
    assert sandbox.db.expenses[out["expense"]["id"]]["notes"] == "a\n\tb"
    bad = {"amount": "5.00", "date": "2026-01-05", "category": category, "notes": "a\x00b"}
    await _refused(mcp, sandbox, "create_expense", bad, "notes contains the control character U+0000", "newlines")


# ---------------------------------------------------------------------- amounts


@pytest.mark.parametrize("bad", ["1_000", "1,000.00", "1E+3", " 12.50 ", "$12", "NaN", "Infinity", "0x10", "12.5.0"])
async def test_amounts_are_plain_decimals(mcp: Client, sandbox: Sandbox, bad: str) -> None:
    rule = "must be a decimal number written like '1000.00'"
    expense = {"amount": bad, "date": "2026-01-05", "category": _category(sandbox)}
    await _refused(mcp, sandbox, "create_expense", expense, f"amount {rule}")
    inv = _open_invoice(sandbox)
    await _refused(
        mcp, sandbox, "record_payment", {"invoice_id": inv["id"], "amount": bad, "confirm": True}, f"amount {rule}"
    )
    await _refused(mcp, sandbox, "list_expenses", {"amount_min": bad}, f"amount_min {rule}")


async def test_inexact_floats_stay_refused(mcp: Client, sandbox: Sandbox) -> None:
    expense = {"amount": 0.1 + 0.2, "date": "2026-01-05", "category": _category(sandbox)}
    await _refused(mcp, sandbox, "create_expense", expense, "amount must have no more than")  # places or digits


# ---------------------------------------------------------------------- every tool, present and future


def _leaves(annotation: Any, metadata: list[Any]) -> list[tuple[Any, list[Any]]]:
    """(type, the Annotated metadata that applies to it) for each type inside unions, lists and Annotated."""
    import types
    import typing

    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        inner, *extra = typing.get_args(annotation)
        return _leaves(inner, [*metadata, *extra])
    if origin in (typing.Union, types.UnionType, list, tuple):
        return [leaf for arg in typing.get_args(annotation) for leaf in _leaves(arg, metadata)]
    return [(annotation, metadata)]


def _unchecked(model: Any, prefix: str, writes: bool) -> list[str]:
    """Fields of an argument model (and the models inside it) that take a date, text or amount unchecked."""
    import datetime as dt

    from pydantic import BaseModel

    from mcp_server_freshbooks.tools._inputs import FREE_TEXT, ISO_DATE, ONE_LINE, PLAIN_AMOUNT, WRITE_DATE

    found: list[str] = []
    for name, info in model.model_fields.items():
        for leaf, metadata in _leaves(info.annotation, list(info.metadata)):
            checks = set(map(id, metadata))
            has_pattern = any(getattr(m, "pattern", None) for m in metadata)
            if leaf is dt.date:
                wanted = [WRITE_DATE] if writes else [ISO_DATE, WRITE_DATE]
                if not checks & set(map(id, wanted)):
                    found.append(f"{prefix}{name}: date without {'WRITE_DATE' if writes else 'ISO_DATE'}")
            elif leaf is str and not has_pattern and not checks & {id(ONE_LINE), id(FREE_TEXT)}:
                found.append(f"{prefix}{name}: text without ONE_LINE/FREE_TEXT")
            elif leaf is Decimal and id(PLAIN_AMOUNT) not in checks:
                found.append(f"{prefix}{name}: amount without PLAIN_AMOUNT")
            elif isinstance(leaf, type) and issubclass(leaf, BaseModel):
                found += _unchecked(leaf, f"{prefix}{name}.", writes)
    return found


def test_every_date_text_and_amount_parameter_is_checked() -> None:
    """A tool added later gets the same refusals: its dates, text and amounts carry a check from _inputs."""
    from mcp_server_freshbooks.server import _tools
    from mcp_server_freshbooks.tools._base import all_specs

    writes = {spec.name: spec.writes for spec in all_specs()}
    missing = [
        f"{name}.{problem}"
        for name, built in _tools().items()
        for problem in _unchecked(built.fn_metadata.arg_model, "", writes[name])
    ]
    assert not missing, "parameters without a strict input check (see tools/_inputs.py): " + "; ".join(missing)
