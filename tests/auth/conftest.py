"""Fixtures for the sign-in and token-lifecycle tests (an OAuth fake served in-process)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from mcp_server_freshbooks.config import Settings

from .fake_oauth import FakeFreshBooks

BASE = "http://fb.test"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def fake() -> FakeFreshBooks:
    return FakeFreshBooks()


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    return tmp_path / "cfg" / "mcp-server-freshbooks" / "tokens.json"


def make_settings(fake: FakeFreshBooks, token_file: Path, base: str = BASE, **extra: Any) -> Settings:
    data: dict[str, Any] = {
        "api_url": base,
        "auth_url": base,
        "client_id": fake.oauth_client_id,
        "client_secret": SecretStr(fake.oauth_client_secret),
        "redirect_uri": fake.redirect_uri,
        "token_file": token_file,
    }
    data.update(extra)
    return Settings(**data)


@pytest.fixture
def settings(fake: FakeFreshBooks, token_file: Path) -> Settings:
    return make_settings(fake, token_file)


@pytest.fixture
def transport(fake: FakeFreshBooks) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=fake.app)


async def follow_authorize(url: str, transport: httpx.AsyncBaseTransport) -> str:
    """Do what the user's browser does: open the authorize URL and return where it redirects."""
    async with httpx.AsyncClient(transport=transport) as http:
        response = await http.get(url, follow_redirects=False)
    assert response.status_code in (302, 303, 307), response.text
    return response.headers["location"]
