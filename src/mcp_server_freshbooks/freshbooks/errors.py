"""One exception hierarchy for every error envelope FreshBooks sends.

FreshBooks has at least six error shapes (classic accounting `response.errors[]`, sometimes with
HTTP 200; the newer `code/message/details`; projects; auth/token; online payments; ledger). They
all become a `FreshBooksError` subclass the tools can act on without knowing the wire format.
"""

from __future__ import annotations

import re
from typing import Any

_HTML_TITLE = re.compile(r"<title>([^<]{1,120})</title>", re.IGNORECASE)
_HTML_TAG = re.compile(r"<[^>]*>")


class FreshBooksError(Exception):
    """Base error. Carries what a caller needs to explain the failure; never a credential."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        errno: int | None = None,
        field: str | None = None,
        object: str | None = None,
        value: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.errno = errno
        self.field = field
        self.object = object
        self.value = value
        self.method = method
        self.path = path
        self.advice: str | None = ERRNO_ADVICE.get(errno) if errno is not None else None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, status={self.status}, errno={self.errno}, "
            f"field={self.field!r})"
        )


class NotFoundError(FreshBooksError):
    """404 / errno 1012: the id does not exist in this account."""


class ValidationError(FreshBooksError):
    """400/422 or errno 1001-1040: FreshBooks refused the values; `field` names the culprit."""


class AuthError(FreshBooksError):
    """401: the token is missing, expired or revoked and could not be refreshed."""


class ForbiddenError(FreshBooksError):
    """403: the token lacks a scope, or the user's role cannot do this."""


