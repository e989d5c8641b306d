"""``mcp-server-freshbooks sandbox``: serve a seeded sandbox with uvicorn (loopback by default)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import logging
import re
import socket
import sys
from datetime import date
from typing import Any

import uvicorn

from .app import Sandbox
from .contract import describe, markdown
from .options import SandboxOptions


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid date {text!r} (want YYYY-MM-DD)") from None


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid rate {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"rate must be between 0 and 1, got {text}")
    return value


def _nonneg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _positive(text: str) -> int:
    value = _nonneg(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def _regex(text: str) -> str:
    try:
        re.compile(text)
    except re.error as exc:
        raise argparse.ArgumentTypeError(f"invalid regex {text!r}: {exc}") from None
    return text


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mcp-server-freshbooks sandbox",
        description="Serve a local, seeded FreshBooks-compatible API (see mcp_server_freshbooks.sandbox docs).",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=_nonneg, default=8780, help="0 picks a free port (the real one is printed)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--today", type=_date, default=None, help="the sandbox's calendar date (default: today)")
    p.add_argument("--clients", type=_nonneg, default=40)
    p.add_argument("--invoices", type=_nonneg, default=300)
    p.add_argument("--expenses", type=_nonneg, default=600)
    p.add_argument("--time-entries", type=_nonneg, default=0, help="extra team time entries over the last year")
    p.add_argument("--token-ttl", type=_positive, default=43200, metavar="SECONDS")
    p.add_argument("--latency-ms", type=_nonneg, default=0)
    p.add_argument("--jitter-ms", type=_nonneg, default=0)
    p.add_argument("--fail-rate", type=_rate, default=0.0)
    p.add_argument("--rate-limit", type=_positive, default=None, help="max requests per second (429 beyond)")
    p.add_argument("--drop-rate", type=_rate, default=0.0)
    p.add_argument("--write-latency-ms", type=_nonneg, default=0, help="sleep before applying a write")
    p.add_argument("--write-latency-match", type=_regex, default=None, metavar="REGEX", help='on "METHOD /path"')
    p.add_argument("--access-token", default=None, help="use this fixed access token")
    p.add_argument("--two-businesses", action="store_true")
    p.add_argument(
        "--list-cache", action="store_true", help="answer repeated list queries from a cache (fast, like indexed data)"
    )
    p.add_argument(
        "--gateways",
        type=_gateways,
        default=("fbpay", "stripe"),
        metavar="LIST",
        help='online-payment gateways set up, comma-separated ("" = none: Know Your Client not done)',
    )
    p.add_argument("--allow-remote", action="store_true", help="allow binding a non-loopback host")
    p.add_argument(
        "--describe",
        nargs="?",
        const="markdown",
        choices=("markdown", "json"),
        help="print the contract (endpoints, search keys, includes, sorts, quirks) and exit",
    )
    p.add_argument(
        "--identities",
        type=_positive,
        default=1,
        help="FreshBooks users, each with its own business and books; /oauth/authorize?login_hint=<n> picks one",
    )
    p.add_argument("--redirect-uri", default=None, help="the OAuth redirect URI the sandbox's app accepts")
    return p


def _gateways(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in ("fbpay", "stripe", "paypal")]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown gateway(s) {', '.join(unknown)}: use fbpay, stripe, paypal")
    return names


def _say(text: str, *, err: bool = False) -> None:
    """This command's own output (the sandbox is not the MCP server, so stdout is free here)."""
    stream = sys.stderr if err else sys.stdout
    stream.write(text + "\n")
    stream.flush()


def _options(args: argparse.Namespace) -> SandboxOptions:
    return SandboxOptions(
        seed=args.seed,
        today=args.today,
        clients=args.clients,
        invoices=args.invoices,
        expenses=args.expenses,
        time_entries=args.time_entries,
        token_ttl=args.token_ttl,
        latency_ms=args.latency_ms,
        jitter_ms=args.jitter_ms,
        fail_rate=args.fail_rate,
        rate_limit=args.rate_limit,
        drop_rate=args.drop_rate,
        write_latency_ms=args.write_latency_ms,
        write_latency_match=args.write_latency_match,
        access_token=args.access_token,
        two_businesses=args.two_businesses,
        list_cache=args.list_cache,
        gateways=args.gateways,
    )


def _announce(sandbox: Any, base_url: str) -> None:
    _say(f"FreshBooks sandbox listening on {base_url}")
    _say(f"base_url={base_url}")
    _say(f"access_token={sandbox.access_token}")
    _say(f"refresh_token={sandbox.refresh_token}")
    _say(f"account_id={sandbox.account_id}")
    _say(f"business_id={sandbox.business_id}")
    _say(f"oauth_client_id={sandbox.oauth_client_id}")
    _say(f"oauth_client_secret={sandbox.oauth_client_secret}")
    _say(f"redirect_uri={sandbox.redirect_uri}")
    for n, sb in enumerate(getattr(sandbox, "identities", [])):
        _say(
            f"identity_{n}=login_hint {n}: {sb.owner_email}, account_id {sb.account_id}, business {sb.business_name!r}"
        )


def _serve(sandbox: Any, host: str, sock: socket.socket, family: socket.AddressFamily) -> None:
    port = sock.getsockname()[1]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    base_url = f"http://{shown}:{port}"
    server = uvicorn.Server(uvicorn.Config(sandbox.app, log_level="warning", access_log=False, lifespan="off"))

    async def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            await asyncio.sleep(0.01)
        _announce(sandbox, base_url)

    async def main() -> None:
        task = asyncio.create_task(announce())
        try:
            await server.serve(sockets=[sock])
        finally:
            task.cancel()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


def run_sandbox_cli(argv: list[str]) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its one-line error
        return int(exc.code or 0)
    if args.describe:
        _say(json.dumps(describe(), indent=2) if args.describe == "json" else markdown().rstrip("\n"))
        return 0
    if not _is_loopback(args.host) and not args.allow_remote:
        _say(
            f"mcp-server-freshbooks sandbox: error: refusing non-loopback host {args.host!r} "
            "(pass --allow-remote to override)",
            err=True,
        )
        return 2
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    sandbox: Any
    if args.identities > 1:
        from .multi import MultiSandbox

        sandbox = MultiSandbox(_options(args), args.identities, redirect_uri=args.redirect_uri)
    else:
        sandbox = Sandbox(_options(args))
        if args.redirect_uri:
            sandbox.redirect_uri = args.redirect_uri
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    # proto IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
    # without it Nagle holds each reply's body until the client's delayed ACK (~40 ms a request).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        _say(f"mcp-server-freshbooks sandbox: error: cannot bind {args.host}:{args.port}: {exc}", err=True)
        sock.close()
        return 1
    try:
        _serve(sandbox, args.host, sock, family)
    finally:
        sock.close()
    return 0
