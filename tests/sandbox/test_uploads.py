"""The sandbox's uploader and online-payment options (#17), over its HTTP interface."""

from __future__ import annotations

import httpx
import pytest

from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions

from .conftest import acct

pytestmark = pytest.mark.anyio

PNG = b"\x89PNG\r\n\x1a\n" + bytes(20)
PDF = b"%PDF-1.7\n%%EOF\n"


def up(sb: Sandbox, kind: str) -> str:
    return f"/uploads/account/{sb.account_id}/{kind}"


async def test_upload_answers_jwt_and_link_and_serves_the_file(sb: Sandbox, http: httpx.AsyncClient) -> None:
    r = await http.post(up(sb, "attachments"), files={"content": ("bill.pdf", PDF, "application/pdf")})
    assert r.status_code == 200
    body = r.json()
    att = body["attachment"]
    assert att["jwt"] == att["public_id"] and att["media_type"] == "application/pdf"
    assert att["filename"].startswith("upload-") and body["link"].endswith(f"/service/uploads/attachments/{att['jwt']}")
    again = await http.post(up(sb, "attachments"), files={"content": ("bill.pdf", PDF, "application/pdf")})
    assert again.json()["attachment"]["jwt"] == att["jwt"]  # the same file: the same jwt, one stored copy
    for path in (f"/uploads/attachments/{att['jwt']}", f"/service/uploads/attachments/{att['jwt']}"):
        got = await http.get(path)
        assert got.content == PDF and got.headers["content-type"] == "application/pdf"
        assert got.headers["x-filename"] == "bill.pdf"
    assert (await http.get(f"/uploads/images/{att['jwt']}")).status_code == 404  # another kind's path
    assert [e.resource for e in sb.write_log] == ["attachment", "attachment"]


@pytest.mark.parametrize(
    ("kind", "files", "status"),
    [
        ("attachments", {"file": ("a.pdf", PDF, "application/pdf")}, 400),  # not the `content` field
        ("attachments", {"content": ("a.png", b"not an image", "image/png")}, 415),  # sniffed, not named
        ("images", {"content": ("a.pdf", PDF, "application/pdf")}, 415),  # a logo is an image
        ("attachments", {"content": ("a.pdf", b"", "application/pdf")}, 400),
    ],
)
async def test_upload_refusals(sb: Sandbox, http: httpx.AsyncClient, kind: str, files: dict, status: int) -> None:  # type: ignore[type-arg]
    r = await http.post(up(sb, kind), files=files)
    assert r.status_code == status and isinstance(r.json()["error"], str)
    assert sb.books.uploads == {} and sb.write_log == []


async def test_upload_limits_and_access(sb: Sandbox, http: httpx.AsyncClient) -> None:
    big = PDF + bytes(10 * 1024 * 1024)
    assert (
        await http.post(up(sb, "attachments"), files={"content": ("b.pdf", big, "application/pdf")})
    ).status_code == 413
    other = await http.post("/uploads/account/NOPE12/attachments", files={"content": ("a.png", PNG, "image/png")})
    assert other.status_code == 403
    anonymous = httpx.AsyncClient(transport=httpx.ASGITransport(app=sb.app), base_url="http://sandbox.test")
    async with anonymous:
        assert (
            await anonymous.post(up(sb, "images"), files={"content": ("a.png", PNG, "image/png")})
        ).status_code == 401


