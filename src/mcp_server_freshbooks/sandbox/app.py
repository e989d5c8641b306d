"""The Sandbox: seeded books served over the FreshBooks wire protocol by a Starlette app."""

from __future__ import annotations

import asyncio
import random
import string
import uuid
from collections import Counter
from datetime import date, datetime

from starlette.requests import Request
from starlette.responses import Response

from ._wire import EASTERN, JSON, PROJECT_NOT_FOUND, ApiError, acct_error
from .asgi import SandboxApp
from .books import Books, Db
from .faults import FaultConfig, Faults
from .oauth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REDIRECT_URI, TokenStore
from .options import EmailLogEntry, SandboxOptions, WriteLogEntry
from .resource import Resource
from .resources import RESOURCES
from .resources.invoices import invoice_is_overdue
from .routes import accounting, business, debug, identity, oauth, reports, uploads
from .routes._common import json_response
from .seed import seed_books


class Sandbox:
    """A faithful local FreshBooks: seeded books + the HTTP app serving them. See package docs."""

    def __init__(self, options: SandboxOptions | None = None, resources: tuple[Resource, ...] = RESOURCES) -> None:
        opts = options or SandboxOptions()
        self._list_cache: dict[tuple[str, tuple[tuple[str, str], ...]], list[JSON]] = {}
        # With list_cache: each listed row's JSON text, by (resource, id); cleared with the list cache.
        self._row_text: dict[tuple[str, int], str] = {}
        self.options = opts
        self.today: date = opts.today or date.today()
        rng = random.Random(opts.seed)
        alnum = string.ascii_uppercase + string.digits
        self.account_id: str = "".join(rng.choice(alnum) for _ in range(6))
        self.business_id: int = rng.randint(100000, 999999)
        self.business_uuid: str = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        self.business_name: str = "Northbeam Studio Ltd."
        # Who signs in (GET /users/me); MultiSandbox gives its other identities their own names.
        self.owner_first_name, self.owner_last_name = "Morgan", "Reyes"
        self.owner_email = "morgan@northbeam.example.com"
        self.also_owns: list[Sandbox] = []  # other businesses (with their own books) of the same owner
        self.identity_id: int = rng.randint(1000000, 9999999)
        self.membership_id: int = rng.randint(100000, 999999)
        self.staff_id: int = 1  # the owner's staff id: the value FreshBooks uses for expense staffid
        self.oauth_client_id = DEFAULT_CLIENT_ID
        self.oauth_client_secret = DEFAULT_CLIENT_SECRET
        self.redirect_uri = DEFAULT_REDIRECT_URI
        self.write_log: list[WriteLogEntry] = []
        self.ignored_search_keys: Counter[str] = Counter()
        self.request_count = 0
        self.token_requests: list[tuple[str, str]] = []
        self.writes_in_flight = 0  # writes held back by write_latency_ms, not yet applied
        self._background: set[asyncio.Future[None]] = set()
        self.faults = Faults(
            FaultConfig(
                opts.latency_ms,
                opts.jitter_ms,
                opts.fail_rate,
                opts.rate_limit,
                opts.drop_rate,
                opts.write_latency_ms,
                opts.write_latency_match,
            ),
            opts.seed,
        )
        self.resources = resources
        self.accounting = {r.path: r for r in resources if r.family == "accounting"}
        tables = [t for r in resources for t in r.tables]
        self.books = Books(tables, self.account_id, "USD", self.today, self._now_eastern, random.Random(opts.seed + 1))
        self.books.identity_id, self.books.business_id = self.identity_id, self.business_id
        self.books.business_name = self.business_name
        seed_books(self.books, resources, rng, opts.seed, opts.clients, opts.invoices, opts.expenses, opts.time_entries)
        self.tokens = TokenStore(opts.token_ttl)
        self.access_token: str = self.tokens.issue(opts.access_token)[0]
        self.app = self._build_app()

    # ------------------------------------------------------------------ public helpers
    @property
    def db(self) -> Db:
        return self.books.db

    @property
    def emails(self) -> list[EmailLogEntry]:
        """Every email FreshBooks would have sent (each applied ``action_email``), oldest first."""
        return self.books.emails

    @property
    def refresh_token(self) -> str:
        """The currently valid refresh token (rotates on every refresh)."""
        return self.tokens.refresh_token or ""

    def set_faults(
        self,
        latency_ms: int | None = None,
        jitter_ms: int | None = None,
        fail_rate: float | None = None,
        rate_limit: int | str | None = "keep",
        drop_rate: float | None = None,
        write_latency_ms: int | None = None,
        write_latency_match: str | None = "keep",
    ) -> None:
        """Change faults at run time; arguments left out keep their value (rate_limit=None disables,
        write_latency_match=None delays every write)."""
        c = self.faults.config
        new = FaultConfig(
            c.latency_ms if latency_ms is None else latency_ms,
            c.jitter_ms if jitter_ms is None else jitter_ms,
            c.fail_rate if fail_rate is None else fail_rate,
            c.rate_limit if rate_limit == "keep" else rate_limit,  # type: ignore[arg-type]
            c.drop_rate if drop_rate is None else drop_rate,
            c.write_latency_ms if write_latency_ms is None else write_latency_ms,
            c.write_latency_match if write_latency_match == "keep" else write_latency_match,
        )
        new.validate()
        self.faults.config = new

    def emails_sent(self, resource_id: int, resource: str = "invoice") -> int:
        """How many emails went out for this record (each applied ``action_email`` counts one)."""
        return sum(1 for e in self.emails if e.resource == resource and e.resource_id == resource_id)

    def invoice_is_overdue(self, inv: JSON, as_of: date) -> bool:
        return invoice_is_overdue(inv, as_of)

    def _now_eastern(self) -> datetime:
        real = datetime.now(EASTERN).replace(tzinfo=None)
        return datetime.combine(self.today, real.time()) if self.options.today else real

    # ------------------------------------------------------------------ app
    def _build_app(self) -> SandboxApp:
        # reports before accounting
        routes = [*oauth.routes(), *identity.routes(), *reports.routes(), *accounting.routes(), *uploads.routes()]
        for res in self.resources:
            if res.family == "business":
                routes += business.routes(res)
        routes += debug.routes()
        app = SandboxApp(routes=routes, exception_handlers={ApiError: _api_error, 404: _not_found})
        app.sandbox = self
        return app


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return json_response(exc.body, exc.status, exc.headers)


async def _not_found(request: Request, exc: Exception) -> Response:
    path = request.url.path
    if path.startswith("/accounting/"):
        return json_response(acct_error(1012, "path", "The requested resource was not found.", "", path), 404)
    return json_response(PROJECT_NOT_FOUND, 404)
