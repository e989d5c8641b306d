"""Builds the MCPServer: lifespan, toolsets (default, chosen or dynamic) and read-only filtering.

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
from typing import Annotated, Any, Literal

import httpx
from mcp.server import MCPServer, NotificationOptions
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.mcpserver.tools import Tool
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, CallToolResult, GetPromptResult, InputRequiredResult, ToolAnnotations
from mcp.types import Prompt as MCPPrompt
from mcp.types import Tool as MCPTool
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import __version__
from .config import DEFAULT_TOOLSETS, KNOWN_TOOLSETS, Settings
from .freshbooks import FreshBooksClient, FreshBooksError, StaticTokenSource, TokenSource
from .freshbooks.locks import KeyedLock
from .tools._base import CALLED_TOOL, AppState, ToolSpec, all_specs
from .tools._catalog import TOOLSETS as CATALOG
from .tools._inputs import plain_argument_error
from .tools._schema import compact_schemas, enforced_input_schema

log = logging.getLogger(__name__)

DEMO_SEED = 20240401

INTRO = "Keeps a small business's books in FreshBooks. Look things up before acting."
OUTRO = """\
Money is always {"amount": "<decimal string>", "code": "<currency>"}; amounts in different currencies are
never added together. Results are concise by default (response_format="detailed" for every field) and say
when more pages exist. Tools whose description says "user confirms" ask the user through the host before
they write; a host that cannot ask gets the question as the result: ask the user, then call again with the
same arguments and confirm=true. Pass confirm=true only after the user has agreed."""
DYNAMIC = (
    "More tools come in toolsets ({ids}): list_toolsets shows them and enable_toolset adds one's tools "
    "when the task needs them."
)


def exposed_toolsets(settings: Settings) -> tuple[str, ...]:
    """The toolsets registered at start: the chosen ones, else the defaults (none in dynamic mode)."""
    if settings.toolsets is not None:
        return settings.toolsets
    return () if settings.dynamic_toolsets else DEFAULT_TOOLSETS


def instructions_for(settings: Settings) -> str:
    """Each exposed toolset's own lines between a shared opening and closing (from the generated catalog,
    so answering initialize imports no tool module)."""
    chosen = exposed_toolsets(settings)
    lines = [INTRO, *(ts.instructions for ts in CATALOG if ts.id in chosen)]
    if settings.dynamic_toolsets:
        lines.append(DYNAMIC.format(ids=", ".join(KNOWN_TOOLSETS)))
    lines.append(OUTRO)
    return "\n".join(lines) + "\n"


def select_specs(settings: Settings, toolsets: tuple[str, ...] | None = None) -> list[ToolSpec]:
    """The tools of `toolsets` (default: those this configuration exposes), never a write in read-only mode."""
    chosen = exposed_toolsets(settings) if toolsets is None else toolsets
    specs = [s for s in all_specs() if s.toolset.id in chosen]
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


REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


@asynccontextmanager
async def _shared_locks(settings: Settings) -> AsyncIterator[KeyedLock | None]:
    """With FRESHBOOKS_MCP_STORE=redis://..., the write locks every replica shares; else None (this process's)."""
    url = settings.mcp_store
    if not url or not url.startswith(REDIS_SCHEMES):
        yield None
        return
    from .hosting.redis_store import RedisStore

    store = RedisStore.from_url(url)
    try:
        yield store.locks
    finally:
        await store.aclose()


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
        async with _shared_locks(settings) as locks, _open_client(locks) as opened:
            yield opened

    @asynccontextmanager
    async def _open_client(locks: KeyedLock | None) -> AsyncIterator[tuple[FreshBooksClient, Any]]:
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
                locks=locks,
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


def enforced_input_schemas() -> dict[str, dict[str, Any]]:
    """Each tool's input rules as its argument model enforces them (the advertised schema omits some): for fuzzing."""
    return {name: enforced_input_schema(tool) for name, tool in _tools().items()}


async def _announce_list_changed(ctx: Context[AppState, Any], *, prompts: bool) -> None:
    """Tell the client its tool (and prompt) list changed, in whichever era it speaks."""
    # 2026-07-28: published on the bus that feeds the client's subscriptions/listen streams.
    await ctx.notify_tools_changed()
    if prompts:
        await ctx.notify_prompts_changed()
    # 2025-11-25: a notification on the session (the SDK drops this copy at 2026-07-28).
    await ctx.session.send_tool_list_changed()
    if prompts:
        await ctx.session.send_prompt_list_changed()


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


class ToolsetRow(BaseModel):
    id: str
    description: str
    enabled: bool


class ListToolsetsOut(BaseModel):
    toolsets: list[ToolsetRow]


class EnableToolsetOut(BaseModel):
    toolset: str
    added: list[str] = Field(description="Tools now callable; empty when the toolset was already enabled")


