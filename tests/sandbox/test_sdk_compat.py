"""The official freshbooks-sdk, unchanged, against the standalone sandbox on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from freshbooks.errors import FreshBooksError

from freshbooks import Client as FreshBooksClient
from freshbooks import FilterBuilder, IncludesBuilder, PaginateBuilder
from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions, serving

from .conftest import TODAY

SEED_000 = Path("/work/shared/seeds/000_7dd8ab3969b93789.txt")


@pytest.fixture
def sb() -> Sandbox:
    return Sandbox(SandboxOptions(seed=7, today=TODAY, clients=130))


@pytest.fixture
def fb(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[FreshBooksClient]:
    with serving(sb) as base_url:
        # The SDK reads these in Client.__init__; set them before constructing.
        monkeypatch.setenv("FRESHBOOKS_API_URL", base_url)
        monkeypatch.setenv("FRESHBOOKS_AUTH_URL", base_url)
        yield FreshBooksClient(
            client_id=sb.oauth_client_id,
            client_secret=sb.oauth_client_secret,
            redirect_uri=sb.redirect_uri,
            access_token=sb.access_token,
            refresh_token=sb.refresh_token,
            auto_retry=False,
        )


def seed_000_create_body() -> dict[str, object]:
    """The 'Create Client' request body of seed 000, verbatim."""
    text = SEED_000.read_text() if SEED_000.exists() else ""
    start = text.find("--data-raw '")
    if start < 0:
        pytest.skip("seed 000 not available")
    start += len("--data-raw '")
    body: dict[str, object] = json.loads(text[start : text.index("}'", start) + 1])
    return body


def test_identity(sb: Sandbox, fb: FreshBooksClient) -> None:
    me = fb.current_user()
    assert me.identity_id == sb.identity_id
    memberships = me.business_memberships
    assert memberships[0].business.account_id == sb.account_id
    assert memberships[0].business.id == sb.business_id
    assert memberships[0].role == "owner"


def test_list_clients_filters_and_pagination(sb: Sandbox, fb: FreshBooksClient) -> None:
    hit = fb.clients.list(sb.account_id, builders=[FilterBuilder().equals("email", "email1@freshbooks.com")])
    assert len(hit) == 1 and hit[0].organization == "company1" and hit.pages.total == 1
    smiths = fb.clients.list(sb.account_id, builders=[FilterBuilder().like("organization_like", "smith")])
    assert len(smiths) >= 2 and all("smith" in c.organization.lower() for c in smiths)
    active = [c for c in sb.db.clients.values() if c["vis_state"] != 1]
    page = fb.clients.list(sb.account_id, builders=[PaginateBuilder(1, 150)])
    assert page.pages.per_page == 100 and len(page) == 100
    assert page.pages.total == len(active) and page.pages.pages == 2
    second = fb.clients.list(sb.account_id, builders=[PaginateBuilder(2, 100)])
    assert len(second) == len(active) - 100


def test_client_crud_with_seed_000_body(sb: Sandbox, fb: FreshBooksClient) -> None:
    body = seed_000_create_body()
    created = fb.clients.create(sb.account_id, body["client"])  # type: ignore[arg-type]
    assert created.fname == "first1" and created.organization == "company1" and created.p_city == "Toronto"
    assert created.userid == created.id and created.p_street2 == ""
    assert created.id in sb.db.clients
    got = fb.clients.get(sb.account_id, created.id)
    assert got.email == "email1@freshbooks.com"
    updated = fb.clients.update(sb.account_id, created.id, {"fname": "Nicolas"})
    assert updated.fname == "Nicolas" and updated.lname == "last1"
    deleted = fb.clients.delete(sb.account_id, created.id)
    assert deleted.vis_state == 1
    assert sb.db.clients[created.id]["vis_state"] == 1


def test_invoices_with_lines(sb: Sandbox, fb: FreshBooksClient) -> None:
    invoices = fb.invoices.list(sb.account_id, builders=[IncludesBuilder().include("lines"), PaginateBuilder(1, 5)])
    assert len(invoices) == 5
    first = invoices[0]
    assert len(first.lines) == len(sb.db.invoices[first.id]["lines"]) >= 1
    one = fb.invoices.get(sb.account_id, first.id, includes=IncludesBuilder().include("lines"))
    assert one.amount.amount == sb.db.invoices[first.id]["amount"]["amount"]
    assert one.lines[0].unit_cost.code == one.currency_code
    assert isinstance(one.create_date, date)


def test_expenses_between_and_categories(sb: Sandbox, fb: FreshBooksClient) -> None:
    lo, hi = date(2026, 6, 1), date(2026, 7, 1)
    truth = [e for e in sb.db.expenses.values() if e["vis_state"] != 1 and "2026-06-01" <= e["date"] < "2026-07-01"]
    res = fb.expenses.list(sb.account_id, builders=[FilterBuilder().between("date", lo, hi), PaginateBuilder(1, 100)])
    assert res.pages.total == len(truth) > 0
    assert all(lo <= e.date < hi for e in res)
    cats = fb.expenses_categories.list(sb.account_id, builders=[PaginateBuilder(1, 100)])
    assert len(cats) == len(sb.db.categories) >= 20
    cat = fb.expenses_categories.get(sb.account_id, cats[0].id)
    assert cat.category == cats[0].category


def test_payment_reduces_outstanding(sb: Sandbox, fb: FreshBooksClient) -> None:
    inv = next(i for i in sb.db.invoices.values() if i["v3_status"] in ("sent", "overdue") and i["vis_state"] == 0)
    before = Decimal(inv["outstanding"]["amount"])
    pay = fb.payments.create(
        sb.account_id,
        {"invoiceid": inv["id"], "amount": {"amount": "10.00"}, "date": TODAY.isoformat(), "type": "Cash"},
    )
    assert pay.logid == pay.id and pay.invoiceid == inv["id"]
    after = fb.invoices.get(sb.account_id, inv["id"])
    assert Decimal(str(after.outstanding.amount)) == before - Decimal("10.00")
    assert after.payment_status in ("partial", "paid")


def test_missing_id_raises_freshbooks_error(sb: Sandbox, fb: FreshBooksClient) -> None:
    with pytest.raises(FreshBooksError) as info:
        fb.clients.get(sb.account_id, 12345)
    assert info.value.error_code == 1012 and info.value.status_code == 404
    assert str(info.value) == "Client not found."


def test_refresh_access_token_rotates(sb: Sandbox, fb: FreshBooksClient) -> None:
    old_refresh = fb.refresh_token
    tokens = fb.refresh_access_token()
    assert tokens.refresh_token != old_refresh and tokens.access_token != sb.access_token
    assert tokens.access_token_expires_at is not None
    assert fb.current_user().identity_id == sb.identity_id  # the new token works
    with pytest.raises(FreshBooksError) as info:
        fb.refresh_access_token(old_refresh)
    assert info.value.status_code == 400
    assert sb.token_requests == [("refresh_token", "ok"), ("refresh_token", "invalid_grant")]


def test_sdk_uploads_an_attachment_and_reads_it_back(sb: Sandbox, fb: FreshBooksClient, tmp_path: Path) -> None:
    # #17: the official SDK's uploader (multipart field `content`) and download, then a receipt on an expense.
    pdf = b"%PDF-1.4\n% receipt\n%%EOF\n"
    path = tmp_path / "receipt.pdf"
    path.write_bytes(pdf)
    with path.open("rb") as stream:
        up = fb.attachments.upload(sb.account_id, file_stream=stream)  # type: ignore[arg-type]
    assert up.media_type == "application/pdf" and up.jwt and up.link.endswith(up.jwt)
    back = fb.attachments.get(up.jwt)
    assert back.content == pdf and back.headers["Content-Type"] == "application/pdf"
    assert back.headers["X-filename"] == "receipt.pdf"
    png = tmp_path / "logo.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(32))
    image = fb.images.upload(sb.account_id, file_path=str(png))
    assert image.link == f"{image.link.split('/service/')[0]}/service/uploads/images/{image.jwt}"
    assert fb.images.get(image.jwt).content == png.read_bytes()
    eid = next(e["id"] for e in sb.db.expenses.values() if not e["has_receipt"] and e["vis_state"] == 0)
    fb.expenses.update(sb.account_id, eid, {"attachment": {"jwt": up.jwt, "media_type": up.media_type}})
    got = fb.expenses.get(sb.account_id, eid, includes=IncludesBuilder().include("attachment"))
    assert got.has_receipt is True and got.attachment.jwt == up.jwt
    assert got.attachment.media_type == "application/pdf"
    with pytest.raises(FreshBooksError) as info:
        fb.attachments.get("no-such-jwt")
    assert info.value.status_code == 404 and str(info.value) == "File not found"
