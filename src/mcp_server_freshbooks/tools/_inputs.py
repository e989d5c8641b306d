"""Strict input checks for tool parameters, and plain-words argument errors.

Pydantic's lax defaults are wrong for books: a number where a date is expected becomes a Unix timestamp
(`date: 0` is 1970-01-01), `"1_000"` is read as 1000, and text is stored with NUL bytes, ANSI escapes or
right-to-left overrides that later disguise a name on screen. These checks refuse such input with a
sentence naming the rule, and advertise it as a plain JSON-schema `pattern` where one can say it.

Each check is an `Annotated` marker placed AFTER the parameter's own `Field(...)`, so pydantic applies
the field's bounds and lengths first (with its usual schema keywords and messages), e.g.

    date: Annotated[dt.date | None, Field(description="..."), WRITE_DATE] = None
    amount: Annotated[Decimal, Field(gt=0, decimal_places=2, description="..."), PLAIN_AMOUNT]
    organization: Annotated[str | None, Field(max_length=200, description="..."), ONE_LINE] = None

`IsoDate`, `WriteDate`, `SingleLine`, `FreeText` and `Amount` are the same checks as ready-made types for
parameters without constraints of their own.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationError
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

__all__ = [
    "FREE_TEXT",
    "ISO_DATE",
    "ONE_LINE",
    "PLAIN_AMOUNT",
    "WRITE_DATE",
    "WRITE_DATE_MAX",
    "WRITE_DATE_MIN",
    "Amount",
    "FreeText",
    "InputModel",
    "IsoDate",
    "SingleLine",
    "WriteDate",
    "explain_not_taken",
    "plain_argument_error",
]


class InputModel(BaseModel):
    """An object a tool takes inside its arguments (a line, a tax, an address): an unknown key is refused,
    as the advertised `additionalProperties: false` says, instead of silently dropped."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Check:
    """An `Annotated` marker: `before` runs on the raw JSON value, `after` on the validated one (both see
    None for an optional parameter left out); `pattern` is advertised on the schema's string branch."""

    before: Callable[[Any], Any] | None = None
    after: Callable[[Any], Any] | None = None
    pattern: str | None = None

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        schema = handler(source)
        if self.after is not None:
            schema = core_schema.no_info_after_validator_function(self.after, schema)
        if self.before is not None:
            schema = core_schema.no_info_before_validator_function(self.before, schema)
        return schema

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        out = handler(schema)
        if self.pattern is not None:
            for branch in _branches(out):
                if branch.get("type") == "string":
                    branch["pattern"] = self.pattern
        return out


def _branches(schema: dict[str, Any]) -> list[dict[str, Any]]:
    if "anyOf" not in schema:
        return [schema]
    return [leaf for branch in schema["anyOf"] for leaf in _branches(branch)]


# ---------------------------------------------------------------------- dates

# Plausible for a small business's books; also what FreshBooks and the reports handle without surprises.
WRITE_DATE_MIN = date(1970, 1, 1)
WRITE_DATE_MAX = date(2100, 12, 31)
DATE_EXAMPLE = "2026-03-31"
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # [0-9], not \d: \d also matches other scripts' digits
READ_DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
WRITE_DATE_PATTERN = r"^(19[7-9][0-9]|20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2}$"


