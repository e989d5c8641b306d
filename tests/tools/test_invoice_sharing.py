"""get_invoice_share_link (#17) through a real MCP client against the sandbox's share_link endpoint."""

from __future__ import annotations

import httpx
import pytest
from mcp import Client
from tests.conftest import call_error, call_ok

from mcp_server_freshbooks.config import DEFAULT_TOOLSETS, Settings, load_settings
from mcp_server_freshbooks.sandbox import Sandbox

pytestmark = pytest.mark.anyio

DRAFT = 1


@pytest.fixture
def settings() -> Settings:
    toolsets = ",".join((*DEFAULT_TOOLSETS, "invoice_sharing"))
    return load_settings(environ={"FRESHBOOKS_TOOLSETS": toolsets}, use_dotenv=False)


def invoice_where(sb: Sandbox, *, draft: bool) -> dict[str, object]:
    return next(dict(i) for i in sb.db.invoices.values() if i["vis_state"] == 0 and (i["status"] == DRAFT) == draft)


async def test_share_link_of_a_sent_invoice(mcp: Client, sandbox: Sandbox) -> None:
    inv = invoice_where(sandbox, draft=False)
    out = await call_ok(mcp, "get_invoice_share_link", {"invoice_id": inv["id"]})
    assert out["invoice_id"] == inv["id"] and out["client_id"] == inv["customerid"]
    assert out["invoice_number"] == inv["invoice_number"]
    token = str(inv["uuid"]).replace("-", "")
    assert out["link"] == f"https://my.freshbooks.com/#/link/{token}?type=secondary&share_method=share_link"
    again = await call_ok(mcp, "get_invoice_share_link", {"invoice_id": inv["id"]})
    assert again["link"] == out["link"]
    assert sandbox.write_log == []  # reading a link changes nothing


async def test_a_draft_is_refused_with_send_invoice_offered(mcp: Client, sandbox: Sandbox) -> None:
    inv = invoice_where(sandbox, draft=True)
    text = await call_error(mcp, "get_invoice_share_link", {"invoice_id": inv["id"]})
    assert "draft" in text and "send_invoice" in text and str(inv["invoice_number"]) in text
    assert sandbox.write_log == []


async def test_unknown_invoice(mcp: Client) -> None:
    assert "list_invoices" in await call_error(mcp, "get_invoice_share_link", {"invoice_id": 999999})


async def test_the_sandbox_refuses_a_draft_like_freshbooks(sandbox: Sandbox) -> None:
    inv = invoice_where(sandbox, draft=True)
    sent = invoice_where(sandbox, draft=False)
    base = f"/accounting/account/{sandbox.account_id}/invoices/invoices"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app), base_url="http://sb") as http:
        headers = {"Authorization": f"Bearer {sandbox.access_token}"}
        draft = await http.get(f"{base}/{inv['id']}/share_link", params={"share_method": "share_link"}, headers=headers)
        ok = await http.get(f"{base}/{sent['id']}/share_link", params={"share_method": "share_link"}, headers=headers)
        bad = await http.get(f"{base}/{sent['id']}/share_link", params={"share_method": "fax"}, headers=headers)
    assert draft.status_code == 422 and bad.status_code == 422
    body = ok.json()["response"]["result"]["share_link"]
    assert body["resourceid"] == str(sent["id"]) and body["share_method"] == "share_link"
    assert body["clientid"] == sent["customerid"] and body["resource_type"] == "invoice"
