"""Wire-format helpers shared by the sandbox: money, timestamps, error bodies.

Everything here produces exactly what travels over HTTP (strings for money,
naive US/Eastern datetimes for accounting, ISO UTC for the project family).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/New_York")
CENT = Decimal("0.01")

JSON = dict[str, Any]


class ApiError(Exception):
    """Raised by handlers; rendered as the family-specific error body."""

    def __init__(self, status: int, body: JSON, headers: dict[str, str] | None = None) -> None:
        super().__init__(str(body))
        self.status = status
        self.body = body
        self.headers = headers or {}


def q2(value: Decimal) -> Decimal:
    """Round to cents the way invoices are rounded (half up)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money(value: Decimal, code: str) -> JSON:
    return {"amount": str(q2(value)), "code": code}


def dec(value: Any) -> Decimal | None:
    """Parse a wire decimal (string or number, never float-rounded); None if invalid."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        value = repr(value)
    try:
        result = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not result.is_finite():
        return None
    return result


def pct_str(value: Decimal) -> str:
    """Percent/qty strings as FreshBooks prints them: no trailing zeros ("13", "7.5")."""
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


def fmt_dt(value: datetime) -> str:
    """Accounting datetime: naive 'YYYY-MM-DD HH:MM:SS'."""
    if value.year < 1000 or value.tzinfo is not None:  # strftime's own (unpadded) year, as always
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value.isoformat(" ", "seconds")  # the same text, 3x faster: seeding formats ~25k of these


def fmt_version(value: datetime) -> str:
    """An invoice's ``version``: 'YYYY-MM-DD HH:MM:SS.ffffff'."""
    if value.year < 1000 or value.tzinfo is not None:
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value.isoformat(" ", "microseconds")


def fmt_iso_utc(value: datetime, z: bool = True) -> str:
    text = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return text + "Z" if z else text


def parse_date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip()[:10]) if len(value.strip()) == 10 else None
    except ValueError:
        return None


def parse_bool(value: Any) -> bool | None:
    """Booleans arrive as JSON bools, 'true'/'True'/'1' strings or ints."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0 if value in (0, 1) else None
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("true", "1", "yes"):
            return True
        if low in ("false", "0", "no"):
            return False
    return None


def acct_error(errno: int, field: str, message: str, obj: str, value: Any) -> JSON:
    """Classic accounting error envelope (see fact sheet §5)."""
    return {
        "response": {
            "errors": [
                {
                    "errno": errno,
                    "field": field,
                    "message": message,
                    "object": obj,
                    "value": "" if value is None else str(value),
                }
            ]
        }
    }


def acct_fail(status: int, errno: int, field: str, message: str, obj: str, value: Any) -> ApiError:
    return ApiError(status, acct_error(errno, field, message, obj, value))


ACCOUNTING_UNAUTHORIZED: JSON = {
    "code": 16,
    "message": "Request failed with status_code: 401",
    "details": [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "1003",
            "domain": "accounting.api.freshbooks.com",
            "metadata": {
                "object": "",
                "message": "The server could not verify that you are authorized to access the URL requested.",
                "value": "",
                "field": "",
            },
        }
    ],
}
IDENTITY_UNAUTHORIZED: JSON = {
    "error": "unauthenticated",
    "error_description": "This action requires authentication to continue.",
}
PROJECT_UNAUTHORIZED: JSON = {
    "message": "The server could not verify that you are authorized to access the URL requested. "
    "You either supplied the wrong credentials (e.g. a bad password), or your browser doesn't "
    "understand how to supply the credentials required."
}
PROJECT_NOT_FOUND: JSON = {"error": "Requested resource could not be found."}
