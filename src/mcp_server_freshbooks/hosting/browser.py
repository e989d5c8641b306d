"""Plays the user's browser through the hosted sign-in: for tests, benches and scripted clients.

`sign_in` follows the redirects from an MCP client's authorization URL through this server and
FreshBooks (the sandbox signs in without a password; ``login_hint`` picks its identity), submits the
consent page (plain HTML form) and returns the URL the browser is finally sent to: the MCP client's
redirect URI with ``code`` and ``state`` (or ``error``). Use it as the redirect handler of
``mcp.client.auth.OAuthClientProvider``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlparse, urlunparse

_HIDDEN = re.compile(r"<input type=hidden name=consent value='([^']+)'>")
_BUSINESS = re.compile(r"<input type=radio name=business value=(\d+)(?: checked)?> ([^<]*)</label>")


class SignInError(RuntimeError):
    """The sign-in did not reach the client's redirect URI (the message says where it stopped)."""


def _with_hint(url: str, login_hint: int | None) -> str:
    if login_hint is None:
        return url
    parts = urlparse(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "login_hint"] + [("login_hint", str(login_hint))]
    return urlunparse(parts._replace(query=urlencode(query)))


async def sign_in(
    http: Any,
    authorization_url: str,
    *,
    redirect_uri: str,
    login_hint: int | None = None,
    business: str | None = None,
    allow: bool = True,
) -> str:
    """The final redirect to `redirect_uri` (with code/state or error). `business`: a name or id to pick.

    `http` is an ``httpx.AsyncClient`` or ``httpx2.AsyncClient`` (the mcp client's HTTP library).
    """
    url = authorization_url
    for _ in range(12):
        if url.startswith(redirect_uri):
            return url
        if urlparse(url).path.rstrip("/").endswith("/oauth/authorize"):
            url = _with_hint(url, login_hint)  # FreshBooks' (the sandbox's) authorize page
        response = await http.get(url, follow_redirects=False)
        if response.is_redirect:
            url = urljoin(url, response.headers["location"])
            continue
        consent = _HIDDEN.search(response.text) if response.status_code == 200 else None
        if consent is None:
            raise SignInError(f"sign-in stopped at {urlparse(url).path}: HTTP {response.status_code}")
        choices = _BUSINESS.findall(response.text)
        picked = choices[0][0] if choices else ""
        if business is not None:
            wanted = [bid for bid, name in choices if business in (bid, name)]
            if not wanted:
                raise SignInError(f"no business {business!r} among {[name for _, name in choices]}")
            picked = wanted[0]
        form = {"consent": consent.group(1), "business": picked, "action": "allow" if allow else "deny"}
        posted = await http.post(urljoin(url, "/oauth/freshbooks/consent"), data=form, follow_redirects=False)
        if not posted.is_redirect:
            raise SignInError(f"consent refused: HTTP {posted.status_code}")
        url = urljoin(url, posted.headers["location"])
    raise SignInError("too many redirects")
