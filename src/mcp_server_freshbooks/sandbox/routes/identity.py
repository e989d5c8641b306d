"""The identity family: ``GET /auth/api/v1/users/me`` (who is signed in, their businesses)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .._wire import IDENTITY_UNAUTHORIZED, JSON, fmt_iso_utc
from ._common import json_response, require_auth

if TYPE_CHECKING:
    from ..app import Sandbox


def routes() -> list[Route]:
    return [Route("/auth/api/v1/users/me", me, methods=["GET"])]


def _business(sb: Sandbox) -> JSON:
    return {
        "id": sb.business_id,
        "business_uuid": sb.business_uuid,
        "name": sb.business_name,
        "account_id": sb.account_id,
        "date_format": "mm/dd/yyyy",
        "address": {
            "id": 76433,
            "street": "455 Spadina Ave",
            "city": "Toronto",
            "province": "Ontario",
            "country": "Canada",
            "postal_code": "M5S 2G8",
        },
        "phone_number": {"id": 666111, "phone_number": "416-555-0199"},
        "business_clients": [],
    }


def _memberships_and_groups(sb: Sandbox) -> tuple[list[JSON], list[JSON]]:
    """The owner's business; with ``two_businesses`` also one where the user is a client."""
    memberships: list[JSON] = [
        {"id": sb.membership_id, "role": "owner", "unacknowledged_change": False, "business": _business(sb)}
    ]
    group = {"group_id": 7654, "role": "owner", "identity_id": sb.identity_id, "business_id": sb.business_id}
    groups: list[JSON] = [{"id": sb.identity_id, **group, "active": True}]
    for n, owned in enumerate(sb.also_owns, 1):  # MultiSandbox: more businesses with books of this owner
        memberships.append(
            {"id": owned.membership_id, "role": "owner", "unacknowledged_change": False, "business": _business(owned)}
        )
        owned_group = {"group_id": 7654 + 10 * n, "role": "owner", "identity_id": sb.identity_id}
        groups.append({"id": sb.identity_id + 10 * n, **owned_group, "business_id": owned.business_id, "active": True})
    if sb.options.two_businesses:
        other_id = sb.business_id + 1
        other = {
            "id": other_id,
            "business_uuid": str(uuid.UUID(int=sb.business_id * 7919, version=4)),
            "name": "Bayview Holdings Inc.",
            "account_id": None,
            "date_format": "dd/mm/yyyy",
            "address": None,
            "phone_number": None,
            "business_clients": [],
        }
        memberships.append(
            {"id": sb.membership_id + 5, "role": "client", "unacknowledged_change": False, "business": other}
        )
        group = {"group_id": 7656, "role": "client", "identity_id": sb.identity_id, "business_id": other_id}
        groups.append({"id": sb.identity_id + 1, **group, "active": True})
    return memberships, groups


def _profile(sb: Sandbox, created: str) -> JSON:
    return {
        "id": sb.identity_id,
        "identity_id": sb.identity_id,
        "identity_uuid": str(uuid.UUID(int=sb.identity_id * 104729, version=4)),
        "first_name": sb.owner_first_name,
        "last_name": sb.owner_last_name,
        "email": sb.owner_email,
        "language": "en",
        "confirmed_at": created,
        "created_at": created,
        "unconfirmed_email": None,
        "setup_complete": True,
        "profile": {
            "setup_complete": True,
            "first_name": sb.owner_first_name,
            "last_name": sb.owner_last_name,
            "phone_number": None,
            "address": None,
            "professions": [],
            "has_password": True,
        },
        "phone_numbers": [{"title": "", "phone_number": None}],
        "addresses": [None],
        "profession": None,
        "links": {
            "me": f"/service/auth/api/v1/users?id={sb.identity_id}",
            "roles": f"/service/auth/api/v1/users/role/{sb.identity_id}",
        },
    }


async def me(request: Request) -> Response:
    sb = require_auth(request, IDENTITY_UNAUTHORIZED)
    memberships, groups = _memberships_and_groups(sb)
    created = fmt_iso_utc(datetime.combine(sb.today.replace(year=sb.today.year - 3), datetime.min.time(), UTC))
    role = {
        "id": 61270,
        "role": "admin",
        "systemid": 654654,
        "userid": 1,
        "created_at": created,
        "links": {"destroy": "/service/auth/api/v1/users/role/61270"},
        "accountid": sb.account_id,
    }
    response = {
        **_profile(sb, created),
        "permissions": {sb.account_id: {}},
        "groups": groups,
        "subscription_statuses": {sb.account_id: "active"},
        "integrations": {},
        "business_memberships": memberships,
        "identity_origin": None,
        "roles": [role],
    }
    return json_response({"response": response})
