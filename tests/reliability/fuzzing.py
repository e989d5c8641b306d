"""Hostile-argument generation from each tool's own input schema, and the checks every call must pass.

Shared by tests/reliability/test_fuzz.py (CI, a few thousand cases) and bench/fuzz.py (long run).
Arguments are mostly schema-valid (so tool bodies run, reads and writes happen) with hostile
values mixed in per field (wrong types, empty and 100 KB strings, control characters, unusual
unicode, negative/zero/huge/many-decimal amounts, impossible dates, unknown ids), plus whole-call
mutations whose failure must name the field: an extra field, a missing required field, a wrong type.
Values the server must refuse whatever else is sent (#11) are found by `must_refuse` and checked to be
refused by name: a number as a date, a write dated outside 1970-2100, a control or text-direction
character in a name (notes may hold newlines and tabs), an amount with `_` separators.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

JSON = dict[str, Any]

HUGE = "x" * 100_000
CONTROL = "\x00\x01\x07\x08\x1b[31m\x7f\u0085"
UNICODE = [
    "Zoë & Søn Ltd.",
    "株式会社テスト",
    "\u202eevil\u202c",  # right-to-left override
    "a\u200bb\u200dc\ufeff",  # zero-width characters
    "🧾💸👩🏽‍💼",
    "e\u0301\u0301\u0301",  # stacked combining marks
    "\ud7ff\ue000\uffff",
    "Robert'); DROP TABLE clients;--",
    "${jndi:ldap://x}",
    "%s%n%x",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "   ",
    "\t\n\r",
]
BAD_AMOUNTS = [
    "-5",
    "0",
    "-0.00",
    "0.001",
    "12.300000001",
    "1e309",
    "1E+3",
    "NaN",
    "Infinity",
    "-Infinity",
    "1,000.00",
    "1_000",
    "1_000.00",
    "$12",
    "9" * 40,
    "0x10",
    "",
    " 12.50 ",
    "12.5.0",
    -1,
    0,
    1e308,
    10**30,
    0.1 + 0.2,
]
BAD_DATES = [
    "2026-02-30",
    "2026-13-01",
    "0000-00-00",
    "2025-02-29",
    "99999-01-01",
    "0001-01-01",
    "9999-12-31",
    "2026/01/05",
    "05-01-2026",
    "yesterday",
    "",
    "2026-01-05T25:00:00",
    "2026-1-5",
    "1969-12-31",
    "2101-01-01",
    "٢٠٢٦-٠١-٠٥",  # Arabic-Indic digits: \d would match them
]
DATE_NUMBERS = [0, 1_700_000_000, 20260105, -1, 1.5, True]
UNKNOWN_IDS = [999_999_999, 2**31, 2**63, 10**30, 0, -1, -(2**63)]
WRONG_TYPE = {"unexpected": ["object"]}


@dataclass
class Known:
    """Real ids from the sandbox, so some calls hit existing records and tool bodies run fully."""

    client_ids: list[int]
    invoice_ids: list[int]
    project_ids: list[int]
    category_names: list[str]


def known_from(sb: Any) -> Known:
    return Known(
        client_ids=sorted(sb.db.clients)[:30],
        invoice_ids=sorted(sb.db.invoices)[:60],
        project_ids=sorted(sb.db.projects)[:10] or [1],
        category_names=[c["category"] for c in list(sb.db.categories.values())[:20]],
    )


def _resolve(schema: JSON, defs: JSON) -> JSON:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return dict(defs[ref.removeprefix("#/$defs/")])
    return schema


# Bidirectional-text controls a name may not hold (notes may).
BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
FREE_TEXT_FIELDS = frozenset({"notes", "note", "terms", "description", "message"})  # FREE_TEXT params in tools/
PRINTABLE = st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters=BIDI)


def _valid_text(schema: JSON) -> st.SearchStrategy[str]:
    lo = int(schema.get("minLength", 0))
    hi = min(int(schema.get("maxLength", 60)), 60)
    if "pattern" in schema:
        pattern = str(schema["pattern"])
        if "@" in pattern:
            return st.sampled_from(["ann@example.com", "bob.smith@acme.co.uk", "x@y.zz"])
        if "A-Za-z" in pattern:
            return st.sampled_from(["USD", "CAD", "eur", "GBP", "XXX"])
        return st.from_regex(pattern, fullmatch=True)
    return st.text(PRINTABLE, min_size=lo, max_size=max(lo, hi))


def value_for(
    name: str, schema: JSON, defs: JSON, known: Known, depth: int = 0, hostile_ok: bool = True
) -> st.SearchStrategy[Any]:
    """Mostly valid values for one field (per its schema), with hostile ones mixed in (unless not hostile_ok)."""
    schema = _resolve(schema, defs)
    hostile: list[Any] = [None, WRONG_TYPE, "", HUGE]
    if "anyOf" in schema:
        branches = [_resolve(s, defs) for s in schema["anyOf"]]
        if any(b.get("type") == "number" for b in branches):  # a Decimal: number or decimal string
            branches = [b for b in branches if b.get("type") != "string"]
        options = [value_for(name, s, defs, known, depth, hostile_ok) for s in branches]
        return st.one_of(*options)
    if "enum" in schema:
        if not hostile_ok:
            return st.sampled_from(list(schema["enum"]))
        return st.one_of(
            st.sampled_from(list(schema["enum"])),
            st.sampled_from([*hostile, "DETAILED", " concise", "unknown"]),
        )
    kind = _kind(schema)
    valid: st.SearchStrategy[Any]
    if kind == "integer":
        lo, hi = schema.get("minimum"), schema.get("maximum")
        if name in ("client_id", "customer_id"):
            valid = st.sampled_from(known.client_ids)
        elif name == "invoice_id":
            valid = st.sampled_from(known.invoice_ids)
        elif name == "project_id":
            valid = st.sampled_from(known.project_ids)
        else:
            valid = st.integers(
                min_value=int(lo) if lo is not None else -5, max_value=int(hi) if hi is not None else 500
            )
        hostile += [*UNKNOWN_IDS, 1.5, "12", "abc", True]
    elif kind == "number":
        # within the advertised bounds: a "valid" 0.00 where exclusiveMinimum is 0 would be refused, and a
        # reversed-range case must be otherwise valid for its error to be about the range
        low = Decimal(str(schema.get("minimum", 0)))
        if "exclusiveMinimum" in schema:
            low = max(low, Decimal(str(schema["exclusiveMinimum"])) + Decimal("0.01"))
        high = Decimal(str(schema.get("maximum", 5000)))
        valid = st.decimals(min_value=low, max_value=high, places=2, allow_nan=False).map(lambda d: f"{d:f}")
        hostile += BAD_AMOUNTS
    elif kind == "string" and schema.get("format") == "date":
        valid = st.dates(min_value=date(2018, 1, 1), max_value=date(2030, 12, 31)).map(date.isoformat)
        hostile += BAD_DATES + DATE_NUMBERS
    elif kind == "string":
        if name in ("category",):
            valid = st.one_of(st.sampled_from(known.category_names), _valid_text(schema))
        elif name in ("amount", "qty", "unit_cost", "percent"):
            valid = st.decimals(min_value=0, max_value=5000, places=2, allow_nan=False).map(lambda d: f"{d:f}")
        else:
            valid = _valid_text(schema)
        hostile += [CONTROL, *UNICODE, "x" * (int(schema.get("maxLength", 50)) + 1)]
        if name in ("amount", "qty", "unit_cost", "percent"):
            hostile += BAD_AMOUNTS
    elif kind == "boolean":
        valid = st.booleans()
        hostile += ["yes", "true", 2, "1"]
    elif kind == "array":
        items = schema.get("items", {})
        lo = int(schema.get("minItems", 0))
        hi = min(int(schema.get("maxItems", 4)), 4)
        valid = (
            st.lists(value_for(name, items, defs, known, depth + 1, hostile_ok), min_size=lo, max_size=max(lo, hi))
            if depth < 2
            else st.just([])
        )
        hostile += [[], "not-a-list", [None] * 200]
    elif kind == "object" or "properties" in schema:
        valid = object_for(schema, defs, known, depth + 1, hostile_ok) if depth < 3 else st.just({})
        hostile += ["not-an-object", []]
    else:
        valid = st.none()
    if not hostile_ok:
        return valid
    return st.one_of(valid, valid, valid, st.sampled_from(hostile))


def _kind(schema: JSON) -> Any:
    """The schema's type; a type list with "number" (a Decimal: number or decimal string) is a number."""
    kind = schema.get("type")
    if isinstance(kind, list):
        return "number" if "number" in kind else next((k for k in kind if k != "null"), None)
    return kind