class _FreshBooksServer(MCPServer[AppState]):
    """MCPServer that registers its tools and prompts on first use, not at start-up.

    Importing the tool modules and building their schemas costs ~0.15 s in a fresh process; a
    client needs them only for tools/* and prompts/*, never to initialize.

    In dynamic mode it starts with list_toolsets and enable_toolset (plus any FRESHBOOKS_TOOLSETS);
    enable_toolset registers a toolset's tools for the whole server process and tells the client
    the tool list changed.
    """

    def __init__(self, *args: Any, settings: Settings, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # No resources are served: unhandled resources/* methods are not advertised in capabilities.
        for method in ("resources/list", "resources/read", "resources/templates/list"):
            self._lowlevel_server._request_handlers.pop(method, None)
        self._settings = settings
        self._registered = False
        self._prompt_names: set[str] = set()
        if settings.dynamic_toolsets:
            self._declare_list_changed()

    def _declare_list_changed(self) -> None:
        # 2025-11-25 clients learn of tools.listChanged from initialize, which MCPServer builds with
        # default NotificationOptions (all false); at 2026-07-28 the SDK derives it from the
        # subscriptions/listen handler it serves.
        lowlevel = self._lowlevel_server
        build = lowlevel.create_initialization_options

        def with_list_changed(
            notification_options: NotificationOptions | None = None, *args: Any, **kwargs: Any
        ) -> Any:
            options = notification_options or NotificationOptions(tools_changed=True, prompts_changed=True)
            return build(options, *args, **kwargs)

        lowlevel.create_initialization_options = with_list_changed  # type: ignore[method-assign]

    def _ensure_registered(self) -> None:
        if self._registered:
            return
        self._registered = True
        self._enable(exposed_toolsets(self._settings))
        if self._settings.dynamic_toolsets:
            for meta_tool in self._toolset_tools():
                self._tool_manager._tools[meta_tool.name] = meta_tool

    def _enable(self, toolsets: tuple[str, ...]) -> tuple[list[str], bool]:
        """Register these toolsets' tools (and the prompts they complete); (tools added, prompts added)."""
        tools = _tools()
        known = self._tool_manager._tools
        added = [spec.name for spec in select_specs(self._settings, toolsets) if spec.name not in known]
        # The SDK has no public way to add an already-built Tool after construction.
        known.update({name: tools[name] for name in added})
        from .prompts import register_prompts

        available = frozenset(name for name in known if name in tools)
        new_prompts = register_prompts(self, available, skip=frozenset(self._prompt_names))
        self._prompt_names |= new_prompts
        return added, bool(new_prompts)

    def _enabled_toolsets(self) -> set[str]:
        known = self._tool_manager._tools
        return {spec.toolset.id for spec in all_specs() if spec.name in known}

    def _toolset_tools(self) -> list[Tool]:
        async def list_toolsets() -> ListToolsetsOut:
            """List the toolsets this server offers, each with a one-line description and whether its tools
            are enabled. Enable one with enable_toolset when the task needs tools you do not have yet."""
            enabled = self._enabled_toolsets()
            return ListToolsetsOut(
                toolsets=[ToolsetRow(id=ts.id, description=ts.description, enabled=ts.id in enabled) for ts in CATALOG]
            )

        async def enable_toolset(
            ctx: Context[AppState, Any],
            toolset: Annotated[str, Field(description="Toolset id", json_schema_extra={"enum": list(KNOWN_TOOLSETS)})],
        ) -> EnableToolsetOut:
            """Add a toolset's tools to this server's tool list (read-only mode adds only its read tools).
            Returns the tools added; the client is told the tool list changed, so list the tools again."""
            if toolset not in KNOWN_TOOLSETS:
                raise ToolError(f"Unknown toolset {toolset!r}; choose one of {', '.join(KNOWN_TOOLSETS)}.")
            added, new_prompts = self._enable((toolset,))
            if added:
                await _announce_list_changed(ctx, prompts=new_prompts)
            return EnableToolsetOut(toolset=toolset, added=added)

        annotations = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
        return [
            compact_schemas(_strict(Tool.from_function(fn, title=title, annotations=annotations)))
            for fn, title in ((list_toolsets, "List toolsets"), (enable_toolset, "Enable toolset"))
        ]

    async def list_tools(self) -> list[MCPTool]:
        self._ensure_registered()
        return await super().list_tools()

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[AppState, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        self._ensure_registered()
        called = CALLED_TOOL.set(name)  # a confirmation refusal names the tool to call again
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError) and not isinstance(exc, UnexpectedToolError):
                # arguments refused by the input schema: plain sentences instead of pydantic's text
                tool = self._tool_manager.get_tool(name)
                allowed = sorted(tool.parameters.get("properties", {})) if tool else []
                schema = tool.parameters if tool else None
                raise ToolError(plain_argument_error(name, cause, allowed, schema)) from cause
            raise
        finally:
            CALLED_TOOL.reset(called)

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
    hosted: Any = None,
) -> MCPServer[AppState]:
    """The MCP server for these settings.

    `hosted` (a `hosting.app.HostedRuntime`) serves many users: each request's FreshBooks client is the
    signed-in user's (from the MCP access token), and the runtime is closed with the server.

    `demo=True` embeds a seeded sandbox in-process (no port, no credentials). Tests pass their own
    `sandbox` (a `Sandbox` instance) to inspect its books, or a `transport`/`token_source`.
    """
    open_client = _make_client_factory(
        settings, demo=demo, sandbox=sandbox, transport=transport, token_source=token_source
    )

    @asynccontextmanager
    async def lifespan(_: MCPServer[AppState]) -> AsyncIterator[AppState]:
        if hosted is not None:
            from .hosting.books import HostedAppState

            try:
                yield HostedAppState(settings, hosted.books)
            finally:
                await hosted.aclose()
            return
        async with open_client() as (client, sb):
            yield AppState(settings=settings, fb=client, sandbox=sb)

    server: MCPServer[AppState] = _FreshBooksServer(
        "freshbooks",
        title="FreshBooks",
        description="Bookkeeping in FreshBooks: clients, invoices, payments, expenses.",
        instructions=instructions_for(settings),
        version=__version__,
        lifespan=lifespan,
        # The SDK configures the root logger at this level; INFO would log every FreshBooks URL
        # (search values such as client emails included), so follow what the host configured.
        log_level=_host_log_level(),
        settings=settings,
    )
    return server
