"""The command line the replica test and bench/hosted_bench.py use (hosting/__init__.py), as real processes:
``mcp-server-freshbooks sandbox --identities 2 --redirect-uri ...`` plays FreshBooks and
``mcp-server-freshbooks serve --transport http --auth oauth --stateless`` serves two users."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from cryptography.fernet import Fernet

from .conftest import SignedIn, tool

pytestmark = pytest.mark.anyio


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def _process(args: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mcp_server_freshbooks", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            proc.wait()


class _Hosted:
    """What `SignedIn` needs: the MCP URL and a browser."""

    def __init__(self, url: str, browser: httpx2.AsyncClient) -> None:
        self.url, self.mcp_url, self.browser = url, url + "/mcp", browser


async def test_serve_oauth_stateless_command_line(tmp_path: Path) -> None:
    port = _free_port()
    public = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRESHBOOKS_")}
    sandbox_args = [
        "sandbox",
        "--port",
        "0",
        "--identities",
        "2",
        "--redirect-uri",
        f"{public}/oauth/freshbooks/callback",
    ]
    sandbox_args += ["--clients", "10", "--invoices", "20", "--expenses", "5"]
    with _process(sandbox_args, env) as sandbox:
        assert sandbox.stdout is not None
        lines: dict[str, Any] = {}
        while "identity_1" not in lines:
            line = sandbox.stdout.readline()
            assert line, sandbox.stderr.read() if sandbox.stderr else "sandbox exited"
            key, _, value = line.strip().partition("=")
            lines[key] = value
        server_env = {
            **env,
            "FRESHBOOKS_CLIENT_ID": lines["oauth_client_id"],
            "FRESHBOOKS_CLIENT_SECRET": lines["oauth_client_secret"],
            "FRESHBOOKS_API_URL": lines["base_url"],
            "FRESHBOOKS_AUTH_URL": lines["base_url"],
            "FRESHBOOKS_MCP_PUBLIC_URL": public,
            "FRESHBOOKS_MCP_SECRET_KEY": f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}",
            "FRESHBOOKS_MCP_STORE": f"sqlite://{tmp_path / 'store.sqlite3'}",
            "FRESHBOOKS_TOKEN_FILE": str(tmp_path / "tokens.json"),
            "FRESHBOOKS_CONFIRM_WRITES": "never",
        }
        serve_args = ["serve", "--transport", "http", "--auth", "oauth", "--stateless", "--port", str(port)]
        with _process(serve_args, server_env) as server:
            async with httpx2.AsyncClient(timeout=10.0) as browser:
                deadline = time.monotonic() + 30
                while True:
                    assert server.poll() is None, server.stderr.read() if server.stderr else "server exited"
                    try:
                        if (await browser.get(f"{public}/.well-known/oauth-authorization-server")).status_code == 200:
                            break
                    except httpx2.TransportError:
                        pass
                    assert time.monotonic() < deadline, "server did not start"
                    await anyio.sleep(0.1)
                hosted: Any = _Hosted(public, browser)
                accounts = []
                for hint in (0, 1):
                    async with SignedIn(hosted, login_hint=hint).client() as client:
                        accounts.append((await tool(client, "whoami"))["business"]["account_id"])
        assert (tmp_path / "store.sqlite3").exists()
    assert len(set(accounts)) == 2
    assert lines["identity_1"].split("account_id ")[1].startswith(accounts[1])
