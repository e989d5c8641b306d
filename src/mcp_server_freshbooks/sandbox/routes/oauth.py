"""OAuth for the one registered app: authorize (auto-approves), token (authorization_code and
refresh_token grants), revoke. Token state lives in :class:`..oauth.TokenStore`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ._common import json_response, sandbox_of

if TYPE_CHECKING:
    from ..app import Sandbox


def routes() -> list[Route]:
    return [
        Route("/oauth/authorize", oauth_authorize, methods=["GET"]),
        Route("/oauth/authorize/", oauth_authorize, methods=["GET"]),
        Route("/auth/oauth/token", oauth_token, methods=["POST"]),
        Route("/auth/oauth/revoke", oauth_revoke, methods=["POST"]),
    ]


def _oauth_error(sb: Sandbox, grant: str, status: int, error: str, description: str) -> Response:
    sb.token_requests.append((grant, error))
    return json_response({"error": error, "error_description": description}, status)


async def oauth_authorize(request: Request) -> Response:
    sb = sandbox_of(request)
    p = request.query_params
    if p.get("client_id") != sb.oauth_client_id:
        return json_response({"error": "invalid_client", "error_description": "Unknown client_id."}, 400)
    if p.get("redirect_uri") != sb.redirect_uri:
        return json_response(
            {
                "error": "invalid_request",
                "error_description": "The redirect_uri does not match the registered one.",
            },
            400,
        )
    if p.get("response_type") != "code":
        return json_response(
            {"error": "unsupported_response_type", "error_description": "Only response_type=code is supported."},
            400,
        )
    code = sb.tokens.new_code(sb.redirect_uri, p.get("scope"))
    params = {"code": code}
    if p.get("state") is not None:
        params["state"] = p["state"]
    return RedirectResponse(f"{sb.redirect_uri}?{urlencode(params)}", status_code=302)


async def _form(request: Request) -> dict[str, str]:
    ctype = request.headers.get("content-type", "")
    if "application/json" in ctype:
        try:
            data = json.loads(await request.body() or b"{}")
        except ValueError:
            return {}
        return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


async def oauth_token(request: Request) -> Response:
    sb = sandbox_of(request)
    data = await _form(request)
    grant = data.get("grant_type", "")
    if data.get("client_id") != sb.oauth_client_id or data.get("client_secret") != sb.oauth_client_secret:
        return _oauth_error(
            sb,
            grant,
            401,
            "invalid_client",
            "Client authentication failed due to unknown client, no client "
            "authentication included, or unsupported authentication method.",
        )
    if grant == "authorization_code":
        problem = sb.tokens.take_code(data.get("code", ""), data.get("redirect_uri"))
        if problem:
            return _oauth_error(sb, grant, 400, "invalid_grant", problem)
    elif grant == "refresh_token":
        if not sb.tokens.take_refresh(data.get("refresh_token", "")):
            return _oauth_error(
                sb,
                grant,
                400,
                "invalid_grant",
                "The provided authorization grant is invalid, expired, revoked, does not match the "
                "redirection URI used in the authorization request, or was issued to another client.",
            )
    else:
        return _oauth_error(
            sb,
            grant,
            400,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
        )
    access, refresh, created = sb.tokens.issue()
    sb.token_requests.append((grant, "ok"))  # token calls go here, not in write_log (books only)
    return json_response(
        {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": sb.tokens.ttl,
            "refresh_token": refresh,
            "scope": sb.tokens.scope,
            "created_at": created,
        }
    )


async def oauth_revoke(request: Request) -> Response:
    sb = sandbox_of(request)
    data = await _form(request)
    if data.get("client_id") != sb.oauth_client_id or data.get("client_secret") != sb.oauth_client_secret:
        return _oauth_error(sb, "revoke", 401, "invalid_client", "Client authentication failed.")
    sb.tokens.revoke(data.get("token", ""))
    sb.token_requests.append(("revoke", "ok"))
    return json_response({})
