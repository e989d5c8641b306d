"""FreshBooks' accounting error table (#17): every errno becomes its own class and tells the model what to do.

The table below is copied from seed 003's "Error Codes" (FreshBooks' Postman collection); the test
walks all of it through the parser and through the message a tool returns.
"""

from __future__ import annotations

import pytest

from mcp_server_freshbooks.freshbooks.errors import (
    ERRNO_TABLE,
    ConflictError,
    ForbiddenError,
    FreshBooksError,
    NotFoundError,
    ServerError,
    ValidationError,
    parse_error,
)
from mcp_server_freshbooks.tools._base import tool_error

SEED_003_TABLE = {
    409: "Conflict",
    500: "FreshAlchemyUnexpected",
    1001: "RequiredField",
    1003: "AccessDenied",
    1004: "InvalidValue",
    1005: "ParseError",
    1006: "MappingError",
    1039: "ValuesBackwardsError",
    1042: "InactiveAccountError",
    1007: "DateRangeBackwardsError",
    1008: "DateRangeRequiredError",
    1009: "DuplicateGroupByClause",
    1010: "UnknownGroupByClause",
    1011: "DeletedResource",
    1012: "UnknownResource",
    1013: "InvalidPerPage",
    1014: "InvalidPage",
    1015: "MappingErrorNumber",
    1016: "MappingErrorDateTime",
    1033: "MappingErrorDate",
    1031: "MappingErrorBoolean",
    1017: "MaxLengthExceeded",
    1018: "InvalidPercentValue",
    1019: "ItemDuplicateTax",
    1020: "FileUploadFailed",
    1021: "FileDownloadFailed",
    1022: "FileDeleteFailed",
    1023: "FilterErrorDate",
    1024: "FilterErrorNumber",
    1032: "FilterErrorBoolean",
    1034: "FilterErrorList",
    1025: "InvalidNegativeValue",
    1026: "DuplicateTax",
    1027: "InvalidCharacter",
    1028: "InvalidLessThanOneValue",
    1029: "InvalidDuplicateValue",
    1030: "InvalidRangeValue",
    1035: "InvalidMappingType",
    1036: "UnicodeOutOfRange",
    1037: "FilterErrorScalar",
    1038: "WriteAccessDenied",
    1040: "InvalidTotal",
    1100: "SystemVisitException",
    1101: "SystemAlreadyVisited",
    1102: "MaximumContractorChainLengthReached",
    1103: "LateReminderPositionNotSupported",
    1104: "OldVisStateAttributeCouldNotBeSet",
    1105: "CannotUpdateIpAddress",
    1106: "CannotUpdateLandingUrl",
    1107: "CannotUpdateReferringUrl",
    1108: "CannotUpdateReferralid",
}


def test_the_table_is_seed_003s_table() -> None:
    assert {code: name for code, (name, _base, _advice) in ERRNO_TABLE.items()} == SEED_003_TABLE


@pytest.mark.parametrize("status", [422, 200])  # the classic envelope may come with HTTP 200
@pytest.mark.parametrize(("errno", "name"), sorted(SEED_003_TABLE.items()))
def test_every_errno_has_its_class_and_an_actionable_message(errno: int, name: str, status: int) -> None:
    body = {"response": {"errors": [{"errno": errno, "field": "amount", "message": "Refused.", "object": "invoice"}]}}
    err = parse_error(status, body)
    assert err is not None
    assert type(err).__name__ == name and err.errno == errno and err.field == "amount"
    _name, base, advice = ERRNO_TABLE[errno]
    assert isinstance(err, base) and isinstance(err, FreshBooksError)
    assert err.advice == advice and len(advice) >= 20 and advice.endswith(".")
    text = str(tool_error(err))
    assert advice in text and "Refused" in text
    assert "Traceback" not in text and "{" not in text


def test_the_bases_the_tools_already_handle() -> None:
    def kind(errno: int) -> type[FreshBooksError]:
        err = parse_error(422, {"response": {"errors": [{"errno": errno, "message": "x"}]}})
        assert err is not None
        return type(err).__mro__[1]

    assert kind(1012) is NotFoundError and kind(1011) is NotFoundError
    assert kind(1003) is ForbiddenError and kind(1038) is ForbiddenError
    assert kind(409) is ConflictError and kind(500) is ServerError
    assert kind(1001) is ValidationError and kind(1033) is ValidationError


def test_date_range_backwards_tells_the_model_to_swap() -> None:
    err = parse_error(400, {"response": {"errors": [{"errno": 1007, "field": "date_from", "message": "Bad range."}]}})
    assert err is not None and type(err).__name__ == "DateRangeBackwardsError"
    text = str(tool_error(err))
    assert "date_from is after date_to; swap them." in text and "Nothing was changed" in text


def test_a_tools_own_not_found_hint_still_wins_and_unknown_errnos_keep_their_status_class() -> None:
    err = parse_error(404, {"response": {"errors": [{"errno": 1012, "message": "Client not found."}]}})
    assert err is not None and str(tool_error(err, not_found="Use find_client.")) == "Use find_client."
    other = parse_error(422, {"response": {"errors": [{"errno": 1999, "message": "New rule."}]}})
    assert isinstance(other, ValidationError) and other.advice is None
