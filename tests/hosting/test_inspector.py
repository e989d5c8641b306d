"""The MCP Inspector CLI, a client we did not write, signs in (dynamic registration, PKCE, the sandbox as
FreshBooks, our consent page) and calls a tool on the hosted server.

Opt-in: set ``MCP_INSPECTOR_DIR`` to a folder where ``npm install @modelcontextprotocol/inspector@2.12.0`` ran
(the test plays the user's browser; the Inspector waits on its loopback callback)."""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path

import pytest

from mcp_server_freshbooks.hosting.browser import sign_in

from .conftest import bound_socket, hosted_server

pytestmark = pytest.mark.anyio

INSPECTOR_DIR = os.environ.get("MCP_INSPECTOR_DIR", "")


@pytest.mark.skipif(
    not (INSPECTOR_DIR and (Path(INSPECTOR_DIR) / "node_modules" / ".bin" / "inspector").exists()),
    reason="set MCP_INSPECTOR_DIR to a folder with @modelcontextprotocol/inspector installed",
)
async def test_the_inspector_cli_signs_in_and_calls_a_tool(tmp_path: Path) -> None:
    async with hosted_server(tmp_path) as hosted:
        sock = bound_socket()
        callback = f"http://127.0.0.1:{sock.getsockname()[1]}/oauth/callback"
        sock.close()  # the Inspector listens there
        env = {**os.environ, "BROWSER": "echo", "MCP_AUTO_OPEN_ENABLED": "true", "MCP_INSPECTOR_SECRET_STORE": "memory"}
        inspector = await asyncio.create_subprocess_exec(
            "npx", "inspector", "--cli", hosted.mcp_url, "--callback-url", callback,
            "--method", "tools/call", "--tool-name", "whoami",
            cwd=INSPECTOR_DIR, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert inspector.stdout is not None and inspector.stderr is not None
        authorize = re.compile(re.escape(hosted.url) + r"/authorize\S*")

        async def browser() -> None:
            assert inspector.stderr is not None
            while line := (await inspector.stderr.readline()).decode():
                match = authorize.search(line)
                if match:
                    final = await sign_in(hosted.browser, match.group(0), redirect_uri=callback, login_hint=1)
                    assert (await hosted.browser.get(final)).status_code == 200

        out, _ = await asyncio.wait_for(asyncio.gather(inspector.stdout.read(), browser()), 120)
        assert await inspector.wait() == 0, out.decode()
        result = json.loads(out)
        assert result["isError"] is False
        assert result["structuredContent"]["business"]["account_id"] == hosted.sandbox.identities[1].account_id
