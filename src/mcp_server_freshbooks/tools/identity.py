"""Who is signed in and which business the tools work on."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from ._base import Toolset, fb, respond, tool

TOOLSET = Toolset(
    id="identity",
    description="Who is signed in and which business the tools act on.",
    default=True,
    instructions="whoami shows the signed-in user and the business every tool works on.",
    paths=("/users/me",),
    scope_area="profile",
)


class BusinessOut(BaseModel):
    name: str
    business_id: int
    account_id: str | None = Field(default=None, description="None: a client-only membership without books")
    role: str


class WhoAmIOut(BaseModel):
    identity_id: int
    name: str
    email: str | None = None
    business: BusinessOut = Field(description="The business every other tool works on")
    other_businesses: list[BusinessOut] = Field(default_factory=list)
    today: str = Field(description="Today's date in the business's timezone (YYYY-MM-DD)")


@tool(toolset=TOOLSET, title="Who am I", read_only=True, idempotent=True)
async def whoami(ctx: Context[Any, Any]) -> Annotated[CallToolResult, WhoAmIOut]:
    """The signed-in user, the business the tools act on (name, account id, role), their other businesses and today's
    date there. Switching: FRESHBOOKS_BUSINESS, then restart."""
    client = fb(ctx)
    identity = await client.identity()
    selected = await client.business()

    def out(b: Any) -> BusinessOut:
        return BusinessOut(name=b.name, business_id=b.business_id, account_id=b.account_id, role=b.role)

    result = WhoAmIOut(
        identity_id=identity.identity_id,
        name=identity.full_name,
        email=identity.email,
        business=out(selected),
        other_businesses=[out(b) for b in identity.businesses if b.business_id != selected.business_id],
        today=(await client.today()).isoformat(),
    )
    others = ", ".join(b.name for b in result.other_businesses) or "none"
    text = (
        f"Signed in as {result.name} <{result.email}>. Working on {selected.name!r} "
        f"(account {selected.account_id}, role {selected.role}). Other businesses: {others}. Today: {result.today}."
    )
    return respond(result, text)


TOOLS = (whoami,)
