"""The Sandbox: seeded books served over the FreshBooks wire protocol by a Starlette app."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import string
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from . import query as Q
from ._wire import (
    ACCOUNTING_UNAUTHORIZED,
    EASTERN,
    IDENTITY_UNAUTHORIZED,
    JSON,
    PROJECT_NOT_FOUND,
    PROJECT_UNAUTHORIZED,
    ApiError,
    acct_error,
    acct_fail,
    fmt_iso_utc,
    money,
    parse_bool,
)
from .books import Books, Db, invoice_is_overdue
from .faults import WRITE_METHODS, FaultConfig, Faults, abort_connection, fault_response
from .oauth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REDIRECT_URI, TokenStore
from .options import EmailLogEntry, SandboxOptions, WriteLogEntry
from .seed import seed_books

log = logging.getLogger("mcp_server_freshbooks.sandbox")

DEBUG_PREFIX = "/__sandbox__/"
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost", "testclient"})
_NON_SEARCH_BARE = frozenset({"page", "per_page", "sort"})


_PAGING = ("page", "per_page")


@dataclass
class ResourceDef:
    path: str  # "users/clients"
    singular: str
    plural: str
    table: str  # attribute of Db
    id_field: str  # legacy id name used in 404 bodies
    obj: str
    not_found: str
    specs: dict[str, Q.Spec]
    sorts: dict[str, Callable[[JSON], Any]]
    create: Callable[[JSON], JSON] | None
    update: Callable[[JSON, JSON], None] | None
    vis_put: bool  # PUT {"vis_state": n} supported
    http_delete: bool  # HTTP DELETE supported


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


class SandboxApp(Starlette):
    """Starlette app whose outermost layer applies faults, counting and logging per request."""

    sandbox: Sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if path.startswith(DEBUG_PREFIX):
            await super().__call__(scope, receive, send)
            return
        sb = self.sandbox
        sb.request_count += 1
        faults = sb.faults
        delay = faults.latency_seconds()
        if delay > 0:
            await asyncio.sleep(delay)
        retry_after = faults.rate_limited()
        if retry_after is not None:
            body = json.dumps({"message": "Too Many Requests. Please retry after a short delay."}).encode()
            await _send_raw(send, 429, body, "application/json", {"retry-after": str(retry_after)})
            return
        status = faults.fail_status()
        if status is not None:
            body, ctype = fault_response(status)
            await _send_raw(send, status, body, ctype, {})
            return
        method = scope.get("method", "GET")
        drop = faults.drop(method in WRITE_METHODS)
        if drop == "before":
            log.info("sandbox: dropping %s %s before handling", method, path)
            await abort_connection(send)
            return
        reply = send
        if drop == "after":
            log.info("sandbox: handling %s %s then dropping the reply", method, path)

            async def swallow(message: Message) -> None:
                return None

            reply = swallow
        delay = faults.write_latency_seconds(method, path)
        if delay > 0:
            await self._slow_write(delay, scope, await _buffered(receive), reply)
        else:
            await super().__call__(scope, receive, reply)
        if drop == "after":
            await abort_connection(send)

    async def _slow_write(self, delay: float, scope: Scope, receive: Receive, send: Send) -> None:
        """Apply the write after ``delay`` in its own task, so it lands even when the client gives
        up first (a timeout cancels the in-process caller; over TCP uvicorn lets it run anyway)."""

        async def apply() -> None:
            try:
                await asyncio.sleep(delay)
                await Starlette.__call__(self, scope, receive, send)
            finally:
                self.sandbox.writes_in_flight -= 1

        self.sandbox.writes_in_flight += 1
        task = asyncio.ensure_future(apply())
        self.sandbox._background.add(task)
        task.add_done_callback(self.sandbox._background.discard)
        await asyncio.shield(task)


async def _buffered(receive: Receive) -> Receive:
    """Read the whole request body now; the returned receive replays it (then reports disconnect)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    pending = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

    async def replay() -> Message:
        return pending.pop() if pending else {"type": "http.disconnect"}

    return replay


