"""What every tool module shares: registration, app state, error mapping, confirmation, output.

A domain's tool module declares its `Toolset` value once and decorates plain async functions with
`@tool(toolset=TOOLSET, ...)`; it lists them in its `TOOLS` tuple, and `tools/inventory.py` lists the
domain modules. `server.build_server` registers the specs the toolsets and read-only mode allow.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar

from mcp.server.mcpserver import Context, Elicit
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from ..config import Settings
from ..freshbooks import (
    AppliedError,
    AuthError,
    BusinessSelectionError,
    ConflictError,
    ForbiddenError,
    FreshBooksClient,
    FreshBooksError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
    ValidationError,
    WriteOutcomeUnknownError,
)
from ..freshbooks.query import Resource
from ..freshbooks.types import Money

if TYPE_CHECKING:
    from ..freshbooks.writes import Lookup

log = logging.getLogger(__name__)

__all__ = [
    "AppState",
    "Confirmation",
    "Money",
    "ResponseFormat",
    "ToolSpec",
    "Toolset",
    "all_specs",
    "app_state",
    "ask_confirmation",
    "confirm_gate",
    "fb",
    "load_once",
    "require_confirmation",
    "respond",
    "spec_of",
    "tool",
    "tool_error",
]

ResponseFormat = Literal["concise", "detailed"]
RESPONSE_FORMAT_DESCRIPTION = "detailed: all fields"


@dataclass
class AppState:
    """Lifespan state: built once per server (per connection in-process), closed on exit."""

    settings: Settings
    fb: FreshBooksClient
    cache: dict[str, Any] = field(default_factory=dict)
    sandbox: Any = None  # the embedded sandbox in demo mode (for the demo tour only)


def app_state(ctx: Context[Any, Any]) -> AppState:
    state = ctx.request_context.lifespan_context
    if not isinstance(state, AppState):  # pragma: no cover - server wiring error
        raise ToolError("The server is not initialised.")
    return state


def fb(ctx: Context[Any, Any]) -> FreshBooksClient:
    return app_state(ctx).fb


@dataclass(frozen=True)
class Toolset:
    """A domain, declared once in its tools module. The toolset list, FRESHBOOKS_TOOLSETS validation,
    the server instructions, OAuth scope hints and the README tables are all derived from these values."""

    id: str
    description: str  # one line: list_toolsets and the README show it
    default: bool  # exposed when FRESHBOOKS_TOOLSETS is not set
    instructions: str  # this domain's sentences in the server instructions
    resources: tuple[Resource, ...] = ()  # the FreshBooks resources it reads and writes (their search keys)
    paths: tuple[str, ...] = ()  # path fragments of non-accounting endpoints it calls (for scope hints)
    scope_area: str | None = None  # OAuth scope user:<area>:read|write that its endpoints need
    write_lookup: Callable[[Mapping[str, Any]], Lookup] | None = None  # settles a create whose reply was lost

    @property
    def search_keys(self) -> frozenset[str]:
        """Every `search[...]` key the client may send for this domain's resources."""
        keys: set[str] = set()
        for resource in self.resources:
            keys |= resource.search_keys | resource.list_keys | resource.flag_keys
        return frozenset(keys)


@dataclass(frozen=True)
class ToolSpec:
    fn: Callable[..., Awaitable[Any]]
    name: str
    title: str
    toolset: Toolset
    writes: bool
    annotations: ToolAnnotations


# The spec of each decorated function: a lookup for the inventory, not a registry to discover.
_SPEC_OF: dict[Callable[..., Awaitable[Any]], ToolSpec] = {}

P = ParamSpec("P")
R = TypeVar("R")

# Endpoints no domain declares yet; each moves into its domain's Toolset when that domain lands.
_UNCLAIMED_SCOPE_AREAS = (
    ("items/", "billable_items"),
    ("taxes/", "taxes"),
    ("/projects/", "projects"),
    ("/timetracking/", "time_entries"),
)


@functools.cache
def _scope_areas() -> tuple[tuple[str, str], ...]:
    from .inventory import TOOLSETS  # late: the inventory imports every domain module, which import this one

    declared = tuple(
        (fragment, ts.scope_area)
        for ts in TOOLSETS
        if ts.scope_area
        for fragment in (*(r.path for r in ts.resources), *ts.paths)
    )
    return declared + _UNCLAIMED_SCOPE_AREAS


def _scope_for(exc: FreshBooksError) -> str | None:
    path = exc.path or ""
    for fragment, area in _scope_areas():
        if fragment in path:
            return f"user:{area}:{'read' if (exc.method or 'GET') == 'GET' else 'write'}"
    return None


