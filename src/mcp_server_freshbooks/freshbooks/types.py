"""Money, dates and datetimes as FreshBooks sends them, parsed without losing a cent.

Money on the wire is `{"amount": "12.30", "code": "USD"}` with a *string* amount. It is a
`Decimal` here from the first byte to the last, and totals are kept per currency: two
currencies are never added together.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, WithJsonSchema

EASTERN = "America/New_York"


def to_decimal(value: Any) -> Decimal:
    """Parse a FreshBooks amount (string, int or Decimal) exactly. Floats are refused: they lose cents."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool | float):
        raise ValueError("amounts must be decimal strings, not floats")
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip() or "0")
        except InvalidOperation:
            raise ValueError(f"not a decimal amount: {value[:40]!r}") from None
    else:
        raise ValueError(f"not a decimal amount: {type(value).__name__}")
    if not result.is_finite():
        raise ValueError("amount must be a finite number")
    return result


def format_amount(value: Decimal) -> str:
    """Plain decimal string with at least two decimals; extra precision is kept, never rounded away."""
    normalized = value.normalize()
    exponent = normalized.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        return f"{normalized:f}"
    return f"{value.quantize(Decimal('0.01')):f}"


DecimalAmount = Annotated[
    Decimal,
    BeforeValidator(to_decimal),
    PlainSerializer(format_amount, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+\.\d{2,}$", "description": "Decimal amount, e.g. 1234.50"}),
]


class Money(BaseModel):
    """An amount in one currency. `amount` is a decimal string on the wire and in tool results."""

    model_config = ConfigDict(frozen=True)

    amount: DecimalAmount
    code: str

    @classmethod
    def parse(cls, raw: Any, default_code: str | None = None) -> Money | None:
        """From `{"amount": "1.00", "code": "USD"}`; None for null or a missing amount."""
        if not isinstance(raw, dict) or raw.get("amount") in (None, ""):
            return None
        code = raw.get("code") or default_code
        if not code:
            raise ValueError("money without a currency code")
        return cls(amount=to_decimal(raw["amount"]), code=str(code).upper())

    def wire(self) -> dict[str, str]:
        return {"amount": format_amount(self.amount), "code": self.code}


class MoneyTotals:
    """Sums per currency. Adding a `Money` never mixes currencies."""

    __slots__ = ("_sums",)

    def __init__(self, items: Iterable[Money] = ()) -> None:
        self._sums: dict[str, Decimal] = {}
        for item in items:
            self.add(item)

    def add(self, money: Money | None) -> None:
        if money is not None:
            self._sums[money.code] = self._sums.get(money.code, Decimal(0)) + money.amount

    def merge(self, other: MoneyTotals) -> None:
        for code, amount in other._sums.items():
            self._sums[code] = self._sums.get(code, Decimal(0)) + amount

    def get(self, code: str) -> Decimal:
        return self._sums.get(code.upper(), Decimal(0))

    def as_list(self) -> list[Money]:
        """One `Money` per currency, sorted by currency code (stable output for models and tests)."""
        return [Money(amount=amount, code=code) for code, amount in sorted(self._sums.items())]

    def __bool__(self) -> bool:
        return bool(self._sums)

    def __repr__(self) -> str:
        return f"MoneyTotals({dict(sorted(self._sums.items()))})"


def optional_text(value: Any) -> str | None:
    """A wire string with its surrounding whitespace trimmed; None when missing or blank."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def to_int(value: Any, default: int = 0) -> int:
    """A wire integer (ids, status codes); `default` when missing or not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def parse_date(value: Any) -> date | None:
    """`YYYY-MM-DD` (or the date part of a datetime string); None for empty, zero or invalid dates."""
    if value in (None, "", "0000-00-00"):
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    text = str(value).strip()
    if len(text) > 10 and text[10] not in "T ":
        return None  # e.g. "2020-11-219T13:22:04": malformed, not the 21st
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


@lru_cache(maxsize=8)
def shift_days(day: date, days: int) -> date:
    """`day` plus `days` (negative: earlier), held at 0001-01-01 and 9999-12-31 instead of raising
    OverflowError: a bound past the calendar's ends means "no bound" for every query built from it."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.min if days < 0 else date.max


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def parse_accounting_datetime(value: Any, *, utc: bool = False) -> datetime | None:
    """Accounting datetimes are `YYYY-MM-DD HH:MM:SS` with no zone: US/Eastern, except a few UTC fields.

    Returns an aware datetime, or None when the value is missing or malformed (FreshBooks does
    send malformed timestamps; a bad timestamp must not break a whole listing).
    """
    if value in (None, ""):
        return None
    text = str(value).strip().replace("T", " ").removesuffix("Z")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC if utc else zone(EASTERN))
    return parsed


def today_in(timezone_name: str = EASTERN) -> date:
    """Today's date where the business is (FreshBooks' own notion of 'overdue' uses it)."""
    return datetime.now(zone(timezone_name)).date()
