"""The contract is generated from the code and true to it: CONTRACT.md is in sync, every listed
search key is implemented (never counted as ignored), every listed endpoint is served."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from mcp_server_freshbooks.sandbox import Sandbox
from mcp_server_freshbooks.sandbox.cli import run_sandbox_cli
from mcp_server_freshbooks.sandbox.contract import describe, markdown, search_keys

CONTRACT_MD = Path(__file__).resolve().parents[2] / "src" / "mcp_server_freshbooks" / "sandbox" / "CONTRACT.md"


def test_contract_md_is_in_sync() -> None:
    text = markdown()
    if os.environ.get("UPDATE_SNAPSHOTS"):
        CONTRACT_MD.write_text(text)
    assert CONTRACT_MD.read_text() == text, "regenerate: UPDATE_SNAPSHOTS=1 pytest tests/sandbox/test_contract.py"


def test_cli_describe_prints_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_sandbox_cli(["--describe"]) == 0
    assert capsys.readouterr().out == markdown()
    assert run_sandbox_cli(["--describe", "json"]) == 0
    assert '"search_keys"' in capsys.readouterr().out


def test_search_keys_lookup() -> None:
    keys = search_keys("GET", "/accounting/account/{account_id}/invoices/invoices")
    assert {"customerid", "v3_status", "date_min", "date_max"} <= keys and "status" not in keys
    assert "started_from" in search_keys("GET", "/timetracking/business/{business_id}/time_entries")
    assert search_keys("GET", "/comments/business/{business_id}/services") == frozenset()
    with pytest.raises(KeyError):
        search_keys("GET", "/accounting/account/{account_id}/credit_notes/credit_notes")


def _url(sb: Sandbox, path: str) -> str:
    return path.format(account_id=sb.account_id, business_id=sb.business_id, id=1)


@pytest.mark.anyio
async def test_every_listed_accounting_search_key_is_implemented(sb: Sandbox, http: httpx.AsyncClient) -> None:
    listed = [e for e in describe()["endpoints"] if e["family"] == "accounting" and e["search_keys"]]
    assert len(listed) == 8  # estimates joined in #15
    for entry in listed:
        for key in entry["search_keys"]:
            r = await http.get(_url(sb, entry["path"]), params={f"search[{key}]": "1"})
            assert r.status_code in (200, 400), (entry["path"], key, r.text)
        for sort in entry["sorts"]:
            assert (await http.get(_url(sb, entry["path"]), params={"sort": f"{sort}_desc"})).status_code == 200
    assert sb.ignored_search_keys == {}
    await http.get(_url(sb, listed[0]["path"]), params={"search[not_a_key]": "1"})
    assert sb.ignored_search_keys == {"not_a_key": 1}


@pytest.mark.anyio
async def test_every_listed_endpoint_is_served(sb: Sandbox, http: httpx.AsyncClient) -> None:
    for entry in describe()["endpoints"]:
        if entry["method"] != "GET" or entry["family"] in ("oauth",):
            continue
        r = await http.get(_url(sb, entry["path"]))
        # a path the sandbox does not serve is a 404 with errno 1012 "path" or a 405; an unknown id is fine
        assert r.status_code in (200, 404), (entry["path"], r.status_code)
        if r.status_code == 404:
            assert "{id}" in entry["path"], entry["path"]
    methods = {(e["method"], e["path"]) for e in describe()["endpoints"]}
    assert ("DELETE", "/taxes/taxes") not in methods
    assert ("DELETE", "/accounting/account/{account_id}/invoices/invoices/{id}") in methods
    assert ("POST", "/accounting/account/{account_id}/expenses/categories") not in methods
