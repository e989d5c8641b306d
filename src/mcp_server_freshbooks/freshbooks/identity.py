"""The signed-in identity (`GET /auth/api/v1/users/me`) and which business this server works on."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from .errors import BusinessSelectionError
from .types import EASTERN


class Business(BaseModel):
    """One business membership. `account_id` is None for a pure client role (no accounting books)."""

    model_config = ConfigDict(frozen=True)

    business_id: int
    business_uuid: str | None = None
    name: str
    account_id: str | None = None
    role: str
    membership_id: int | None = None
    timezone: str = EASTERN

    def label(self) -> str:
        account = self.account_id or "no account"
        return f"{self.name!r} (business_id {self.business_id}, account_id {account}, role {self.role})"


class Identity(BaseModel):
    model_config = ConfigDict(frozen=True)

    identity_id: int
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    businesses: tuple[Business, ...] = ()

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or (self.email or "")


def parse_identity(body: Any) -> Identity:
    """Parse the `/me` body: `{"response": {...}}` (no `result` layer)."""
    data = body.get("response") if isinstance(body, dict) else None
    if not isinstance(data, dict) or "id" not in data:
        raise BusinessSelectionError("FreshBooks /users/me returned no identity.")
    businesses = []
    for membership in data.get("business_memberships") or []:
        biz = membership.get("business") if isinstance(membership, dict) else None
        if not isinstance(biz, dict) or biz.get("id") is None:
            continue
        businesses.append(
            Business(
                business_id=int(biz["id"]),
                business_uuid=biz.get("business_uuid"),
                name=str(biz.get("name") or f"business {biz['id']}"),
                account_id=str(biz["account_id"]) if biz.get("account_id") else None,
                role=str(membership.get("role") or "unknown"),
                membership_id=membership.get("id"),
                timezone=str(biz.get("timezone") or EASTERN),
            )
        )
    return Identity(
        identity_id=int(data.get("identity_id") or data["id"]),
        first_name=data.get("first_name"),
        last_name=data.get("last_name"),
        email=data.get("email"),
        businesses=tuple(businesses),
    )


def select_business(identity: Identity, *, account_id: str | None = None, business: str | None = None) -> Business:
    """Pick the business by account id, by name (case-insensitive) or id, or the only one with books.

    Every failure lists what is available, so the fix is one copy-paste away.
    """
    options = "; ".join(b.label() for b in identity.businesses) or "none"
    if account_id:
        chosen = [b for b in identity.businesses if b.account_id == account_id]
        if not chosen:
            raise BusinessSelectionError(
                f"FRESHBOOKS_ACCOUNT_ID={account_id} matches none of your businesses: {options}."
            )
    elif business:
        wanted = business.strip()
        chosen = [
            b
            for b in identity.businesses
            if b.name.casefold() == wanted.casefold() or str(b.business_id) == wanted or b.business_uuid == wanted
        ]
        if not chosen:
            raise BusinessSelectionError(f"FRESHBOOKS_BUSINESS={wanted!r} matches none of your businesses: {options}.")
        if len(chosen) > 1:
            raise BusinessSelectionError(
                f"FRESHBOOKS_BUSINESS={wanted!r} matches several businesses: "
                f"{'; '.join(b.label() for b in chosen)}. Use the business id or FRESHBOOKS_ACCOUNT_ID."
            )
    else:
        chosen = [b for b in identity.businesses if b.account_id]
        if not chosen:
            raise BusinessSelectionError(
                "This FreshBooks user has no business with accounting books"
                + (f" (memberships: {options})" if identity.businesses else "")
                + ". A client-only membership cannot be used; sign in as the business owner or a team member."
            )
        if len(chosen) > 1:
            raise BusinessSelectionError(
                "You belong to several businesses; choose one with FRESHBOOKS_BUSINESS (name or id) or "
                f"FRESHBOOKS_ACCOUNT_ID. Available: {'; '.join(b.label() for b in chosen)}."
            )
    selected = chosen[0]
    if not selected.account_id:
        raise BusinessSelectionError(
            f"{selected.label()} has no accounting account (your role there is {selected.role!r}); "
            "its books cannot be read. Choose another business."
        )
    return selected