def object_for(
    schema: JSON, defs: JSON, known: Known, depth: int = 0, hostile_ok: bool = True
) -> st.SearchStrategy[JSON]:
    props: JSON = schema.get("properties", {})
    required = set(schema.get("required", []))
    mandatory = {k: value_for(k, v, defs, known, depth, hostile_ok) for k, v in props.items() if k in required}
    optional = {k: value_for(k, v, defs, known, depth, hostile_ok) for k, v in props.items() if k not in required}
    return st.fixed_dictionaries(mandatory, optional=optional)


@dataclass(frozen=True)
class Case:
    tool: str
    arguments: JSON
    mutation: str  # "", "extra", "missing", "wrong_type", "reversed"
    target: str | None  # the field the mutation is about


def case_for(tool: str, schema: JSON, known: Known) -> st.SearchStrategy[Case]:
    defs: JSON = schema.get("$defs", {})
    props: JSON = schema.get("properties", {})
    required = sorted(schema.get("required", []))
    base = object_for(schema, defs, known)
    clean = object_for(schema, defs, known, hostile_ok=False)
    pairs = [(k, k[: -len("_from")] + "_to") for k in props if k.endswith("_from") and k[:-5] + "_to" in props]

    @st.composite
    def build(draw: st.DrawFn) -> Case:
        kinds = ["", "", "", "extra"]
        kinds += ["wrong_type"] if props else []
        kinds += ["missing"] if required else []
        kinds += ["reversed"] if pairs else []
        mutation = draw(st.sampled_from(kinds))
        # a reversed range is checked on otherwise-valid arguments, so it is what the error is about
        # half the unmutated cases are schema-valid so tool bodies run (reads, writes, cross-field checks)
        valid_only = mutation == "reversed" or (mutation == "" and draw(st.booleans()))
        args = dict(draw(clean if valid_only else base))
        target: str | None = None
        if mutation == "extra":
            target = draw(st.sampled_from(["confim", "clientid", "bogus", "approval", "__proto__", "x" * 64]))
            args[target] = draw(st.sampled_from([True, 1, "x", None]))
        elif mutation == "wrong_type":
            target = draw(st.sampled_from(sorted(props)))
            sub = _resolve(props[target], defs)
            objectish = sub.get("type") in ("object", "array") or any(
                _resolve(s, defs).get("type") in ("object", "array") for s in sub.get("anyOf", [])
            )
            args[target] = 12345 if objectish else WRONG_TYPE
        elif mutation == "missing":
            target = draw(st.sampled_from(required))
            args.pop(target, None)
        elif mutation == "reversed":
            lo_key, hi_key = draw(st.sampled_from(pairs))
            start = draw(st.dates(min_value=date(2019, 1, 1), max_value=date(2029, 1, 1)))
            gap = draw(st.integers(min_value=1, max_value=400))
            args[lo_key], args[hi_key] = start.isoformat(), (start - timedelta(days=gap)).isoformat()
            target = lo_key
        return Case(tool, args, mutation, target)

    return build()


