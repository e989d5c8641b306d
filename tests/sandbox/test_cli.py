"""The standalone sandbox CLI: loopback only by default, port 0 prints the real port and a token."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from mcp_server_freshbooks.sandbox.cli import run_sandbox_cli


def test_refuses_non_loopback_host(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_sandbox_cli(["--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--allow-remote" in err


def test_bad_flag_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_sandbox_cli(["--fail-rate", "7"]) == 2
    assert "rate must be between 0 and 1" in capsys.readouterr().err


def test_serves_on_free_port_and_prints_credentials() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mcp_server_freshbooks.sandbox", "--port", "0", "--seed", "3", "--clients", "4",
         "--invoices", "5", "--expenses", "5", "--today", "2026-11-21"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        values: dict[str, str] = {}
        for _ in range(9):
            line = proc.stdout.readline().strip()
            key, sep, value = line.partition("=")
            if sep:
                values[key] = value
        base_url, token = values["base_url"], values["access_token"]
        assert base_url.startswith("http://127.0.0.1:") and not base_url.endswith(":0")
        r = httpx.get(f"{base_url}/auth/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert r.status_code == 200
        account = r.json()["response"]["business_memberships"][0]["business"]["account_id"]
        assert account == values["account_id"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
