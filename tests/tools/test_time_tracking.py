"""Time tracking tools through a real MCP client against the sandbox; totals from the sandbox's own records."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from mcp import Client
from mcp.types import ElicitResult

from conftest import call_error, call_ok
from mcp_server_freshbooks.config import Settings, load_settings
from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions
from mcp_server_freshbooks.server import build_server

pytestmark = pytest.mark.anyio

D = Decimal
TZ = ZoneInfo("America/New_York")


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(SandboxOptions(seed=7, time_entries=400))


@pytest.fixture
def settings() -> Settings:
    return load_settings(environ={"FRESHBOOKS_TOOLSETS": "time,invoices,projects"}, use_dotenv=False)


@pytest.fixture
async def mcp(sandbox: Sandbox, settings: Settings) -> AsyncIterator[Client]:
    async with Client(build_server(settings, sandbox=sandbox)) as client:  # type: ignore[arg-type]
        yield client


@pytest.fixture(autouse=True)
def _no_ignored_search_keys(sandbox: Sandbox) -> Iterator[None]:
    yield
    assert not sandbox.ignored_search_keys, f"FreshBooks would ignore: {dict(sandbox.ignored_search_keys)}"


def h(seconds: int) -> str:
    return f"{(D(seconds) / 3600).quantize(D('0.01'), rounding=ROUND_HALF_UP):f}"


def local_day(entry: dict[str, Any]) -> date:
    return datetime.fromisoformat(entry["started_at"].rstrip("Z")).replace(tzinfo=UTC).astimezone(TZ).date()


def entries(sb: Sandbox) -> list[dict[str, Any]]:
    return [e for e in sb.db.time_entries.values() if e["active"]]


def busiest_client(sb: Sandbox) -> int:
    count: dict[int, int] = defaultdict(int)
    for e in entries(sb):
        if e["client_id"] and e["billable"] and not e["billed"]:
            count[e["client_id"]] += 1
    return max(count, key=lambda c: count[c])


# ---------------------------------------------------------------------- list / summarize


async def test_list_totals_are_freshbooks_meta_over_all_matches(mcp: Client, sandbox: Sandbox) -> None:
    cid = busiest_client(sandbox)
    d_from, d_to = sandbox.today - timedelta(days=200), sandbox.today - timedelta(days=10)
    args = {"client_id": cid, "date_from": d_from.isoformat(), "date_to": d_to.isoformat(), "limit": 5}
    out = await call_ok(mcp, "list_time_entries", args)
    mine = [e for e in entries(sandbox) if e["client_id"] == cid and d_from <= local_day(e) <= d_to]
    assert out["total"] == len(mine) and len(out["time_entries"]) == min(5, len(mine))
    assert out["logged_hours"] == h(sum(e["duration"] for e in mine))
    assert out["unbilled_hours"] == h(sum(e["duration"] for e in mine if not e["billed"]))
    assert {r["team_member_id"] for r in (await call_ok(mcp, "list_time_entries", {"limit": 100}))["time_entries"]} > {
        sandbox.identity_id
    }  # team=true: every member's entries


async def test_list_day_bounds_are_local_and_inclusive(mcp: Client, sandbox: Sandbox) -> None:
    e = entries(sandbox)[-1]
    day = local_day(e).isoformat()
    out = await call_ok(mcp, "list_time_entries", {"date_from": day, "date_to": day, "limit": 100})
    want = sorted(x["id"] for x in entries(sandbox) if local_day(x).isoformat() == day)
    assert sorted(r["id"] for r in out["time_entries"]) == want and e["id"] in want


def member_name(sb: Sandbox, identity_id: int) -> str:
    """Who logged an entry, as the sandbox's /me (the owner) and project groups name them."""
    from mcp_server_freshbooks.sandbox.resources.time_entries import TEAM

    team = {i: f"{first} {last}" for i, first, last, _ in TEAM}
    return "Morgan Reyes" if identity_id == sb.identity_id else team[identity_id]


