"""Several FreshBooks users at one sandbox URL: each identity is a full `Sandbox` with its own business and books.

FreshBooks serves every user at one host; their tokens tell them apart. `MultiSandbox` does the same:
``/oauth/authorize?...&login_hint=<n>`` (0-based; ``identity=<n>`` also works; default 0) signs in
identity n, and every later request goes to the identity its code, refresh token or access token
belongs to. Identity 0 is exactly ``Sandbox(options)``; identity n uses seed ``options.seed + 1000 * n``
(a separate RNG stream, so the default sandbox's books are unchanged) and a few more clients, invoices and
expenses, so some of its record ids exist in no other identity's books (ids are per account, as in FreshBooks).
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any
from urllib.parse import parse_qs

from starlette.types import Message, Receive, Scope, Send

from .app import Sandbox
from .options import SandboxOptions

OTHER_OWNERS: tuple[tuple[str, str, str, str], ...] = (
    ("Priya", "Shah", "priya@harbourlane.example.com", "Harbour Lane Bakery"),
    ("Tomas", "Novak", "tomas@novakjoinery.example.com", "Novak Joinery"),
    ("Aiko", "Mori", "aiko@morilab.example.com", "Mori Lab Consulting"),
)


_SCOPED = re.compile(r"/account/([^/]+)/|/business/(\d+)/")


class MultiSandbox:
    """`count` sandbox identities behind one ASGI app (`.app`); `.identities[n]` is identity n's `Sandbox`."""

    def __init__(
        self,
        options: SandboxOptions | None = None,
        count: int = 2,
        *,
        redirect_uri: str | None = None,
        second_business: bool = False,
    ) -> None:
        if not 1 <= count <= 1 + len(OTHER_OWNERS):
            raise ValueError(f"identities must be 1..{1 + len(OTHER_OWNERS)}")
        opts = options or SandboxOptions()
        self.identities: list[Sandbox] = [Sandbox(opts)]
        for n in range(1, count):
            # Bigger books for each later identity, so some of its record ids exist in no other identity's books.
            sb = Sandbox(
                dataclasses.replace(
                    opts,
                    seed=opts.seed + 1000 * n,
                    access_token=None,
                    clients=opts.clients + 5 * n,
                    invoices=opts.invoices + 10 * n,
                    expenses=opts.expenses + 10 * n,
                )
            )
            first, last, email, business = OTHER_OWNERS[n - 1]
            sb.owner_first_name, sb.owner_last_name, sb.owner_email = first, last, email
            sb.business_name = sb.books.business_name = business
            self.identities.append(sb)
        # Every business's books; with `second_business`, identity 0 also owns "Northbeam Labs" (its own books,
        # reached with identity 0's tokens at its own account id).
        self.businesses: list[Sandbox] = list(self.identities)
        if second_business:
            owner = self.identities[0]
            labs = Sandbox(dataclasses.replace(opts, seed=opts.seed + 500, access_token=None))
            labs.business_name = labs.books.business_name = "Northbeam Labs"
            labs.identity_id = labs.books.identity_id = owner.identity_id
            labs.tokens = owner.tokens  # one sign-in, several businesses
            owner.also_owns.append(labs)
            self.businesses.append(labs)
        if redirect_uri:
            for sb in self.businesses:
                sb.redirect_uri = redirect_uri

    def __getattr__(self, name: str) -> Any:  # access_token, account_id, oauth_client_id... of identity 0
        return getattr(self.identities[0], name)

    @property
    def redirect_uri(self) -> str:
        return self.identities[0].redirect_uri

    @redirect_uri.setter
    def redirect_uri(self, value: str) -> None:
        for sb in self.businesses:
            sb.redirect_uri = value

    def _by_index(self, text: str | None) -> Sandbox:
        try:
            n = int(text or 0)
        except ValueError:
            n = 0
        return self.identities[n] if 0 <= n < len(self.identities) else self.identities[0]

    def _by_token(self, token: str, path: str = "") -> Sandbox:
        for sb in self.identities:
            if token in sb.tokens.access or token in sb.tokens.codes or token == sb.tokens.refresh_token:
                return self._by_path(sb, path)
        return self.identities[0]  # answers 401 / invalid_grant as FreshBooks would

    def _by_path(self, signed_in: Sandbox, path: str) -> Sandbox:
        """The business a path names (``/account/<id>/``, ``/business/<id>/``) among those this sign-in owns."""
        match = _SCOPED.search(path)
        if match:
            for sb in [signed_in, *signed_in.also_owns]:
                if match.group(1) == sb.account_id or match.group(2) == str(sb.business_id):
                    return sb
        return signed_in

    @property
    def app(self) -> MultiSandbox:
        """The ASGI app (this object), as `Sandbox.app` is for one identity."""
        return self

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.identities[0].app(scope, receive, send)
            return
        path = scope.get("path", "")
        if path.rstrip("/") == "/oauth/authorize":
            query = parse_qs(scope.get("query_string", b"").decode())
            hint = (query.get("login_hint") or query.get("identity") or [None])[0]
            await self._by_index(hint).app(scope, receive, send)
            return
        if path in ("/auth/oauth/token", "/auth/oauth/revoke"):
            body = await _read_body(receive)
            fields = _fields(body, scope)
            token = fields.get("code") or fields.get("refresh_token") or fields.get("token") or ""
            await self._by_token(token).app(scope, _replay(body), send)
            return
        headers = dict(scope.get("headers") or [])
        scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        await self._by_token(token.strip() if scheme.lower() == "bearer" else "", path).app(scope, receive, send)


async def _read_body(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += bytes(message.get("body", b""))
        if not message.get("more_body"):
            return body


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


def _fields(body: bytes, scope: Scope) -> dict[str, str]:
    headers = dict(scope.get("headers") or [])
    if b"application/json" in headers.get(b"content-type", b""):
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return {}
        return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    return {k: v[0] for k, v in parse_qs(body.decode("latin-1")).items()}
