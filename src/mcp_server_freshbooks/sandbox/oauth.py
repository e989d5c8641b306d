"""OAuth2 state of the sandbox: one registered app, auth codes, access and refresh tokens."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

DEFAULT_CLIENT_ID = "sandbox-client-id"
DEFAULT_CLIENT_SECRET = "sandbox-client-secret"
DEFAULT_REDIRECT_URI = "https://localhost/callback"
CODE_TTL = 300  # authorization codes live 5 minutes
DEFAULT_SCOPES = (
    " ".join(
        f"user:{obj}:{mode}"
        for obj in (
            "bill_payments",
            "bills",
            "billable_items",
            "business",
            "clients",
            "estimates",
            "expenses",
            "invoices",
            "online_payments",
            "other_income",
            "payments",
            "projects",
            "reports",
            "taxes",
            "time_entries",
        )
        for mode in ("read", "write")
    )
    + " user:profile:read"
)


@dataclass
class _Code:
    expires_at: float
    redirect_uri: str
    scope: str


@dataclass
class TokenStore:
    """Access tokens expire after ``ttl``; refresh tokens never expire but are single-use and only
    the newest one is valid (issuing a pair invalidates the older refresh token). Old access tokens
    stay valid until their own expiry after a refresh, as with real OAuth servers."""

    ttl: int
    access: dict[str, float] = field(default_factory=dict)  # token -> expiry (epoch seconds)
    refresh_token: str | None = None
    codes: dict[str, _Code] = field(default_factory=dict)
    scope: str = DEFAULT_SCOPES

    def issue(self, access_token: str | None = None) -> tuple[str, str, int]:
        token = access_token or secrets.token_hex(32)
        now = int(time.time())
        self.access[token] = now + self.ttl
        self.refresh_token = secrets.token_hex(32)
        return token, self.refresh_token, now

    def access_valid(self, token: str) -> bool:
        expiry = self.access.get(token)
        return expiry is not None and time.time() < expiry

    def new_code(self, redirect_uri: str, scope: str | None) -> str:
        code = secrets.token_urlsafe(24)
        self.codes[code] = _Code(time.time() + CODE_TTL, redirect_uri, scope or self.scope)
        return code

    def take_code(self, code: str, redirect_uri: str | None) -> str | None:
        """Consume a code (single-use). Returns an error description, or None if valid."""
        entry = self.codes.pop(code, None)
        if entry is None:
            return "The provided authorization grant is invalid, expired, revoked, or was already used."
        if time.time() > entry.expires_at:
            return "The authorization code has expired."
        if redirect_uri is not None and redirect_uri != entry.redirect_uri:
            return "The redirect_uri does not match the one used in the authorization request."
        return None

    def take_refresh(self, token: str) -> bool:
        if self.refresh_token is not None and secrets.compare_digest(token, self.refresh_token):
            self.refresh_token = None
            return True
        return False

    def revoke(self, token: str) -> None:
        self.access.pop(token, None)
        if self.refresh_token == token:
            self.refresh_token = None
