"""OAuth2 sign-in and the access-token lifecycle.

Pieces:

* OAuth helpers: :func:`authorize_url`, :func:`exchange_code`, :func:`refresh_tokens`, :func:`revoke_token`.
* :class:`TokenStore`: one JSON file, mode 0600 (a folder it creates is 0700; an existing one is left
  alone), replaced atomically (temp file in the same folder, fsync, ``os.replace``, fsync of the folder)
  so a crash never leaves it half-written.
* :class:`StoredTokenSource`: the ``TokenSource`` the FreshBooks client uses. It refreshes shortly before
  expiry and once after a 401. FreshBooks refresh tokens are single-use and rotate, so a refresh holds an
  in-process asyncio lock *and* a cross-process file lock, and re-reads the file first: another server
  process may already have refreshed, in which case its token is used and no refresh is sent.
* :func:`build_token_source`: picks the token file, else the environment, else fails with what to do.

No secret (access token, refresh token, client secret, authorization code) ever reaches a log line, an
exception message or a repr: tokens are held as ``SecretStr`` and error text is redacted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import stat
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, SecretStr

from mcp_server_freshbooks.config import Settings
from mcp_server_freshbooks.freshbooks.errors import AuthError, FreshBooksError, TransportError

logger = logging.getLogger(__name__)

LOGIN_HINT = "run `mcp-server-freshbooks auth login`"
TOKEN_PATH = "/auth/oauth/token"
REVOKE_PATH = "/auth/oauth/revoke"
AUTHORIZE_PATH = "/oauth/authorize"
ME_PATH = "/auth/api/v1/users/me"
FILE_FORMAT_VERSION = 1
# Refresh this long before expiry: 5 minutes, or 10% of the lifetime for short-lived tokens.
MAX_REFRESH_MARGIN = 300.0
REFRESH_MARGIN_FRACTION = 0.1
LOCK_TIMEOUT = 30.0
CLOCK_SKEW_TOLERANCE = 60.0  # seconds between the server's created_at and our clock we accept


# --------------------------------------------------------------------------------------------- errors


class NotSignedInError(AuthError):
    """No tokens anywhere: neither the token file nor the environment."""


class TokenExpiredError(AuthError):
    """The access token expired or was rejected and there is no way to refresh it."""


class RefreshRejectedError(AuthError):
    """FreshBooks refused the refresh token (``invalid_grant``): it was used, revoked, or is unknown."""


class OAuthClientError(AuthError):
    """FreshBooks refused the app credentials (``invalid_client``) or the request itself."""


class TokenFileError(AuthError):
    """The token file exists but cannot be read, parsed or written."""


def redact(text: str, secret_values: Iterable[str | SecretStr | None]) -> str:
    """Replace every occurrence of each secret in ``text`` with ``[REDACTED]``."""
    for value in secret_values:
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if raw and len(raw) >= 4:
            text = text.replace(raw, "[REDACTED]")
    return text


# --------------------------------------------------------------------------------------------- tokens


class TokenSet(BaseModel):
    """One access/refresh token pair. ``repr`` shows only ``**********`` for the secrets."""

    model_config = ConfigDict(frozen=True)

    access_token: SecretStr
    refresh_token: SecretStr | None = None
    token_type: str = "Bearer"
    scope: str | None = None
    created_at: float | None = None
    expires_in: float | None = None
    expires_at: float | None = None  # epoch seconds; None when unknown (e.g. a bare env token)

    @classmethod
    def from_oauth_response(cls, body: Mapping[str, Any], *, received_at: float | None = None) -> TokenSet:
        """Build from a token endpoint answer. Expiry is ``created_at + expires_in``.

        If the server's ``created_at`` is ahead of our clock we use our receipt time instead; if it is
        more than a minute behind (a skewed server clock) we trust our receipt time too.
        """
        received = time.time() if received_at is None else received_at
        access = body.get("access_token")
        if not isinstance(access, str) or not access:
            raise AuthError("FreshBooks answered the token request without an access token.", status=None)
        refresh = body.get("refresh_token")
        created = _as_float(body.get("created_at"))
        expires_in = _as_float(body.get("expires_in"))
        expires_at: float | None = None
        if expires_in is not None:
            base = received if created is None or abs(received - created) > CLOCK_SKEW_TOLERANCE else created
            expires_at = min(base, received) + expires_in
        return cls(
            access_token=SecretStr(access),
            refresh_token=SecretStr(refresh) if isinstance(refresh, str) and refresh else None,
            token_type=str(body.get("token_type") or "Bearer"),
            scope=str(body["scope"]) if body.get("scope") else None,
            created_at=created,
            expires_in=expires_in,
            expires_at=expires_at,
        )

    def lifetime(self) -> float | None:
        if self.expires_in is not None:
            return self.expires_in
        if self.expires_at is not None and self.created_at is not None:
            return max(self.expires_at - self.created_at, 0.0)
        return None

    def refresh_margin(self) -> float:
        lifetime = self.lifetime()
        if lifetime is None:
            return MAX_REFRESH_MARGIN
        return min(MAX_REFRESH_MARGIN, lifetime * REFRESH_MARGIN_FRACTION)

    def seconds_left(self, now: float | None = None) -> float | None:
        if self.expires_at is None:
            return None
        return self.expires_at - (time.time() if now is None else now)

    def is_expired(self, now: float | None = None) -> bool:
        left = self.seconds_left(now)
        return left is not None and left <= 0

    def needs_refresh(self, now: float | None = None) -> bool:
        """True when the token expires within the refresh margin (never for an unknown expiry)."""
        left = self.seconds_left(now)
        return left is not None and left <= self.refresh_margin()

    def to_file_dict(self) -> dict[str, Any]:
        return {
            "version": FILE_FORMAT_VERSION,
            "access_token": self.access_token.get_secret_value(),
            "refresh_token": self.refresh_token.get_secret_value() if self.refresh_token else None,
            "token_type": self.token_type,
            "scope": self.scope,
            "created_at": self.created_at,
            "expires_in": self.expires_in,
            "expires_at": self.expires_at,
        }

    @classmethod
    def from_file_dict(cls, data: Mapping[str, Any]) -> TokenSet:
        access = data.get("access_token")
        if not isinstance(access, str) or not access:
            raise ValueError("no access_token")
        refresh = data.get("refresh_token")
        return cls(
            access_token=SecretStr(access),
            refresh_token=SecretStr(refresh) if isinstance(refresh, str) and refresh else None,
            token_type=str(data.get("token_type") or "Bearer"),
            scope=data.get("scope") if isinstance(data.get("scope"), str) else None,
            created_at=_as_float(data.get("created_at")),
            expires_in=_as_float(data.get("expires_in")),
            expires_at=_as_float(data.get("expires_at")),
        )


def _as_float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------------------------- store


class TokenStore:
    """The token file: JSON, 0600, replaced atomically on every write; a folder it creates is 0700."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path).expanduser()
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    def __repr__(self) -> str:
        return f"TokenStore(path={str(self.path)!r})"

    def exists(self) -> bool:
        return self.path.is_file()

    def mtime_ns(self) -> int | None:
        try:
            return self.path.stat().st_mtime_ns
        except OSError:
            return None

    def load(self) -> TokenSet | None:
        """The stored tokens, or None if there is no file. A corrupt file raises :class:`TokenFileError`."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise TokenFileError(
                f"Cannot read the token file {self.path} ({exc.strerror}); fix its permissions or {LOGIN_HINT}."
            ) from None
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError("not an object")
            return TokenSet.from_file_dict(data)
        except ValueError:
            raise TokenFileError(f"The token file {self.path} is not valid; {LOGIN_HINT} to replace it.") from None

    def _ensure_dir(self) -> None:
        """Create the folder 0700 if it is missing; an existing folder is the user's and is never chmod'ed.

        Tightening an existing folder would break whoever shares it (a sticky /tmp-like folder, a 0755
        config folder); a folder anyone may write to without the sticky bit only earns a warning.
        """
        folder = self.path.parent
        try:
            folder.mkdir(mode=0o700, parents=True)
        except FileExistsError:
            _warn_if_shared(folder)
            return
        except OSError as exc:
            raise self._unwritable(exc) from None
        if os.name != "nt":
            os.chmod(folder, 0o700)  # mkdir's mode is narrowed by the umask; this one is ours

    def _unwritable(self, exc: OSError) -> TokenFileError:
        folder = self.path.parent
        return TokenFileError(
            f"Cannot write the token file {self.path} ({exc.strerror or type(exc).__name__}): "
            f"make the folder {folder} writable by this user, or set FRESHBOOKS_TOKEN_FILE to a file in a "
            f"folder you own, then {LOGIN_HINT}."
        )

    def save(self, tokens: TokenSet) -> None:
        """Write atomically: temp file (0600) in the same folder, fsync, os.replace, fsync the folder."""
        self._ensure_dir()
        payload = json.dumps(tokens.to_file_dict(), indent=2).encode("utf-8")
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        except PermissionError as exc:
            raise self._unwritable(exc) from None
        tmp = Path(tmp_name)
        try:
            if os.name != "nt":
                os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            if isinstance(exc, PermissionError):
                raise self._unwritable(exc) from None
            raise
        if os.name != "nt":
            os.chmod(self.path, 0o600)
            _fsync_dir(self.path.parent)

    def delete(self) -> bool:
        """Forget the tokens. True if a file was removed."""
        removed = False
        try:
            self.path.unlink()
            removed = True
        except FileNotFoundError:
            pass
        if removed and os.name != "nt":
            _fsync_dir(self.path.parent)
        return removed

    def permission_problems(self) -> list[str]:
        """Human-readable problems with the file and folder modes (POSIX only)."""
        if os.name == "nt" or not self.path.exists():
            return []
        problems = []
        folder_stat = self.path.parent.stat().st_mode
        folder_mode = folder_stat & 0o777
        # a sticky shared folder (like /tmp) is shared by design: the 0600 file is what protects the tokens
        if folder_mode & 0o077 and not folder_stat & stat.S_ISVTX:
            problems.append(
                f"token folder {self.path.parent} is mode {folder_mode:o}, readable by others; "
                f"fix: chmod 700 '{self.path.parent}'"
            )
        file_mode = self.path.stat().st_mode & 0o777
        if file_mode & 0o077:
            problems.append(
                f"token file {self.path} is mode {file_mode:o}, readable by others; fix: chmod 600 '{self.path}'"
            )
        return problems

    @contextlib.asynccontextmanager
    async def locked(self, wait_limit: float = LOCK_TIMEOUT) -> AsyncIterator[None]:
        """Hold the cross-process lock (a sibling ``.lock`` file) without blocking the event loop."""
        self._ensure_dir()
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except PermissionError as exc:
            raise self._unwritable(exc) from None
        try:
            deadline = time.monotonic() + wait_limit
            delay = 0.005
            while not _try_lock(fd):
                if time.monotonic() > deadline:
                    raise TokenFileError(
                        f"Timed out waiting for the token lock {self.lock_path}; "
                        "another mcp-server-freshbooks process may be stuck."
                    )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.05)
            try:
                yield
            finally:
                _unlock(fd)
        finally:
            os.close(fd)


_warned_shared: set[Path] = set()


def _warn_if_shared(folder: Path) -> None:
    """Log once per folder when others may write into it and it has no sticky bit (they could swap the file)."""
    if os.name == "nt" or folder in _warned_shared:
        return
    try:
        mode = folder.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IWGRP | stat.S_IWOTH) and not mode & stat.S_ISVTX:
        _warned_shared.add(folder)
        logger.warning(
            "The token folder %s is writable by other users (mode %o) and has no sticky bit: they could replace "
            "the token file. Move it (FRESHBOOKS_TOKEN_FILE) to a folder only you can write, or chmod o-w,g-w it.",
            folder,
            stat.S_IMODE(mode),
        )


_warned_no_lock = False


def _try_lock(fd: int) -> bool:
    global _warned_no_lock
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        try:
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
        except ImportError:
            pass
    else:
        import fcntl

        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False
    if not _warned_no_lock:  # pragma: no cover
        _warned_no_lock = True
        logger.warning("No file locking on this platform; run only one server process per token file.")
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":  # pragma: no cover
        with contextlib.suppress(Exception):
            import msvcrt

            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_UN)


def _fsync_dir(folder: Path) -> None:
    try:
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


# --------------------------------------------------------------------------------------------- OAuth


@dataclass(frozen=True)
class OAuthApp:
    """The registered FreshBooks app: client id, secret and redirect URI."""

    client_id: str
    client_secret: SecretStr
    redirect_uri: str | None

    def __repr__(self) -> str:
        return f"OAuthApp(client_id={self.client_id!r}, client_secret=SecretStr('**********'), ...)"

    @classmethod
    def from_settings(cls, settings: Settings) -> OAuthApp | None:
        if not settings.client_id or settings.client_secret is None:
            return None
        return cls(settings.client_id, settings.client_secret, settings.redirect_uri)


def new_state() -> str:
    """A random, unguessable OAuth ``state`` value."""
    return secrets.token_urlsafe(24)


def authorize_url(settings: Settings, *, state: str, redirect_uri: str | None = None, scope: str | None = None) -> str:
    """``{FRESHBOOKS_AUTH_URL}/oauth/authorize?client_id=…&response_type=code&redirect_uri=…&state=…``."""
    if not settings.client_id:
        raise AuthError("Set FRESHBOOKS_CLIENT_ID to your FreshBooks app's client id before signing in.")
    redirect = redirect_uri or settings.redirect_uri
    if not redirect:
        raise AuthError("Set FRESHBOOKS_REDIRECT_URI to the redirect URI registered for your FreshBooks app.")
    params = {
        "client_id": settings.client_id,
        "response_type": "code",
        "redirect_uri": redirect,
        "state": state,
    }
    if scope:
        params["scope"] = scope
    return f"{settings.auth_url}{AUTHORIZE_PATH}?{urlencode(params)}"


def parse_pasted_redirect(text: str) -> tuple[str, str | None]:
    """From a pasted redirect URL (or a bare code) return ``(code, state)``; state is None for a bare code.

    Raises :class:`AuthError` if a URL carries no code (e.g. the user denied access).
    """
    text = text.strip()
    if not text:
        raise AuthError("Nothing was pasted: paste the address the browser was sent to, or the code.")
    if "://" in text or text.startswith("?") or "code=" in text:
        parts = urlsplit(text)
        query = parse_qs(parts.query or (parts.path if "=" in parts.path and "/" not in parts.path else ""))
        if "code" not in query and parts.fragment:
            query = parse_qs(parts.fragment)
        if "code" not in query:
            error = query.get("error", [""])[0]
            detail = f" (FreshBooks said: {error})" if error else ""
            raise AuthError(f"The pasted address carries no authorization code{detail}; sign in again.")
        state = query.get("state", [None])[0]
        return query["code"][0], state
    return text, None


async def _token_request(
    http: httpx.AsyncClient, settings: Settings, app: OAuthApp, form: dict[str, str], *, secrets_in: list[str]
) -> TokenSet:
    url = f"{settings.api_url}{TOKEN_PATH}"
    body = {
        "client_id": app.client_id,
        "client_secret": app.client_secret.get_secret_value(),
        **({"redirect_uri": app.redirect_uri} if app.redirect_uri else {}),
        **form,
    }
    hidden = [app.client_secret.get_secret_value(), *secrets_in]
    try:
        received = time.time()
        response = await http.post(url, data=body, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        message = redact(f"Could not reach FreshBooks at {url}: {type(exc).__name__}: {exc}", hidden)
        raise TransportError(message, method="POST", path=TOKEN_PATH) from None
    try:
        data: Any = response.json()
    except ValueError:
        data = None
    if response.status_code >= 400 or not isinstance(data, dict) or "access_token" not in data:
        raise _token_error(response.status_code, data, form.get("grant_type", ""), hidden)
    tokens = TokenSet.from_oauth_response(data, received_at=received)
    return tokens


def _token_error(status: int, data: Any, grant: str, hidden: list[str]) -> FreshBooksError:
    error = str(data.get("error") or "") if isinstance(data, dict) else ""
    description = str(data.get("error_description") or "") if isinstance(data, dict) else ""
    said = redact(f"{error}: {description}" if description else error or f"HTTP {status}", hidden)
    if error == "invalid_grant":
        if grant == "refresh_token":
            return RefreshRejectedError(
                f"FreshBooks refused the saved refresh token ({said}); it was already used or revoked. "
                f"Sign in again: {LOGIN_HINT}.",
                status=status,
            )
        return OAuthClientError(
            f"FreshBooks refused the authorization code ({said}); codes expire after 5 minutes and work "
            f"once. Sign in again: {LOGIN_HINT}.",
            status=status,
        )
    if error in {"invalid_client", "unauthorized_client"}:
        return OAuthClientError(
            f"FreshBooks refused the app credentials ({said}); check FRESHBOOKS_CLIENT_ID and "
            "FRESHBOOKS_CLIENT_SECRET.",
            status=status,
        )
    if status >= 500 or status == 429:
        return FreshBooksError(
            f"FreshBooks could not issue a token right now ({said}); try again shortly.",
            status=status,
            path=TOKEN_PATH,
        )
    return AuthError(f"FreshBooks refused the token request ({said}). {LOGIN_HINT.capitalize()}.", status=status)


async def exchange_code(
    http: httpx.AsyncClient, settings: Settings, code: str, *, redirect_uri: str | None = None
) -> TokenSet:
    """Trade an authorization code for tokens (``grant_type=authorization_code``)."""
    app = OAuthApp.from_settings(settings)
    if app is None:
        raise AuthError("Set FRESHBOOKS_CLIENT_ID and FRESHBOOKS_CLIENT_SECRET (your FreshBooks app) to sign in.")
    if redirect_uri:
        app = OAuthApp(app.client_id, app.client_secret, redirect_uri)
    if not app.redirect_uri:
        raise AuthError("Set FRESHBOOKS_REDIRECT_URI to the redirect URI registered for your FreshBooks app.")
    form = {"grant_type": "authorization_code", "code": code}
    return await _token_request(http, settings, app, form, secrets_in=[code])


async def refresh_tokens(
    http: httpx.AsyncClient, settings: Settings, refresh_token: SecretStr, *, app: OAuthApp | None = None
) -> TokenSet:
    """Trade a single-use refresh token for a new pair; ``invalid_grant`` -> :class:`RefreshRejectedError`."""
    app = app or OAuthApp.from_settings(settings)
    if app is None:
        raise TokenExpiredError(
            "The access token expired and cannot be refreshed without FRESHBOOKS_CLIENT_ID and "
            f"FRESHBOOKS_CLIENT_SECRET; set them, or {LOGIN_HINT}."
        )
    raw = refresh_token.get_secret_value()
    form = {"grant_type": "refresh_token", "refresh_token": raw}
    tokens = await _token_request(http, settings, app, form, secrets_in=[raw])
    if tokens.refresh_token is None:
        # Keep working if the server did not rotate (FreshBooks always does).
        tokens = tokens.model_copy(update={"refresh_token": refresh_token})
    return tokens


async def revoke_token(http: httpx.AsyncClient, settings: Settings, token: SecretStr) -> bool:
    """Ask FreshBooks to revoke a token. True on success; never raises for an API refusal."""
    app = OAuthApp.from_settings(settings)
    if app is None:
        return False
    body = {
        "client_id": app.client_id,
        "client_secret": app.client_secret.get_secret_value(),
        "token": token.get_secret_value(),
    }
    try:
        response = await http.post(f"{settings.api_url}{REVOKE_PATH}", data=body)
    except httpx.HTTPError as exc:
        logger.warning("Could not reach FreshBooks to revoke the token: %s", type(exc).__name__)
        return False
    return response.status_code < 400


# --------------------------------------------------------------------------------------------- sources


class StoredTokenSource:
    """A ``TokenSource`` backed by the token file (and optionally starting from environment tokens).

    * ``get_token`` returns the cached access token; if the file changed on disk (another process
      refreshed) it is re-read; if the token is within the refresh margin it is refreshed first.
    * ``refresh_after_unauthorized`` refreshes once after a 401.
    * A refresh takes an asyncio lock, then the file lock, then re-reads the file: if the stored access
      token differs from the rejected/expiring one and is still valid it is used and nothing is sent.
    """

    def __init__(
        self,
        settings: Settings,
        http: httpx.AsyncClient,
        store: TokenStore,
        tokens: TokenSet,
        *,
        origin: str = "file",
    ) -> None:
        self._settings = settings
        self._http = http
        self._store = store
        self._tokens = tokens
        self._origin = origin  # "file" or "env"
        self._lock = asyncio.Lock()
        self._seen_mtime = store.mtime_ns() if origin == "file" else None
        self.refresh_count = 0

    def __repr__(self) -> str:
        return f"StoredTokenSource(origin={self._origin!r}, file={str(self._store.path)!r})"

    @property
    def tokens(self) -> TokenSet:
        return self._tokens

    @property
    def store(self) -> TokenStore:
        return self._store

    def can_refresh(self) -> bool:
        return self._tokens.refresh_token is not None and OAuthApp.from_settings(self._settings) is not None

    def _maybe_reload(self) -> None:
        mtime = self._store.mtime_ns()
        if mtime is None or mtime == self._seen_mtime:
            return
        try:
            stored = self._store.load()
        except TokenFileError:
            return
        self._seen_mtime = mtime
        if stored is not None and not stored.is_expired():
            self._tokens = stored

    async def get_token(self) -> str:
        self._maybe_reload()
        tokens = self._tokens
        if not tokens.needs_refresh():
            return tokens.access_token.get_secret_value()
        current = tokens.access_token.get_secret_value()
        if not self.can_refresh():
            if tokens.is_expired():
                raise self._cannot_refresh_error()
            return current  # still valid for a little while; nothing better to offer
        try:
            return await self._refresh(current)
        except (RefreshRejectedError, OAuthClientError):
            raise  # permanent: the user must act
        except FreshBooksError as exc:
            if tokens.is_expired():
                raise
            # A transient failure (network, 5xx) before expiry: keep using the current token; the next
            # call tries the refresh again.
            logger.warning("Early token refresh failed (%s); using the current token until it expires.", exc.message)
            return current

    async def refresh_after_unauthorized(self, rejected_token: str) -> str | None:
        current = self._tokens
        if current.access_token.get_secret_value() != rejected_token and not current.is_expired():
            return current.access_token.get_secret_value()
        if not self.can_refresh():
            # Another process may still have refreshed the shared file.
            stored = self._safe_load()
            if stored is not None and stored.access_token.get_secret_value() != rejected_token:
                self._tokens = stored
                if not stored.is_expired():
                    return stored.access_token.get_secret_value()
            raise self._cannot_refresh_error(rejected=True)
        return await self._refresh(rejected_token)

    def _safe_load(self) -> TokenSet | None:
        try:
            return self._store.load()
        except TokenFileError:
            return None

    def _cannot_refresh_error(self, *, rejected: bool = False) -> TokenExpiredError:
        what = "was rejected by FreshBooks" if rejected else "has expired"
        if self._origin == "env":
            return TokenExpiredError(
                f"FRESHBOOKS_ACCESS_TOKEN {what}. {LOGIN_HINT.capitalize()} (recommended), or set a fresh "
                "FRESHBOOKS_ACCESS_TOKEN, or set FRESHBOOKS_REFRESH_TOKEN with FRESHBOOKS_CLIENT_ID and "
                "FRESHBOOKS_CLIENT_SECRET so it can be refreshed.",
                status=401,
            )
        if self._tokens.refresh_token is None:
            return TokenExpiredError(
                f"The saved access token {what} and no refresh token was saved; {LOGIN_HINT}.", status=401
            )
        return TokenExpiredError(
            f"The saved access token {what}; refreshing it needs FRESHBOOKS_CLIENT_ID and "
            f"FRESHBOOKS_CLIENT_SECRET in the server's environment. Set them, or {LOGIN_HINT}.",
            status=401,
        )

    async def _refresh(self, stale_token: str) -> str:
        async with self._lock:
            # Another task in this process may have refreshed while we waited.
            mine = self._tokens
            if mine.access_token.get_secret_value() != stale_token and not mine.is_expired():
                return mine.access_token.get_secret_value()
            async with self._store.locked():
                stored = self._store.load() if self._store.exists() else None
                if stored is not None:
                    if stored.access_token.get_secret_value() != stale_token and not stored.is_expired():
                        logger.info("Using the access token another process refreshed.")
                        self._adopt(stored)
                        return stored.access_token.get_secret_value()
                    if self._origin == "file" or stored.refresh_token is not None:
                        mine = stored  # the file holds the newest refresh token
                if mine.refresh_token is None:
                    raise self._cannot_refresh_error(rejected=True)
                new = await refresh_tokens(self._http, self._settings, mine.refresh_token)
                self.refresh_count += 1
                try:
                    self._store.save(new)
                except TokenFileError as exc:
                    # FreshBooks already rotated the refresh token: losing the new pair would sign us out.
                    self._tokens = new
                    logger.warning("%s Until then the new tokens are kept in memory only.", exc.message)
                    return new.access_token.get_secret_value()
                self._adopt(new)
                left = new.seconds_left()
                logger.info(
                    "Refreshed the FreshBooks access token%s.",
                    f"; it expires in {int(left)} s" if left is not None else "",
                )
                return new.access_token.get_secret_value()

    def _adopt(self, tokens: TokenSet) -> None:
        self._tokens = tokens
        self._origin = "file"
        self._seen_mtime = self._store.mtime_ns()


def build_token_source(settings: Settings, http: httpx.AsyncClient) -> StoredTokenSource:
    """The token source for the server: token file if it holds tokens, else the environment, else an error.

    * Token file: refreshes itself and writes rotated tokens back.
    * ``FRESHBOOKS_ACCESS_TOKEN`` alone: works until it expires, then errors say what to do.
    * plus ``FRESHBOOKS_REFRESH_TOKEN`` and client id/secret: refreshes, and refreshed tokens go to the file.
    """
    store = TokenStore(settings.token_file)
    stored = store.load()
    if stored is not None:
        return StoredTokenSource(settings, http, store, stored, origin="file")
    if settings.access_token is not None:
        tokens = TokenSet(access_token=settings.access_token, refresh_token=settings.refresh_token)
        return StoredTokenSource(settings, http, store, tokens, origin="env")
    if settings.refresh_token is not None and OAuthApp.from_settings(settings) is not None:
        # Only a refresh token: the first call refreshes (an already-expired placeholder forces it).
        tokens = TokenSet(
            access_token=SecretStr("unset-" + secrets.token_hex(8)),
            refresh_token=settings.refresh_token,
            expires_at=0.0,
            expires_in=0.0,
        )
        return StoredTokenSource(settings, http, store, tokens, origin="env")
    raise NotSignedInError(
        f"Not signed in to FreshBooks: {LOGIN_HINT} (saves tokens to {store.path}), or set FRESHBOOKS_ACCESS_TOKEN."
    )
