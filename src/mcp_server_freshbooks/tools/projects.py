"""Projects: list and read projects with logged vs budget hours; change a project."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from mcp.server.mcpserver import Context, Elicit, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from ..freshbooks.projects import (
    BillingMethod,
    Project,
    all_projects,
    create_project,
    get_project,
    project_query,
    update_project,
)
from ..freshbooks.time_billing import hours
from ..freshbooks.time_entries import TimeFilter, time_page
from ._base import Confirmation, Toolset, ask_confirmation, fb, one_line, require_confirmation, respond, tool
from ._inputs import FREE_TEXT, ONE_LINE, PLAIN_AMOUNT, WRITE_DATE

TOOLSET = Toolset(
    id="projects",
    description="Projects: list and read them with hours logged vs budget and billed status; change one.",
    default=False,
    instructions="get_project shows a project's rate, budget, hours logged and unbilled, services and team.",
    paths=("/projects/",),
    scope_area="projects",
)

NOT_FOUND = "No project with that id; list_projects shows them."


class ProjectRow(BaseModel):
    id: int
    title: str
    client_id: int | None = None
    project_type: str | None = None
    billing_method: str | None = None
    rate: str | None = Field(default=None, description="Hourly project rate")
    fixed_price: str | None = None
    budget: int | None = Field(default=None, description="Budget as FreshBooks stores it (hours in its UI)")
    due_date: dt.date | None = None
    active: bool
    complete: bool
    billed_status: str | None = None


def project_row(p: Project) -> ProjectRow:
    return ProjectRow(
        id=p.id,
        title=p.title,
        client_id=p.client_id,
        project_type=p.project_type,
        billing_method=p.billing_method,
        rate=f"{p.rate:f}" if p.rate is not None else None,
        fixed_price=f"{p.fixed_price:f}" if p.fixed_price is not None else None,
        budget=p.budget,
        due_date=p.due_date,
        active=p.active,
        complete=p.complete,
        billed_status=p.billed_status,
    )


class ListProjectsOut(BaseModel):
    projects: list[ProjectRow]


@tool(toolset=TOOLSET, title="List projects", read_only=True, idempotent=True)
async def list_projects(
    ctx: Context[Any, Any],
    client_id: Annotated[int | None, Field(ge=1, description="Only this client's")] = None,
    active: Annotated[bool | None, Field(description="Active (true) or archived (false) only")] = None,
    complete: Annotated[bool | None, Field(description="Complete (true) or open (false) only")] = None,
) -> Annotated[CallToolResult, ListProjectsOut]:
    """List projects by title: id, client, type, billing method, rate or fixed price, budget, due
    date, status. get_project adds hours logged vs budget, services and team."""
    rows = [
        project_row(p)
        for p in await all_projects(fb(ctx), project_query(client_id=client_id, active=active, complete=complete))
    ]
    text = "\n".join(
        f"[id {r.id}] {r.title} (client {r.client_id}) {r.project_type or ''} {r.rate or ''}" for r in rows
    )
    return respond(ListProjectsOut(projects=rows), text or "No projects match.")


class ProjectDetail(ProjectRow):
    description: str | None = None
    logged_hours: str = Field(description="All time logged on it")
    unbilled_hours: str
    budget_used_percent: str | None = Field(default=None, description="logged / budget hours")
    billed_amount: str | None = None
    services: list[str] = Field(default_factory=list)
    team: list[str] = Field(default_factory=list, description="Members: name (role)")


async def _detail(ctx: Context[Any, Any], p: Project) -> ProjectDetail:
    page = await time_page(fb(ctx), TimeFilter(project_id=p.id), per_page=1)  # meta totals cover every entry
    logged = hours(page.logged_seconds)
    used = f"{(logged * 100 / p.budget).quantize(Decimal('0.1')):f}" if p.budget else None
    return ProjectDetail(
        **project_row(p).model_dump(),
        description=one_line(p.description, 300),
        logged_hours=f"{logged:f}",
        unbilled_hours=f"{hours(page.unbilled_seconds):f}",
        budget_used_percent=used,
        billed_amount=f"{p.billed_amount:f}" if p.billed_amount is not None else None,
        services=[name for _, name in p.services],
        team=[f"{m.name} ({m.role})" if m.role else m.name for m in p.team],
    )


@tool(toolset=TOOLSET, title="Get project", read_only=True, idempotent=True, not_found=NOT_FOUND, name="get_project")
async def get_project_tool(
    ctx: Context[Any, Any],
    project_id: Annotated[int, Field(ge=1, description="Project id")],
) -> Annotated[CallToolResult, ProjectDetail]:
    """One project: rate or fixed price, billing method, budget, hours logged and unbilled (all team
    members), budget used, billed status and amount, services and team."""
    out = await _detail(ctx, await get_project(fb(ctx), project_id))
    used = f", {out.budget_used_percent}% of budget" if out.budget_used_percent else ""
    text = f"{out.title} [id {out.id}]: {out.logged_hours} h logged ({out.unbilled_hours} h unbilled){used}."
    return respond(out, text)


@tool(
    toolset=TOOLSET,
    title="Update project",
    read_only=False,
    idempotent=True,
    not_found=NOT_FOUND,
    name="update_project",
)
async def update_project_tool(
    ctx: Context[Any, Any],
    project_id: Annotated[int, Field(ge=1, description="Project id")],
    new_title: Annotated[str | None, Field(min_length=1, max_length=200, description="Rename to"), ONE_LINE] = None,
    description: Annotated[str | None, Field(max_length=2000, description="Description"), FREE_TEXT] = None,
    due_date: Annotated[dt.date | None, Field(description="Due date"), WRITE_DATE] = None,
    billing_method: Annotated[BillingMethod | None, Field(description="Rate its time bills at")] = None,
    rate: Annotated[Decimal | None, Field(ge=0, decimal_places=2, description="Hourly rate"), PLAIN_AMOUNT] = None,
    budget: Annotated[int | None, Field(ge=0, le=1000000, description="Budget hours")] = None,
    complete: Annotated[bool | None, Field(description="Complete or open")] = None,
) -> Annotated[CallToolResult, ProjectDetail]:
    """Change a project's title, description, due date, billing method, rate, budget or completion
    (only those given). Returns the project."""
    fields: dict[str, Any] = {
        "title": new_title,
        "description": description,
        "due_date": due_date,
        "billing_method": billing_method,
        "rate": rate,
        "budget": budget,
        "complete": complete,
    }
    fields = {k: v for k, v in fields.items() if v is not None}
    if not fields:
        raise ToolError("Give at least one field to change. Nothing was changed.")
    client = fb(ctx)
    updated = await update_project(client, await get_project(client, project_id), fields)
    out = await _detail(ctx, updated)
    return respond(out, f"Updated project {out.title} [id {out.id}]: {', '.join(sorted(fields))}.")


async def _confirm_create(
    name: str, client_id: int | None, confirm: bool, ctx: Context[Any, Any]
) -> Confirmation | Elicit[Confirmation]:
    for_whom = f" for client {client_id}" if client_id else " (internal)"
    return ask_confirmation(
        ctx,
        confirm,
        question=f"Create the project {name!r}{for_whom}?",
    )


@tool(toolset=TOOLSET, title="Create project", read_only=False, idempotent=False, name="create_project")
async def create_project_tool(
    ctx: Context[Any, Any],
    name: Annotated[str, Field(min_length=1, max_length=200, description="Project title"), ONE_LINE],
    approval: Annotated[Confirmation, Resolve(_confirm_create)],
    client_id: Annotated[int | None, Field(ge=1, description="Client it is for")] = None,
    rate: Annotated[Decimal | None, Field(ge=0, decimal_places=2, description="Hourly rate"), PLAIN_AMOUNT] = None,
    billing_method: Annotated[BillingMethod | None, Field(description="Rate its time bills at")] = None,
    budget: Annotated[int | None, Field(ge=0, le=1000000, description="Budget hours")] = None,
    due_date: Annotated[dt.date | None, Field(description="Due date"), WRITE_DATE] = None,
    confirm: Annotated[bool, Field(description="true only once the user agreed")] = False,
) -> Annotated[CallToolResult, ProjectDetail]:
    """Create an hourly project, once the user confirms; created once even if the reply is lost."""
    require_confirmation(approval, "creating the project")
    fields: dict[str, Any] = {"title": name, "project_type": "hourly_rate", "client_id": client_id, "rate": rate}
    fields |= {"billing_method": billing_method or ("project_rate" if rate is not None else None)}
    fields |= {"budget": budget, "due_date": due_date, "internal": client_id is None}
    out = await _detail(ctx, await create_project(fb(ctx), fields))
    return respond(out, f"Created project {out.title} [id {out.id}].")


TOOLS = (list_projects, get_project_tool, create_project_tool, update_project_tool)
