"""The full hosted flow through real HTTP: register -> authorize -> FreshBooks (sandbox) sign-in ->
consent -> token -> tools/call, driven by the mcp client's own OAuth support."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import SignedIn, hosted_server, tool

pytestmark = pytest.mark.anyio


async def test_dcr_sign_in_and_tool_call(tmp_path: Path) -> None:
    async with hosted_server(tmp_path) as hosted:
        user = SignedIn(hosted, login_hint=0)
        async with user.client() as client:
            me = await tool(client, "whoami")
        first = hosted.sandbox.identities[0]
        assert me["business"]["account_id"] == first.account_id
        assert me["business"]["name"] == first.business_name
        assert user.storage.client_info is not None and user.storage.tokens is not None
        assert user.storage.client_info.client_secret  # registered by DCR: a confidential client
