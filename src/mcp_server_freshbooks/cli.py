"""Command line: `mcp-server-freshbooks [serve|sandbox|tools|call|demo|auth|doctor|users] ...`.

`serve` (the MCP server over stdio) is the default. Heavy imports happen inside the commands so
`--help` and start-up stay fast. Only this module prints to stdout outside the protocol.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

from . import __version__
from .config import KNOWN_TOOLSETS, LOG_LEVELS, ConfigError, Settings, load_log_level, load_settings, parse_log_level

COMMANDS = ("serve", "sandbox", "tools", "call", "demo", "auth", "doctor", "users")


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad flag in one line and exits 2."""

    def error(self, message: str) -> Any:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


LOG_LEVEL_HELP = f"stderr log level: {', '.join(LOG_LEVELS)}, any case (default WARNING; FRESHBOOKS_LOG_LEVEL)"


def _add_server_options(parser: argparse.ArgumentParser, *, demo_help: str) -> None:
    # also accepted after the command; SUPPRESS keeps a flag given before the command
    parser.add_argument("--log-level", metavar="LEVEL", default=argparse.SUPPRESS, help=LOG_LEVEL_HELP)
    parser.add_argument("--demo", action="store_true", help=demo_help)
    parser.add_argument(
        "--read-only", action="store_true", default=None, help="register no tool that writes (FRESHBOOKS_READ_ONLY)"
    )
    parser.add_argument(
        "--toolsets",
        metavar="LIST",
        help=f"comma-separated toolsets to expose: {', '.join(KNOWN_TOOLSETS)}, or all (FRESHBOOKS_TOOLSETS)",
    )
    parser.add_argument(
        "--dynamic-toolsets",
        action="store_true",
        default=None,
        help="start with only list_toolsets and enable_toolset; the model enables toolsets as needed "
        "(FRESHBOOKS_DYNAMIC_TOOLSETS)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mcp-server-freshbooks",
        description="MCP server for FreshBooks bookkeeping. Without a command it serves MCP over stdio.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--log-level", metavar="LEVEL", default=None, help=LOG_LEVEL_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    serve = sub.add_parser("serve", help="run the MCP server (default; stdio, or streamable HTTP)")
    _add_server_options(serve, demo_help="use the embedded sandbox books (no credentials, nothing leaves the process)")
    serve.add_argument("--transport", choices=["stdio", "http"], default="stdio", help="default: stdio")
    serve.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8765, help="HTTP port (default 8765)")
    serve.add_argument("--stateless", action="store_true", help="stateless HTTP, for replicas behind a load balancer")
    serve.add_argument(
        "--auth",
        choices=["token", "oauth"],
        default="token",
        help="HTTP auth: token (one user, FRESHBOOKS_MCP_HTTP_TOKEN; default) or oauth (a team: MCP sign-in "
        "with FreshBooks, per-user books; see README 'Hosting for a team')",
    )

    sub.add_parser(
        "sandbox", help="serve the FreshBooks-compatible sandbox API on loopback (see `sandbox --help`)", add_help=False
    )

    tools = sub.add_parser("tools", help="list the tools with their one-line descriptions")
    _add_server_options(tools, demo_help="list against the embedded sandbox configuration")

    call = sub.add_parser("call", help="call one tool through a real MCP client session and print its result")
    call.add_argument("tool", help="tool name, e.g. find_client")
    call.add_argument("arguments", nargs="?", default="{}", help='JSON object of arguments, e.g. \'{"query": "acme"}\'')
    _add_server_options(call, demo_help="run against the embedded sandbox books")

    sub.add_parser("demo", help="a short tour of the tools on the embedded sandbox, then the Claude Desktop config")

    try:
        from .auth_cli import add_auth_subcommands, add_doctor_subcommand
    except ImportError:  # pragma: no cover - the auth module is part of the package
        pass
    else:
        add_auth_subcommands(sub)
        add_doctor_subcommand(sub)
    from .hosting.users_cli import add_users_subcommand

    add_users_subcommand(sub)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings()
    overrides: dict[str, Any] = {}
    if getattr(args, "read_only", None):
        overrides["read_only"] = True
    if getattr(args, "toolsets", None):
        overrides["toolsets"] = args.toolsets
    if getattr(args, "dynamic_toolsets", None):
        overrides["dynamic_toolsets"] = True
    return settings.with_overrides(**overrides) if overrides else settings


