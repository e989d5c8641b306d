"""A minimal FreshBooks OAuth + identity fake, used until/unless the project sandbox is available.

It mirrors the sandbox's names (`app`, `access_token`, `refresh_token`, `oauth_client_id`,
`oauth_client_secret`, `redirect_uri`, `token_requests`) and FreshBooks' rules: authorization codes are
single-use, refresh tokens are single-use and rotate (reuse -> 400 invalid_grant), and an access token is
rejected with 401 after `token_ttl` seconds.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route


@dataclass
class TokenRequest:
    grant: str
    outcome: str  # "ok" | "invalid_grant" | "invalid_client"


@dataclass
class FakeFreshBooks:
    token_ttl: float = 43200
    oauth_client_id: str = "fake-client-id"
    oauth_client_secret: str = "fake-client-secret"
    redirect_uri: str = "https://localhost/callback"
    token_requests: list[TokenRequest] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    api_calls: int = 0
    token_endpoint_down: bool = False  # answer 503 on the token endpoint (transient outage)
    issued: list[str] = field(default_factory=list)  # every token and code handed out (canary checks)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._access: dict[str, float] = {}
        self._refresh: str | None = None
        self._codes: set[str] = set()
        pair = self._issue()
        self.access_token: str = pair["access_token"]
        self.refresh_token: str = pair["refresh_token"]
        self.app = Starlette(
            routes=[
                Route("/oauth/authorize", self._authorize),
                Route("/auth/oauth/token", self._token, methods=["POST"]),
                Route("/auth/oauth/revoke", self._revoke, methods=["POST"]),
                Route("/auth/api/v1/users/me", self._me),
            ]
        )

    def _issue(self) -> dict[str, Any]:
        now = time.time()
        access, refresh = "at-" + secrets.token_hex(12), "rt-" + secrets.token_hex(12)
        self._access[access] = now + self.token_ttl
        self._refresh = refresh  # only one live refresh token per user+app
        self.issued += [access, refresh]
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.token_ttl,
            "refresh_token": refresh,
            "scope": "user:profile:read user:clients:read",
            "created_at": int(now) if self.token_ttl >= 60 else now,
        }

    async def _authorize(self, request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != self.oauth_client_id or q.get("response_type") != "code":
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        code = "code-" + secrets.token_hex(8)
        self._codes.add(code)
        self.issued.append(code)
        params = {"code": code, **({"state": q["state"]} if "state" in q else {})}
        return RedirectResponse(f"{q.get('redirect_uri')}?{urlencode(params)}", status_code=302)

    async def _token(self, request: Request) -> Response:
        form = await request.form()
        grant = str(form.get("grant_type"))
        if self.token_endpoint_down:
            self.token_requests.append(TokenRequest(grant, "unavailable"))
            return JSONResponse({"error": "temporarily_unavailable"}, status_code=503)
        if form.get("client_id") != self.oauth_client_id or form.get("client_secret") != self.oauth_client_secret:
            self.token_requests.append(TokenRequest(grant, "invalid_client"))
            return JSONResponse({"error": "invalid_client", "error_description": "bad client"}, status_code=401)
        with self._lock:
            if grant == "authorization_code":
                code = str(form.get("code"))
                if code not in self._codes or form.get("redirect_uri") != self.redirect_uri:
                    self.token_requests.append(TokenRequest(grant, "invalid_grant"))
                    return JSONResponse({"error": "invalid_grant", "error_description": "bad code"}, status_code=400)
                self._codes.discard(code)
            elif grant == "refresh_token":
                if form.get("refresh_token") != self._refresh or self._refresh is None:
                    self.token_requests.append(TokenRequest(grant, "invalid_grant"))
                    return JSONResponse(
                        # Echo the presented token, as a careless server might: callers must redact it.
                        {
                            "error": "invalid_grant",
                            "error_description": f"The refresh token {form.get('refresh_token')} is invalid.",
                        },
                        status_code=400,
                    )
            else:
                return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
            body = self._issue()
            self.token_requests.append(TokenRequest(grant, "ok"))
        return JSONResponse(body)

    async def _revoke(self, request: Request) -> Response:
        form = await request.form()
        token = str(form.get("token"))
        self.revoked.append(token)
        self._access.pop(token, None)
        if token == self._refresh:
            self._refresh = None
        return JSONResponse({})

    async def _me(self, request: Request) -> Response:
        self.api_calls += 1
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ")
        expires = self._access.get(token)
        if expires is None or expires <= time.time():
            return JSONResponse(
                {"error": "unauthenticated", "error_description": "This action requires authentication."},
                status_code=401,
            )
        return JSONResponse(
            {
                "response": {
                    "id": 1,
                    "identity_id": 1,
                    "first_name": "Ada",
                    "last_name": "Lovelace",
                    "email": "ada@example.com",
                    "business_memberships": [
                        {
                            "id": 11,
                            "role": "owner",
                            "business": {"id": 101, "name": "Analytical Engines", "account_id": "AE123"},
                        }
                    ],
                }
            }
        )
