"""`auth login|status|logout` and `doctor`: sign in, inspect, sign out, and diagnose the setup.

These are CLI commands, so they write to stdout/stderr directly. They never print a token, a refresh
token, the client secret or an authorization code.

The async cores (`login`, `status`, `logout`, `doctor`) take an optional httpx transport and explicit
streams so tests can drive them in-process against the sandbox.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import webbrowser
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

import httpx

from mcp_server_freshbooks.config import ConfigError, Settings, load_settings
from mcp_server_freshbooks.freshbooks.api import FreshBooksClient, StaticTokenSource, TokenSource
from mcp_server_freshbooks.freshbooks.auth import (
    LOGIN_HINT,
    OAuthApp,
    StoredTokenSource,
    TokenFileError,
    TokenSet,
    TokenStore,
    authorize_url,
    build_token_source,
    exchange_code,
    new_state,
    parse_pasted_redirect,
    redact,
    revoke_token,
)
from mcp_server_freshbooks.freshbooks.errors import AuthError, FreshBooksError, TransportError
from mcp_server_freshbooks.freshbooks.identity import Identity, select_business

ReadLine = Callable[[], Awaitable[str]]


@dataclass
class Console:
    """Where command output goes. `out` gets results (and the sign-in URL); `err` gets guidance."""

    out: TextIO
    err: TextIO

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def note(self, text: str) -> None:
        self.err.write(text + "\n")
        self.err.flush()


def _default_console() -> Console:
    return Console(sys.stdout, sys.stderr)


async def _read_stdin_line() -> str:
    return await asyncio.to_thread(sys.stdin.readline)


def _http(transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(30.0, connect=10.0))


def _client(
    settings: Settings, token_source: TokenSource, transport: httpx.AsyncBaseTransport | None
) -> FreshBooksClient:
    return FreshBooksClient(
        api_url=settings.api_url,
        token_source=token_source,
        transport=transport,
        account_id=settings.account_id,
        business=settings.business,
    )


def _describe_expiry(tokens: TokenSet, *, can_refresh: bool) -> str:
    left = tokens.seconds_left()
    if left is None:
        return "expiry unknown (token from FRESHBOOKS_ACCESS_TOKEN)"
    when = datetime.fromtimestamp(tokens.expires_at or 0, tz=UTC).astimezone().strftime("%Y-%m-%d %H:%M %Z")
    if left <= 0:
        suffix = "; it will be refreshed on next use" if can_refresh else f"; {LOGIN_HINT}"
        return f"expired at {when}{suffix}"
    return f"expires at {when} (in {_duration(left)})"


def _duration(seconds: float) -> str:
    total = int(seconds)
    if total < 60:
        return f"{total} s"
    hours, rest = divmod(total, 3600)
    return f"{hours} h {rest // 60} min" if hours else f"{rest // 60} min"


def _print_identity(console: Console, identity: Identity, settings: Settings) -> None:
    who = identity.full_name or "(no name)"
    email = f" <{identity.email}>" if identity.email else ""
    console.say(f"Signed in as {who}{email}.")
    if not identity.businesses:
        console.say("No businesses on this FreshBooks user.")
        return
    try:
        chosen = select_business(identity, account_id=settings.account_id, business=settings.business)
    except FreshBooksError as exc:
        chosen = None
        choice_problem: str | None = exc.message
    else:
        choice_problem = None
    console.say("Businesses:")
    for biz in identity.businesses:
        mark = "*" if chosen is not None and biz.business_id == chosen.business_id else "-"
        console.say(f"  {mark} {biz.label()}")
    if chosen is not None:
        console.say(f"Selected business: {chosen.name} (account_id {chosen.account_id}).")
    elif choice_problem:
        console.say(f"No business selected: {choice_problem}")


# ------------------------------------------------------------------------------------------- login


async def login(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    console: Console | None = None,
    read_line: ReadLine | None = None,
    open_browser: bool = True,
    code: str | None = None,
    redirect_url: str | None = None,
    redirect_uri: str | None = None,
    state: str | None = None,
    scope: str | None = None,
) -> int:
    """Run the authorization-code flow; save tokens; show who signed in. Returns an exit code."""
    console = console or _default_console()
    read_line = read_line or _read_stdin_line
    redirect = redirect_uri or settings.redirect_uri
    if OAuthApp.from_settings(settings) is None:
        console.note(
            "Set FRESHBOOKS_CLIENT_ID and FRESHBOOKS_CLIENT_SECRET (from your FreshBooks app, "
            "https://my.freshbooks.com/#/developer) before `auth login`."
        )
        return 2
    if not redirect:
        console.note(
            "Set FRESHBOOKS_REDIRECT_URI (or pass --redirect-uri) to the HTTPS redirect URI registered "
            "for your FreshBooks app."
        )
        return 2
    expected_state = state or new_state()
    if code is None and redirect_url is None:
        url = authorize_url(settings, state=expected_state, redirect_uri=redirect, scope=scope)
        console.note("Open this address, sign in to FreshBooks and approve access:")
        console.say(url)
        if open_browser:
            with contextlib.suppress(Exception):
                webbrowser.open(url)
        console.note("Then paste the address your browser was sent to (it contains ?code=...), or just the code:")
        pasted = (await read_line()).strip()
    else:
        pasted = (redirect_url or code or "").strip()
    try:
        got_code, got_state = parse_pasted_redirect(pasted)
    except AuthError as exc:
        console.note(exc.message)
        return 1
    looks_like_url = "code=" in pasted
    if looks_like_url:
        if got_state != expected_state:
            console.note(
                "Refused: the pasted address belongs to a different sign-in attempt (its `state` does not "
                "match). Run `mcp-server-freshbooks auth login` again and paste the new address."
            )
            return 1
    else:
        console.note(
            "Note: a bare code cannot be checked against this sign-in's `state`; paste the full address "
            "to get that protection."
        )
    store = TokenStore(settings.token_file)
    async with _http(transport) as http:
        try:
            tokens = await exchange_code(http, settings, got_code, redirect_uri=redirect)
        except FreshBooksError as exc:
            console.note(f"Sign-in failed: {redact(exc.message, [got_code])}")
            return 1
    try:
        async with store.locked():
            store.save(tokens)
    except TokenFileError as exc:  # e.g. a folder this user cannot write: say which, and how to fix it
        console.note(f"Signed in, but the tokens could not be saved. {exc.message}")
        return 1
    console.note(f"Saved tokens to {store.path} (readable only by you).")
    client = _client(settings, StaticTokenSource(tokens.access_token.get_secret_value()), transport)
    async with client:
        try:
            identity = await client.identity()
        except FreshBooksError as exc:
            console.note(f"Signed in, but reading your FreshBooks identity failed: {exc.message}")
            return 1
    _print_identity(console, identity, settings)
    return 0


# ------------------------------------------------------------------------------------------ status


async def status(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None, console: Console | None = None
) -> int:
    """Who is signed in, the selected business, when the access token expires. Never a token."""
    console = console or _default_console()
    async with _http(transport) as http:
        try:
            source = build_token_source(settings, http)
        except FreshBooksError as exc:
            console.say(exc.message)
            return 1
        origin = "token file " + str(source.store.path) if source.store.exists() else "FRESHBOOKS_ACCESS_TOKEN"
        console.say(f"Tokens from: {origin}")
        console.say(f"Access token: {_describe_expiry(source.tokens, can_refresh=source.can_refresh())}")
        if not source.can_refresh():
            console.say(f"Refresh: not possible (needs a refresh token and client id/secret); {LOGIN_HINT}.")
        client = _client(settings, source, transport)
        async with client:
            try:
                identity = await client.identity()
            except FreshBooksError as exc:
                console.say(f"Could not read your FreshBooks identity: {exc.message}")
                return 1
        if source.refresh_count:
            console.say(
                f"Refreshed it; access token now {_describe_expiry(source.tokens, can_refresh=source.can_refresh())}"
            )
    _print_identity(console, identity, settings)
    return 0


# ------------------------------------------------------------------------------------------ logout


async def logout(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    console: Console | None = None,
    revoke: bool = True,
) -> int:
    """Forget the saved tokens (delete the file) and revoke them where the API allows."""
    console = console or _default_console()
    store = TokenStore(settings.token_file)
    try:
        tokens = store.load()
    except FreshBooksError:
        tokens = None  # unreadable: still delete it
    revoked = False
    if tokens is not None and revoke:
        if OAuthApp.from_settings(settings) is None:
            console.note("Not revoking at FreshBooks (FRESHBOOKS_CLIENT_ID/SECRET not set); deleting locally.")
        else:
            async with _http(transport) as http:
                for secret in (tokens.refresh_token, tokens.access_token):
                    if secret is not None:
                        revoked = await revoke_token(http, settings, secret) or revoked
    async with store.locked():
        removed = store.delete()
    if removed:
        console.say(f"Signed out: deleted {store.path}" + (" and revoked the tokens." if revoked else "."))
    else:
        console.say(f"No saved tokens at {store.path}.")
    if settings.access_token is not None or settings.refresh_token is not None:
        console.note("FRESHBOOKS_ACCESS_TOKEN/FRESHBOOKS_REFRESH_TOKEN are still set in the environment.")
    return 0


# ------------------------------------------------------------------------------------------ doctor


@dataclass
class Check:
    ok: bool
    text: str
    fix: str | None = None

    def line(self) -> str:
        tag = "ok  " if self.ok else "FAIL"
        return f"[{tag}] {self.text}" + (f" -- fix: {self.fix}" if self.fix else "")


async def run_checks(
    settings: Settings | None = None,
    *,
    environ: dict[str, str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[Check]:
    """Every doctor check, in order. Stops early when a later check cannot mean anything."""
    checks: list[Check] = []
    if settings is None:
        try:
            settings = load_settings(environ)
        except ConfigError as exc:
            return [Check(False, str(exc), "correct the variable(s) named above (environment or .env)")]
    checks.append(Check(True, f"configuration loaded (API {settings.api_url})"))
    store = TokenStore(settings.token_file)
    try:
        stored = store.load()
    except FreshBooksError as exc:
        checks.append(Check(False, exc.message))
        return checks
    if stored is not None:
        problems = store.permission_problems()
        if problems:
            checks.extend(Check(False, p.split("; fix: ")[0], p.split("; fix: ")[-1]) for p in problems)
        else:
            checks.append(Check(True, f"token file {store.path} is private (0600, folder 0700)"))
    elif settings.access_token is None and settings.refresh_token is None:
        checks.append(Check(False, "not signed in: no token file and no FRESHBOOKS_ACCESS_TOKEN", LOGIN_HINT))
        return checks
    else:
        checks.append(Check(True, "using tokens from the environment (no token file yet)"))
    async with _http(transport) as http:
        try:
            source: StoredTokenSource = build_token_source(settings, http)
        except FreshBooksError as exc:
            checks.append(Check(False, exc.message))
            return checks
        can_refresh = source.can_refresh()
        tokens = source.tokens
        if tokens.is_expired() and not can_refresh:
            checks.append(Check(False, "the access token has expired and cannot be refreshed", LOGIN_HINT))
            return checks
        if tokens.refresh_token is not None and not can_refresh:
            checks.append(
                Check(
                    False,
                    "a refresh token is saved but FRESHBOOKS_CLIENT_ID/FRESHBOOKS_CLIENT_SECRET are not set, "
                    "so the access token cannot be renewed when it expires",
                    "set FRESHBOOKS_CLIENT_ID and FRESHBOOKS_CLIENT_SECRET",
                )
            )
        else:
            checks.append(Check(True, f"access token {_describe_expiry(tokens, can_refresh=can_refresh)}"))
        client = _client(settings, source, transport)
        async with client:
            try:
                identity = await client.identity()
            except TransportError as exc:
                checks.append(
                    Check(
                        False,
                        f"cannot reach the FreshBooks API: {exc.message}",
                        "check network / FRESHBOOKS_API_URL",
                    )
                )
                return checks
            except FreshBooksError as exc:
                checks.append(Check(True, f"FreshBooks API reachable at {settings.api_url}"))
                checks.append(Check(False, f"identity check failed: {exc.message}", LOGIN_HINT))
                return checks
        checks.append(Check(True, f"FreshBooks API reachable at {settings.api_url}"))
        who = identity.full_name or identity.email or f"identity {identity.identity_id}"
        checks.append(Check(True, f"signed in as {who}"))
        try:
            business = select_business(identity, account_id=settings.account_id, business=settings.business)
        except FreshBooksError as exc:
            checks.append(Check(False, f"business selection: {exc.message}"))
        else:
            checks.append(Check(True, f"business selected: {business.label()}"))
    return checks


async def doctor(
    settings: Settings | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    console: Console | None = None,
) -> int:
    console = console or _default_console()
    checks = await run_checks(settings, transport=transport)
    for check in checks:
        console.say(check.line())
    failed = [c for c in checks if not c.ok]
    console.say("Everything looks fine." if not failed else f"{len(failed)} problem(s) found.")
    return 0 if not failed else 1


# ------------------------------------------------------------------------------------------ argparse


def _settings_or_exit(console: Console) -> Settings | None:
    try:
        return load_settings()
    except ConfigError as exc:
        console.note(str(exc))
        return None


def _cmd_login(args: argparse.Namespace) -> int:
    console = _default_console()
    settings = _settings_or_exit(console)
    if settings is None:
        return 2
    interactive = sys.stdin.isatty()
    return asyncio.run(
        login(
            settings,
            console=console,
            open_browser=not args.no_browser and interactive,
            code=args.code,
            redirect_url=args.redirect_url,
            redirect_uri=args.redirect_uri,
            state=args.state,
            scope=args.scope,
        )
    )


def _cmd_status(args: argparse.Namespace) -> int:
    console = _default_console()
    settings = _settings_or_exit(console)
    return 2 if settings is None else asyncio.run(status(settings, console=console))


def _cmd_logout(args: argparse.Namespace) -> int:
    console = _default_console()
    settings = _settings_or_exit(console)
    return 2 if settings is None else asyncio.run(logout(settings, console=console, revoke=not args.no_revoke))


def _cmd_doctor(args: argparse.Namespace) -> int:
    return asyncio.run(doctor())


def add_auth_subcommands(subparsers: Any) -> argparse.ArgumentParser:
    """Add `auth login|status|logout` to an argparse subparsers object; each sets `func(args) -> int`."""
    auth: argparse.ArgumentParser = subparsers.add_parser(
        "auth", help="sign in to FreshBooks, show or forget the saved sign-in"
    )
    auth_sub = auth.add_subparsers(dest="auth_command", metavar="{login,status,logout}", required=True)

    p_login = auth_sub.add_parser(
        "login",
        help="sign in with OAuth and save tokens",
        description=(
            "Prints the FreshBooks sign-in address, then reads the address your browser was redirected "
            'to (or the bare code) from stdin. Works in scripts: echo "$URL" | mcp-server-freshbooks '
            "auth login --state S."
        ),
    )
    p_login.add_argument("--no-browser", action="store_true", help="do not try to open a web browser")
    p_login.add_argument("--code", help="authorization code (skips the prompt; no state check)")
    p_login.add_argument("--redirect-url", help="the full redirected address (skips the prompt)")
    p_login.add_argument("--redirect-uri", help="redirect URI registered for the app (default FRESHBOOKS_REDIRECT_URI)")
    p_login.add_argument("--state", help="use this OAuth state instead of a random one (scripted sign-in)")
    p_login.add_argument("--scope", help="space-separated scopes to request (default: the app's scopes)")
    p_login.set_defaults(func=_cmd_login)

    p_status = auth_sub.add_parser("status", help="who is signed in, the business, token expiry")
    p_status.set_defaults(func=_cmd_status)

    p_logout = auth_sub.add_parser("logout", help="delete the saved tokens and revoke them")
    p_logout.add_argument("--no-revoke", action="store_true", help="only delete the local token file")
    p_logout.set_defaults(func=_cmd_logout)
    return auth


def add_doctor_subcommand(subparsers: Any) -> argparse.ArgumentParser:
    """Add `doctor`: checks configuration, token file, expiry, API, identity, business. Exit 0 if all fine."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "doctor", help="check configuration, sign-in and API access; print fixes"
    )
    p.set_defaults(func=_cmd_doctor)
    return p


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (`python -m mcp_server_freshbooks.auth_cli auth login`), used by tests."""
    parser = argparse.ArgumentParser(prog="mcp-server-freshbooks")
    sub = parser.add_subparsers(dest="command", required=True)
    add_auth_subcommands(sub)
    add_doctor_subcommand(sub)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
