"""The safe-writes locks in the hosted mode: keyed per user and business, so two connections of one user
paying one invoice at once never pay more than is owed."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest

from .conftest import SignedIn, hosted_server

pytestmark = pytest.mark.anyio


async def test_parallel_payments_of_one_user_never_exceed_outstanding(tmp_path: Path) -> None:
    async with hosted_server(tmp_path) as hosted:
        sb = hosted.sandbox.identities[0]
        inv = next(
            i
            for i in sb.db.invoices.values()
            if i["vis_state"] == 0 and Decimal(i["outstanding"]["amount"]) > 5 and i["display_status"] != "draft"
        )
        owed = inv["outstanding"]["amount"]
        before = {p["id"] for p in sb.db.payments.values() if p["invoiceid"] == inv["id"]}
        args = {"invoice_id": inv["id"], "amount": owed, "confirm": True}
        phone, laptop = SignedIn(hosted, login_hint=0), SignedIn(hosted, login_hint=0)  # two apps, one user
        results: list[Any] = []
        async with phone.client() as one, laptop.client() as two:

            async def pay(client: Any) -> None:
                results.append(await client.call_tool("record_payment", dict(args)))

            async with anyio.create_task_group() as tg:
                for client in (one, two, one, two):
                    tg.start_soon(pay, client)
        ok = [r for r in results if not r.is_error]
        assert len(ok) == 1, [" ".join(getattr(c, "text", "") for c in r.content)[:160] for r in results]
        new = [p for p in sb.db.payments.values() if p["invoiceid"] == inv["id"] and p["id"] not in before]
        assert [Decimal(p["amount"]["amount"]) for p in new] == [Decimal(owed)]
        assert Decimal(inv["outstanding"]["amount"]) == 0
