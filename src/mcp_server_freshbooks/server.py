"""Builds the MCPServer: lifespan, toolsets and read-only filtering.

Nothing slow happens at import time or in `build_server`: the FreshBooks client is created in the
lifespan, and the identity/business is looked up on first use and cached for the server's life,
so `initialize` is answered as fast as a bare MCPServer answers it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from typing import Any, Literal

import httpx
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.mcpserver.tools import Tool
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, CallToolResult, GetPromptResult, InputRequiredResult
from mcp.types import Prompt as MCPPrompt
from mcp.types import Tool as MCPTool
from pydantic import ConfigDict, ValidationError

from . import __version__
from .config import Settings
from .freshbooks import FreshBooksClient, FreshBooksError, StaticTokenSource, TokenSource
from .tools._base import AppState, ToolSpec, all_specs
from .tools._inputs import plain_argument_error
from .tools._schema import compact_schemas

log = logging.getLogger(__name__)

DEMO_SEED = 20240401

INSTRUCTIONS = """\
Keeps a small business's books in FreshBooks: clients, invoices, payments and expenses.
Look things up before acting: find_client gives the client_id that get_client, update_client,
archive_client, create_invoice and list_invoices take; list_overdue_invoices answers "who owes us what,
and since when" with totals per currency and aging bucket; summarize_expenses answers "what did we
spend on what". Money is always {"amount": "<decimal string>", "code": "<currency>"}; amounts in
different currencies are never added together. Results are concise by default
(response_format="detailed" for every field) and say when more pages exist. Writes that lose data or
move money ask the user to confirm; pass confirm=true only after the user has agreed.
"""


def select_specs(settings: Settings) -> list[ToolSpec]:
    """The tools this configuration exposes: chosen toolsets, and never a write in read-only mode."""
    specs = all_specs()
    if settings.toolsets is not None:
        specs = [s for s in specs if s.toolset in settings.toolsets]
    if settings.read_only:
        specs = [s for s in specs if not s.writes]
    return specs


class _FailingTokenSource:
    """Stands in when no credentials are configured; every call reports how to sign in."""

    def __init__(self, error: FreshBooksError) -> None:
        self._error = error

    async def get_token(self) -> str:
        raise self._error

    async def refresh_after_unauthorized(self, rejected_token: str) -> str | None:
        return None


def _stored_token_source(settings: Settings) -> Callable[[httpx.AsyncClient], TokenSource]:
    def build(http: httpx.AsyncClient) -> TokenSource:
        from .freshbooks.auth import build_token_source

        try:
            return build_token_source(settings, http)
        except FreshBooksError as exc:
            # Start anyway: the server must come up so the model can read what to do.
            return _FailingTokenSource(exc)

    return build


DEMO_TOKEN = "demo-access-token"


class _DemoBooks:
    """The embedded demo sandbox, seeded on its first request rather than at start-up."""

    def __init__(self) -> None:
        self._app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._app is None:
            from .sandbox import Sandbox, SandboxOptions

            self._app = Sandbox(SandboxOptions(seed=DEMO_SEED, today=date.today(), access_token=DEMO_TOKEN)).app
        await self._app(scope, receive, send)


def _make_client_factory(
    settings: Settings,
    *,
    demo: bool,
    sandbox: Any,
    transport: httpx.AsyncBaseTransport | None,
    token_source: TokenSource | None,
) -> Callable[[], Any]:
    @asynccontextmanager
    async def open_client() -> AsyncIterator[tuple[FreshBooksClient, Any]]:
        sb = sandbox
        if sb is not None:
            client = FreshBooksClient(
                api_url="http://sandbox.local",
                token_source=token_source or StaticTokenSource(sb.access_token),
                transport=httpx.ASGITransport(app=sb.app),
                max_concurrency=settings.max_concurrency,
                timeout=settings.request_timeout,
            )
        elif demo:
            client = FreshBooksClient(
                api_url="http://sandbox.local",
                token_source=StaticTokenSource(DEMO_TOKEN),
                transport=httpx.ASGITransport(app=_DemoBooks()),
                max_concurrency=settings.max_concurrency,
                timeout=settings.request_timeout,
            )
        else:
            client = FreshBooksClient(
                api_url=settings.api_url,
                token_source=token_source or _stored_token_source(settings),
                transport=transport,
                max_concurrency=settings.max_concurrency,
                timeout=settings.request_timeout,
                account_id=settings.account_id,
                business=settings.business,
            )
        try:
            yield client, sb
        finally:
            await client.aclose()

    return open_client


def _strict(tool: Tool) -> Tool:
    """Refuse unknown arguments with a clear error naming them, instead of silently ignoring them.

    The SDK's argument model ignores extra fields, so a misspelled optional argument (`clientid`
    for `client_id`, `confim` for `confirm`) would quietly fall back to its default. Swap in a
    subclass of the tool's argument model with `extra="forbid"`; the advertised input schema is
    unchanged, and Context/resolver parameters are not in the argument model, so they are unaffected.
    """
    base = tool.fn_metadata.arg_model
    tool.fn_metadata.arg_model = type(
        base.__name__,
        (base,),
        {"__module__": base.__module__, "model_config": ConfigDict(extra="forbid")},  # merged with the base's
    )
    return tool


@functools.cache
def _tools() -> dict[str, Tool]:
    """Every tool built once per process: building the schemas is most of a server's set-up cost."""
    return {
        spec.name: compact_schemas(
            _strict(
                Tool.from_function(
                    spec.fn,
                    name=spec.name,
                    title=spec.title,
                    description=(spec.fn.__doc__ or "").strip(),
                    annotations=spec.annotations,
                )
            )
        )
        for spec in all_specs()
    }


LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
_LEVELS: dict[int, LogLevel] = {
    logging.DEBUG: "DEBUG",
    logging.INFO: "INFO",
    logging.WARNING: "WARNING",
    logging.ERROR: "ERROR",
    logging.CRITICAL: "CRITICAL",
}


def _host_log_level() -> LogLevel:
    return _LEVELS.get(logging.getLogger().getEffectiveLevel(), "WARNING")


class _FreshBooksServer(MCPServer[AppState]):
    """MCPServer that registers its tools and prompts on first use, not at start-up.

    Importing the tool modules and building their schemas costs ~0.15 s in a fresh process; a
    client needs them only for tools/* and prompts/*, never to initialize.
    """

    def __init__(self, *args: Any, settings: Settings, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # No resources are served: unhandled resources/* methods are not advertised in capabilities.
        for method in ("resources/list", "resources/read", "resources/templates/list"):
            self._lowlevel_server._request_handlers.pop(method, None)
        self._pending_settings: Settings | None = settings

    def _ensure_registered(self) -> None:
        if self._pending_settings is None:
            return
        settings, self._pending_settings = self._pending_settings, None
        tools = _tools()
        # The SDK has no public way to add an already-built Tool after construction.
        self._tool_manager._tools.update({spec.name: tools[spec.name] for spec in select_specs(settings)})
        from .prompts import register_prompts

        register_prompts(self, settings)

    async def list_tools(self) -> list[MCPTool]:
        self._ensure_registered()
        return await super().list_tools()

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[AppState, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        self._ensure_registered()
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError) and not isinstance(exc, UnexpectedToolError):
                # arguments refused by the input schema: plain sentences instead of pydantic's text
                tool = self._tool_manager.get_tool(name)
                allowed = sorted(tool.parameters.get("properties", {})) if tool else []
                raise ToolError(plain_argument_error(name, cause, allowed)) from cause
            raise

    async def list_prompts(self) -> list[MCPPrompt]:
        self._ensure_registered()
        return await super().list_prompts()

    async def get_prompt(
        self, name: str, arguments: dict[str, Any] | None = None, context: Context[AppState, Any] | None = None
    ) -> GetPromptResult | InputRequiredResult:
        self._ensure_registered()
        if self._prompt_manager.get_prompt(name) is None:
            # invalid params, as for an unknown resource (the SDK's ValueError would answer code 0)
            raise MCPError(code=INVALID_PARAMS, message=f"Unknown prompt: {name}", data={"name": name})
        return await super().get_prompt(name, arguments, context)


def build_server(
    settings: Settings,
    *,
    demo: bool = False,
    sandbox: Any = None,
    transport: httpx.AsyncBaseTransport | None = None,
    token_source: TokenSource | None = None,
) -> MCPServer[AppState]:
    """The MCP server for these settings.

    `demo=True` embeds a seeded sandbox in-process (no port, no credentials). Tests pass their own
    `sandbox` (a `Sandbox` instance) to inspect its books, or a `transport`/`token_source`.
    """
    open_client = _make_client_factory(
        settings, demo=demo, sandbox=sandbox, transport=transport, token_source=token_source
    )

    @asynccontextmanager
    async def lifespan(_: MCPServer[AppState]) -> AsyncIterator[AppState]:
        async with open_client() as (client, sb):
            yield AppState(settings=settings, fb=client, sandbox=sb)

    server: MCPServer[AppState] = _FreshBooksServer(
        "freshbooks",
        title="FreshBooks",
        description="Bookkeeping in FreshBooks: clients, invoices, payments, expenses.",
        instructions=INSTRUCTIONS,
        version=__version__,
        lifespan=lifespan,
        # The SDK configures the root logger at this level; INFO would log every FreshBooks URL
        # (search values such as client emails included), so follow what the host configured.
        log_level=_host_log_level(),
        settings=settings,
    )
    return server
