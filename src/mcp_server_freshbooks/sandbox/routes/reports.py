"""The accounting reports: ``GET /accounting/account/{account_id}/reports/accounting/{report}``.

Like FreshBooks: parameters are bare (``start_date=...``); an unknown one (``search[date_min]``
included) is ignored, and counted in ``ignored_search_keys``; without dates a report covers today
only; every result carries a ``download_token`` (an HS256 JWT naming the report and its params).
The figures come from sandbox/reports.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import reports
from .._wire import ACCOUNTING_UNAUTHORIZED, JSON, acct_fail
from ..books import Books
from ._common import json_response, require_auth

log = logging.getLogger("mcp_server_freshbooks.sandbox")

PATH = "/accounting/account/{account_id}/reports/accounting/{report}"
_DATES = frozenset({"start_date", "end_date", "currency_code"})
# report -> (result key, the parameters it applies; `key[]` is the list form)
REPORTS: dict[str, tuple[str, frozenset[str]]] = {
    "profitloss_entity": ("profitloss", _DATES | {"cash_based", "resolution"}),
    "taxsummary": ("taxsummary", _DATES | {"cash_based"}),
    "payments_collected": ("payments_collected", _DATES | {"clientids", "clientids[]", "payment_method"}),
    "accounts_aging": ("accounts_aging", _DATES),
}
COMMON_QUIRK = "bare params only: unknown ones (search[...] too) are ignored and counted; no dates -> today only"
QUIRKS: dict[str, str] = {
    "profitloss_entity": "accrual income = totals (tax included) of sent invoices issued in the range; cash = "
    "payments received, credits applied left out; resolution m / 3m / 12m -> calendar-aligned columns",
    "taxsummary": "collected per invoice line (discounted, rounded per line); paid = expenses' taxAmountN; accrual "
    "figures whatever cash_based says",
    "payments_collected": "every currency unless currency_code; clientids[] and payment_method filter",
    "accounts_aging": "as of end_date (else start_date, else today), by days past due; not-yet-due invoices in 0-30",
}


def routes() -> list[Route]:
    return [Route(PATH, report, methods=["GET"])]


def contract() -> list[dict[str, Any]]:
    """The report endpoints for sandbox/contract.py (parameters are bare, so no search keys)."""
    return [
        {
            "family": "accounting",
            "method": "GET",
            "path": PATH.replace("{report}", name),
            "resource": key,
            "search_keys": [],
            "includes": [],
            "sorts": [],
            "quirks": [f"params: {', '.join(sorted(params))}", QUIRKS[name], COMMON_QUIRK],
        }
        for name, (key, params) in REPORTS.items()
    ]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def download_token(books: Books, objectid: str, params: JSON) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(
        json.dumps(
            {"accountid": books.account_id, "userid": 1, "contactid": -1, "level": 3, "type": "report",
             "objectid": objectid, "params": params},
            sort_keys=True,
        ).encode()
    )  # fmt: skip
    signature = hmac.new(books.account_id.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def _date(params: dict[str, list[str]], key: str, fallback: date) -> date:
    raw = params.get(key)
    if not raw:
        return fallback
    try:
        return date.fromisoformat(raw[-1].strip())
    except ValueError:
        raise acct_fail(400, 1005, key, f"Invalid value for {key}: use YYYY-MM-DD.", "report", raw[-1]) from None


async def report(request: Request) -> Response:
    sb = require_auth(request, ACCOUNTING_UNAUTHORIZED)
    if request.path_params["account_id"] != sb.account_id:
        raise acct_fail(
            403, 1003, "accountid", "You do not have access to perform the action requested.", "account",
            request.path_params["account_id"],
        )  # fmt: skip
    name = request.path_params["report"]
    if name not in REPORTS:
        raise acct_fail(404, 1012, "path", "The requested resource was not found.", "", name)
    key, known = REPORTS[name]
    params: dict[str, list[str]] = {}
    for k, v in parse_qsl(request.url.query, keep_blank_values=True):
        if k in known:
            params.setdefault(k, []).append(v)
        else:
            sb.ignored_search_keys[k] += 1  # FreshBooks ignores it silently (and answers for today)
            log.info("sandbox: report %s ignores unknown parameter %r", name, k)
    books = sb.books
    books.invalidate()
    today = books.today
    code = (params.get("currency_code") or [""])[-1].strip().upper() or None
    result: JSON
    compute: Callable[..., JSON]
    if name == "accounts_aging":
        as_of = _date(params, "end_date", _date(params, "start_date", today))
        result = reports.accounts_aging(books, params, as_of, code or books.base_currency)
    else:
        first = _date(params, "start_date", today)
        last = _date(params, "end_date", today)
        if last < first:
            raise acct_fail(400, 1005, "end_date", "end_date must not be before start_date.", "report", last)
        if name == "payments_collected":
            result = reports.payments_collected(books, params, first, last, code)
        else:
            compute = reports.profit_loss if name == "profitloss_entity" else reports.tax_summary
            result = compute(books, params, first, last, code or books.base_currency)
    echoed: dict[str, Any] = {k: v[-1] for k, v in sorted(params.items())}
    result["download_token"] = download_token(books, key, echoed)
    return json_response({"response": {"result": {key: result}}})