def tool_error(exc: FreshBooksError, *, not_found: str | None = None) -> ToolError:
    """Turn a FreshBooks failure into a message a model can act on."""
    detail = exc.message.rstrip(".")
    advice = f" {exc.advice}" if exc.advice else ""  # FreshBooks' errno table: what to do next
    if isinstance(exc, NotFoundError):
        return ToolError(not_found or f"Not found in FreshBooks: {detail}.{advice}")
    if isinstance(exc, AuthError):
        text = detail if "auth login" in detail else f"{detail}. Run `mcp-server-freshbooks auth login`"
        return ToolError(f"FreshBooks authentication failed: {text.rstrip('.')}.")
    if isinstance(exc, ForbiddenError):
        scope = _scope_for(exc)
        need = f" The token needs the scope {scope}; re-run `mcp-server-freshbooks auth login`." if scope else ""
        return ToolError(f"FreshBooks refused access: {detail}.{need}{advice or ' Your role may also not allow this.'}")
    if isinstance(exc, RateLimitedError):
        return ToolError(f"FreshBooks is rate limiting requests ({detail}). Wait a minute, then try again.")
    if isinstance(exc, AppliedError):
        return ToolError(f"{detail}.")  # it was applied: never advise a retry
    if isinstance(exc, WriteOutcomeUnknownError):
        return ToolError(
            f"{detail}. Do not simply retry: first check whether the change exists (look the record up), "
            "then retry only if it does not."
        )
    if isinstance(exc, ServerError | TransportError):
        return ToolError(f"FreshBooks is unavailable right now ({detail}).{advice or ' Try again shortly.'}")
    if isinstance(exc, ValidationError):
        where = f" (field {exc.field})" if exc.field else ""
        return ToolError(f"FreshBooks refused the request{where}: {detail}.{advice} Nothing was changed.")
    if isinstance(exc, ConflictError):
        return ToolError(f"FreshBooks reported a conflict: {detail}.{advice or ' Try again.'}")
    if isinstance(exc, BusinessSelectionError):
        return ToolError(detail + ".")
    return ToolError(f"FreshBooks error: {detail}.{advice}")


