"""FRESHBOOKS_MCP_SECRET_KEY rotation: the first key encrypts, every listed key decrypts."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from mcp_server_freshbooks.config import ConfigError
from mcp_server_freshbooks.hosting.crypto import Sealer
from mcp_server_freshbooks.hosting.sqlite_store import SQLiteStore

pytestmark = pytest.mark.anyio


async def test_rotation_old_records_open_new_ones_use_the_first_key(tmp_path: Path) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    store = SQLiteStore(tmp_path / "s.sqlite3")
    await store.put("fb_tokens", "1", {"sealed": Sealer(old).seal({"access_token": "fb-secret"})})
    rotated = Sealer(f"{new}, {old}")
    record = await store.get("fb_tokens", "1")
    assert record is not None and rotated.open(record["sealed"]) == {"access_token": "fb-secret"}
    resealed = rotated.seal({"access_token": "fb-secret-2"})
    assert Sealer(new).open(resealed) == {"access_token": "fb-secret-2"}
    with pytest.raises(ValueError, match="no key in FRESHBOOKS_MCP_SECRET_KEY decrypts"):
        Sealer(old).open(resealed)  # the old key alone cannot read what the new key wrote
    await store.aclose()


def test_bad_keys_are_named_not_shown() -> None:
    with pytest.raises(ConfigError, match="FRESHBOOKS_MCP_SECRET_KEY is required"):
        Sealer(" , ")
    with pytest.raises(ConfigError, match="key 2 of 2 is not a Fernet key") as excinfo:
        Sealer(f"{Fernet.generate_key().decode()},not-a-key-secret")
    assert "not-a-key-secret" not in str(excinfo.value)
    assert "redacted" in repr(Sealer(Fernet.generate_key().decode()))