async def test_list_by_service_reads_every_page_and_filters_exactly(mcp: Client, sandbox: Sandbox) -> None:
    """FreshBooks documents no service filter on time entries: the tool sends none, reads every
    page and filters; rows, paging and totals are what the sandbox's records give for that service."""
    per_service: dict[int, int] = defaultdict(int)
    for e in entries(sandbox):
        if e["service_id"]:
            per_service[e["service_id"]] += 1
    sid = max(per_service, key=lambda s: per_service[s])
    mine = sorted(
        (e for e in entries(sandbox) if e["service_id"] == sid), key=lambda e: (e["started_at"], e["id"]), reverse=True
    )
    assert len(mine) > 14
    requests = sandbox.request_count
    out = await call_ok(mcp, "list_time_entries", {"service_id": sid, "limit": 7, "page": 2})
    assert sandbox.request_count - requests >= -(-len(entries(sandbox)) // 100)  # every page was read
    assert [r["id"] for r in out["time_entries"]] == [e["id"] for e in mine[7:14]]
    assert {r["service_id"] for r in out["time_entries"]} == {sid} and out["total"] == len(mine)
    assert out["logged_hours"] == h(sum(e["duration"] for e in mine))
    assert out["unbilled_hours"] == h(sum(e["duration"] for e in mine if not e["billed"]))
    assert out["has_more"] is (len(mine) > 14)
    last = await call_ok(mcp, "list_time_entries", {"service_id": sid, "limit": 7, "page": -(-len(mine) // 7)})
    assert [r["id"] for r in last["time_entries"]] == [e["id"] for e in mine[(-(-len(mine) // 7) - 1) * 7 :]]
    assert last["has_more"] is False


async def test_list_rows_name_the_team_member(mcp: Client, sandbox: Sandbox) -> None:
    rows = (await call_ok(mcp, "list_time_entries", {"limit": 100}))["time_entries"]
    assert len({r["team_member_id"] for r in rows}) > 2
    assert [r["team_member"] for r in rows] == [member_name(sandbox, r["team_member_id"]) for r in rows]
    groups = (await call_ok(mcp, "summarize_time", {"group_by": "team_member"}))["groups"]
    assert {g["label"] for g in groups} == {member_name(sandbox, int(g["key"])) for g in groups} and len(groups) == 4


@pytest.mark.parametrize("group_by", ["client", "team_member", "month"])
async def test_summarize_time_matches_the_sandbox(mcp: Client, sandbox: Sandbox, group_by: str) -> None:
    out = await call_ok(mcp, "summarize_time", {"group_by": group_by})
    all_e = entries(sandbox)
    assert out["entries"] == len(all_e)
    assert out["total"]["hours"] == h(sum(e["duration"] for e in all_e))
    assert out["total"]["billed_hours"] == h(sum(e["duration"] for e in all_e if e["billed"]))
    assert out["total"]["non_billable_hours"] == h(sum(e["duration"] for e in all_e if not e["billable"]))
    field = {"client": "client_id", "team_member": "identity_id"}.get(group_by)
    expect: dict[str, int] = defaultdict(int)
    for e in all_e:
        key = str(e[field] or "none") if field else local_day(e).isoformat()[:7]
        expect[key] += e["duration"]
    assert {g["key"]: g["hours"] for g in out["groups"]} == {k: h(v) for k, v in expect.items()}


async def test_summarize_value_uses_project_then_service_rates(mcp: Client, sandbox: Sandbox) -> None:
    out = await call_ok(mcp, "summarize_time", {"group_by": "project"})
    rates = {s: D(r["rate"]) for s, r in sandbox.db.service_rates.items()}
    value, unrated = D(0), 0
    for e in entries(sandbox):
        if not e["billable"]:
            continue
        p = sandbox.db.projects.get(e["project_id"] or 0)
        prate = D(p["rate"]) if p and p["rate"] else None
        srate = rates.get(e["service_id"] or 0)
        rate = (srate or prate) if p and p["billing_method"] == "service_rate" else (prate or srate)
        if rate is None:
            unrated += e["duration"]
        else:
            value += D(e["duration"]) * rate
    assert out["total"]["value"] == f"{(value / 3600).quantize(D('0.01'), rounding=ROUND_HALF_UP):f}"
    assert out["unrated_hours"] == h(unrated)


async def test_list_services_with_rates(mcp: Client, sandbox: Sandbox) -> None:
    out = await call_ok(mcp, "list_services")
    got = {r["id"]: r.get("rate") for r in out["services"]}
    assert got == {sid: sandbox.db.service_rates.get(sid, {}).get("rate") for sid in sandbox.db.services}


# ---------------------------------------------------------------------- log / update / delete


async def test_log_time_with_project_name_and_service(mcp: Client, sandbox: Sandbox) -> None:
    project = next(p for p in sandbox.db.projects.values() if p["client_id"])
    service = next(iter(sandbox.db.services.values()))
    day = (sandbox.today - timedelta(days=2)).isoformat()
    args = {"hours": "1:45", "date": day, "project": project["title"], "service": service["name"], "note": "Calls"}
    out = await call_ok(mcp, "log_time", args)
    rec = sandbox.db.time_entries[out["time_entry"]["id"]]
    assert rec["duration"] == 6300 and rec["project_id"] == project["id"] and rec["client_id"] == project["client_id"]
    assert rec["service_id"] == service["id"] and local_day(rec).isoformat() == day and rec["note"] == "Calls"
    assert out["time_entry"]["hours"] == "1.75"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ({"hours": "25"}, "at most 24"),
        ({"hours": "0"}, "more than 0"),
        ({"hours": "1.5", "project": "999999"}, "No project with id 999999"),
        ({"hours": "abc"}, "decimal hours like 1.5"),
    ],
)
async def test_log_time_refusals_change_nothing(mcp: Client, sandbox: Sandbox, args: dict[str, Any], says: str) -> None:
    before = len(sandbox.db.time_entries)
    assert says in await call_error(mcp, "log_time", args)
    assert len(sandbox.db.time_entries) == before


async def test_log_time_refuses_future_and_foreign_project(mcp: Client, sandbox: Sandbox) -> None:
    before = len(sandbox.db.time_entries)
    future = (sandbox.today + timedelta(days=2)).isoformat()
    assert "future" in await call_error(mcp, "log_time", {"hours": "1", "date": future})
    project = next(p for p in sandbox.db.projects.values() if p["client_id"])
    other = next(c for c in sandbox.db.clients if c != project["client_id"])
    text = await call_error(mcp, "log_time", {"hours": "1", "project": str(project["id"]), "client_id": other})
    assert f"belongs to client {project['client_id']}" in text
    assert len(sandbox.db.time_entries) == before


async def test_log_time_is_logged_once_when_the_reply_is_lost(mcp: Client, sandbox: Sandbox) -> None:
    before = set(sandbox.db.time_entries)
    sandbox.set_faults(drop_rate=1.0)
    result = await mcp.call_tool("log_time", {"hours": "2", "note": "lost reply"})
    sandbox.set_faults(drop_rate=0.0)
    new = [e for i, e in sandbox.db.time_entries.items() if i not in before]
    assert len(new) <= 1  # never twice, whatever the tool said
    if not result.is_error:
        assert len(new) == 1 and new[0]["duration"] == 7200


async def test_update_sends_only_changes_and_refuses_billed(mcp: Client, sandbox: Sandbox) -> None:
    e = next(x for x in entries(sandbox) if not x["billed"] and x["project_id"])
    started = e["started_at"]
    out = await call_ok(mcp, "update_time_entry", {"entry_id": e["id"], "hours": "0.5", "note": "Trimmed"})
    assert e["duration"] == 1800 and e["note"] == "Trimmed" and e["started_at"] == started
    assert e["project_id"] and out["time_entry"]["hours"] == "0.50"
    billed = next(x for x in entries(sandbox) if x["billed"])
    assert "already billed" in await call_error(mcp, "update_time_entry", {"entry_id": billed["id"], "hours": "1"})


async def test_delete_is_confirmed_and_refuses_billed(mcp: Client, sandbox: Sandbox) -> None:
    e = next(x for x in entries(sandbox) if not x["billed"])
    text = await call_error(mcp, "delete_time_entry", {"entry_id": e["id"]})
    assert "confirm=true" in text and e["id"] in sandbox.db.time_entries
    await call_ok(mcp, "delete_time_entry", {"entry_id": e["id"], "confirm": True})
    assert e["id"] not in sandbox.db.time_entries
    billed = next(x for x in entries(sandbox) if x["billed"])
    assert "is billed" in await call_error(mcp, "delete_time_entry", {"entry_id": billed["id"], "confirm": True})
    assert billed["id"] in sandbox.db.time_entries


# ---------------------------------------------------------------------- invoice_unbilled_time


def unbilled_of(sb: Sandbox, cid: int) -> list[dict[str, Any]]:
    return [e for e in entries(sb) if e["client_id"] == cid and e["billable"] and not e["billed"]]


async def test_invoice_unbilled_time_asks_then_invoices_exactly_those(mcp: Client, sandbox: Sandbox) -> None:
    cid = busiest_client(sandbox)
    todo = unbilled_of(sandbox, cid)
    invoices_before = len(sandbox.db.invoices)
    text = await call_error(mcp, "invoice_unbilled_time", {"client_id": cid, "rate": "100.00"})
    assert "confirm=true" in text and h(sum(e["duration"] for e in todo)) in text
    assert len(sandbox.db.invoices) == invoices_before and unbilled_of(sandbox, cid) == todo

    out = await call_ok(mcp, "invoice_unbilled_time", {"client_id": cid, "rate": "100.00", "confirm": True})
    inv = sandbox.db.invoices[out["invoice_id"]]
    assert inv["v3_status"] == "draft" and inv["customerid"] == cid
    assert sorted(out["entries_marked"]) == sorted(e["id"] for e in todo)
    assert all(sandbox.db.time_entries[e["id"]]["billed"] for e in todo)
    assert out["hours"] == h(sum(e["duration"] for e in todo))
    # One line per service (and rate); each qty is its entries' hours to 2 decimals.
    per_service: dict[str, int] = defaultdict(int)
    for e in todo:
        per_service[sandbox.db.services[e["service_id"]]["name"] if e["service_id"] else "Time"] += e["duration"]
    assert {line["name"]: D(line["qty"]) for line in inv["lines"]} == {n: D(h(s)) for n, s in per_service.items()}
    total = sum(D(line["qty"]) * D(line["unit_cost"]["amount"]) for line in inv["lines"])
    assert D(inv["amount"]["amount"]) == total.quantize(D("0.01"))
    assert str(min(e["id"] for e in todo)) in inv["notes"]

    again = await call_ok(mcp, "invoice_unbilled_time", {"client_id": cid, "rate": "100.00", "confirm": True})
    assert again["status"] == "nothing_to_bill"


async def test_resume_marks_the_rest_and_makes_no_second_invoice(mcp: Client, sandbox: Sandbox) -> None:
    cid = busiest_client(sandbox)
    todo = unbilled_of(sandbox, cid)
    first = await call_ok(mcp, "invoice_unbilled_time", {"client_id": cid, "rate": "90.00", "confirm": True})
    # As if the run had stopped after the invoice: half of its entries never got billed=true.
    undone = sorted(e["id"] for e in todo)[::2]
    for i in undone:
        sandbox.db.time_entries[i]["billed"] = False
    text = await call_error(mcp, "invoice_unbilled_time", {"client_id": cid, "rate": "90.00"})
    assert f"mark {len(undone)} entries billed" in text and first["invoice_number"] in text
    invoices = len(sandbox.db.invoices)
    out = await call_ok(mcp, "invoice_unbilled_time", {"client_id": cid, "rate": "90.00", "confirm": True})
    assert out["status"] == "resumed" and out["invoice_id"] == first["invoice_id"]
    assert out["entries_marked"] == undone and len(sandbox.db.invoices) == invoices
    assert all(sandbox.db.time_entries[e["id"]]["billed"] for e in todo)


async def test_with_elicitation_only_the_entries_shown_are_billed(sandbox: Sandbox, settings: Settings) -> None:
    cid = busiest_client(sandbox)
    todo = sorted(e["id"] for e in unbilled_of(sandbox, cid))
    late_ids: list[int] = []

    async def answer(_ctx: Any, params: Any) -> ElicitResult:
        assert h(sum(sandbox.db.time_entries[i]["duration"] for i in todo)) in params.message
        # Logged while the user reads the question: must wait for the next invoice.
        rec = dict(sandbox.db.time_entries[todo[0]], id=99999001, billed=False, duration=3600)
        sandbox.db.time_entries[99999001] = rec
        late_ids.append(99999001)
        return ElicitResult(action="accept", content={"confirm": True})

    # Legacy era: the question is asked inside the one request, so the body bills what was shown.
    server = build_server(settings, sandbox=sandbox)
    async with Client(server, mode="legacy", elicitation_callback=answer) as client:  # type: ignore[arg-type]
        out = await call_ok(client, "invoice_unbilled_time", {"client_id": cid, "rate": "80.00"})
    assert out["entries_marked"] == todo and late_ids
    assert sandbox.db.time_entries[99999001]["billed"] is False
    notes = sandbox.db.invoices[out["invoice_id"]]["notes"]
    assert "99999001" not in notes


# ---------------------------------------------------------------------- prompt


@pytest.mark.parametrize("args", [{}, {"client": "Acme"}, {"client": "12"}])
async def test_bill_unbilled_time_prompt_names_real_tools(mcp: Client, args: dict[str, str]) -> None:
    from test_prompts import check_text

    tools = {t.name: t.input_schema for t in (await mcp.list_tools()).tools}
    result = await mcp.get_prompt("bill_unbilled_time", args)
    text = result.messages[0].content.text  # type: ignore[union-attr]
    problems, called = check_text(text, tools)
    assert not problems and "invoice_unbilled_time" in called and "list_time_entries" in called
    assert ("summarize_time" in called) and (("Acme" in text) == ("client" in args and args["client"] == "Acme"))


async def test_the_prompt_needs_the_time_toolset(sandbox: Sandbox) -> None:
    plain = load_settings(environ={}, use_dotenv=False)
    async with Client(build_server(plain, sandbox=sandbox)) as client:  # type: ignore[arg-type]
        assert "bill_unbilled_time" not in {p.name for p in (await client.list_prompts()).prompts}


# ---------------------------------------------------------------------- fault soak


def marker_invoices(sb: Sandbox, cid: int) -> dict[int, set[int]]:
    from mcp_server_freshbooks.freshbooks.time_billing import marker_ids

    return {
        i["id"]: marker_ids(i["notes"])
        for i in sb.db.invoices.values()
        if i["customerid"] == cid and i["vis_state"] == 0 and marker_ids(i["notes"])
    }


async def soak_invoice_time(seed: int, callers: int, fail_rate: float, drop_rate: float) -> dict[str, int]:
    """Concurrent invoice_unbilled_time calls per client under 5xx and dropped replies; then the books' checks."""
    import anyio

    sb = Sandbox(SandboxOptions(seed=seed, time_entries=300))
    settings = load_settings(environ={"FRESHBOOKS_TOOLSETS": "time"}, use_dotenv=False).with_overrides(
        request_timeout=0.4
    )
    count: dict[int, int] = defaultdict(int)
    for e in entries(sb):
        if e["client_id"] and e["billable"] and not e["billed"]:
            count[e["client_id"]] += 1
    clients = sorted(count, key=lambda c: -count[c])[:3]
    start_unbilled = {e["id"] for c in clients for e in unbilled_of(sb, c)}
    stats: dict[str, int] = defaultdict(int)
    sb.set_faults(fail_rate=fail_rate, drop_rate=drop_rate)

    async def caller(client: Client, cid: int) -> None:
        for _ in range(8):
            result = await client.call_tool(
                "invoice_unbilled_time", {"client_id": cid, "rate": "75.00", "confirm": True}
            )
            text = " ".join(getattr(c, "text", "") for c in result.content)
            assert "Traceback" not in text and "Unexpected server error" not in text, text
            if result.is_error:
                stats["errors"] += 1
                continue
            status = (result.structured_content or {})["status"]
            stats[status] += 1
            if status == "nothing_to_bill":
                return

    async with Client(build_server(settings, sandbox=sb)) as one, Client(build_server(settings, sandbox=sb)) as two:
        async with anyio.create_task_group() as tg:
            for cid in clients:
                for n in range(callers):
                    tg.start_soon(caller, one if n % 2 else two, cid)
        sb.set_faults(fail_rate=0.0, drop_rate=0.0)
        for _ in range(100):  # writes still sleeping in the sandbox land first
            if not sb.writes_in_flight:
                break
            await anyio.sleep(0.05)
        await anyio.sleep(0.6)  # past the unsettled marks, so a last call may finish the work
        for cid in clients:
            final = await call_ok(one, "invoice_unbilled_time", {"client_id": cid, "rate": "75.00", "confirm": True})
            stats[f"final_{final['status']}"] += 1
    for cid in clients:
        invoices = marker_invoices(sb, cid)
        named = [i for ids in invoices.values() for i in ids]
        assert len(named) == len(set(named)), "an entry is on two invoices"
        billed_now = {e["id"] for e in entries(sb) if e["client_id"] == cid and e["billed"]} & start_unbilled
        assert billed_now <= set(named), "an entry was marked billed that is on no invoice"
        assert set(named) <= billed_now | {i for i in named if i not in start_unbilled}
        assert {e["id"] for e in unbilled_of(sb, cid)} & start_unbilled == set(), "unbilled time left behind"
        for inv_id, ids in invoices.items():
            inv = sb.db.invoices[inv_id]
            per_service: dict[str, int] = defaultdict(int)
            for i in ids:
                e = sb.db.time_entries[i]
                per_service[sb.db.services[e["service_id"]]["name"] if e["service_id"] else "Time"] += e["duration"]
            got: dict[str, Decimal] = defaultdict(Decimal)
            for line in inv["lines"]:
                got[line["name"]] += D(line["qty"])
            assert dict(got) == {n: D(h(s)) for n, s in per_service.items()}, "invoice lines disagree with its entries"
        stats["invoices"] += len(invoices)
        stats["entries_billed"] += len(named)
    stats["clients"] = len(clients)
    return dict(stats)


@pytest.mark.parametrize("seed", [7, 11])
async def test_invoice_unbilled_time_fault_soak(seed: int) -> None:
    stats = await soak_invoice_time(seed, callers=3, fail_rate=0.15, drop_rate=0.15)
    assert stats["invoices"] >= stats["clients"] and stats["entries_billed"] > 0


# ---------------------------------------------------------------------- projects


async def test_list_and_get_project_hours_against_the_sandbox(mcp: Client, sandbox: Sandbox) -> None:
    cid = next(p["client_id"] for p in sandbox.db.projects.values())
    out = await call_ok(mcp, "list_projects", {"client_id": cid})
    want = sorted((p["title"], p["id"]) for p in sandbox.db.projects.values() if p["client_id"] == cid)
    assert [(r["title"], r["id"]) for r in out["projects"]] == want
    project = max(
        sandbox.db.projects.values(), key=lambda p: sum(1 for e in entries(sandbox) if e["project_id"] == p["id"])
    )
    mine = [e for e in entries(sandbox) if e["project_id"] == project["id"]]
    got = await call_ok(mcp, "get_project", {"project_id": project["id"]})
    assert got["logged_hours"] == h(sum(e["duration"] for e in mine))
    assert got["unbilled_hours"] == h(sum(e["duration"] for e in mine if not e["billed"]))
    members = {e["identity_id"] for e in mine} - {sandbox.identity_id}
    assert len(got["team"]) == 1 + len(members)  # the owner and everyone who logged time on it
    assert "No project" in await call_error(mcp, "get_project", {"project_id": 1})


async def test_update_project_resends_the_title_and_changes_only_what_is_given(mcp: Client, sandbox: Sandbox) -> None:
    project = next(p for p in sandbox.db.projects.values() if p["rate"])
    before = dict(project)
    out = await call_ok(
        mcp, "update_project", {"project_id": project["id"], "rate": "175.00", "billing_method": "project_rate"}
    )
    assert project["rate"] == "175.00" and project["title"] == before["title"] and out["rate"] == "175.00"
    assert {k for k in project if project[k] != before[k]} <= {"rate", "billing_method", "updated_at"}


async def test_create_project_asks_then_creates_once(mcp: Client, sandbox: Sandbox) -> None:
    cid = next(iter(sandbox.db.clients))
    args = {"name": "Garden Design", "client_id": cid, "rate": "110.00", "budget": 40}
    before = len(sandbox.db.projects)
    assert "confirm=true" in await call_error(mcp, "create_project", args)
    assert len(sandbox.db.projects) == before
    sandbox.set_faults(drop_rate=1.0)  # every reply lost: settled by looking the project up
    result = await mcp.call_tool("create_project", {**args, "confirm": True})
    sandbox.set_faults(drop_rate=0.0)
    made = [p for p in sandbox.db.projects.values() if p["title"] == "Garden Design"]
    assert len(made) <= 1
    if not result.is_error:
        assert len(made) == 1
    out = await call_ok(mcp, "create_project", {**args, "name": "Garden Design 2", "confirm": True})
    rec = sandbox.db.projects[out["id"]]
    assert rec["client_id"] == cid and rec["rate"] == "110.00" and rec["billing_method"] == "project_rate"
    assert rec["budget"] == 40 and out["logged_hours"] == "0.00"
