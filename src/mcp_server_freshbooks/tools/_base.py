"""What every tool module shares: registration, app state, error mapping, confirmation, output.

A tool module defines plain async functions decorated with `@tool(...)`. The decorator records a
`ToolSpec`; `server.build_server` registers the specs the toolsets and read-only mode allow.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, ParamSpec, TypeVar

from mcp.server.mcpserver import Context, Elicit
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from ..config import Settings
from ..freshbooks import (
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
from ..freshbooks.types import Money

log = logging.getLogger(__name__)

__all__ = [
    "AppState",
    "Confirmation",
    "Money",
    "ResponseFormat",
    "ToolSpec",
    "all_specs",
    "app_state",
    "ask_confirmation",
    "fb",
    "require_confirmation",
    "respond",
    "tool",
    "tool_error",
]

ResponseFormat = Literal["concise", "detailed"]
RESPONSE_FORMAT_DESCRIPTION = (
    "concise (default): the fields needed to act; detailed: every field FreshBooks has."
)


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
class ToolSpec:
    fn: Callable[..., Awaitable[Any]]
    name: str
    title: str
    toolset: str
    writes: bool
    annotations: ToolAnnotations


_SPECS: list[ToolSpec] = []

P = ParamSpec("P")
R = TypeVar("R")

_SCOPE_AREAS = (
    ("users/clients", "clients"),
    ("invoices/", "invoices"),
    ("payments/", "payments"),
    ("expenses/", "expenses"),
    ("items/", "billable_items"),
    ("taxes/", "taxes"),
    ("/projects/", "projects"),
    ("/timetracking/", "time_entries"),
    ("/users/me", "profile"),
)


def _scope_for(exc: FreshBooksError) -> str | None:
    path = exc.path or ""
    for fragment, area in _SCOPE_AREAS:
        if fragment in path:
            return f"user:{area}:{'read' if (exc.method or 'GET') == 'GET' else 'write'}"
    return None


def tool_error(exc: FreshBooksError, *, not_found: str | None = None) -> ToolError:
    """Turn a FreshBooks failure into a message a model can act on."""
    detail = exc.message.rstrip(".")
    if isinstance(exc, NotFoundError):
        return ToolError(not_found or f"Not found in FreshBooks: {detail}.")
    if isinstance(exc, AuthError):
        text = detail if "auth login" in detail else f"{detail}. Run `mcp-server-freshbooks auth login`"
        return ToolError(f"FreshBooks authentication failed: {text.rstrip('.')}.")
    if isinstance(exc, ForbiddenError):
        scope = _scope_for(exc)
        need = (
            f" The token needs the scope {scope}; re-run `mcp-server-freshbooks auth login`." if scope else ""
        )
        return ToolError(f"FreshBooks refused access: {detail}.{need} Your role may also not allow this.")
    if isinstance(exc, RateLimitedError):
        return ToolError(f"FreshBooks is rate limiting requests ({detail}). Wait a minute, then try again.")
    if isinstance(exc, WriteOutcomeUnknownError):
        return ToolError(
            f"{detail}. Do not simply retry: first check whether the change exists (look the record up), "
            "then retry only if it does not."
        )
    if isinstance(exc, ServerError | TransportError):
        return ToolError(f"FreshBooks is unavailable right now ({detail}). Try again shortly.")
    if isinstance(exc, ValidationError):
        where = f" (field {exc.field})" if exc.field else ""
        return ToolError(f"FreshBooks refused the request{where}: {detail}. Nothing was changed.")
    if isinstance(exc, ConflictError):
        return ToolError(f"FreshBooks reported a conflict: {detail}. Try again.")
    if isinstance(exc, BusinessSelectionError):
        return ToolError(detail + ".")
    return ToolError(f"FreshBooks error: {detail}.")


def tool(
    *,
    toolset: str,
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
                raise ToolError(
                    f"Unexpected server error in {fn.__name__} ({type(exc).__name__}); details are in the "
                    "server's log. Nothing more is known about whether a write happened: check before retrying."
                ) from None

        _SPECS.append(
            ToolSpec(
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
        )
        return wrapper

    return decorate


def all_specs() -> list[ToolSpec]:
    """Every tool of every module in this package (modules are discovered, not listed)."""
    import importlib
    import pkgutil

    from .. import tools as package

    for module in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if not module.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{module.name}")
    return sorted(_SPECS, key=lambda s: (s.toolset, s.name))


# ---------------------------------------------------------------------- confirmation


class Confirmation(BaseModel):
    confirm: bool = Field(description="true to go ahead, false to cancel")


def _supports_elicitation(ctx: Context[Any, Any]) -> bool:
    try:
        caps = ctx.client_capabilities
    except Exception:  # pragma: no cover - defensive: no request context
        return False
    return caps is not None and getattr(caps, "elicitation", None) is not None


def ask_confirmation(
    ctx: Context[Any, Any], confirm: bool, *, question: str, retry_hint: str
) -> Confirmation | Elicit[Confirmation]:
    """For a resolver: already confirmed, ask the user (elicitation), or refuse with what to do.

    Without elicitation the refusal says exactly what would happen and how to confirm, and the
    tool body never runs, so nothing changes.
    """
    if confirm:
        return Confirmation(confirm=True)
    if _supports_elicitation(ctx):
        return Elicit(question, Confirmation)
    raise ToolError(
        f"Confirmation needed, nothing was changed. {question} Ask the user; if they agree, {retry_hint}."
    )


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
