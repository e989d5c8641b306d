"""Receipts, invoice logos and online payments (#17), through mcp.Client against the sandbox.

In-process sessions carry no HTTP request, so the tools read local paths as over stdio; the HTTP
side (base64 only, paths refused) is in tests/test_http_transport.py, real stdio in tests/test_stdio.py.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client
from tests.conftest import call_error, call_ok

from mcp_server_freshbooks.config import DEFAULT_TOOLSETS, Settings, load_settings
from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions
from mcp_server_freshbooks.server import build_server

pytestmark = pytest.mark.anyio

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + bytes(40)
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


@pytest.fixture
def settings() -> Settings:
    toolsets = ",".join((*DEFAULT_TOOLSETS, "documents", "expenses", "invoice_sharing"))
    return load_settings(environ={"FRESHBOOKS_TOOLSETS": toolsets}, use_dotenv=False)


@pytest.fixture
async def client(sandbox: Sandbox, settings: Settings) -> AsyncIterator[Client]:
    async with Client(build_server(settings, sandbox=sandbox)) as c:
        yield c


def bare_expense(sb: Sandbox) -> int:
    return next(e["id"] for e in sb.db.expenses.values() if not e["has_receipt"] and e["vis_state"] == 0)


def live_invoice(sb: Sandbox, *, draft: bool | None = None) -> int:
    return next(
        i["id"]
        for i in sb.db.invoices.values()
        if i["vis_state"] == 0 and (draft is None or (i["status"] == 1) == draft)
    )


async def served(sb: Sandbox, path: str) -> httpx.Response:
    """GET a sandbox path as FreshBooks' own clients would (bearer token)."""
    transport = httpx.ASGITransport(app=sb.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.local") as http:
        return await http.get(path, headers={"Authorization": f"Bearer {sb.access_token}"})


async def expense_attachment(sb: Sandbox, expense_id: int) -> dict[str, Any]:
    r = await served(sb, f"/accounting/account/{sb.account_id}/expenses/expenses/{expense_id}?include[]=attachment")
    att: dict[str, Any] = r.json()["response"]["result"]["expense"]["attachment"]
    return att


def data_uri(content: bytes, media_type: str = "image/png") -> str:
    return f"data:{media_type};base64," + base64.b64encode(content).decode()


# ---------------------------------------------------------------------- receipts


async def test_receipt_from_a_local_path_is_on_the_expense_and_served_back(
    client: Client, sandbox: Sandbox, tmp_path: Path
) -> None:
    eid = bare_expense(sandbox)
    path = tmp_path / "taxi.pdf"
    path.write_bytes(PDF)
    out = await call_ok(client, "attach_file", {"file": str(path), "expense_id": eid})
    assert out == {
        "attached_to": "expense",
        "id": eid,
        "role": "receipt",
        "file": "taxi.pdf",
        "media_type": "application/pdf",
        "size_bytes": len(PDF),
        "has_receipt": True,
    }
    att = await expense_attachment(sandbox, eid)
    assert att["media_type"] == "application/pdf" and att["expenseid"] == eid
    back = await served(sandbox, f"/uploads/attachments/{att['jwt']}")
    assert back.content == PDF and back.headers["x-filename"] == "taxi.pdf"
    # the list shows it: one short boolean per row
    rows = (await call_ok(client, "list_expenses", {"limit": 100, "sort": "date_desc"}))["expenses"]
    date = sandbox.db.expenses[eid]["date"]
    same_day = (await call_ok(client, "list_expenses", {"date_from": date, "date_to": date, "limit": 100}))["expenses"]
    assert next(r for r in same_day if r["id"] == eid)["has_receipt"] is True
    assert all(isinstance(r["has_receipt"], bool) for r in rows)


async def test_create_expense_with_a_receipt(client: Client, sandbox: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "lunch.jpg"
    path.write_bytes(JPEG)
    out = await call_ok(
        client,
        "create_expense",
        {"amount": "18.40", "date": "2026-11-02", "category": "Meals", "vendor": "Cafe", "receipt": str(path)},
    )
    eid = out["expense"]["id"]
    assert out["expense"]["has_receipt"] is True
    att = await expense_attachment(sandbox, eid)
    assert att["media_type"] == "image/jpeg"
    assert (await served(sandbox, f"/uploads/attachments/{att['jwt']}")).content == JPEG


async def test_receipt_types_are_sniffed_not_taken_from_the_name(
    client: Client, sandbox: Sandbox, tmp_path: Path
) -> None:
    eid = bare_expense(sandbox)
    fake = tmp_path / "receipt.png"
    fake.write_bytes(b"PK\x03\x04 this is a zip file")
    text = await call_error(client, "attach_file", {"file": str(fake), "expense_id": eid})
    assert "PNG, JPG, GIF, PDF" in text and "whatever its name says" in text and "Nothing was changed" in text
    text = await call_error(client, "attach_file", {"file": data_uri(b"GIF00a nope"), "expense_id": eid})
    assert "PNG, JPG, GIF, PDF" in text
    assert sandbox.write_log == [] and sandbox.books.uploads == {}


async def test_oversize_relative_and_missing_files_are_refused_before_anything_is_sent(
    client: Client, sandbox: Sandbox, tmp_path: Path
) -> None:
    eid = bare_expense(sandbox)
    big = tmp_path / "scan.pdf"
    big.write_bytes(PDF + bytes(10 * 1024 * 1024))
    text = await call_error(client, "attach_file", {"file": str(big), "expense_id": eid})
    assert "over the 10 MB limit" in text
    for extra in (1, 1024 * 1024):  # just over (decoded, then checked) and far over (refused undecoded)
        big_uri = data_uri(PDF + bytes(10 * 1024 * 1024 + extra), "application/pdf")
        text = await call_error(client, "attach_file", {"file": big_uri, "expense_id": eid})
        assert "over the 10 MB limit" in text
    assert "full path" in await call_error(client, "attach_file", {"file": "receipt.pdf", "expense_id": eid})
    missing = str(tmp_path / "nope.pdf")
    assert "no file at" in await call_error(client, "attach_file", {"file": missing, "expense_id": eid})
    assert "not valid base64" in await call_error(
        client, "attach_file", {"file": "data:image/png;base64,@@@", "expense_id": eid}
    )
    text = await call_error(client, "attach_file", {"file": data_uri(PNG)})
    assert "exactly one of expense_id" in text
    assert sandbox.write_log == []


async def test_unknown_expense_uploads_nothing(client: Client, sandbox: Sandbox) -> None:
    text = await call_error(client, "attach_file", {"file": data_uri(PNG), "expense_id": 42})
    assert "list_expenses" in text
    assert sandbox.books.uploads == {}


# ---------------------------------------------------------------------- logo


async def test_logo_on_an_existing_invoice(client: Client, sandbox: Sandbox) -> None:
    iid = live_invoice(sandbox)
    out = await call_ok(client, "attach_file", {"file": data_uri(PNG), "invoice_id": iid})
    assert out["role"] == "logo" and out["media_type"] == "image/png"
    src = sandbox.db.invoices[iid]["presentation"]["image_logo_src"]
    assert out["logo_src"] == src and src.startswith("/service/uploads/images/")
    jwt = src.removeprefix("/service/uploads/images/")
    assert sandbox.books.uploads[jwt]["kind"] == "images"
    assert (await served(sandbox, f"/uploads/images/{jwt}")).content == PNG
    detailed = await call_ok(client, "get_invoice", {"invoice_id": iid, "response_format": "detailed"})
    assert detailed["logo"] == src


async def test_a_pdf_is_no_logo(client: Client, sandbox: Sandbox) -> None:
    iid = live_invoice(sandbox)
    text = await call_error(client, "attach_file", {"file": data_uri(PDF, "application/pdf"), "invoice_id": iid})
    assert "logo must be PNG, JPG (" in text and "application/pdf" in text
    gif = b"GIF89a" + bytes(16)
    assert "logo must be PNG, JPG (its content is image/gif" in await call_error(
        client, "attach_file", {"file": data_uri(gif, "image/gif"), "invoice_id": iid}
    )
    assert "presentation" not in sandbox.db.invoices[iid]


# ---------------------------------------------------------------------- online payments


async def test_online_payments_on_and_off(client: Client, sandbox: Sandbox) -> None:
    iid = live_invoice(sandbox)
    out = await call_ok(client, "set_online_payments", {"invoice_id": iid, "accept": "card_bank"})
    assert out["enabled"] is True and out["credit_card"] is True and out["bank_transfer"] is True
    stored = sandbox.books.payment_options[iid]
    assert stored["gateway_name"] == "fbpay" and stored["has_credit_card"] and stored["has_ach_transfer"]
    out = await call_ok(client, "set_online_payments", {"invoice_id": iid, "accept": "off", "gateway": "stripe"})
    assert out["enabled"] is False
    assert sandbox.books.payment_options[iid]["has_credit_card"] is False
    assert sandbox.books.payment_options[iid]["gateway_name"] == "stripe"


async def test_gateway_not_set_up_says_to_do_it_in_freshbooks(settings: Settings) -> None:
    sb = Sandbox(SandboxOptions(seed=7, gateways=()))
    async with Client(build_server(settings, sandbox=sb)) as c:
        text = await call_error(c, "set_online_payments", {"invoice_id": live_invoice(sb)})
    assert "FreshBooks Payments is not set up" in text and "Know Your Client" in text
    assert "in FreshBooks" in text and "Nothing was changed" in text
    assert sb.books.payment_options == {}


async def test_online_payments_on_an_unknown_invoice(client: Client) -> None:
    assert "list_invoices" in await call_error(client, "set_online_payments", {"invoice_id": 42})


# ---------------------------------------------------------------------- share link of a draft


async def test_share_link_of_a_draft_offers_send_or_mark_as_sent(client: Client, sandbox: Sandbox) -> None:
    iid = live_invoice(sandbox, draft=True)
    text = await call_error(client, "get_invoice_share_link", {"invoice_id": iid})
    assert "draft" in text and "send_invoice" in text and "email_to" in text and "mark" in text
    assert sandbox.write_log == []
    # the offered path: mark as sent (confirm-gated), then the link is given
    await call_ok(client, "send_invoice", {"invoice_id": iid, "confirm": True})
    out = await call_ok(client, "get_invoice_share_link", {"invoice_id": iid})
    assert out["link"].startswith("https://my.freshbooks.com/#/link/")