# ---------------------------------------------------------------------- what must be refused

_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
WRITE_WINDOW = (date(1970, 1, 1), date(2100, 12, 31))


def _bad_text(value: str, free_text: bool) -> bool:
    for ch in value:
        if free_text and ch in "\n\r\t":
            continue
        if unicodedata.category(ch) in ("Cc", "Cs") or (not free_text and ch in BIDI):
            return True
    return False


def _refusals(path: str, name: str, value: Any, schema: JSON, defs: JSON) -> list[str]:
    schema = _resolve(schema, defs)
    if value is None:
        return []  # left out
    kind = _kind(schema)
    if schema.get("format") == "date":
        if not isinstance(value, str) or not _ISO.fullmatch(value):
            return [path]  # a number (Unix time), another layout, other digits: never a date
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return [path]
        writes = "1970-2100" in str(schema.get("description", ""))  # the write window, stated in words (#12)
        return [path] if writes and not WRITE_WINDOW[0] <= day <= WRITE_WINDOW[1] else []
    if kind == "number" and isinstance(value, str) and "_" in value:
        return [path]
    if kind == "string" and "enum" not in schema and isinstance(value, str):
        return [path] if _bad_text(value, name in FREE_TEXT_FIELDS) else []
    if kind == "array" and isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [r for i, item in enumerate(value) for r in _refusals(f"{path}[{i}]", name, item, schema["items"], defs)]
    if isinstance(value, dict) and "properties" in schema:
        props: JSON = schema["properties"]
        return [r for k, v in value.items() if k in props for r in _refusals(f"{path}.{k}", k, v, props[k], defs)]
    return []


