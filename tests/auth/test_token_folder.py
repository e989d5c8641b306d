"""The token file's folder (#11 finding 8): created 0700 only by us, an existing folder is never chmod'ed,
a folder others may write warns, and a folder we cannot write is a sign-in problem with the fix."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mcp import Client

from mcp_server_freshbooks.config import Settings
from mcp_server_freshbooks.freshbooks.auth import TokenFileError, TokenSet, TokenStore
from mcp_server_freshbooks.server import build_server

from .conftest import make_settings
from .fake_oauth import FakeFreshBooks

pytestmark = [pytest.mark.anyio, pytest.mark.skipif(os.name == "nt", reason="POSIX modes")]

NOBODY = 65534


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def shared_root() -> Iterator[Path]:
    """A folder every user can traverse (pytest's own tmp folder is 0700, so 'nobody' could not reach in)."""
    root = Path(tempfile.mkdtemp(prefix="fb-token-folder-"))
    os.chmod(root, 0o755)
    try:
        yield root
    finally:
        for folder in (root, *root.rglob("*")):
            if folder.is_dir():
                os.chmod(folder, 0o755)
        shutil.rmtree(root, ignore_errors=True)


def _expiring_tokens(fake: FakeFreshBooks) -> TokenSet:
    """The fake's current pair, saved as if it expires in 10 s, so the next call refreshes and saves."""
    return TokenSet.from_oauth_response(
        {"access_token": fake.access_token, "refresh_token": fake.refresh_token, "expires_in": 3600},
        received_at=time.time() - 3590,
    )


def _save_without_our_store(token_file: Path, tokens: TokenSet) -> None:
    """Put a token file into an existing folder the way a user would, without TokenStore touching the folder."""
    import json

    token_file.write_text(json.dumps(tokens.to_file_dict()))
    os.chmod(token_file, 0o600)


async def _whoami(settings: Settings, fake: FakeFreshBooks) -> tuple[bool, str]:
    server = build_server(settings, transport=httpx.ASGITransport(app=fake.app))
    async with Client(server) as client:
        result = await client.call_tool("whoami", {})
    return bool(result.is_error), " ".join(getattr(c, "text", "") for c in result.content)


@pytest.mark.parametrize("folder_mode", [0o1777, 0o755], ids=["1777", "0755"])
async def test_refresh_leaves_an_existing_folder_mode_unchanged(
    shared_root: Path, folder_mode: int, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeFreshBooks()
    folder = shared_root / "shared"
    folder.mkdir()
    os.chmod(folder, folder_mode)
    token_file = folder / "tokens.json"
    _save_without_our_store(token_file, _expiring_tokens(fake))
    settings = make_settings(fake, token_file, base="http://fb.test")
    with caplog.at_level(logging.WARNING, logger="mcp_server_freshbooks.freshbooks.auth"):
        await _whoami(settings, fake)  # the fake has no accounting API; the refresh is what matters here
    assert [r.grant for r in fake.token_requests] == ["refresh_token"]
    stored = TokenStore(token_file).load()
    assert stored is not None and stored.access_token.get_secret_value() != fake.access_token  # rotated
    assert _mode(folder) == folder_mode
    assert _mode(token_file) == 0o600
    # neither folder lets others replace the file (sticky, or not writable by others): no warning
    assert not [r for r in caplog.records if "writable by other users" in r.getMessage()]


def test_a_folder_others_may_write_without_sticky_bit_warns_once(
    shared_root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = shared_root / "open"
    folder.mkdir()
    os.chmod(folder, 0o777)
    store = TokenStore(folder / "tokens.json")
    tokens = TokenSet.from_oauth_response({"access_token": "a" * 20, "expires_in": 60})
    with caplog.at_level(logging.WARNING, logger="mcp_server_freshbooks.freshbooks.auth"):
        store.save(tokens)
        store.save(tokens)
    warnings = [r.getMessage() for r in caplog.records if "writable by other users" in r.getMessage()]
    assert len(warnings) == 1 and str(folder) in warnings[0] and "FRESHBOOKS_TOKEN_FILE" in warnings[0]
    assert _mode(folder) == 0o777


def test_a_folder_the_server_creates_is_private(shared_root: Path) -> None:
    store = TokenStore(shared_root / "new" / "mcp-server-freshbooks" / "tokens.json")
    store.save(TokenSet.from_oauth_response({"access_token": "a" * 20}))
    assert _mode(store.path.parent) == 0o700 and _mode(store.path) == 0o600


@contextlib.contextmanager
def _as_a_user_who_cannot_write(folder: Path) -> Iterator[None]:
    """Make `folder` read-only for this process; as root (who ignores modes) act as 'nobody' meanwhile."""
    os.chmod(folder, 0o555)
    dropped = os.geteuid() == 0
    if dropped:
        os.seteuid(NOBODY)  # the real uid stays root, so the finally block can switch back
    try:
        yield
    finally:
        if dropped:
            os.seteuid(0)
        os.chmod(folder, 0o755)


def test_store_in_an_unwritable_folder_raises_a_sign_in_error(shared_root: Path) -> None:
    folder = shared_root / "root-owned"
    folder.mkdir()
    store = TokenStore(folder / "tokens.json")
    with _as_a_user_who_cannot_write(folder), pytest.raises(TokenFileError) as info:
        store.save(TokenSet.from_oauth_response({"access_token": "a" * 20}))
    text = str(info.value)
    assert str(folder) in text and "FRESHBOOKS_TOKEN_FILE" in text and "auth login" in text


async def test_unwritable_folder_is_reported_as_a_sign_in_problem_through_mcp(shared_root: Path) -> None:
    fake = FakeFreshBooks()
    folder = shared_root / "root-owned"
    folder.mkdir()
    token_file = folder / "tokens.json"
    expired = _expiring_tokens(fake).model_copy(update={"expires_at": time.time() - 60})
    _save_without_our_store(token_file, expired)
    os.chmod(token_file, 0o644)  # readable, so only the write (lock, refresh save) fails
    settings = make_settings(fake, token_file, base="http://fb.test")
    server = build_server(settings, transport=httpx.ASGITransport(app=fake.app))
    async with Client(server) as client:
        await client.list_tools()  # build the tool schemas while we may still read everything
        with _as_a_user_who_cannot_write(folder):
            result = await client.call_tool("whoami", {})
    text = " ".join(getattr(c, "text", "") for c in result.content)
    assert result.is_error
    assert "Unexpected server error" not in text
    assert "authentication" in text and "Cannot write the token file" in text
    assert "FRESHBOOKS_TOKEN_FILE" in text and "auth login" in text
    assert _mode(folder) == 0o755
    assert fake.token_requests == []  # refused before the single-use refresh token was spent


async def test_a_refresh_whose_save_fails_keeps_the_rotated_tokens_in_memory(shared_root: Path) -> None:
    """The lock file already exists (writable) but the folder is not: FreshBooks rotated the refresh token,
    so the new pair must stay usable in this process, not be lost."""
    fake = FakeFreshBooks()
    folder = shared_root / "root-owned"
    folder.mkdir()
    token_file = folder / "tokens.json"
    _save_without_our_store(token_file, _expiring_tokens(fake))
    os.chmod(token_file, 0o644)
    lock = folder / "tokens.json.lock"
    lock.touch()
    os.chmod(lock, 0o666)
    settings = make_settings(fake, token_file, base="http://fb.test")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app)) as http:
        from mcp_server_freshbooks.freshbooks.auth import build_token_source

        source = build_token_source(settings, http)
        old = source.tokens.access_token.get_secret_value()
        with _as_a_user_who_cannot_write(folder):
            new = await source.get_token()
            assert new != old and await source.get_token() == new  # no second refresh
    assert [r.grant for r in fake.token_requests] == ["refresh_token"]


async def test_login_into_an_unwritable_folder_says_which_folder_and_exits_1(shared_root: Path) -> None:
    import io

    from mcp_server_freshbooks.auth_cli import Console, login

    from .conftest import follow_authorize

    fake = FakeFreshBooks()
    transport = httpx.ASGITransport(app=fake.app)
    folder = shared_root / "root-owned"
    folder.mkdir()
    settings = make_settings(fake, folder / "tokens.json", base="http://fb.test")
    out, err = io.StringIO(), io.StringIO()

    async def paste() -> str:
        url = next(line for line in out.getvalue().splitlines() if "/oauth/authorize?" in line)
        return await follow_authorize(url, transport)

    with _as_a_user_who_cannot_write(folder):
        code = await login(
            settings, transport=transport, console=Console(out, err), read_line=paste, open_browser=False
        )
    assert code == 1
    said = out.getvalue() + err.getvalue()
    assert "could not be saved" in said and str(folder) in said and "FRESHBOOKS_TOKEN_FILE" in said
    assert "Traceback" not in said and not (folder / "tokens.json").exists()
