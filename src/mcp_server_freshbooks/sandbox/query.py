"""Query-string parsing, search filters, sorting and pagination (fact sheet §3)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from ._wire import JSON, ApiError, acct_error, dec, parse_bool

Pred = Callable[[JSON], bool]
# A search spec turns the raw value(s) of one key into a predicate (or raises a filter error).
# Its second argument is the Books (typed Any: this module knows no store), for keys that look
# at other records (client balances, a payment's client name).
Spec = Callable[[list[str], Any], Pred]
# A search key's factory: given the key as sent (for error bodies), the Spec.
SearchKey = Callable[[str], Spec]
# A sort key: (books, record) -> comparable.
SortKey = Callable[[Any, JSON], Any]


@dataclass
class ParsedQuery:
    search: dict[str, list[str]] = field(default_factory=dict)  # key -> values (lists keep all)
    bare: dict[str, str] = field(default_factory=dict)
    includes: list[str] = field(default_factory=list)
    page: str | None = None
    per_page: str | None = None
    sort: str | None = None


def parse_query(raw_query: str) -> ParsedQuery:
    """Raw or %-encoded brackets both work: parse_qsl decodes before we look at them."""
    q = ParsedQuery()
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        if key.startswith("search[") and "]" in key:
            name = key[len("search[") : key.index("]")]
            q.search.setdefault(name, []).append(value)
        elif key in ("include[]", "include", "includes[]"):
            q.includes.append(value)
        elif key == "page":
            q.page = value
        elif key == "per_page":
            q.per_page = value
        elif key == "sort":
            q.sort = value
        else:
            q.bare[key] = value
    return q


def _filter_error(errno: int, key: str, value: str, message: str) -> ApiError:
    return ApiError(400, acct_error(errno, key, message, "search", value))


def _num(key: str, value: str) -> Decimal:
    parsed = dec(value)
    if parsed is None:
        raise _filter_error(1024, key, value, f"Invalid number for search field {key}.")
    return parsed


def _int(key: str, value: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise _filter_error(1024, key, value, f"Invalid number for search field {key}.") from None


def _date_text(key: str, value: str) -> str:
    """Dates (YYYY-MM-DD) compare as strings; datetimes are truncated/normalised too."""
    text = value.strip().replace("T", " ").rstrip("Z")
    try:
        if len(text) == 10:
            date.fromisoformat(text)
        else:
            datetime.fromisoformat(text)
    except ValueError:
        raise _filter_error(1023, key, value, f"Invalid date for search field {key}.") from None
    return text


int_value = _int  # for resource-specific search keys
filter_error = _filter_error


def _get(rec: JSON, path: str) -> Any:
    if "." not in path:  # the common case; this runs once per record per filter on every list page
        return rec.get(path)
    value: Any = rec
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


# ---- spec factories ---------------------------------------------------------------------------
def eq_int(path: str) -> SearchKey:
    def make(key: str) -> Spec:
        def spec(values: list[str], books: Any) -> Pred:
            target = _int(key, values[-1])
            return lambda r: _get(r, path) == target

        return spec

    return make


def in_int(path: str) -> SearchKey:
    def make(key: str) -> Spec:
        def spec(values: list[str], books: Any) -> Pred:
            targets = {_int(key, v) for part in values for v in part.split(",") if v.strip()}
            return lambda r: _get(r, path) in targets

        return spec

    return make


def eq_str(path: str, ci: bool = True) -> SearchKey:
    def make(key: str) -> Spec:
        def spec(values: list[str], books: Any) -> Pred:
            target = values[-1].lower() if ci else values[-1]
            return lambda r: (str(_get(r, path) or "").lower() if ci else str(_get(r, path) or "")) == target

        return spec

    return make


def like(*paths: str, extra: Callable[[Any, JSON], Iterable[str]] | None = None) -> SearchKey:
    """Case-insensitive substring over one or more fields."""

    def make(key: str) -> Spec:
        def spec(values: list[str], books: Any) -> Pred:
            needle = values[-1].lower()

            def pred(r: JSON) -> bool:
                hay = [str(_get(r, p) or "") for p in paths]
                if extra is not None:
                    hay.extend(extra(books, r))
                return any(needle in h.lower() for h in hay)

            return pred

        return spec

    return make


def num_bound(path: str, upper: bool) -> SearchKey:
    """min inclusive, max exclusive (fact sheet §3: "maximums match below the value")."""

    def make(key: str) -> Spec:
        def spec(values: list[str], books: Any) -> Pred:
            bound = _num(key, values[-1])

            def pred(r: JSON) -> bool:
                raw = _get(r, path)
                if isinstance(raw, dict):
                    raw = raw.get("amount")
                value = dec(raw)
                if value is None:
                    return False
                return value < bound if upper else value >= bound

            return pred

        return spec

    return make


def date_bound(path: str, upper: bool) -> SearchKey:
    """min inclusive, max exclusive; works for dates and naive datetimes alike."""

    def make(key: str) -> Spec:
        def spec(values: list[str], books: Any) -> Pred:
            bound = _date_text(key, values[-1])

            def pred(r: JSON) -> bool:
                value = _get(r, path)
                if not isinstance(value, str) or not value:
                    return False
                value = value.replace("T", " ").rstrip("Z")[: max(len(bound), 10)]
                return value < bound if upper else value >= bound

            return pred

        return spec

    return make


def boolean(fn: Callable[[Any, JSON, bool], bool]) -> SearchKey:
    """Blank value means true (has_outstanding etc. take no value)."""

    def make(key: str) -> Spec:
        def spec(values: list[str], books: Any) -> Pred:
            raw = values[-1]
            flag = True if raw.strip() == "" else parse_bool(raw)
            if flag is None:
                raise _filter_error(1032, key, raw, f"Invalid boolean for search field {key}.")
            return lambda r: fn(books, r, flag)

        return spec

    return make


def field_bool(path: str) -> SearchKey:
    return boolean(lambda _books, r, flag: bool(_get(r, path)) == flag)


def vis_state() -> SearchKey:
    return in_int("vis_state")


# ---- business family (projects, time tracking, comments): bare ``key=value`` filters ------------
def _business_invalid(key: str, what: str) -> ApiError:
    return ApiError(422, {"errno": 2001, "error": {key: what}})


def bare_bool(path: str) -> SearchKey:
    """``key=true|false`` (no blank-means-true here); anything else is a 422."""

    def make(key: str) -> Spec:
        def spec(values: list[str], books: Any) -> Pred:
            flag = parse_bool(values[-1])
            if flag is None:
                raise _business_invalid(key, "not a valid boolean")
            return lambda r: r[path] == flag

        return spec

    return make


def bare_int(path: str) -> SearchKey:
    def make(key: str) -> Spec:
        def spec(values: list[str], books: Any) -> Pred:
            try:
                want = int(values[-1])
            except ValueError:
                raise _business_invalid(key, "not a valid integer") from None
            return lambda r: r[path] == want

        return spec

    return make


def bare_since(path: str, upper: bool = False) -> SearchKey:
    """ISO timestamps compared as text without the trailing Z; both bounds inclusive."""

    def make(key: str) -> Spec:
        def spec(values: list[str], books: Any) -> Pred:
            bound = values[-1].rstrip("Z")
            if upper:
                return lambda r: r[path].rstrip("Z") <= bound
            return lambda r: r[path].rstrip("Z") >= bound

        return spec

    return make


def by(path: str, lower: bool = False) -> SortKey:
    """Sort on one field (lower-cased text when ``lower``; None sorts as "")."""
    if lower:
        return lambda _books, r: (_get(r, path) or "").lower()
    return lambda _books, r: _get(r, path)


def by_amount(path: str = "amount") -> SortKey:
    return lambda _books, r: Decimal(_get(r, path)["amount"])


@dataclass
class Page:
    items: list[JSON]
    page: int
    pages: int
    per_page: int
    total: int


def paginate(
    records: list[JSON],
    q: ParsedQuery,
    default_per_page: int,
    errors: Callable[[int, str, str], ApiError],
    skip: int = 0,
) -> Page:
    """One page of `records[skip:]` (`skip`: leading items that are not records, left in place)."""
    page = 1
    if q.page is not None:
        try:
            page = int(q.page)
        except ValueError:
            raise errors(1014, "page", q.page) from None
        if page < 0:
            raise errors(1014, "page", q.page)
        page = max(page, 1)  # page=0 -> 1 (fact sheet §3)
    per_page = default_per_page
    if q.per_page is not None:
        try:
            per_page = int(q.per_page)
        except ValueError:
            raise errors(1013, "per_page", q.per_page) from None
        if per_page <= 0:
            raise errors(1013, "per_page", q.per_page)
        per_page = min(per_page, 100)  # silently capped
    total = len(records) - skip
    pages = (total + per_page - 1) // per_page
    start = skip + (page - 1) * per_page
    return Page(records[start : start + per_page], page, pages, per_page, total)