def _serve(args: argparse.Namespace) -> int:
    from .server import build_server

    settings = _settings(args)
    if args.transport == "http" and args.auth == "oauth":
        from .http_transport import run_oauth_http

        run_oauth_http(settings, host=args.host, port=args.port, stateless=args.stateless, demo=args.demo)
        return 0
    server = build_server(settings, demo=args.demo)
    if args.transport == "http":
        from .http_transport import run_http

        run_http(server, settings, host=args.host, port=args.port, stateless=args.stateless)
    else:
        server.run()
    return 0


async def _list_tools(settings: Settings, demo: bool) -> list[Any]:
    from mcp import Client

    from .server import build_server

    async with Client(build_server(settings, demo=demo)) as client:
        return list((await client.list_tools()).tools)


def _tools(args: argparse.Namespace) -> int:
    import anyio

    tools = anyio.run(_list_tools, _settings(args), args.demo)
    width = max((len(t.name) for t in tools), default=0)
    for t in tools:
        first = " ".join((t.description or "").split()).split(". ")[0].rstrip(".")
        kind = "read " if t.annotations and t.annotations.read_only_hint else "write"
        print(f"{t.name:<{width}}  {kind}  {first}")
    return 0


async def _call_tool(settings: Settings, demo: bool, name: str, arguments: dict[str, Any]) -> tuple[bool, Any]:
    from mcp import Client

    from .server import build_server

    async with Client(build_server(settings, demo=demo)) as client:
        result = await client.call_tool(name, arguments)
    text = "\n".join(getattr(c, "text", "") for c in result.content)
    if result.is_error:
        return False, text
    return True, result.structured_content if result.structured_content is not None else text


def _call(args: argparse.Namespace) -> int:
    import anyio

    try:
        arguments = json.loads(args.arguments)
    except json.JSONDecodeError as exc:
        print(f"mcp-server-freshbooks call: arguments are not valid JSON: {exc}", file=sys.stderr)
        return 2
    if not isinstance(arguments, dict):
        print("mcp-server-freshbooks call: arguments must be a JSON object", file=sys.stderr)
        return 2
    ok, payload = anyio.run(_call_tool, _settings(args), args.demo, args.tool, arguments)
    if not ok:
        print(payload, file=sys.stderr)
        return 1
    print(json.dumps(payload, indent=2, ensure_ascii=False) if not isinstance(payload, str) else payload)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo()


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "sandbox":
        from .sandbox.cli import run_sandbox_cli

        return run_sandbox_cli(argv[1:])
    # `--log-level X` and `--log-level=X` before the command: the command (default serve) comes after it
    flag_width = 2 if argv and argv[0] == "--log-level" else 1 if argv and argv[0].startswith("--log-level=") else 0
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version") and not flag_width):
        argv.insert(0, "serve")
    elif flag_width and (len(argv) <= flag_width or argv[flag_width] not in COMMANDS):
        argv.insert(flag_width, "serve")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        level = parse_log_level(args.log_level, "--log-level") if args.log_level else load_log_level()
    except ConfigError as exc:
        print(f"mcp-server-freshbooks: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=getattr(logging, level),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    handlers = {"serve": _serve, "tools": _tools, "call": _call, "demo": _demo}
    try:
        if args.command in handlers:
            return handlers[args.command](args)
        func = getattr(args, "func", None)
        if func is None:
            parser.print_help(sys.stderr)
            return 2
        result = func(args)
        return int(result or 0)
    except ConfigError as exc:
        print(f"mcp-server-freshbooks: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
