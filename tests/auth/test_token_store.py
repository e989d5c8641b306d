"""The token file and token values: permissions, atomic writes, parsing, expiry, redaction."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from mcp_server_freshbooks.freshbooks.auth import (
    TokenFileError,
    TokenSet,
    TokenStore,
    parse_pasted_redirect,
    redact,
)
from mcp_server_freshbooks.freshbooks.errors import AuthError

posix_only = pytest.mark.skipif(os.name == "nt", reason="POSIX modes")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _tokens(access: str = "access-1", refresh: str = "refresh-1", ttl: float = 3600) -> TokenSet:
    return TokenSet.from_oauth_response(
        {"access_token": access, "refresh_token": refresh, "expires_in": ttl, "created_at": 1_000}, received_at=1_000
    )


@posix_only
def test_save_creates_private_file_and_folder(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "a" / "b" / "tokens.json")
    store.save(_tokens())
    assert _mode(store.path) == 0o600
    assert _mode(store.path.parent) == 0o700
    loaded = store.load()
    assert loaded is not None and loaded.access_token.get_secret_value() == "access-1"


@posix_only
def test_save_reasserts_the_file_mode_but_leaves_an_existing_folder_alone(tmp_path: Path) -> None:
    # The file is ours (0600 again); the folder already existed, so it is the user's (#11 finding 8).
    store = TokenStore(tmp_path / "cfg" / "tokens.json")
    store.save(_tokens())
    os.chmod(store.path, 0o644)
    os.chmod(store.path.parent, 0o755)
    assert len(store.permission_problems()) == 2
    store.save(_tokens("access-2"))
    assert _mode(store.path) == 0o600 and _mode(store.path.parent) == 0o755
    assert [p for p in store.permission_problems() if "token file" in p] == []


def test_failure_between_temp_write_and_rename_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    store.save(_tokens("old-access"))
    before = store.path.read_bytes()

    def boom(src: object, dst: object) -> None:
        raise OSError("simulated crash before rename")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="simulated crash"):
        store.save(_tokens("new-access"))
    monkeypatch.undo()
    assert store.path.read_bytes() == before
    loaded = store.load()
    assert loaded is not None and loaded.access_token.get_secret_value() == "old-access"
    assert [p.name for p in tmp_path.iterdir()] == ["tokens.json"]  # no temp file left behind


def test_corrupt_or_empty_file_says_to_log_in(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    for text in ("", "{not json", "[]", json.dumps({"refresh_token": "x"})):
        store.path.write_text(text)
        with pytest.raises(TokenFileError, match="auth login"):
            store.load()


def test_missing_file_is_none_and_delete_is_idempotent(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    assert store.load() is None
    store.save(_tokens())
    assert store.delete() is True
    assert store.delete() is False


def test_expiry_is_created_at_plus_expires_in_and_margin() -> None:
    tokens = _tokens(ttl=43200)
    assert tokens.expires_at == 1_000 + 43200
    assert tokens.refresh_margin() == 300  # 5 minutes for the 12 h FreshBooks lifetime
    assert not tokens.needs_refresh(now=1_000 + 43200 - 301)
    assert tokens.needs_refresh(now=1_000 + 43200 - 299)
    short = _tokens(ttl=10)
    assert short.refresh_margin() == pytest.approx(1.0)  # 10% for short lifetimes
    # A server clock ahead of ours must not extend the lifetime.
    ahead = TokenSet.from_oauth_response(
        {"access_token": "a", "expires_in": 100, "created_at": 5_000}, received_at=1_000
    )
    assert ahead.expires_at == 1_100


def test_reprs_never_show_secrets(tmp_path: Path) -> None:
    tokens = _tokens("CANARY-ACCESS", "CANARY-REFRESH")
    for text in (repr(tokens), str(tokens), repr(TokenStore(tmp_path / "t.json")), f"{tokens}"):
        assert "CANARY" not in text
    assert "CANARY" not in redact(
        "token CANARY-ACCESS and CANARY-REFRESH", [SecretStr("CANARY-ACCESS"), "CANARY-REFRESH"]
    )


def test_parse_pasted_redirect() -> None:
    assert parse_pasted_redirect("https://localhost/cb?code=abc&state=xyz\n") == ("abc", "xyz")
    assert parse_pasted_redirect("  abc123  ") == ("abc123", None)
    assert parse_pasted_redirect("https://localhost/cb?code=abc") == ("abc", None)
    with pytest.raises(AuthError, match="no authorization code"):
        parse_pasted_redirect("https://localhost/cb?error=access_denied&state=x")
    with pytest.raises(AuthError):
        parse_pasted_redirect("   ")