def _iso_date(value: Any) -> Any:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value  # left out, or already a date (a call from Python, not from JSON)
    if not isinstance(value, str):
        raise ValueError(f"must be a date written as a YYYY-MM-DD string, e.g. {DATE_EXAMPLE} (a number is not a date)")
    if not _DATE.fullmatch(value):
        raise ValueError(f"must be a date written YYYY-MM-DD, e.g. {DATE_EXAMPLE}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"must be a real calendar date ({value} does not exist)") from None


def _in_write_window(value: Any) -> Any:
    if isinstance(value, date) and not WRITE_DATE_MIN <= value <= WRITE_DATE_MAX:
        raise ValueError(f"must be between {WRITE_DATE_MIN} and {WRITE_DATE_MAX}")
    return value


# Reads accept any calendar date (0001-01-01..9999-12-31): a filter far in the past or future is harmless.
ISO_DATE = Check(before=_iso_date, pattern=READ_DATE_PATTERN)
# Writes record what the books will say: a date between 1970-01-01 and 2100-12-31.
WRITE_DATE = Check(before=_iso_date, after=_in_write_window, pattern=WRITE_DATE_PATTERN)

# ---------------------------------------------------------------------- text

# Bidirectional-text controls: they reorder what is displayed, so "Acme\u202eCBA" shows as something else.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_NOTE_WHITESPACE = frozenset("\n\r\t")


def _refuse(value: Any, *, allowed: frozenset[str], bidi: bool, what: str) -> Any:
    if not isinstance(value, str):
        return value
    for ch in value:
        if ch in allowed:
            continue
        category = unicodedata.category(ch)
        if category == "Cc":
            raise ValueError(f"contains the control character U+{ord(ch):04X} ({what})")
        if category == "Cs":
            raise ValueError(f"contains an unpaired surrogate U+{ord(ch):04X} ({what})")
        if bidi and ch in _BIDI:
            raise ValueError(f"contains the text-direction control U+{ord(ch):04X} ({what})")
    return value


def _single_line(value: Any) -> Any:
    return _refuse(value, allowed=frozenset(), bidi=True, what="only printable text on one line is allowed")


def _free_text(value: Any) -> Any:
    return _refuse(
        value, allowed=_NOTE_WHITESPACE, bidi=False, what="only printable text, newlines and tabs are allowed"
    )


# Names, organizations, emails, phones, vendors, search text: printable, one line, no direction controls
# (ESC, so ANSI escapes, is a control character).
ONE_LINE = Check(after=_single_line)
# Notes, terms, descriptions: printable text, newlines and tabs.
FREE_TEXT = Check(after=_free_text)

# ---------------------------------------------------------------------- amounts

AMOUNT_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
_AMOUNT = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def _amount(value: Any) -> Any:
    if isinstance(value, str) and not _AMOUNT.fullmatch(value):
        # Decimal("1_000") is 1000 and Decimal("1E+3") too: a model that wrote either meant something else
        raise ValueError(
            "must be a decimal number written like '1000.00': digits and at most one '.', without spaces, "
            "thousands separators ('_' or ','), currency signs or exponents"
        )
    return value


# A JSON number (exact at the field's decimal places, as before) or a plain decimal string.
PLAIN_AMOUNT = Check(before=_amount, pattern=AMOUNT_PATTERN)

IsoDate = Annotated[date, ISO_DATE]
WriteDate = Annotated[date, WRITE_DATE]
SingleLine = Annotated[str, ONE_LINE]
FreeText = Annotated[str, FREE_TEXT]
Amount = Annotated[Decimal, PLAIN_AMOUNT]

# ---------------------------------------------------------------------- errors in plain words

# Pydantic inserts these into an error's location for union and wrapper branches; they are not fields.
_NOT_A_FIELD = re.compile(r".*[\[\]()-].*|str|int|float|bool|decimal|date|datetime|none|list|dict|url|function")
_TYPE_WORDS = {
    "string_type": "must be a string",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "decimal_type": "must be a decimal number written like '250.00'",
    "decimal_parsing": "must be a decimal number written like '250.00'",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dataclass_type": "must be an object",
    "date_type": f"must be a date written YYYY-MM-DD, e.g. {DATE_EXAMPLE}",
    "date_parsing": f"must be a date written YYYY-MM-DD, e.g. {DATE_EXAMPLE}",
    "date_from_datetime_parsing": f"must be a date written YYYY-MM-DD, e.g. {DATE_EXAMPLE}",
    "date_future": "must be a date in the future",
    "missing": "is required",
    "missing_argument": "is required",
}


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for n, part in enumerate(loc):
        if isinstance(part, int):
            path += f"[{part}]"
        elif n == 0:  # always an argument's name (one may be called `date`)
            path = part
        elif not _NOT_A_FIELD.fullmatch(part) and not part[:1].isupper():  # model names are capitalised
            path += f".{part}"
    return path or "arguments"


def _rule(err: Any, allowed: list[str]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "is not an argument of this tool"  # the allowed ones are listed once, after every problem
    if kind in ("literal_error", "enum"):
        expected = (err.get("ctx") or {}).get("expected")
        return f"must be one of {expected}" if expected else "is not one of the allowed values"
    if kind in _TYPE_WORDS:
        return _TYPE_WORDS[kind]
    ctx = err.get("ctx") or {}
    if kind in ("too_long", "too_short") and ctx.get("field_type") == "Value":  # a checked string's length
        bound = ctx.get("max_length") if kind == "too_long" else ctx.get("min_length")
        return f"must have {'at most' if kind == 'too_long' else 'at least'} {bound} characters"
    message = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    # pydantic's own sentences are plain once "Input should" reads "must"; nothing else is rewritten
    return re.sub(r"^(Input|String|List|Value|Decimal input) should (be|have)\b", r"must \2", message)


# (tool, argument) -> why that tool deliberately does not take it (a caller who passes it learns why).
NOT_TAKEN: dict[tuple[str, str], str] = {}


def explain_not_taken(tool: str, arguments: tuple[str, ...], why: str) -> None:
    """Declare arguments a caller may expect (from an older API) that `tool` refuses, and why."""
    for name in arguments:
        NOT_TAKEN[(tool, name)] = why


def _fields_at(schema: dict[str, Any] | None, loc: tuple[int | str, ...]) -> list[str]:
    """The fields the (advertised) object at `loc` takes, or [] when the path leaves the schema."""
    node: Any = schema
    for part in loc:
        if not isinstance(node, dict):
            return []
        node = node.get("items") if isinstance(part, int) else node.get("properties", {}).get(part)
    return sorted(node.get("properties", {})) if isinstance(node, dict) else []


def plain_argument_error(
    tool: str, exc: ValidationError, allowed: list[str] | None = None, schema: dict[str, Any] | None = None
) -> str:
    """One sentence per bad field, naming it and the rule; no model names, links or echoed values.

    Union branches report the same field several times: their rules are joined with "or".
    """
    rules: dict[str, list[str]] = {}
    unknown_top_level = False
    for err in exc.errors(include_url=False):
        path = _field_path(tuple(err["loc"]))
        why = NOT_TAKEN.get((tool, path)) if err["type"] == "extra_forbidden" else None
        if err["type"] == "extra_forbidden" and why is None and len(err["loc"]) > 1:
            # a key inside an object argument (a line, an address): name what that object takes
            fields = _fields_at(schema, tuple(err["loc"][:-1]))
            why = "is not a field there" + (f" (its fields: {', '.join(fields)})" if fields else "")
        elif err["type"] == "extra_forbidden" and why is None:
            unknown_top_level = True
        rule = why or _rule(err, allowed or [])
        if rule not in rules.setdefault(path, []):
            rules[path].append(rule)
    problems = [f"{path} {' or '.join(found)}" for path, found in rules.items()]
    listed = f" The arguments are: {', '.join(allowed)}." if unknown_top_level and allowed else ""
    return f"Invalid arguments for {tool}: " + "; ".join(problems) + "." + listed + " Nothing was done."
