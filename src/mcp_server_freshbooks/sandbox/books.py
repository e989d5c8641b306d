"""The sandbox's store: tables of live wire-form records plus what every resource needs (ids,
uuids, the sandbox's calendar). It knows no resource by name: each resource module declares its
tables and keeps its own rules.

Records are the exact dicts served over HTTP (``db.invoices[id]`` always carries ``lines``; the
HTTP layer strips them unless ``include[]=lines``). Derived fields are recomputed on every write,
so tests can treat ``db`` as ground truth.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any

from ._wire import fmt_dt, fmt_version
from .options import EmailLogEntry


class Db:
    """Tables by name (``db.invoices`` is ``db.tables["invoices"]``) plus the id counters."""

    def __init__(self, tables: Iterable[str]) -> None:
        self.tables: dict[str, dict[Any, Any]] = {name: {} for name in tables}
        self.next_ids: dict[str, int] = {}
        self.__dict__.update(self.tables)  # plain attributes: seeding reads them ~100k times

    def __getattr__(self, name: str) -> Any:  # only reached for names that are not tables
        raise AttributeError(name)


class Books:
    """The store and the context every resource's rules run in."""

    def __init__(
        self,
        tables: Iterable[str],
        account_id: str,
        base_currency: str,
        today: date,
        now: Callable[[], datetime],
        rng: random.Random,
    ) -> None:
        self.db = Db(tables)
        self.account_id = account_id
        self.base_currency = base_currency
        self.today = today
        self.now = now  # naive US/Eastern "now" on the sandbox's calendar
        self.rng = rng  # for uuids etc. of records created at run time
        # Who is signed in and where (set by the Sandbox before seeding)
        self.identity_id = 0
        self.business_id = 0
        self.business_name = ""
        self.emails: list[EmailLogEntry] = []  # EmailLogEntry per email FreshBooks would have sent
        # Uploaded files by jwt and online-payment options by invoice id (#17): written at run time
        # only, never seeded, so they are not tables.
        self.uploads: dict[str, dict[str, Any]] = {}
        self.payment_options: dict[int, dict[str, Any]] = {}
        # Values derived from many records (client balances), computed once per request/write.
        self.derived: dict[str, Any] = {}

    def next_id(self, kind: str, start: int) -> int:
        value = self.db.next_ids.get(kind, start)
        self.db.next_ids[kind] = value + 1
        return value

    def new_uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def touch(self, rec: dict[str, Any]) -> None:
        now = self.now()
        rec["updated"] = fmt_dt(now)
        if "version" in rec:
            rec["version"] = fmt_version(now)

    def send_email(self, resource: str, resource_id: int) -> None:
        self.emails.append(EmailLogEntry(resource, resource_id, datetime.now(UTC)))

    def derive(self, name: str, compute: Callable[[Books], Any]) -> Any:
        """A cached value derived from the books; cleared by :meth:`invalidate`."""
        if name not in self.derived:
            self.derived[name] = compute(self)
        return self.derived[name]

    def invalidate(self) -> None:
        self.derived.clear()
