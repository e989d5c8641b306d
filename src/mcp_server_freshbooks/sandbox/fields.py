"""Validation of accounting request bodies: each refusal is FreshBooks' 422 error envelope."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from ._wire import ApiError, acct_fail, dec, parse_date

ZERO = Decimal("0")
HUNDRED = Decimal("100")


def names(text: str) -> tuple[str, ...]:
    """Field names written as one space-separated string (keeps long data tables compact)."""
    return tuple(text.split())


def invalid(field_name: str, obj: str, value: Any, message: str | None = None, errno: int = 1004) -> ApiError:
    return acct_fail(422, errno, field_name, message or f"Invalid value for field {field_name}.", obj, value)


def refuse_if_deleted(rec: Any, obj: str) -> None:
    """Ordinary fields or actions on a deleted record: 422 errno 1011 DeletedResource (errors table).
    A PUT of vis_state alone (undelete) never reaches this: the route applies that phase itself."""
    if rec.get("vis_state") == 1:
        raise acct_fail(422, 1011, "vis_state", f"This {obj} has been deleted.", obj, rec.get("id"))


def required(field_name: str, obj: str) -> ApiError:
    return acct_fail(422, 1001, field_name, f"Field {field_name} is required.", obj, None)


def not_found(field_name: str, obj: str, value: Any, what: str) -> ApiError:
    """A referenced record that does not exist (errno 1012)."""
    return acct_fail(422, 1012, field_name, f"{what} not found.", obj, value)


def money_input(value: Any, field_name: str, obj: str) -> tuple[Decimal, str | None]:
    """Money arrives as {"amount": "1.00", "code": "USD"}; tolerate a bare decimal string too."""
    code: str | None = None
    raw = value
    if isinstance(value, dict):
        raw = value.get("amount")
        c = value.get("code")
        code = c if isinstance(c, str) and c else None
    amount = dec(raw)
    if amount is None:
        raise invalid(field_name, obj, raw)
    return amount, code


def int_field(value: Any, field_name: str, obj: str) -> int:
    if isinstance(value, bool):
        raise invalid(field_name, obj, value, errno=1015)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise invalid(field_name, obj, value, errno=1015)


def date_field(value: Any, field_name: str, obj: str) -> date:
    parsed = parse_date(value)
    if parsed is None:
        raise invalid(field_name, obj, value, errno=1033)
    return parsed


def pct_field(value: Any, field_name: str, obj: str) -> Decimal:
    if value is None or value == "":
        return ZERO
    parsed = dec(value)
    if parsed is None:
        raise acct_fail(422, 1018, field_name, "Percent values should be strings formatted as decimals.", obj, value)
    return parsed