async def test_expense_attachment_and_invoice_logo_reference_uploads(sb: Sandbox, http: httpx.AsyncClient) -> None:
    jwt = (await http.post(up(sb, "attachments"), files={"content": ("r.png", PNG, "image/png")})).json()["attachment"][
        "jwt"
    ]
    eid = next(e["id"] for e in sb.db.expenses.values() if not e["has_receipt"] and e["vis_state"] == 0)
    bad = await http.put(acct(sb, f"expenses/expenses/{eid}"), json={"expense": {"attachment": {"jwt": "nope"}}})
    assert bad.status_code == 422 and "attachment" not in sb.db.expenses[eid]
    r = await http.put(acct(sb, f"expenses/expenses/{eid}"), json={"expense": {"attachment": {"jwt": jwt}}})
    assert "attachment" not in r.json()["response"]["result"]["expense"]  # only when included
    r = await http.get(acct(sb, f"expenses/expenses/{eid}"), params={"include[]": "attachment"})
    got = r.json()["response"]["result"]["expense"]
    assert got["has_receipt"] is True and got["attachment"]["jwt"] == jwt and got["attachment"]["expenseid"] == eid
    iid = next(i["id"] for i in sb.db.invoices.values() if i["vis_state"] == 0)
    receipt_as_logo = {"invoice": {"presentation": {"image_logo_src": f"/service/uploads/images/{jwt}"}}}
    assert (await http.put(acct(sb, f"invoices/invoices/{iid}"), json=receipt_as_logo)).status_code == 422
    img = (await http.post(up(sb, "images"), files={"content": ("l.png", PNG, "image/png")})).json()["image"]["jwt"]
    for prefix in ("/uploads/images/", "/service/uploads/images/", "/service/api/uploads/images/"):
        body = {"invoice": {"presentation": {"image_logo_src": prefix + img, "theme_primary_color": "#4f697a"}}}
        r = await http.put(acct(sb, f"invoices/invoices/{iid}"), params={"include[]": "presentation"}, json=body)
        pres = r.json()["response"]["result"]["invoice"]["presentation"]
        assert pres["image_logo_src"] == prefix + img and pres["theme_primary_color"] == "#4f697a"
    plain = (await http.get(acct(sb, f"invoices/invoices/{iid}"))).json()["response"]["result"]["invoice"]
    assert "presentation" not in plain


async def test_payment_options_take_a_bare_body(sb: Sandbox, http: httpx.AsyncClient) -> None:
    iid = next(i["id"] for i in sb.db.invoices.values() if i["vis_state"] == 0)
    path = f"/payments/account/{sb.account_id}/invoice/{iid}/payment_options"
    assert (await http.get(path)).status_code == 404  # none set yet
    body = {"gateway_name": "stripe", "entity_id": iid, "entity_type": "invoice", "has_credit_card": True}
    wrapped = await http.post(path, json={"payment_options": body})
    assert wrapped.status_code == 422 and wrapped.json()["error_type"] == "validation"
    r = await http.post(path, json=body)
    opts = r.json()["payment_options"]
    assert opts["gateway_name"] == "stripe" and opts["has_credit_card"] is True and opts["has_ach_transfer"] is False
    assert opts["entity_id"] == str(iid)
    assert (await http.get(path)).json()["payment_options"] == opts
    default = await http.get(f"/payments/account/{sb.account_id}/payment_options", params={"entity_type": "invoice"})
    assert default.json()["payment_options"]["gateway_name"] == "fbpay"


async def test_payment_options_without_a_gateway_set_up() -> None:
    sb = Sandbox(SandboxOptions(seed=7, gateways=()))
    iid = next(i["id"] for i in sb.db.invoices.values() if i["vis_state"] == 0)
    transport = httpx.ASGITransport(app=sb.app)
    headers = {"Authorization": f"Bearer {sb.access_token}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test", headers=headers) as http:
        body = {"gateway_name": "fbpay", "entity_id": iid, "entity_type": "invoice", "has_credit_card": True}
        r = await http.post(f"/payments/account/{sb.account_id}/invoice/{iid}/payment_options", json=body)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "gateway_name"
    assert "Know Your Client" in r.json()["message"] and sb.books.payment_options == {}


def test_cli_gateways_flag() -> None:
    from mcp_server_freshbooks.sandbox.cli import _options, build_parser

    assert _options(build_parser().parse_args(["--gateways", ""])).gateways == ()
    assert _options(build_parser().parse_args(["--gateways", "stripe"])).gateways == ("stripe",)
    assert _options(build_parser().parse_args([])).gateways == ("fbpay", "stripe")