def must_refuse(arguments: JSON, schema: JSON) -> list[str]:
    """The argument paths (as errors name them: `lines[0].name`) whose value the server must refuse."""
    defs: JSON = schema.get("$defs", {})
    props: JSON = schema.get("properties", {})
    return [r for k, v in arguments.items() if k in props for r in _refusals(k, k, v, props[k], defs)]


# ---------------------------------------------------------------------- checks

CRASH_MARKERS = ("Traceback", "Unexpected server error", 'File "', "Exception:", "object has no attribute")


@dataclass
class Tally:
    cases: int = 0
    ok: int = 0
    errors: int = 0
    writes: int = 0
    must_refuse: int = 0  # calls carrying a value that must be refused by name (see must_refuse)
    by_mutation: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


def _short(args: JSON) -> str:
    text = repr(args)
    return text if len(text) < 400 else text[:400] + "…"


def check(
    case: Case,
    is_error: bool,
    text: str,
    structured: JSON | None,
    wrote: int,
    tally: Tally,
    refusals: list[str] | None = None,
) -> list[str]:
    """Every rule one call must obey; returns the broken ones (empty = fine). `refusals`: must_refuse()."""
    tally.cases += 1
    tally.by_mutation[case.mutation or "none"] += 1
    problems: list[str] = []
    where = f"{case.tool}({_short(case.arguments)}) [{case.mutation or 'no mutation'}]"
    if any(marker in text for marker in CRASH_MARKERS):
        problems.append(f"{where}: crash-like text: {text[:300]!r}")
    if re.fullmatch(r"Error executing tool \w+\.?", text.strip()):
        problems.append(f"{where}: error without a reason: {text!r}")
    if is_error:
        tally.errors += 1
        if not text.strip():
            problems.append(f"{where}: empty error")
        if wrote:
            problems.append(f"{where}: a rejected call wrote {wrote} time(s): {text[:200]!r}")
        if case.mutation in ("extra", "missing", "wrong_type") and case.target and case.target not in text:
            problems.append(f"{where}: error does not name {case.target!r}: {text[:300]!r}")
    else:
        tally.ok += 1
        tally.writes += wrote
        if not structured:
            problems.append(f"{where}: success without structured content: {text[:200]!r}")
        if not text.strip():
            problems.append(f"{where}: success with empty text")
        if case.mutation in ("extra", "missing", "wrong_type"):
            problems.append(f"{where}: accepted a {case.mutation} {case.target!r}: {text[:200]!r}")
        if case.mutation == "reversed":
            problems.append(f"{where}: accepted a reversed range: {text[:200]!r}")
    if refusals:
        tally.must_refuse += 1
        if not is_error:
            problems.append(f"{where}: accepted {refusals} (a value that must be refused): {text[:200]!r}")
        elif missing := [path for path in refusals if path not in text]:
            problems.append(f"{where}: refusal does not name {missing}: {text[:300]!r}")
    # another pair may be reversed too (and reported first): any range field named is fine
    if case.mutation == "reversed" and is_error and not re.search(r"\w+_(from|to)\b", text):
        problems.append(f"{where}: reversed-range error names no range field: {text[:300]!r}")
    tally.problems.extend(problems)
    return problems


def confirmed(arguments: JSON) -> bool:
    """Whether the call says confirm=true, as pydantic's lax bool reads it (a model sending "true" means it)."""
    value = arguments.get("confirm")
    if isinstance(value, str):
        return value.strip().lower() in ("1", "on", "t", "true", "y", "yes")
    return value is True or (isinstance(value, int | float) and value == 1)


def asks_before_writing(sb: Any, case: Case) -> bool:
    """Whether this call, to a tool that takes `confirm`, must not write without confirm=true.

    update_invoice asks only before changing what a SENT invoice bills (lines, discount, client,
    issue date); a draft, or notes/terms/PO/due date, change without asking. Every other such tool asks.
    """
    if case.tool != "update_invoice":
        return True
    try:  # as the argument model reads it ("500001" is that invoice); hostile ids (a dict...) are none
        invoice_id = int(case.arguments.get("invoice_id"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        invoice_id = 0
    inv = sb.db.invoices.get(invoice_id)
    billed = {"lines", "discount_percent", "client_id", "create_date"} & set(case.arguments)
    draft = inv is not None and (inv.get("status") == 1 or inv.get("v3_status") in ("draft", "created"))
    return bool(billed) and inv is not None and not draft