class RateLimitedError(FreshBooksError):
    """429 after every retry allowed by the budget."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ConflictError(FreshBooksError):
    """409: concurrent modification or an invoice-number collision."""


class ServerError(FreshBooksError):
    """5xx after every retry allowed by the budget."""


class TransportError(FreshBooksError):
    """The request could not complete: connection refused, reset, timed out."""


class WriteOutcomeUnknownError(TransportError):
    """A write was sent but no response came back: it may or may not have been applied.

    Never re-sent blindly; the caller must look the record up to find out.
    """


class AppliedError(FreshBooksError):
    """The write WAS applied, but something after it failed (e.g. reading the result back).

    Its message says what was recorded and where to look; it never advises a retry, since
    following such advice would apply the write a second time.
    """


class BusinessSelectionError(FreshBooksError):
    """The identity has no usable business, or several and none was chosen."""


# ---------------------------------------------------------------------- FreshBooks' error-code table

# Every errno of FreshBooks' accounting error table (seed 003 "Error Codes" = docs "Accounting
# Errors"): (name, base class, what the caller should do). Each becomes its own class, named as
# FreshBooks names it and derived from the base the tools already handle (parse_error raises it);
# the advice is written for a model: the next step, not the symptom.
_V, _N, _F, _C, _S, _E = ValidationError, NotFoundError, ForbiddenError, ConflictError, ServerError, FreshBooksError
ERRNO_TABLE: dict[int, tuple[str, type[FreshBooksError], str]] = {
    409: ("Conflict", _C, "Another request was changing this record at the same time; read it again, then retry."),
    500: ("FreshAlchemyUnexpected", _S, "FreshBooks failed inside; check whether the change exists before retrying."),
    1001: ("RequiredField", _V, "A required field is missing; supply the field named."),
    1003: ("AccessDenied", _F, "This FreshBooks user may not do this; ask the account owner for the permission."),
    1004: ("InvalidValue", _V, "A value has the wrong type or is out of range; correct the field named."),
    1005: ("ParseError", _V, "FreshBooks could not parse the request; check the values for odd characters."),
    1006: ("MappingError", _V, "A value does not fit its field; correct the field named."),
    1007: ("DateRangeBackwardsError", _V, "date_from is after date_to; swap them."),
    1008: ("DateRangeRequiredError", _V, "This needs a date range; give both date_from and date_to."),
    1009: ("DuplicateGroupByClause", _V, "The same grouping was asked twice; group by each field once."),
    1010: ("UnknownGroupByClause", _V, "Grouping by that field is not possible; choose another grouping."),
    1011: ("DeletedResource", _N, "The record is deleted; restore it first or use another one."),
    1012: ("UnknownResource", _N, "No record has that id; look the id up with a list or find tool."),
    1013: ("InvalidPerPage", _V, "The page size must be a whole number from 1 to 100."),
    1014: ("InvalidPage", _V, "The page must be a whole number from 1."),
    1015: ("MappingErrorNumber", _V, "A field needs a number; give digits like 12.50."),
    1016: ("MappingErrorDateTime", _V, "A field needs a date and time; write YYYY-MM-DD HH:MM:SS."),
    1017: ("MaxLengthExceeded", _V, "A text or a line is too long; shorten the field named."),
    1018: ("InvalidPercentValue", _V, "A percentage must be a decimal string such as '13' or '7.5'."),
    1019: ("ItemDuplicateTax", _V, "The item already has this tax; leave the second one out."),
    1020: ("FileUploadFailed", _E, "The upload failed and nothing was stored; check the file, then upload it again."),
    1021: ("FileDownloadFailed", _E, "The file could not be read back; try again shortly."),
    1022: ("FileDeleteFailed", _E, "The file could not be deleted; try again shortly."),
    1023: ("FilterErrorDate", _V, "A date filter is not a date; write YYYY-MM-DD."),
    1024: ("FilterErrorNumber", _V, "A number filter is not a number; give digits."),
    1025: ("InvalidNegativeValue", _V, "The value must not be negative; give zero or more."),
    1026: ("DuplicateTax", _V, "A tax with this name already exists; use the existing tax."),
    1027: ("InvalidCharacter", _V, "A value holds a character FreshBooks refuses; remove it."),
    1028: ("InvalidLessThanOneValue", _V, "The value must be 1 or more."),
    1029: ("InvalidDuplicateValue", _V, "The value must be unique and is already used; choose another (e.g. number)."),
    1030: ("InvalidRangeValue", _V, "The value is outside the allowed range; correct the field named."),
    1031: ("MappingErrorBoolean", _V, "A field needs true or false."),
    1032: ("FilterErrorBoolean", _V, "A yes/no filter needs true or false."),
    1033: ("MappingErrorDate", _V, "A field needs a real date (YYYY-MM-DD) within the calendar."),
    1034: ("FilterErrorList", _V, "A list filter needs a list of values."),
    1035: ("InvalidMappingType", _V, "A value has the wrong type for its field; correct the field named."),
    1036: ("UnicodeOutOfRange", _V, "A text holds characters FreshBooks cannot store (e.g. emoji); remove them."),
    1037: ("FilterErrorScalar", _V, "A filter needs one value, not a list."),
    1038: ("WriteAccessDenied", _F, "This FreshBooks user may read but not change this; ask the account owner."),
    1039: ("ValuesBackwardsError", _V, "The minimum is above the maximum; swap them."),
    1040: ("InvalidTotal", _V, "The amounts do not add up to the total; recompute the lines or payment."),
    1042: ("InactiveAccountError", _E, "The FreshBooks account is inactive; it must be reactivated in FreshBooks."),
    1100: ("SystemVisitException", _V, "FreshBooks refused a system-visit field; leave it out."),
    1101: ("SystemAlreadyVisited", _V, "This was already recorded; nothing more to do."),
    1102: ("MaximumContractorChainLengthReached", _V, "The contractor chain is too long; FreshBooks allows no more."),
    1103: ("LateReminderPositionNotSupported", _V, "That late-reminder position is not supported; choose 1, 2 or 3."),
    1104: ("OldVisStateAttributeCouldNotBeSet", _V, "Send vis_state (0 active, 1 deleted, 2 archived) alone."),
    1105: ("CannotUpdateIpAddress", _V, "The IP address cannot be changed; leave it out."),
    1106: ("CannotUpdateLandingUrl", _V, "The landing URL cannot be changed; leave it out."),
    1107: ("CannotUpdateReferringUrl", _V, "The referring URL cannot be changed; leave it out."),
    1108: ("CannotUpdateReferralid", _V, "The referral id cannot be changed; leave it out."),
}
ERRNO_ADVICE: dict[int, str] = {code: advice for code, (_name, _base, advice) in ERRNO_TABLE.items()}
# One class per errno, named as FreshBooks names it (DateRangeBackwardsError, UnknownResource...).
ERRNO_CLASSES: dict[int, type[FreshBooksError]] = {
    code: type(name, (base,), {"__doc__": f"errno {code}: {advice}", "__module__": __name__})
    for code, (name, base, advice) in ERRNO_TABLE.items()
}
_ERRNO_CLASSES = ERRNO_CLASSES


def _to_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _class_for(status: int | None, errno: int | None) -> type[FreshBooksError]:
    if errno is not None and errno in _ERRNO_CLASSES:
        return _ERRNO_CLASSES[errno]
    if status == 401:
        return AuthError
    if status == 403:
        return ForbiddenError
    if status == 404:
        return NotFoundError
    if status == 409:
        return ConflictError
    if status == 429:
        return RateLimitedError
    if status is not None and status >= 500:
        return ServerError
    if errno is not None and 1001 <= errno <= 1108:
        return ValidationError
    if status in (400, 422):
        return ValidationError
    return FreshBooksError


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value)


def parse_error(status: int, body: Any) -> FreshBooksError | None:
    """Return the error a response carries, or None if it is a success.

    `body` is the decoded JSON (or None / a string when the body was not JSON).
    """
    fields: dict[str, Any] = {}
    message: str | None = None
    if isinstance(body, dict):
        response = body.get("response")
        # Classic accounting errors; they may come with HTTP 200.
        if isinstance(response, dict) and isinstance(response.get("errors"), list) and response["errors"]:
            first = response["errors"][0] if isinstance(response["errors"][0], dict) else {}
            message = (
                "; ".join(str(e.get("message") or e) for e in response["errors"] if isinstance(e, dict))
                or "FreshBooks returned an error."
            )
            fields = {
                "errno": _to_int(first.get("errno")),
                "field": _text(first.get("field")),
                "object": _text(first.get("object")),
                "value": _text(first.get("value")),
            }
        # New style: {"code": 5, "message": ..., "details": [{"reason": "1012", "metadata": {...}}]}
        elif "code" in body and "details" in body and isinstance(body.get("details"), list):
            detail = next((d for d in body["details"] if isinstance(d, dict)), {})
            meta: dict[str, Any] = detail["metadata"] if isinstance(detail.get("metadata"), dict) else {}
            violations = detail.get("fieldViolations")
            if isinstance(violations, list) and violations and isinstance(violations[0], dict):
                meta = {"field": violations[0].get("field"), "message": violations[0].get("description")}
            message = str(meta.get("message") or body.get("message") or "FreshBooks returned an error.")
            fields = {
                "errno": _to_int(detail.get("reason")),
                "field": _text(meta.get("field")),
                "object": _text(meta.get("object")),
                "value": _text(meta.get("value")),
            }
        # Ledger accounts: {"errors": {"message", "status", "details": [{"reason", "metadata"}]}}
        elif isinstance(body.get("errors"), dict):
            errors = body["errors"]
            details = errors.get("details") if isinstance(errors.get("details"), list) else []
            detail = details[0] if details and isinstance(details[0], dict) else {}
            meta = detail["metadata"] if isinstance(detail.get("metadata"), dict) else {}
            message = str(meta.get("message") or detail.get("reason") or errors.get("message") or "Error.")
            fields = {"field": _text(meta.get("field"))}
        # Online payments: {"error_type": ..., "message": ..., "errors": [{error_type, message, field}]}
        elif "error_type" in body:
            errs = body.get("errors") if isinstance(body.get("errors"), list) else []
            first = errs[0] if errs and isinstance(errs[0], dict) else {}
            message = str(first.get("message") or body.get("message") or body["error_type"])
            fields = {"field": _text(first.get("field"))}
            if body.get("error_type") == "not_found" and status < 400:
                status = 404
        # Projects/time tracking: {"error": "..."} or {"errno": 2001, "error": {"title", "description"}};
        # auth: {"error": "invalid_grant", "error_description": "..."}.
        elif "error" in body:
            err = body["error"]
            if isinstance(err, dict):
                message = str(err.get("description") or err.get("title") or "FreshBooks returned an error.")
            else:
                description = body.get("error_description")
                message = f"{err}: {description}" if description else str(err)
            fields = {"errno": _to_int(body.get("errno")), "field": _text(body.get("field"))}
        # Events and bare auth failures: {"errno": 401, "message": "..."} / {"message": "..."}.
        elif status >= 400 and "message" in body:
            message = str(body["message"])
            errno = _to_int(body.get("errno"))
            fields = {"errno": errno if errno is not None and errno >= 1000 else None}
    if message is None:
        if status < 400:
            return None
        message = body if isinstance(body, str) and body.strip() and len(body) < 300 else None
        if message and "<" in message:
            # A gateway's HTML page (502/503 from a proxy): keep its title, never the markup.
            title = _HTML_TITLE.search(message)
            text = title.group(1) if title else _HTML_TAG.sub(" ", message)
            text = " ".join(text.split())[:120]
            message = f"HTTP {status} {text}" if text and not text.startswith(str(status)) else (text or None)
        message = message or f"FreshBooks answered HTTP {status}."
    cls = _class_for(status, fields.get("errno"))
    return cls(message, status=status, **fields)
