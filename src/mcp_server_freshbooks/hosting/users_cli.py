"""`mcp-server-freshbooks users list|revoke <user>`: the hosted mode's users, and deleting one's data.

Works on the store the server uses (``FRESHBOOKS_MCP_STORE``, default the SQLite file in the config
folder), so run it with the server's environment. ``revoke`` deletes the user's MCP tokens (every
client they connected), their encrypted FreshBooks tokens (after asking FreshBooks to revoke them,
when ``FRESHBOOKS_MCP_SECRET_KEY`` and the app credentials are set) and their user record. Their
next request gets 401; they can sign in again.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from mcp_server_freshbooks.config import Settings, load_settings


def add_users_subcommand(subparsers: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "users", help="hosted mode (--auth oauth): list users, or revoke one and delete their data"
    )
    sub = p.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    sub.add_parser("list", help="users who signed in: FreshBooks identity, email, businesses, active sign-ins")
    revoke = sub.add_parser("revoke", help="delete a user's tokens and encrypted FreshBooks tokens")
    revoke.add_argument("user", help="the user id `users list` shows (FreshBooks identity id) or their email")
    p.set_defaults(func=_run)
    return p


def _run(args: argparse.Namespace) -> int:
    import anyio

    from .app import STORE_FILE

    settings = load_settings()
    if not settings.mcp_store and not (settings.token_file.parent / STORE_FILE).exists():
        print(f"No users: no store at {settings.token_file.parent / STORE_FILE} (set FRESHBOOKS_MCP_STORE?)")
        return 0 if args.users_command == "list" else 1
    if args.users_command == "list":
        return anyio.run(_list, settings)
    return anyio.run(_revoke, settings, args.user)


async def _list(settings: Settings) -> int:
    from .app import open_store
    from .oauth import user_sign_ins

    store = open_store(settings.mcp_store, settings.token_file.parent)
    try:
        rows = [(key, rec) async for key, rec in store.scan("user")]
        if not rows:
            print("No users have signed in.")
            return 0
        print(f"{'user':<12} {'email':<32} {'sign-ins':>8}  {'signed in (UTC)':<16}  businesses")
        for key, rec in rows:
            when = datetime.fromtimestamp(rec.get("signed_in", 0), UTC).strftime("%Y-%m-%d %H:%M")
            businesses = ", ".join(f"{b['name']} ({b['account_id']})" for b in rec.get("businesses", []))
            count = len(await user_sign_ins(store, key))
            print(f"{key:<12} {rec.get('email') or ''!s:<32} {count:>8}  {when:<16}  {businesses}")
        return 0
    finally:
        await store.aclose()


async def _revoke(settings: Settings, who: str) -> int:
    from .app import open_store
    from .oauth import revoke_user

    store = open_store(settings.mcp_store, settings.token_file.parent)
    try:
        subject = who
        if await store.get("user", who) is None:
            matches = [key async for key, rec in store.scan("user") if str(rec.get("email", "")).lower() == who.lower()]
            if len(matches) != 1:
                print(f"mcp-server-freshbooks users: no user {who!r} (see `users list`)", file=sys.stderr)
                return 1
            subject = matches[0]
        revoked_at_freshbooks = await _revoke_at_freshbooks(settings, store, subject)
        count = await revoke_user(store, subject)
        said = "; FreshBooks access revoked" if revoked_at_freshbooks else ""
        print(f"Revoked user {subject}: {count} sign-in(s) and their FreshBooks tokens deleted{said}.")
        return 0
    finally:
        await store.aclose()


async def _revoke_at_freshbooks(settings: Settings, store: Any, subject: str) -> bool:
    """Best effort: ask FreshBooks to revoke the user's refresh token (needs the key and the app)."""
    if settings.mcp_secret_key is None or not settings.client_id or settings.client_secret is None:
        return False
    record = await store.get("fb_tokens", subject)
    if record is None:
        return False
    import httpx

    from mcp_server_freshbooks.freshbooks.auth import TokenSet, revoke_token

    from .crypto import Sealer

    try:
        tokens = TokenSet.from_file_dict(Sealer(settings.mcp_secret_key.get_secret_value()).open(record["sealed"]))
    except ValueError:
        return False
    async with httpx.AsyncClient(timeout=10.0) as http:
        token = tokens.refresh_token or tokens.access_token
        return await revoke_token(http, settings, token)
