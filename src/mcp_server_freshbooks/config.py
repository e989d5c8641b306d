"""Settings: one validated object built from the environment and an optional `.env` file.

The host's environment wins over `.env` (python-dotenv's `override=False`), so a Claude Desktop
`env` block is never silently replaced by a stray file in the working directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from .tools._catalog import TOOLSETS as _CATALOG

# Derived from each domain's Toolset (via the generated catalog, so start-up imports no tool module).
KNOWN_TOOLSETS: tuple[str, ...] = tuple(ts.id for ts in _CATALOG)
DEFAULT_TOOLSETS: tuple[str, ...] = tuple(ts.id for ts in _CATALOG if ts.default)

ENV_PREFIX = "FRESHBOOKS_"


class ConfigError(ValueError):
    """A setting is missing or invalid; the message names the variable and what is allowed."""


def default_token_file() -> Path:
    """Per-user config directory (XDG on Linux, Application Support on macOS, APPDATA on Windows)."""
    if os.name == "nt":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    elif os.uname().sysname == "Darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "mcp-server-freshbooks" / "tokens.json"


def _parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("must be one of 1/0, true/false, yes/no, on/off")


class Settings(BaseModel):
    """Everything the server reads from its environment. Secrets are `SecretStr` so they never print."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    api_url: str = Field(default="https://api.freshbooks.com", description="FRESHBOOKS_API_URL")
    auth_url: str = Field(default="https://auth.freshbooks.com", description="FRESHBOOKS_AUTH_URL")
    access_token: SecretStr | None = Field(default=None, description="FRESHBOOKS_ACCESS_TOKEN")
    refresh_token: SecretStr | None = Field(default=None, description="FRESHBOOKS_REFRESH_TOKEN")
    client_id: str | None = Field(default=None, description="FRESHBOOKS_CLIENT_ID")
    client_secret: SecretStr | None = Field(default=None, description="FRESHBOOKS_CLIENT_SECRET")
    redirect_uri: str | None = Field(default=None, description="FRESHBOOKS_REDIRECT_URI")
    account_id: str | None = Field(default=None, description="FRESHBOOKS_ACCOUNT_ID")
    business: str | None = Field(default=None, description="FRESHBOOKS_BUSINESS (name or id)")
    token_file: Path = Field(default_factory=default_token_file, description="FRESHBOOKS_TOKEN_FILE")
    read_only: bool = Field(default=False, description="FRESHBOOKS_READ_ONLY")
    toolsets: tuple[str, ...] | None = Field(default=None, description="FRESHBOOKS_TOOLSETS (None: the defaults)")
    dynamic_toolsets: bool = Field(default=False, description="FRESHBOOKS_DYNAMIC_TOOLSETS")
    max_concurrency: int = Field(default=4, ge=1, le=16, description="FRESHBOOKS_MAX_CONCURRENCY")
    # ask: elicitation whenever the host supports it, confirm=true only where it cannot ask;
    # elicit: only elicitation (confirm=true refused); never: no confirmation (unattended pipelines).
    confirm_writes: Literal["ask", "elicit", "never"] = Field(default="ask", description="FRESHBOOKS_CONFIRM_WRITES")
    # One request's deadline; a write whose reply did not come is looked up again 1.25x this later.
    request_timeout: float = Field(default=30.0, ge=0.1, le=300, description="FRESHBOOKS_REQUEST_TIMEOUT")
    # Hosting for a team (serve --transport http --auth oauth; issue #18); its store is mcp_store below
    mcp_public_url: str | None = Field(default=None, description="FRESHBOOKS_MCP_PUBLIC_URL")
    mcp_secret_key: SecretStr | None = Field(default=None, description="FRESHBOOKS_MCP_SECRET_KEY")
    mcp_dev_allow_http_cimd: bool = Field(default=False, description="FRESHBOOKS_MCP_DEV_ALLOW_HTTP_CIMD")
    mcp_rate_limit: int = Field(default=120, ge=0, description="FRESHBOOKS_MCP_RATE_LIMIT (per user per minute)")
    mcp_http_token: SecretStr | None = Field(default=None, description="FRESHBOOKS_MCP_HTTP_TOKEN")
    # Hosting for a team (issue #18): redis://... shares write locks (and hosted state) between replicas
    mcp_store: str | None = Field(default=None, description="FRESHBOOKS_MCP_STORE")

    @field_validator("api_url", "auth_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("mcp_public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")) or "?" in value or "#" in value:
            raise ValueError("must be the https:// URL users reach (no path query or fragment)")
        return value

    @field_validator("read_only", "dynamic_toolsets", "mcp_dev_allow_http_cimd", mode="before")
    @classmethod
    def _bool(cls, value: Any) -> bool:
        return _parse_bool(value)

    @field_validator("confirm_writes", mode="before")
    @classmethod
    def _confirm_policy(cls, value: Any) -> Any:
        text = str(value).strip().lower()
        if text not in ("ask", "elicit", "never"):
            raise ValueError(
                f"{value!r} is not a confirmation policy; use ask (default: ask the user, through the app when it "
                "can), elicit (only through the app) or never (unattended pipelines)"
            )
        return text

    @field_validator("toolsets", mode="before")
    @classmethod
    def _toolsets(cls, value: Any) -> tuple[str, ...] | None:
        if value is None:
            return None
        items = value.split(",") if isinstance(value, str) else list(value)
        names = tuple(dict.fromkeys(str(i).strip().lower() for i in items if str(i).strip()))
        if not names:
            return None
        if "all" in names:
            return KNOWN_TOOLSETS
        unknown = [n for n in names if n not in KNOWN_TOOLSETS]
        if unknown:
            raise ValueError(f"unknown toolset(s) {', '.join(unknown)}; allowed: {', '.join(KNOWN_TOOLSETS)}, all")
        return names

    @field_validator("token_file", mode="before")
    @classmethod
    def _blank_token_file_is_default(cls, value: Any) -> Any:
        # FRESHBOOKS_TOKEN_FILE= (blank, as in .env.example) means the default, not the current folder
        if value is None or (isinstance(value, str) and not value.strip()):
            return default_token_file()
        return value

    @field_validator(
        "access_token",
        "refresh_token",
        "client_secret",
        "mcp_secret_key",
        "mcp_public_url",
        "mcp_http_token",
        "mcp_store",
        "client_id",
        "redirect_uri",
        "account_id",
        "business",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some fields changed (CLI flags), validated like the environment."""
        data = self.model_dump()
        for key in ("access_token", "refresh_token", "client_secret", "mcp_http_token", "mcp_secret_key"):
            secret = getattr(self, key)
            data[key] = secret.get_secret_value() if secret is not None else None
        data.update({k: v for k, v in changes.items() if v is not None})
        return _validate(data)


def _field_env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def _validate(data: Mapping[str, Any]) -> Settings:
    try:
        return Settings.model_validate(dict(data))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "?"
            message = err["msg"].removeprefix("Value error, ")
            problems.append(f"{_field_env_name(field)}: {message}")
        raise ConfigError("Invalid configuration: " + "; ".join(problems)) from None


def _environment(environ: Mapping[str, str] | None, dotenv_path: str | Path | None, use_dotenv: bool) -> dict[str, str]:
    """`environ` (default: os.environ) over a `.env` file's values."""
    env: dict[str, str] = {}
    if use_dotenv:
        from dotenv import dotenv_values, find_dotenv

        path = str(dotenv_path) if dotenv_path is not None else find_dotenv(usecwd=True)
        if path:
            env.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    env.update(os.environ if environ is None else environ)
    return env


LOG_LEVELS: tuple[str, ...] = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_LEVEL_ENV = ENV_PREFIX + "LOG_LEVEL"


def parse_log_level(value: str, source: str = LOG_LEVEL_ENV) -> str:
    """`debug`, ` Info ` -> the logging name; anything else is a ConfigError naming `source`."""
    level = value.strip().upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"{source}: {value!r} is not a log level; use one of {', '.join(LOG_LEVELS)} (any case)")
    return level


def load_log_level(
    environ: Mapping[str, str] | None = None,
    *,
    dotenv_path: str | Path | None = None,
    use_dotenv: bool = True,
) -> str:
    """FRESHBOOKS_LOG_LEVEL from the environment, else `.env`, else WARNING. Read apart from Settings so the
    CLI can set up logging before anything else (a bad setting elsewhere is then logged properly)."""
    value = _environment(environ, dotenv_path, use_dotenv).get(LOG_LEVEL_ENV, "")
    return parse_log_level(value) if value.strip() else "WARNING"


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    dotenv_path: str | Path | None = None,
    use_dotenv: bool = True,
) -> Settings:
    """Build settings from `environ` (default: os.environ) plus a `.env` file that never overrides it."""
    env = _environment(environ, dotenv_path, use_dotenv)
    data: dict[str, Any] = {}
    for field in Settings.model_fields:
        name = _field_env_name(field)
        if name in env:
            data[field] = env[name]
    return _validate(data)
