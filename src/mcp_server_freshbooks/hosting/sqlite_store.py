"""`SQLiteStore`: the single-machine `Store` (one file, WAL), the default of the hosted mode.

One table ``records(kind, key, value, expires)``; an expired row is invisible and is swept on writes.
`take` is ``DELETE ... RETURNING`` (one statement, so atomic across processes sharing the file).
Locks are in-process (`InProcessKeyedLock`): exact for one server process; several processes on one
file share its records but not its locks (run replicas on Redis instead).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

from mcp_server_freshbooks.freshbooks.locks import InProcessKeyedLock, KeyedLock

from .store import Record

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    expires REAL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_expires ON records (expires) WHERE expires IS NOT NULL;
"""

_LIVE = "(expires IS NULL OR expires > ?)"
SWEEP_EVERY = 256  # writes between sweeps of expired rows


class SQLiteStore:
    """`Store` on one SQLite file (``":memory:"`` for a private in-memory store)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10.0)
        self._mutex = threading.Lock()
        with self._mutex:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        if self.path != ":memory:":
            Path(self.path).chmod(0o600)
        self._locks = InProcessKeyedLock()
        self._writes = 0

    @classmethod
    def from_url(cls, url: str) -> SQLiteStore:
        """``sqlite:///abs/path`` (or ``sqlite://:memory:``)."""
        rest = url.removeprefix("sqlite://")
        return cls(":memory:" if rest in ("", ":memory:", "/:memory:") else rest)

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"

    @property
    def locks(self) -> KeyedLock:
        return self._locks

    def _expiry(self, ttl: float | None) -> float | None:
        return None if ttl is None else time.time() + ttl

    def _swept(self) -> None:
        self._writes += 1
        if self._writes % SWEEP_EVERY == 0:
            self._db.execute("DELETE FROM records WHERE expires IS NOT NULL AND expires <= ?", (time.time(),))

    async def put(self, kind: str, key: str, value: Record, *, ttl: float | None = None) -> None:
        with self._mutex:
            self._db.execute(
                "INSERT OR REPLACE INTO records (kind, key, value, expires) VALUES (?, ?, ?, ?)",
                (kind, key, json.dumps(value), self._expiry(ttl)),
            )
            self._swept()

    async def add(self, kind: str, key: str, value: Record, *, ttl: float | None = None) -> bool:
        with self._mutex:
            # One statement: an expired row is replaced, a live one is left alone.
            cur = self._db.execute(
                "INSERT INTO records (kind, key, value, expires) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, expires = excluded.expires "
                "WHERE records.expires IS NOT NULL AND records.expires <= ?",
                (kind, key, json.dumps(value), self._expiry(ttl), time.time()),
            )
            self._swept()
            return cur.rowcount == 1

    async def get(self, kind: str, key: str) -> Record | None:
        with self._mutex:
            row = self._db.execute(
                f"SELECT value FROM records WHERE kind = ? AND key = ? AND {_LIVE}", (kind, key, time.time())
            ).fetchone()
        return None if row is None else _load(row[0])

    async def take(self, kind: str, key: str) -> Record | None:
        with self._mutex:
            row = self._db.execute(
                "DELETE FROM records WHERE kind = ? AND key = ? RETURNING value, expires", (kind, key)
            ).fetchone()
        if row is None or (row[1] is not None and row[1] <= time.time()):
            return None
        return _load(row[0])

    async def delete(self, kind: str, key: str) -> bool:
        with self._mutex:
            cur = self._db.execute(
                f"DELETE FROM records WHERE kind = ? AND key = ? AND {_LIVE}", (kind, key, time.time())
            )
            self._db.execute("DELETE FROM records WHERE kind = ? AND key = ?", (kind, key))
        return cur.rowcount == 1

    async def scan(self, kind: str) -> AsyncIterator[tuple[str, Record]]:
        with self._mutex:
            rows = self._db.execute(
                f"SELECT key, value FROM records WHERE kind = ? AND {_LIVE} ORDER BY key", (kind, time.time())
            ).fetchall()
        for key, value in rows:
            yield key, _load(value)

    async def aclose(self) -> None:
        with self._mutex:
            self._db.close()


def _load(text: str) -> Record:
    value = json.loads(text)
    if not isinstance(value, dict):  # pragma: no cover - only this module writes the table
        raise ValueError("a store record is not a JSON object")
    return value