async def _send_raw(send: Send, status: int, body: bytes, ctype: str, extra: dict[str, str]) -> None:
    headers = [(b"content-type", ctype.encode()), (b"content-length", str(len(body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in extra.items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Sandbox:
    """A faithful local FreshBooks: seeded books + the HTTP app serving them. See package docs."""

    def __init__(self, options: SandboxOptions | None = None) -> None:
        opts = options or SandboxOptions()
        self._list_cache: dict[tuple[str, tuple[tuple[str, str], ...]], list[JSON]] = {}
        self.options = opts
        self.today: date = opts.today or date.today()
        rng = random.Random(opts.seed)
        alnum = string.ascii_uppercase + string.digits
        self.account_id: str = "".join(rng.choice(alnum) for _ in range(6))
        self.business_id: int = rng.randint(100000, 999999)
        self.business_uuid: str = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        self.business_name: str = "Northbeam Studio Ltd."
        self.identity_id: int = rng.randint(1000000, 9999999)
        self.membership_id: int = rng.randint(100000, 999999)
        self.staff_id: int = 1  # the owner's staff id: the value FreshBooks uses as expense staffid
        self.oauth_client_id = DEFAULT_CLIENT_ID
        self.oauth_client_secret = DEFAULT_CLIENT_SECRET
        self.redirect_uri = DEFAULT_REDIRECT_URI
        self.write_log: list[WriteLogEntry] = []
        self.emails: list[EmailLogEntry] = []
        self.writes_in_flight = 0  # writes held back by write_latency_ms, not yet applied
        self._background: set[asyncio.Future[None]] = set()
        self.ignored_search_keys: Counter[str] = Counter()
        self.request_count = 0
        self.token_requests: list[tuple[str, str]] = []
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
        self.books = Books(self.account_id, "USD", self.today, self._now_eastern, random.Random(opts.seed + 1))
        seed_books(self.books, rng, opts.clients, opts.invoices, opts.expenses)
        for te in self.db.time_entries.values():
            te["identity_id"] = self.identity_id
        self.tokens = TokenStore(opts.token_ttl)
        self.access_token: str = self.tokens.issue(opts.access_token)[0]
        self._balances_cache: dict[int, dict[str, dict[str, Decimal]]] | None = None
        self.resources = self._resource_defs()
        self.app = self._build_app()

    # ------------------------------------------------------------------ public helpers
    @property
    def db(self) -> Db:
        return self.books.db

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

    # ------------------------------------------------------------------ resources
    def _balances(self) -> dict[int, dict[str, dict[str, Decimal]]]:
        if self._balances_cache is None:
            self._balances_cache = self.books.client_balances()
        return self._balances_cache

    def _has_balance(self, kind: str) -> Callable[[JSON, bool], bool]:
        def check(rec: JSON, flag: bool) -> bool:
            per = self._balances().get(rec["id"], {}).get(kind, {})
            return any(v > 0 for v in per.values()) == flag

        return check

    def _balance_total(self, kind: str) -> Callable[[JSON], Any]:
        return lambda rec: sum(self._balances().get(rec["id"], {}).get(kind, {}).values(), Decimal(0))

    def _resource_defs(self) -> dict[str, ResourceDef]:
        b = self.books
        db = b.db

        def client_name(r: JSON) -> list[str]:
            c = db.clients.get(int(r.get("clientid") or 0))
            return [] if c is None else [c["organization"], f"{c['fname']} {c['lname']}"]

        def invoice_number(r: JSON) -> list[str]:
            inv = db.invoices.get(int(r.get("invoiceid") or 0))
            return [] if inv is None else [inv["invoice_number"]]

        def clientid_not(key: str) -> Q.Spec:
            def spec(values: list[str]) -> Q.Pred:
                targets = {Q._int(key, v) for part in values for v in part.split(",") if v.strip()}
                return lambda r: r["clientid"] not in targets

            return spec

        def payment_or_credit(key: str) -> Q.Spec:
            def spec(values: list[str]) -> Q.Pred:
                want = values[-1].strip().lower()
                if want not in ("invoice", "credit"):
                    raise ApiError(400, acct_error(1037, key, "Expected 'invoice' or 'credit'.", "search", want))
                return lambda r: bool(r["from_credit"]) == (want == "credit")

            return spec

        updated = {"updated_min": Q.date_bound("updated", False), "updated_max": Q.date_bound("updated", True)}
        clients = {
            "email": Q.eq_str("email"),
            "userid": Q.eq_int("id"),
            "userids": Q.in_int("id"),
            "address_like": Q.like(
                "p_street",
                "p_street2",
                "p_city",
                "p_province",
                "p_country",
                "p_code",
                "s_street",
                "s_street2",
                "s_city",
                "s_province",
                "s_country",
                "s_code",
            ),
            "fname_like": Q.like("fname"),
            "lname_like": Q.like("lname"),
            "note_like": Q.like("note"),
            "organization_like": Q.like("organization"),
            "phone_like": Q.like("bus_phone", "home_phone", "mob_phone", "fax"),
            "user_like": Q.like(
                "fname",
                "lname",
                "organization",
                "email",
                "username",
                extra=lambda r: [f"{r['fname']} {r['lname']}"],
            ),
            "has_credit": Q.boolean(self._has_balance("credit")),
            "has_draft": Q.boolean(self._has_balance("draft")),
            "has_outstanding": Q.boolean(self._has_balance("outstanding")),
            "has_overdue": Q.boolean(self._has_balance("overdue")),
            "vis_state": Q.vis_state(),
            **updated,
        }
        invoices = {
            "customerid": Q.eq_int("customerid"),
            "customerids": Q.in_int("customerid"),
            "invoiceid": Q.eq_int("id"),
            "invoiceids": Q.in_int("id"),
            "invoice_number": Q.eq_str("invoice_number"),
            "invoice_number_like": Q.like("invoice_number"),
            "date_min": Q.date_bound("create_date", False),
            "date_max": Q.date_bound("create_date", True),
            "v3_status": Q.eq_str("v3_status"),
            "currency_code": Q.eq_str("currency_code"),
            "vis_state": Q.vis_state(),
            **updated,
        }
        expenses = {
            "expenseid": Q.eq_int("id"),
            "expenseids": Q.in_int("id"),
            "clientid": Q.eq_int("clientid"),
            "clientids": Q.in_int("clientid"),
            "clientid_not": lambda key: clientid_not(key),
            "staffid": Q.eq_int("staffid"),
            "staffids": Q.in_int("staffid"),
            "profileid": Q.eq_int("profileid"),
            "profileids": Q.in_int("profileid"),
            "categoryid": Q.eq_int("categoryid"),
            "categoryids": Q.in_int("categoryid"),
            "projectid": Q.eq_int("projectid"),
            "projectids": Q.in_int("projectid"),
            "has_receipt": Q.field_bool("has_receipt"),
            "amount_min": Q.num_bound("amount", False),
            "amount_max": Q.num_bound("amount", True),
            "date_min": Q.date_bound("date", False),
            "date_max": Q.date_bound("date", True),
            "vendor_like": Q.like("vendor"),
            "vis_state": Q.vis_state(),
            **updated,
        }
        categories = {
            "categoryid": Q.eq_int("id"),
            "categoryids": Q.in_int("id"),
            "name": Q.like("category"),
            "is_cogs": Q.field_bool("is_cogs"),
            "is_editable": Q.field_bool("is_editable"),
            "parentid": Q.eq_int("parentid"),
            "vis_state": Q.vis_state(),
        }
        payments = {
            "logid": Q.eq_int("id"),
            "logids": Q.in_int("id"),
            "date_min": Q.date_bound("date", False),
            "date_max": Q.date_bound("date", True),
            "amount_min": Q.num_bound("amount", False),
            "amount_max": Q.num_bound("amount", True),
            "type": Q.eq_str("type"),
            "customerid": Q.eq_int("clientid"),
            "customerids": Q.in_int("clientid"),
            "clientid": Q.eq_int("clientid"),
            "clientids": Q.in_int("clientid"),
            "currency": Q.eq_str("amount.code"),
            "invoiceid": Q.eq_int("invoiceid"),
            "notes": Q.like("note"),
            "from_credit": Q.field_bool("from_credit"),
            "client_name": Q.like(extra=client_name),
            "number": Q.like(extra=invoice_number),
            "payment_or_credit": lambda key: payment_or_credit(key),
            "vis_state": Q.vis_state(),
            **updated,
        }
        items = {
            "itemid": Q.eq_int("id"),
            "itemids": Q.in_int("id"),
            "sku": Q.eq_str("sku"),
            "description": Q.like("description"),
            "unit_cost_min": Q.num_bound("unit_cost", False),
            "unit_cost_max": Q.num_bound("unit_cost", True),
            "inventory_min": Q.num_bound("inventory", False),
            "inventory_max": Q.num_bound("inventory", True),
            "qty_min": Q.num_bound("qty", False),
            "qty_max": Q.num_bound("qty", True),
            "vis_state": Q.vis_state(),
            **updated,
        }
        taxes = {
            "taxid": Q.eq_int("id"),
            "taxids": Q.in_int("id"),
            "name": Q.like("name"),
            "number": Q.like("number"),
            "compound": Q.field_bool("compound"),
            **updated,
        }

        def fullname(r: JSON) -> str:
            return f"{r['fname']} {r['lname']}".lower()

        def amount_of(r: JSON) -> Decimal:
            return Decimal(r["amount"]["amount"])

        defs = [
            ResourceDef(
                "users/clients",
                "client",
                "clients",
                "clients",
                "userid",
                "client",
                "Client not found.",
                Q.build_specs(clients),
                {
                    "client_id": lambda r: r["id"],
                    "organization_name": lambda r: (r["organization"] or "").lower(),
                    "email": lambda r: (r["email"] or "").lower(),
                    "bus_phone": lambda r: r["bus_phone"] or "",
                    "updated": lambda r: r["updated"],
                    "fullname": fullname,
                    "primarycontact": fullname,
                    "outstanding": self._balance_total("outstanding"),
                    "overdue": self._balance_total("overdue"),
                    "credit": self._balance_total("credit"),
                },
                b.create_client,
                b.update_client,
                True,
                False,
            ),
            ResourceDef(
                "invoices/invoices",
                "invoice",
                "invoices",
                "invoices",
                "invoiceid",
                "invoice",
                "Invoice not found.",
                Q.build_specs(invoices),
                {"invoice_date": lambda r: r["create_date"], "invoice_number": lambda r: r["invoice_number"]},
                b.create_invoice,
                self._update_invoice,
                True,
                True,
            ),
            ResourceDef(
                "payments/payments",
                "payment",
                "payments",
                "payments",
                "logid",
                "payment",
                "Payment not found.",
                Q.build_specs(payments),
                {"date": lambda r: r["date"], "amount": amount_of},
                b.create_payment,
                b.update_payment,
                True,
                False,
            ),
            ResourceDef(
                "expenses/expenses",
                "expense",
                "expenses",
                "expenses",
                "expenseid",
                "expense",
                "Expense not found.",
                Q.build_specs(expenses),
                {"date": lambda r: r["date"], "amount": amount_of, "vendor": lambda r: (r["vendor"] or "").lower()},
                b.create_expense,
                b.update_expense,
                True,
                False,
            ),
            ResourceDef(
                "expenses/categories",
                "category",
                "categories",
                "categories",
                "categoryid",
                "category",
                "Category not found.",
                Q.build_specs(categories),
                {"name": lambda r: r["category"].lower()},
                None,
                None,
                False,
                False,
            ),
            ResourceDef(
                "items/items",
                "item",
                "items",
                "items",
                "itemid",
                "item",
                "Item not found.",
                Q.build_specs(items),
                {"name": lambda r: r["name"].lower()},
                b.create_item,
                b.update_item,
                True,
                False,
            ),
            ResourceDef(
                "taxes/taxes",
                "tax",
                "taxes",
                "taxes",
                "taxid",
                "tax",
                "Tax not found.",
                Q.build_specs(taxes),
                {"name": lambda r: r["name"].lower()},
                b.create_tax,
                b.update_tax,
                False,
                True,
            ),
        ]
        return {d.path: d for d in defs}

    def _update_invoice(self, inv: JSON, body: JSON) -> None:
        # Phase order of the real API: vis_state (handled by caller) > actions > ordinary fields.
        if parse_bool(body.get("action_mark_as_sent")) or parse_bool(body.get("action_email")):
            self.books.mark_sent(inv)
            if parse_bool(body.get("action_email")):
                self.emails.append(EmailLogEntry("invoice", inv["id"], datetime.now(UTC)))
            return
        self.books.update_invoice(inv, body)

    # ------------------------------------------------------------------ app
    def _build_app(self) -> SandboxApp:
        acct = "/accounting/account/{account_id}/{area}/{res}"
        proj = "/projects/business/{business_id}"
        tt = "/timetracking/business/{business_id}/time_entries"
        routes = [
            Route("/oauth/authorize", self.oauth_authorize, methods=["GET"]),
            Route("/oauth/authorize/", self.oauth_authorize, methods=["GET"]),
            Route("/auth/oauth/token", self.oauth_token, methods=["POST"]),
            Route("/auth/oauth/revoke", self.oauth_revoke, methods=["POST"]),
            Route("/auth/api/v1/users/me", self.me, methods=["GET"]),
            Route(acct, self.acct_collection, methods=["GET", "POST"]),
            Route(acct + "/{rid}", self.acct_item, methods=["GET", "PUT", "DELETE"]),
            Route(proj + "/projects", self.projects_list, methods=["GET"]),
            Route(proj + "/project", self.project_create, methods=["POST"]),
            Route(proj + "/project/{rid}", self.project_item, methods=["GET", "PUT", "DELETE"]),
            Route(tt, self.time_entries_collection, methods=["GET", "POST"]),
            Route(tt + "/{rid}", self.time_entry_item, methods=["GET", "PUT", "DELETE"]),
            Route(DEBUG_PREFIX + "write_log", self.debug_write_log, methods=["GET"]),
            Route(DEBUG_PREFIX + "stats", self.debug_stats, methods=["GET"]),
            Route(DEBUG_PREFIX + "emails", self.debug_emails, methods=["GET"]),
            Route(DEBUG_PREFIX + "faults", self.debug_faults, methods=["POST"]),
        ]
        app = SandboxApp(routes=routes, exception_handlers={ApiError: self._api_error, 404: self._not_found})
        app.sandbox = self
        return app

    async def _api_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return _json(exc.body, exc.status, exc.headers)

    async def _not_found(self, request: Request, exc: Exception) -> Response:
        path = request.url.path
        if path.startswith("/accounting/"):
            return _json(acct_error(1012, "path", "The requested resource was not found.", "", path), 404)
        return _json(PROJECT_NOT_FOUND, 404)

    def _log_write(self, request: Request, resource: str, rid: int | None, status: int = 200) -> None:
        self._list_cache.clear()
        self.write_log.append(WriteLogEntry(request.method, request.url.path, resource, rid, status, datetime.now(UTC)))

    def _bearer(self, request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return token.strip()

    def _require_auth(self, request: Request, body401: JSON) -> None:
        token = self._bearer(request)
        if token is None or not self.tokens.access_valid(token):
            raise ApiError(401, body401, {"www-authenticate": 'Bearer error="invalid_token"'})

    async def _body(self, request: Request, singular: str, obj: str) -> JSON:
        raw = await request.body()
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            raise acct_fail(400, 1005, "", "The server was unable to parse your request.", obj, "") from None
        inner = data.get(singular) if isinstance(data, dict) else None
        if not isinstance(inner, dict):
            raise acct_fail(422, 1001, singular, f"Field {singular} is required.", obj, None)
        return inner

    # ------------------------------------------------------------------ identity
    async def me(self, request: Request) -> Response:
        self._require_auth(request, IDENTITY_UNAUTHORIZED)
        business = {
            "id": self.business_id,
            "business_uuid": self.business_uuid,
            "name": self.business_name,
            "account_id": self.account_id,
            "date_format": "mm/dd/yyyy",
            "address": {
                "id": 76433,
                "street": "455 Spadina Ave",
                "city": "Toronto",
                "province": "Ontario",
                "country": "Canada",
                "postal_code": "M5S 2G8",
            },
            "phone_number": {"id": 666111, "phone_number": "416-555-0199"},
            "business_clients": [],
        }
        memberships: list[JSON] = [
            {"id": self.membership_id, "role": "owner", "unacknowledged_change": False, "business": business}
        ]
        groups = [
            {
                "id": self.identity_id,
                "group_id": 7654,
                "role": "owner",
                "identity_id": self.identity_id,
                "business_id": self.business_id,
                "active": True,
            }
        ]
        if self.options.two_businesses:
            other_id = self.business_id + 1
            memberships.append(
                {
                    "id": self.membership_id + 5,
                    "role": "client",
                    "unacknowledged_change": False,
                    "business": {
                        "id": other_id,
                        "business_uuid": str(uuid.UUID(int=self.business_id * 7919, version=4)),
                        "name": "Bayview Holdings Inc.",
                        "account_id": None,
                        "date_format": "dd/mm/yyyy",
                        "address": None,
                        "phone_number": None,
                        "business_clients": [],
                    },
                }
            )
            groups.append(
                {
                    "id": self.identity_id + 1,
                    "group_id": 7656,
                    "role": "client",
                    "identity_id": self.identity_id,
                    "business_id": other_id,
                    "active": True,
                }
            )
        created = datetime.combine(self.today.replace(year=self.today.year - 3), datetime.min.time(), UTC)
        response = {
            "id": self.identity_id,
            "identity_id": self.identity_id,
            "identity_uuid": str(uuid.UUID(int=self.identity_id * 104729, version=4)),
            "first_name": "Morgan",
            "last_name": "Reyes",
            "email": "morgan@northbeam.example.com",
            "language": "en",
            "confirmed_at": fmt_iso_utc(created),
            "created_at": fmt_iso_utc(created),
            "unconfirmed_email": None,
            "setup_complete": True,
            "profile": {
                "setup_complete": True,
                "first_name": "Morgan",
                "last_name": "Reyes",
                "phone_number": None,
                "address": None,
                "professions": [],
                "has_password": True,
            },
            "phone_numbers": [{"title": "", "phone_number": None}],
            "addresses": [None],
            "profession": None,
            "links": {
                "me": f"/service/auth/api/v1/users?id={self.identity_id}",
                "roles": f"/service/auth/api/v1/users/role/{self.identity_id}",
            },
            "permissions": {self.account_id: {}},
            "groups": groups,
            "subscription_statuses": {self.account_id: "active"},
            "integrations": {},
            "business_memberships": memberships,
            "identity_origin": None,
            "roles": [
                {
                    "id": 61270,
                    "role": "admin",
                    "systemid": 654654,
                    "userid": 1,
                    "created_at": fmt_iso_utc(created),
                    "links": {"destroy": "/service/auth/api/v1/users/role/61270"},
                    "accountid": self.account_id,
                }
            ],
        }
        return _json({"response": response})

    # ------------------------------------------------------------------ accounting
    def _resource(self, request: Request) -> ResourceDef:
        self._require_auth(request, ACCOUNTING_UNAUTHORIZED)
        account_id = request.path_params["account_id"]
        if account_id != self.account_id:
            # Choice: 403 + errno 1003 AccessDenied (the identity has no role on that account).
            raise acct_fail(
                403, 1003, "accountid", "You do not have access to perform the action requested.", "account", account_id
            )
        key = f"{request.path_params['area']}/{request.path_params['res']}"
        rdef = self.resources.get(key)
        if rdef is None:
            raise acct_fail(404, 1012, "path", "The requested resource was not found.", "", key)
        return rdef

    def _table(self, rdef: ResourceDef) -> dict[int, JSON]:
        table: dict[int, JSON] = getattr(self.books.db, rdef.table)
        return table

    def _lookup(self, rdef: ResourceDef, raw_id: str) -> JSON:
        rec = None
        if raw_id.isdigit():
            rec = self._table(rdef).get(int(raw_id))
        if rec is None:
            raise acct_fail(404, 1012, rdef.id_field, rdef.not_found, rdef.obj, raw_id)
        return rec

    def _render(self, rdef: ResourceDef, rec: JSON, includes: list[str]) -> JSON:
        out = dict(rec)
        inc = set(includes)
        db = self.books.db
        if rdef.singular == "invoice":
            if "lines" in inc:
                out["lines"] = [dict(line) for line in rec["lines"]]
            else:
                out.pop("lines", None)
        elif rdef.singular == "client":
            kinds = {
                "outstanding_balance": "outstanding",
                "overdue_balance": "overdue",
                "credit_balance": "credit",
                "draft_balance": "draft",
                "grand_total_balance": "grand_total",
            }
            if inc & kinds.keys():
                per = self._balances().get(rec["id"], {})
                for name, kind in kinds.items():
                    if name in inc:
                        out[name] = [{"amount": money(v, code)} for code, v in sorted(per.get(kind, {}).items())]
            if "late_reminders" in inc:
                out["late_reminders"] = []
            if "late_fee" in inc:
                out["late_fee"] = None
            if "contacts" in inc:
                out["contacts"] = list(db.client_contacts.get(rec["id"], []))
        elif rdef.singular == "expense":
            if "category" in inc:
                out["category"] = dict(db.categories[rec["categoryid"]])
            if "project" in inc:
                out["project"] = dict(db.projects[rec["projectid"]]) if rec["projectid"] in db.projects else None
            if "attachment" in inc:
                out["attachment"] = (
                    {
                        "id": rec["id"] + 11,
                        "expenseid": rec["id"],
                        "jwt": f"sandbox-receipt-{rec['id']}",
                        "media_type": "image/jpeg",
                        "attachmentid": rec["id"] + 11,
                    }
                    if rec["has_receipt"]
                    else None
                )
        elif rdef.singular == "payment":
            if "invoice" in inc:
                inv = dict(db.invoices.get(rec["invoiceid"], {}))
                inv.pop("lines", None)
                out["invoice"] = inv or None
            if "client" in inc:
                out["client"] = dict(db.clients[rec["clientid"]]) if rec["clientid"] in db.clients else None
        return out

    def _filters(self, rdef: ResourceDef, q: Q.ParsedQuery) -> list[Q.Pred]:
        preds: list[Q.Pred] = []
        items = list(q.search.items())
        # The Python SDK's FilterBuilder.boolean() emits bare `&key=value` even for accounting.
        items += [(k, [v]) for k, v in q.bare.items() if k in rdef.specs and k not in q.search]
        for key, values in items:
            spec = rdef.specs.get(key)
            if spec is None:
                self.ignored_search_keys[key] += 1
                log.info("sandbox: ignoring unknown search key %r on %s", key, rdef.plural)
                continue
            preds.append(spec(values))
        for key in q.bare:
            if key not in rdef.specs and key not in _NON_SEARCH_BARE:
                self.ignored_search_keys[key] += 1
        if "vis_state" not in q.search and "vis_state" not in q.bare:
            preds.append(lambda r: r.get("vis_state", 0) != 1)  # deleted hidden by default
        return preds

    def _sorted(self, rdef: ResourceDef, records: list[JSON], sort: str | None) -> list[JSON]:
        if not sort:
            return records
        for suffix, reverse in (("_asc", False), ("_desc", True)):
            if sort.endswith(suffix):
                keyfn = rdef.sorts.get(sort[: -len(suffix)])
                if keyfn is not None:
                    # id ascending as the tiebreak keeps the order stable in both directions
                    records.sort(key=lambda r: r["id"])
                    return sorted(records, key=keyfn, reverse=reverse)
        log.info("sandbox: ignoring unknown sort %r on %s", sort, rdef.plural)
        return records

    @staticmethod
    def _page_error(errno: int, field: str, value: str) -> ApiError:
        msg = {
            1013: "The 'per_page' argument in the request was not a positive integer.",
            1014: "The 'page' argument in the request was not a positive integer.",
        }[errno]
        return ApiError(400, acct_error(errno, field, msg, "search", value))

    async def acct_collection(self, request: Request) -> Response:
        rdef = self._resource(request)
        q = Q.parse_query(request.url.query)
        self._balances_cache = None
        if request.method == "POST":
            if rdef.create is None:
                raise acct_fail(405, 1003, "", "Method not allowed for this resource.", rdef.obj, "")
            body = await self._body(request, rdef.singular, rdef.obj)
            rec = rdef.create(body)
            self._log_write(request, rdef.singular, rec["id"])
            self._balances_cache = None
            return _json({"response": {"result": {rdef.singular: self._render(rdef, rec, q.includes)}}})
        cache_key = (rdef.singular, tuple(sorted(p for p in parse_qsl(request.url.query) if p[0] not in _PAGING)))
        cached = self._list_cache.get(cache_key) if self.options.list_cache else None
        if cached is None:
            preds = self._filters(rdef, q)
            cached = [r for r in self._table(rdef).values() if all(p(r) for p in preds)]
            cached = self._sorted(rdef, cached, q.sort)
            if self.options.list_cache:
                self._list_cache[cache_key] = cached
        records = cached
        page = Q.paginate(records, q, self.options.per_page_default, self._page_error)
        result = {
            rdef.plural: [self._render(rdef, r, q.includes) for r in page.items],
            "page": page.page,
            "pages": page.pages,
            "per_page": page.per_page,
            "total": page.total,
        }
        return _json({"response": {"result": result}})

    async def acct_item(self, request: Request) -> Response:
        rdef = self._resource(request)
        q = Q.parse_query(request.url.query)
        self._balances_cache = None
        rec = self._lookup(rdef, request.path_params["rid"])
        if request.method == "GET":
            return _json({"response": {"result": {rdef.singular: self._render(rdef, rec, q.includes)}}})
        if request.method == "DELETE":
            if not rdef.http_delete:
                raise acct_fail(405, 1003, "", "Delete this resource with PUT vis_state=1.", rdef.obj, rec["id"])
            if rdef.vis_put:
                self._set_vis(rdef, rec, 1)
            else:
                del self._table(rdef)[rec["id"]]
            self._log_write(request, rdef.singular, rec["id"])
            return _json({"response": {}})
        if rdef.update is None:
            raise acct_fail(405, 1003, "", "Method not allowed for this resource.", rdef.obj, rec["id"])
        body = await self._body(request, rdef.singular, rdef.obj)
        if rdef.vis_put and "vis_state" in body:
            # Update-phase quirk: vis_state present -> only vis_state applies, rest discarded.
            vis = body["vis_state"]
            if isinstance(vis, bool) or not isinstance(vis, int | str) or str(vis) not in ("0", "1", "2"):
                raise acct_fail(422, 1004, "vis_state", "Invalid value for field vis_state.", rdef.obj, vis)
            self._set_vis(rdef, rec, int(vis))
        else:
            rdef.update(rec, body)
        self._log_write(request, rdef.singular, rec["id"])
        self._balances_cache = None
        return _json({"response": {"result": {rdef.singular: self._render(rdef, rec, q.includes)}}})

    def _set_vis(self, rdef: ResourceDef, rec: JSON, vis: int) -> None:
        if rdef.singular == "payment":
            self.books.set_payment_vis_state(rec, vis)
            return
        rec["vis_state"] = vis
        self.books._touch(rec)

    # ------------------------------------------------------------------ projects
    def _require_business(self, request: Request) -> None:
        self._require_auth(request, PROJECT_UNAUTHORIZED)
        if request.path_params["business_id"] != str(self.business_id):
            raise ApiError(403, {"message": "You do not have permission to access this business."})

    @staticmethod
    def _proj_error(errno: int, field: str, value: str) -> ApiError:
        return ApiError(422, {"errno": 2001, "error": {field: "must be a positive integer"}})

    @staticmethod
    def _bool_param(q: Q.ParsedQuery, key: str) -> bool | None:
        if key not in q.bare:
            return None
        flag = parse_bool(q.bare[key])
        if flag is None:
            raise ApiError(422, {"errno": 2001, "error": {key: "not a valid boolean"}})
        return flag

    def _project_out(self, rec: JSON, single: bool) -> JSON:
        out = dict(rec)
        group_id = out.pop("group_id")
        if single:
            out["group"] = {
                "id": group_id,
                "members": [
                    {
                        "id": 4652287,
                        "identity_id": self.identity_id,
                        "role": "owner",
                        "first_name": "Morgan",
                        "last_name": "Reyes",
                        "email": "morgan@northbeam.example.com",
                        "company": self.business_name,
                        "active": True,
                    }
                ],
                "pending_invitations": [],
            }
        else:
            out["group_id"] = group_id
        return out

    async def projects_list(self, request: Request) -> Response:
        self._require_business(request)
        q = Q.parse_query(request.url.query)
        recs = list(self.books.db.projects.values())
        for key in ("active", "complete"):
            flag = self._bool_param(q, key)
            if flag is not None:
                recs = [r for r in recs if r[key] == flag]
        if "client_id" in q.bare:
            try:
                cid = int(q.bare["client_id"])
            except ValueError:
                raise ApiError(422, {"errno": 2001, "error": {"client_id": "not a valid integer"}}) from None
            recs = [r for r in recs if r["client_id"] == cid]
        if "updated_since" in q.bare:
            since = q.bare["updated_since"].rstrip("Z")
            recs = [r for r in recs if r["updated_at"] >= since]
        sort = q.sort or ""
        field = sort.lstrip("-")
        if field in ("created_at", "due_date", "title"):
            recs.sort(key=lambda r: (r[field] or "", r["id"]), reverse=sort.startswith("-"))
        page = Q.paginate(recs, q, 30, self._proj_error)
        return _json(
            {
                "projects": [self._project_out(r, False) for r in page.items],
                "meta": {
                    "page": page.page,
                    "pages": page.pages,
                    "per_page": page.per_page,
                    "total": page.total,
                    "sort": [],
                },
            }
        )

    def _project_lookup(self, raw: str) -> JSON:
        rec = self.books.db.projects.get(int(raw)) if raw.isdigit() else None
        if rec is None:
            raise ApiError(404, PROJECT_NOT_FOUND)
        return rec

    async def _proj_body(self, request: Request, key: str) -> JSON:
        try:
            data = json.loads(await request.body() or b"{}")
        except ValueError:
            raise ApiError(400, {"errno": 2001, "error": {key: "invalid JSON"}}) from None
        inner = data.get(key) if isinstance(data, dict) else None
        if not isinstance(inner, dict):
            raise ApiError(422, {"errno": 2001, "error": {key: "field required"}})
        return inner

    def _apply_project(self, rec: JSON, body: JSON) -> None:
        cid = body.get("client_id")
        if cid not in (None, 0) and cid not in self.books.db.clients:
            raise ApiError(422, {"errno": 2001, "error": {"client_id": "client does not exist"}})
        if "project_type" in body and body["project_type"] not in ("fixed_price", "hourly_rate"):
            raise ApiError(422, {"errno": 2001, "error": {"project_type": "invalid choice"}})
        for key in (
            "title",
            "description",
            "due_date",
            "client_id",
            "internal",
            "budget",
            "fixed_price",
            "rate",
            "billing_method",
            "project_type",
            "project_manager_id",
            "active",
            "complete",
            "expense_markup",
        ):
            if key in body:
                rec[key] = body[key]
        rec["updated_at"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")

    async def project_create(self, request: Request) -> Response:
        self._require_business(request)
        body = await self._proj_body(request, "project")
        if not body.get("title"):
            raise ApiError(422, {"errno": 2001, "error": {"title": "field required"}})
        pid = self.books.next_id("project", 7700001)
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        rec: JSON = {
            "id": pid,
            "title": "",
            "description": "",
            "due_date": None,
            "client_id": None,
            "internal": False,
            "budget": None,
            "fixed_price": None,
            "rate": None,
            "billing_method": None,
            "project_type": "fixed_price",
            "project_manager_id": None,
            "active": True,
            "complete": False,
            "sample": False,
            "created_at": now,
            "updated_at": now,
            "logged_duration": None,
            "services": [],
            "billed_amount": "0.00",
            "billed_status": "unbilled",
            "retainer_id": None,
            "expense_markup": "0",
            "group_id": 800000 + pid % 100000,
        }
        self._apply_project(rec, body)
        self.books.db.projects[pid] = rec
        self._log_write(request, "project", pid)
        return _json({"project": self._project_out(rec, True)})

    async def project_item(self, request: Request) -> Response:
        self._require_business(request)
        rec = self._project_lookup(request.path_params["rid"])
        if request.method == "GET":
            abilities = [
                {"name": n, "value": True}
                for n in ("can_edit", "can_archive", "can_delete", "can_track_time", "can_view_invoices_tab")
            ]
            return _json({"project": self._project_out(rec, True), "abilities": abilities})
        if request.method == "DELETE":
            del self.books.db.projects[rec["id"]]
            self._log_write(request, "project", rec["id"], 204)
            return Response(status_code=204)
        body = await self._proj_body(request, "project")
        self._apply_project(rec, body)
        self._log_write(request, "project", rec["id"])
        return _json({"project": self._project_out(rec, True)})

    # ------------------------------------------------------------------ time entries
    async def time_entries_collection(self, request: Request) -> Response:
        self._require_business(request)
        db = self.books.db
        if request.method == "POST":
            body = await self._proj_body(request, "time_entry")
            missing = [k for k in ("is_logged", "started_at", "duration") if body.get(k) is None]
            if missing:
                raise ApiError(422, {"errno": 2001, "error": {k: "field required" for k in missing}})
            rec = self._new_time_entry(body)
            self._log_write(request, "time_entry", rec["id"])
            return _json({"time_entry": rec})
        q = Q.parse_query(request.url.query)
        recs = list(db.time_entries.values())
        include_deleted = self._bool_param(q, "include_deleted")
        if not include_deleted:
            recs = [r for r in recs if r["active"]]
        for key in ("billable", "billed"):
            flag = self._bool_param(q, key)
            if flag is not None:
                recs = [r for r in recs if r[key] == flag]
        for key in ("client_id", "identity_id", "project_id"):
            if key in q.bare:
                try:
                    want = int(q.bare[key])
                except ValueError:
                    raise ApiError(422, {"errno": 2001, "error": {key: "not a valid integer"}}) from None
                recs = [r for r in recs if r[key] == want]
        if "started_from" in q.bare:
            lo = q.bare["started_from"].rstrip("Z")
            recs = [r for r in recs if r["started_at"].rstrip("Z") >= lo]
        if "started_to" in q.bare:
            hi = q.bare["started_to"].rstrip("Z")
            recs = [r for r in recs if r["started_at"].rstrip("Z") <= hi]
        recs.sort(key=lambda r: (r["started_at"], r["id"]), reverse=True)
        page = Q.paginate(recs, q, 30, self._proj_error)
        logged = sum(r["duration"] for r in recs if r["is_logged"])
        unbilled = sum(r["duration"] for r in recs if r["is_logged"] and not r["billed"])
        return _json(
            {
                "time_entries": page.items,
                "meta": {
                    "page": page.page,
                    "pages": page.pages,
                    "per_page": page.per_page,
                    "total": page.total,
                    "total_logged": logged,
                    "total_unbilled": unbilled,
                },
            }
        )

    def _new_time_entry(self, body: JSON) -> JSON:
        try:
            duration = int(body["duration"])
            started = datetime.fromisoformat(str(body["started_at"]).rstrip("Z"))
        except (TypeError, ValueError):
            raise ApiError(422, {"errno": 2001, "error": {"started_at": "invalid value"}}) from None
        started_utc = started.replace(tzinfo=UTC)
        try:
            local_started = started_utc.astimezone(EASTERN).strftime("%Y-%m-%dT%H:%M:%S")
        except OverflowError:  # 0001-01-01T00:00 in Toronto is before year 1
            raise ApiError(422, {"errno": 2001, "error": {"started_at": "invalid value"}}) from None
        teid = self.books.next_id("time_entry", 9900001)
        rec: JSON = {
            "id": teid,
            "identity_id": self.identity_id,
            "is_logged": bool(parse_bool(body["is_logged"])),
            "started_at": fmt_iso_utc(started_utc),
            "local_started_at": local_started,
            "local_timezone": "America/Toronto",
            "created_at": fmt_iso_utc(datetime.now(UTC)),
            "duration": duration,
            "client_id": body.get("client_id"),
            "project_id": body.get("project_id"),
            "service_id": body.get("service_id"),
            "task_id": body.get("task_id"),
            "note": body.get("note") or "",
            "active": True,
            "billable": bool(body.get("billable", True)),
            "billed": False,
            "internal": bool(body.get("internal", False)),
            "retainer_id": None,
            "pending_client": None,
            "pending_project": None,
            "pending_task": None,
            "timer": None,
        }
        self.books.db.time_entries[teid] = rec
        return rec

    async def time_entry_item(self, request: Request) -> Response:
        self._require_business(request)
        raw = request.path_params["rid"]
        rec = self.books.db.time_entries.get(int(raw)) if raw.isdigit() else None
        if rec is None:
            raise ApiError(404, PROJECT_NOT_FOUND)
        if request.method == "GET":
            return _json({"time_entry": rec})
        if request.method == "DELETE":
            del self.books.db.time_entries[rec["id"]]
            self._log_write(request, "time_entry", rec["id"], 204)
            return Response(status_code=204)
        body = await self._proj_body(request, "time_entry")
        for key in (
            "duration",
            "note",
            "client_id",
            "project_id",
            "service_id",
            "task_id",
            "billable",
            "billed",
            "internal",
            "is_logged",
        ):
            if key in body:
                rec[key] = body[key]
        self._log_write(request, "time_entry", rec["id"])
        return _json({"time_entry": rec})

    # ------------------------------------------------------------------ OAuth
    def _oauth_error(self, grant: str, status: int, error: str, description: str) -> Response:
        self.token_requests.append((grant, error))
        return _json({"error": error, "error_description": description}, status)

    async def oauth_authorize(self, request: Request) -> Response:
        p = request.query_params
        if p.get("client_id") != self.oauth_client_id:
            return _json({"error": "invalid_client", "error_description": "Unknown client_id."}, 400)
        if p.get("redirect_uri") != self.redirect_uri:
            return _json(
                {
                    "error": "invalid_request",
                    "error_description": "The redirect_uri does not match the registered one.",
                },
                400,
            )
        if p.get("response_type") != "code":
            return _json(
                {"error": "unsupported_response_type", "error_description": "Only response_type=code is supported."},
                400,
            )
        code = self.tokens.new_code(self.redirect_uri, p.get("scope"))
        params = {"code": code}
        if p.get("state") is not None:
            params["state"] = p["state"]
        return RedirectResponse(f"{self.redirect_uri}?{urlencode(params)}", status_code=302)

    async def _form(self, request: Request) -> dict[str, str]:
        ctype = request.headers.get("content-type", "")
        if "application/json" in ctype:
            try:
                data = json.loads(await request.body() or b"{}")
            except ValueError:
                return {}
            return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}

    async def oauth_token(self, request: Request) -> Response:
        data = await self._form(request)
        grant = data.get("grant_type", "")
        if data.get("client_id") != self.oauth_client_id or data.get("client_secret") != self.oauth_client_secret:
            return self._oauth_error(
                grant,
                401,
                "invalid_client",
                "Client authentication failed due to unknown client, no client "
                "authentication included, or unsupported authentication method.",
            )
        if grant == "authorization_code":
            problem = self.tokens.take_code(data.get("code", ""), data.get("redirect_uri"))
            if problem:
                return self._oauth_error(grant, 400, "invalid_grant", problem)
        elif grant == "refresh_token":
            if not self.tokens.take_refresh(data.get("refresh_token", "")):
                return self._oauth_error(
                    grant,
                    400,
                    "invalid_grant",
                    "The provided authorization grant is invalid, expired, revoked, does not match the "
                    "redirection URI used in the authorization request, or was issued to another client.",
                )
        else:
            return self._oauth_error(
                grant,
                400,
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server.",
            )
        access, refresh, created = self.tokens.issue()
        self.token_requests.append((grant, "ok"))  # token calls go here, not in write_log (books only)
        return _json(
            {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": self.tokens.ttl,
                "refresh_token": refresh,
                "scope": self.tokens.scope,
                "created_at": created,
            }
        )

    async def oauth_revoke(self, request: Request) -> Response:
        data = await self._form(request)
        if data.get("client_id") != self.oauth_client_id or data.get("client_secret") != self.oauth_client_secret:
            return self._oauth_error("revoke", 401, "invalid_client", "Client authentication failed.")
        self.tokens.revoke(data.get("token", ""))
        self.token_requests.append(("revoke", "ok"))
        return _json({})

    # ------------------------------------------------------------------ debug
    def _loopback_only(self, request: Request) -> None:
        host = request.client.host if request.client else "127.0.0.1"
        if host not in LOOPBACK:
            raise ApiError(403, {"error": "debug endpoints are loopback-only"})

    async def debug_write_log(self, request: Request) -> Response:
        self._loopback_only(request)
        entries = [{**asdict(e), "time": e.time.isoformat()} for e in self.write_log]
        return _json(entries)

    async def debug_emails(self, request: Request) -> Response:
        self._loopback_only(request)
        return _json([{**asdict(e), "time": e.time.isoformat()} for e in self.emails])

    async def debug_stats(self, request: Request) -> Response:
        self._loopback_only(request)
        return _json(
            {
                "request_count": self.request_count,
                "ignored_search_keys": dict(self.ignored_search_keys),
                "token_requests": [list(t) for t in self.token_requests],
                "faults": asdict(self.faults.config),
                "emails_sent": len(self.emails),
                "writes_in_flight": self.writes_in_flight,
            }
        )

    async def debug_faults(self, request: Request) -> Response:
        self._loopback_only(request)
        try:
            data = json.loads(await request.body() or b"{}")
            if not isinstance(data, dict):
                raise ValueError("body must be a JSON object")
            numbers = ("latency_ms", "jitter_ms", "fail_rate", "drop_rate", "write_latency_ms")
            kwargs: dict[str, Any] = {k: data[k] for k in numbers if k in data}
            for nullable in ("rate_limit", "write_latency_match"):
                if nullable in data:
                    kwargs[nullable] = data[nullable]
            self.set_faults(**kwargs)
        except (ValueError, TypeError) as exc:
            return _json({"error": str(exc)}, 400)
        return _json(asdict(self.faults.config))
