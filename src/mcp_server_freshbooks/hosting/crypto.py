"""Encryption at rest for FreshBooks tokens and client secrets: Fernet with key rotation (MultiFernet).

``FRESHBOOKS_MCP_SECRET_KEY`` is one Fernet key or a comma-separated list: the first encrypts, all
decrypt. To rotate: put a new key first, keep the old ones after it until every record was rewritten
(FreshBooks tokens are rewritten at each refresh, so within a day), then drop them.
Tokens the server issues are never encrypted but hashed (`token_hash`): they are never read back.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from mcp_server_freshbooks.config import ConfigError

KEY_ENV = "FRESHBOOKS_MCP_SECRET_KEY"
KEY_HINT = (
    'generate one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


class Sealer:
    """Encrypts and decrypts small JSON values with the configured keys. Never prints a key."""

    def __init__(self, keys: str) -> None:
        parts = [k.strip() for k in keys.split(",") if k.strip()]
        if not parts:
            raise ConfigError(f"{KEY_ENV} is required for --auth oauth; {KEY_HINT}")
        fernets = []
        for i, key in enumerate(parts, 1):
            try:
                fernets.append(Fernet(key.encode()))
            except (ValueError, TypeError):
                raise ConfigError(
                    f"{KEY_ENV}: key {i} of {len(parts)} is not a Fernet key (32 url-safe base64 bytes); {KEY_HINT}"
                ) from None
        self._fernet = MultiFernet(fernets)

    def __repr__(self) -> str:
        return "Sealer(<keys redacted>)"

    def seal(self, value: Any) -> str:
        return self._fernet.encrypt(json.dumps(value).encode()).decode()

    def open(self, sealed: str) -> Any:
        """The value, or raises `ValueError` when no configured key opens it (keys changed or data damaged)."""
        try:
            return json.loads(self._fernet.decrypt(sealed.encode()))
        except InvalidToken:
            raise ValueError(f"no key in {KEY_ENV} decrypts this record (was its key removed?)") from None


def token_hash(token: str) -> str:
    """The store key of a token this server issued: SHA-256 (tokens are 256-bit random, so no salt needed)."""
    return hashlib.sha256(token.encode()).hexdigest()