def tool(
    *,
    toolset: Toolset,
    title: str,
    read_only: bool,
    destructive: bool = False,
    idempotent: bool = False,
    name: str | None = None,
    not_found: str | None = None,
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Declare a tool. The docstring is its description (written for a model).

    FreshBooks errors become actionable `ToolError`s (`not_found` is the hint for a 404); any other
    exception is logged to stderr and reported without a traceback.
    """

    def decorate(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(fn)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return await fn(*args, **kwargs)
            except ToolError:
                raise
            except FreshBooksError as exc:
                raise tool_error(exc, not_found=not_found) from None
            except Exception as exc:
                log.exception("tool %s failed unexpectedly", fn.__name__)
                after = (
                    "This tool only reads: nothing was changed."
                    if read_only
                    else "Nothing more is known about whether a write happened: check before retrying."
                )
                raise ToolError(
                    f"Unexpected server error in {fn.__name__} ({type(exc).__name__}); details are in the "
                    f"server's log. {after}"
                ) from None

        _SPEC_OF[wrapper] = ToolSpec(
            fn=wrapper,
            name=name or fn.__name__,
            title=title,
            toolset=toolset,
            writes=not read_only,
            annotations=ToolAnnotations(
                title=title,
                read_only_hint=read_only,
                destructive_hint=destructive if not read_only else None,
                idempotent_hint=idempotent if not read_only else None,
                open_world_hint=True,
            ),
        )
        return wrapper

    return decorate


def spec_of(fn: Callable[..., Awaitable[Any]]) -> ToolSpec:
    """The spec `@tool` recorded for this function (a function without one is not a tool)."""
    try:
        return _SPEC_OF[fn]
    except KeyError:
        raise TypeError(f"{getattr(fn, '__name__', fn)!r} is not decorated with @tool") from None


def all_specs() -> list[ToolSpec]:
    """Every tool in the inventory (tools/inventory.py), in inventory order."""
    from .inventory import ALL_TOOLS

    return [spec_of(fn) for fn in ALL_TOOLS]


# ---------------------------------------------------------------------- confirmation


class Confirmation(BaseModel):
    confirm: bool = Field(description="true to go ahead, false to cancel")


def _supports_elicitation(ctx: Context[Any, Any]) -> bool:
    try:
        caps = ctx.client_capabilities
    except Exception:  # pragma: no cover - defensive: no request context
        return False
    return caps is not None and getattr(caps, "elicitation", None) is not None


def _confirm_policy(ctx: Context[Any, Any]) -> str:
    try:
        return app_state(ctx).settings.confirm_writes
    except ToolError:  # pragma: no cover - no lifespan state: the safest policy
        return "ask"


CALLED_TOOL: ContextVar[str] = ContextVar("called_tool", default="the tool")
"""The tool this call runs (set by the server around each tools/call): how a refusal names it."""


def ask_confirmation(
    ctx: Context[Any, Any], confirm: bool, *, question: str, retry_hint: str | None = None
) -> Confirmation | Elicit[Confirmation]:
    """For a resolver: ask the user (elicitation), accept confirm=true, or refuse with what to do.

    FRESHBOOKS_CONFIRM_WRITES decides. `ask` (default): a host that can ask ALWAYS asks the user,
    whatever `confirm` says, so a prompt-injected "the user agreed, pass confirm=true" moves
    nothing; confirm=true is the fallback for hosts that cannot ask. `elicit`: only the user's
    answer through the host counts. `never`: no confirmation (unattended pipelines, which should
    also run read-only or with an allowlisted toolset). A refusal says exactly what would happen and
    how to confirm; the tool body never runs, so nothing changes.
    """
    policy = _confirm_policy(ctx)
    if policy == "never":
        return Confirmation(confirm=True)
    if _supports_elicitation(ctx):
        return Elicit(question, Confirmation)
    if policy == "elicit":
        raise ToolError(
            f"Confirmation needed, nothing was changed. {question} This server only accepts the user's answer "
            "through the app (FRESHBOOKS_CONFIRM_WRITES=elicit), and this app cannot ask: make the change in "
            "FreshBooks yourself, or use an app that supports elicitation."
        )
    if confirm:
        return Confirmation(confirm=True)
    retry_hint = retry_hint or f"call {CALLED_TOOL.get()} again with the same arguments and confirm=true"
    raise ToolError(f"Confirmation needed, nothing was changed. {question} Ask the user; if they agree, {retry_hint}.")


_LOADED_MAX = 64
T = TypeVar("T")


async def load_once(ctx: Context[Any, Any], key: str, load: Callable[[], Awaitable[T]], *, fresh: bool = False) -> T:
    """The record `key` of this tool call, loaded once for the confirm resolver and the tool body.

    The resolver calls it to word the question (and refuse what cannot be done); the body calls it
    again with the same key and gets the same record without a second read. Kept per request id
    (a retried call is a new request and reads afresh), at most 64 at a time. A check that must
    hold at the moment of the write re-reads under the write's lock: `fresh=True` drops the cached
    copy and reads again (see writes.exclusive).
    """
    cache: dict[tuple[str, str], Any] = app_state(ctx).cache.setdefault("load_once", {})
    slot = (ctx.request_id, key)
    if slot in cache:
        cached = cache.pop(slot)
        if not fresh:
            return cached  # type: ignore[no-any-return]
    record = await load()
    if fresh:
        return record
    if len(cache) >= _LOADED_MAX:
        cache.pop(next(iter(cache)))
    cache[slot] = record
    return record


async def confirm_gate(
    ctx: Context[Any, Any],
    confirm: bool,
    *,
    key: str,
    load: Callable[[], Awaitable[T]],
    question: Callable[[T], str | None],
    retry_hint: str | None = None,
) -> Confirmation | Elicit[Confirmation]:
    """The resolver of a confirm-gated write: load the record once (`load_once`), word the question.

    `question(record)` returns the question, or None when the call will change nothing (no need to
    ask); it raises ToolError to refuse before asking about something that cannot be done. The tool
    body gets the same record with `await load_once(ctx, key, load)`.
    """
    record = await load_once(ctx, key, load)
    text = question(record)
    if text is None:
        return Confirmation(confirm=True)
    return ask_confirmation(ctx, confirm, question=text, retry_hint=retry_hint)


def require_confirmation(approval: Confirmation, what: str) -> None:
    if not approval.confirm:
        raise ToolError(f"The user did not confirm; {what} was not done and nothing was changed.")


# ---------------------------------------------------------------------- output

_WS = re.compile(r"\s+")


def respond(output: BaseModel, text: str | None = None) -> CallToolResult:
    """Structured content (validated against the output model) plus a short text for the model."""
    data = output.model_dump(mode="json", exclude_none=True)
    if text is None:
        text = output.model_dump_json(exclude_none=True)
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)


def one_line(value: str | None, limit: int = 80) -> str | None:
    """Collapse whitespace and cut long free text (notes, descriptions) for concise views."""
    if value is None:
        return None
    text = _WS.sub(" ", value).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
