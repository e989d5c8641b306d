"""A local, FreshBooks-compatible sandbox: seeded books served over the real wire protocol.

It is an independent implementation of the API described in the project's FreshBooks fact
sheet (it never imports the project's own FreshBooks client), so tests against it are not
tautological, and the official ``freshbooks-sdk`` works against it unchanged (point
``FRESHBOOKS_API_URL`` and ``FRESHBOOKS_AUTH_URL`` at it).

Usage::

    from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions, serve_on_loopback
    sb = Sandbox(SandboxOptions(seed=7, today=date(2026, 11, 21)))
    httpx.AsyncClient(transport=httpx.ASGITransport(app=sb.app), base_url="http://sandbox")
    async with serve_on_loopback(sb) as base_url: ...      # real uvicorn on 127.0.0.1, port 0
    with serving(sb) as base_url: ...                      # same, for sync code (e.g. the SDK)

Command line: ``mcp-server-freshbooks sandbox [--port 0] [--seed N] ...`` or
``python -m mcp_server_freshbooks.sandbox``; prints ``base_url=``, ``access_token=``,
``refresh_token=``, ``account_id=``, ``business_id=`` lines once listening.

Public attributes of :class:`Sandbox`: ``app`` (a Starlette subclass; faults are applied in its
outermost ``__call__``), ``access_token``, ``refresh_token`` (current valid one; rotates),
``oauth_client_id``/``oauth_client_secret``/``redirect_uri``, ``account_id``, ``business_id``,
``business_uuid``, ``business_name``, ``identity_id``, ``today``, ``staff_id`` (always 1: the
owner's staff id, the value FreshBooks uses for ``expense.staffid``; any positive int is
accepted), ``db`` (live wire-form dicts: clients, invoices, payments, credits, expenses,
categories, items, taxes, projects, time_entries, services), ``write_log``, ``emails``,
``emails_sent(invoice_id)``, ``writes_in_flight``, ``ignored_search_keys``, ``request_count``,
``token_requests`` ((grant_type, "ok" | error) per token call), ``set_faults(...)``,
``invoice_is_overdue(inv, as_of)``, ``books`` (the store) and ``resources``.

OAuth app (the one registered app)
    client_id ``sandbox-client-id``, client_secret ``sandbox-client-secret``, redirect_uri
    ``https://localhost/callback``. ``GET /oauth/authorize`` auto-approves (302 to
    ``redirect_uri?code=..&state=..``); unknown client_id or another redirect_uri -> 400.
    ``POST /auth/oauth/token`` accepts form, JSON and multipart bodies; grants
    ``authorization_code`` (5 min, single-use) and ``refresh_token`` (single-use; only the newest
    refresh token is valid). Errors: 400 ``{"error": "invalid_grant", "error_description": ..}``,
    401 ``invalid_client``. Access tokens live ``token_ttl`` seconds; **old access tokens stay
    valid until their own expiry after a refresh** (as OAuth servers usually behave).
    ``POST /auth/oauth/revoke`` ``{client_id, client_secret, token}``. Scopes are not enforced.

Layout (the way moto organises its fakes of SaaS APIs)
    ``resources/<name>.py``  one module per FreshBooks resource: its model (fields, defaults,
        derived fields), validation, search keys, sorts, includes, seeding and wire form, as one
        :class:`~.resource.Resource` of named fields; ``resources/__init__.py`` lists them.
    ``routes/``  one module per API family (accounting, business = projects/time tracking/comments,
        identity, oauth, debug), serving any resource by those fields alone.
    shared machinery that knows no resource by name: ``books.py`` (store), ``query.py`` (filters,
        sorts, paging), ``fields.py`` (body validation errors), ``_wire.py`` (money, dates, error
        bodies), ``faults.py`` + ``asgi.py`` (faults), ``seed.py`` (runs each resource's seeding).
    To add a resource: write ``resources/<name>.py`` and list its ``RESOURCE`` in
    ``resources/__init__.py``; the routes, the contract and CONTRACT.md follow.

Contract: every endpoint, method, search key, include, sort and quirk is generated from the code:
``mcp_server_freshbooks.sandbox.contract.describe()`` (data), ``sandbox --describe [json]`` and
``sandbox/CONTRACT.md`` (kept in sync by tests/sandbox/test_contract.py). Family conventions in
brief: accounting ``{"response": {"result": ...}}``, ``search[key]=v`` (unknown keys ignored but
counted in ``ignored_search_keys``), ``*_min`` inclusive and ``*_max`` **exclusive**,
``sort=key_asc|_desc``, ``include[]=``, 422 body / 400 query errors in the classic errors
envelope; business family bare JSON with ``meta``, bare ``key=v`` filters, errno 2001 errors.

Invoice rules: amount = lines - discount (``discount_value`` %) + per-line taxes (percent of the
discounted line, rounded per line); paid = min(sum of live payments, amount). status 1 draft,
2 sent, 3 viewed, 4 paid, 8 partial; v3_status ``overdue`` iff status in {2, 3, 8}, outstanding
> 0 and due_date < ``today`` (``invoice_is_overdue``). A payment above the outstanding amount
records an overpayment credit (``overpaymentid``; shows in ``credit_balance``). Deleting a
payment (PUT vis_state 1) re-opens the amount. Numbers auto-increment keeping width ("0000052").

Faults (options, ``set_faults`` or ``POST /__sandbox__/faults``): per request, in order:
``latency_ms`` + uniform ``jitter_ms`` sleep; ``rate_limit`` N -> 429 + ``Retry-After`` (whole
seconds >= 1) beyond N requests in the current 1-second window; ``fail_rate`` -> 500 (JSON
errno 500) / 502 / 503 (HTML) before anything is applied; ``drop_rate`` -> the connection is
closed without a response: reads always before handling, writes half before, half **after the
write was applied** (visible in ``write_log``). Over uvicorn the TCP connection is aborted; in
process the app raises ``httpx.RemoteProtocolError("Server disconnected without sending a
response.")``, which is what httpx raises over TCP. Decisions come from a per-sandbox seeded RNG.
Faults apply to API and OAuth endpoints, never to debug endpoints. ``write_latency_ms`` sleeps
before a write (POST/PUT/PATCH/DELETE; only those whose ``"METHOD /path"`` matches the regex
``write_latency_match``, if set) is applied, in a task of its own: **the write lands even when the
client gave up first** (``writes_in_flight`` counts the ones still sleeping).

Email log: every applied ``action_email`` appends an ``EmailLogEntry(resource, resource_id, time)``
to ``emails``; ``emails_sent(invoice_id)`` counts them.

Debug endpoints (no auth, loopback clients only, never faulted): ``GET /__sandbox__/write_log``
(JSON list of {method, path, resource, resource_id, status, time}), ``GET /__sandbox__/stats``
({request_count, ignored_search_keys, token_requests, faults, emails_sent, writes_in_flight}),
``GET /__sandbox__/emails`` (JSON list of {resource, resource_id, time}), ``POST /__sandbox__/faults``
(JSON with any of latency_ms, jitter_ms, fail_rate, rate_limit (null = off), drop_rate,
write_latency_ms, write_latency_match (null = every write)).

Seeded books are deterministic for (seed, today): clients in USD/CAD/EUR (client 1 reproduces
seed 000's example client: first1 last1, company1, email1@freshbooks.com, Toronto, USD), a few
archived and one deleted; invoices across every status with overdue ages 1..400 days and some
due exactly today; payments for paid/partial ones; expenses over the last 18 months across a
fixed 22-category tree (ids 4100001..); items, taxes, projects and time entries; services
and their rates (ids 4054001.., seeded without random numbers). tests/sandbox/test_fingerprint.py pins the books
for seeds 7 and 42: a change to them must be deliberate.
"""

from .app import Sandbox
from .options import EmailLogEntry, SandboxOptions, WriteLogEntry
from .server import LoopbackServer, serve_on_loopback, serving

__all__ = [
    "EmailLogEntry",
    "LoopbackServer",
    "Sandbox",
    "SandboxOptions",
    "WriteLogEntry",
    "serve_on_loopback",
    "serving",
]
