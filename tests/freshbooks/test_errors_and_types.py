"""Every FreshBooks error envelope parses into the right exception; money never loses a cent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mcp_server_freshbooks.freshbooks import errors as E
from mcp_server_freshbooks.freshbooks.types import Money, MoneyTotals, parse_accounting_datetime, parse_date, to_decimal

CLASSIC_404 = {
    "response": {
        "errors": [
            {"errno": 1012, "field": "userid", "message": "Client not found.", "object": "client", "value": "12345"}
        ]
    }
}
NEW_404 = {
    "code": 5,
    "message": "Request failed with status_code: 404",
    "details": [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "1012",
            "domain": "accounting.api.freshbooks.com",
            "metadata": {"object": "client", "message": "Client not found.", "value": "12345", "field": "userid"},
        }
    ],
}


@pytest.mark.parametrize(
    ("status", "body", "cls", "errno", "field", "message"),
    [
        (404, CLASSIC_404, E.NotFoundError, 1012, "userid", "Client not found."),
        (200, CLASSIC_404, E.NotFoundError, 1012, "userid", "Client not found."),  # errors inside HTTP 200
        (404, NEW_404, E.NotFoundError, 1012, "userid", "Client not found."),
        (
            422,
            {"response": {"errors": [{"errno": 1001, "field": "categoryid", "message": "Required field."}]}},
            E.ValidationError,
            1001,
            "categoryid",
            "Required field.",
        ),
        (404, {"error": "Requested resource could not be found."}, E.NotFoundError, None, None, "Requested resource"),
        (
            422,
            {"errno": 2001, "error": {"title": "field required", "description": "title is required"}},
            E.ValidationError,
            2001,
            None,
            "title is required",
        ),
        (401, {"message": "The server could not verify that you are authorized"}, E.AuthError, None, None, "verify"),
        (
            403,
            {"error": "unauthenticated", "error_description": "This action requires authentication to continue."},
            E.ForbiddenError,
            None,
            None,
            "unauthenticated",
        ),
        (
            400,
            {"error": "invalid_grant", "error_description": "expired"},
            E.ValidationError,
            None,
            None,
            "invalid_grant",
        ),
        (
            400,
            {"error_type": "validation", "message": "bad", "errors": [{"message": "gateway bad", "field": "gateway"}]},
            E.ValidationError,
            None,
            "gateway",
            "gateway bad",
        ),
        (
            400,
            {
                "errors": {
                    "message": "x",
                    "status": 400,
                    "details": [{"reason": "r", "metadata": {"message": "name: required", "field": "name"}}],
                }
            },
            E.ValidationError,
            None,
            "name",
            "name: required",
        ),
        (429, None, E.RateLimitedError, None, None, "HTTP 429"),
        (503, "<html>Service Unavailable</html>", E.ServerError, None, None, "Service Unavailable"),
        (
            409,
            {"response": {"errors": [{"errno": 409, "message": "Conflict"}]}},
            E.ConflictError,
            409,
            None,
            "Conflict",
        ),
    ],
)
def test_error_envelopes(
    status: int, body: object, cls: type[E.FreshBooksError], errno: int | None, field: str | None, message: str
) -> None:
    err = E.parse_error(status, body)
    # an errno of FreshBooks' table raises its own class (#17), derived from the expected base
    assert type(err) is E.ERRNO_CLASSES.get(errno, cls) if errno is not None else type(err) is cls
    assert isinstance(err, cls)
    assert err is not None
    assert err.errno == errno
    assert err.field == field
    assert message in err.message


def test_success_bodies_are_not_errors() -> None:
    assert E.parse_error(200, {"response": {"result": {"client": {"id": 1}}}}) is None
    assert E.parse_error(204, None) is None
    assert E.parse_error(200, {"response": {"errors": []}}) is None


def test_money_is_exact_and_never_float() -> None:
    assert to_decimal("7.60133524082021936099189318") == Decimal("7.60133524082021936099189318")
    with pytest.raises(ValueError, match="float"):
        to_decimal(0.1)
    money = Money.parse({"amount": "12.3", "code": "usd"})
    assert money is not None
    assert money.model_dump(mode="json") == {"amount": "12.30", "code": "USD"}
    assert Money.parse({"amount": "7.601335", "code": "CAD"}).model_dump(mode="json")["amount"] == "7.601335"  # type: ignore[union-attr]
    assert Money.parse(None) is None
    assert Money.parse({"amount": None, "code": "USD"}) is None


def test_totals_never_mix_currencies() -> None:
    totals = MoneyTotals()
    for amount, code in [("0.10", "USD"), ("0.20", "USD"), ("5.00", "CAD"), ("0.05", "EUR")]:
        totals.add(Money(amount=Decimal(amount), code=code))
    assert [(m.code, str(m.amount)) for m in totals.as_list()] == [("CAD", "5.00"), ("EUR", "0.05"), ("USD", "0.30")]
    assert totals.get("USD") == Decimal("0.30")  # 0.1 + 0.2 exactly


def test_dates_and_naive_eastern_datetimes() -> None:
    assert str(parse_date("2022-01-05")) == "2022-01-05"
    assert parse_date("0000-00-00") is None
    assert parse_date("2020-11-219T13:22:04") is None  # FreshBooks really sends these
    eastern = parse_accounting_datetime("2022-01-05 07:17:12")
    utc = parse_accounting_datetime("2022-01-05 12:17:11", utc=True)
    assert eastern is not None and utc is not None
    assert abs((eastern - utc).total_seconds() - 1) < 1e-6  # the seed's 5-hour EST offset
    assert parse_accounting_datetime("garbage") is None
