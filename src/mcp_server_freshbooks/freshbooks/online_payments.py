"""Online payments on an invoice (#17): FreshBooks Payments / Stripe options.

Fact sheet §9: `GET|POST /payments/account/{account_id}/invoice/{invoice_id}/payment_options`; the
POST body is NOT wrapped in a top-level key: `{"gateway_name": "fbpay", "entity_id": 123,
"entity_type": "invoice", "has_credit_card": true, ...}`; the answer is `{"payment_options": {...}}`
and errors are `{"error_type": ..., "message": ..., "errors": [{..., "field"}]}`. The ACH flag is
`has_ach_transfer`. A gateway works only once the business went through FreshBooks' "Know Your
Client" onboarding (seed 003); FreshBooks documents no error code for that, so a refusal naming
`gateway_name` (we only ever send a valid name) is read as "not set up".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .api import FreshBooksClient
from .errors import FreshBooksError, ValidationError
from .writes import resendable

Gateway = Literal["fbpay", "stripe"]
GATEWAY_NAMES: dict[str, str] = {"fbpay": "FreshBooks Payments", "stripe": "Stripe"}


class GatewayNotSetUpError(ValidationError):
    """The business has not set this gateway up (the Know Your Client step is done in FreshBooks)."""


@dataclass(frozen=True)
class PaymentOptions:
    gateway: str
    credit_card: bool
    bank_transfer: bool
    partial_payments: bool

    @property
    def enabled(self) -> bool:
        return self.credit_card or self.bank_transfer


def parse_options(raw: dict[str, Any]) -> PaymentOptions:
    return PaymentOptions(
        gateway=str(raw.get("gateway_name") or ""),
        credit_card=raw.get("has_credit_card") is True,
        bank_transfer=raw.get("has_ach_transfer") is True,
        partial_payments=raw.get("allow_partial_payments") is True,
    )


async def _path(client: FreshBooksClient, invoice_id: int) -> str:
    account_id = (await client.business()).account_id
    return f"/payments/account/{account_id}/invoice/{int(invoice_id)}/payment_options"


async def set_invoice_payment_options(
    client: FreshBooksClient,
    invoice_id: int,
    gateway: Gateway,
    *,
    credit_card: bool,
    bank_transfer: bool,
    partial_payments: bool,
) -> PaymentOptions:
    """Set which online payments an invoice takes (sets flags: re-sendable, writes.resendable)."""
    body = {
        "gateway_name": gateway,
        "entity_id": int(invoice_id),
        "entity_type": "invoice",
        "has_credit_card": credit_card,
        "has_ach_transfer": bank_transfer,
        "allow_partial_payments": partial_payments,
    }
    try:
        answer = await resendable(client, "POST", await _path(client, invoice_id), json=body)
    except ValidationError as exc:
        if exc.field == "gateway_name":
            raise GatewayNotSetUpError(
                f"{GATEWAY_NAMES[gateway]} is not set up for this business ({exc.message.rstrip('.')})",
                status=exc.status,
                field=exc.field,
                method=exc.method,
                path=exc.path,
            ) from None
        raise
    raw = answer.get("payment_options") if isinstance(answer, dict) else None
    if not isinstance(raw, dict):
        raise FreshBooksError(f"FreshBooks returned no payment options for invoice id {invoice_id}.")
    return parse_options(raw)
