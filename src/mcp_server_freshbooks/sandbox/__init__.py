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
categories, items, taxes, projects, time_entries), ``write_log``, ``ignored_search_keys``,
``request_count``, ``token_requests`` ((grant_type, "ok" | error) per token call),
``set_faults(...)``, ``invoice_is_overdue(inv, as_of)``.

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

Families and status codes
    Identity ``GET /auth/api/v1/users/me`` -> ``{"response": {...}}``. Accounting
    ``/accounting/account/{account_id}/``: ``users/clients``, ``invoices/invoices``,
    ``payments/payments``, ``expenses/expenses``, ``expenses/categories`` (get/list only; other
    verbs 405), ``items/items``, ``taxes/taxes``. Deletes: PUT ``vis_state: 1`` for clients,
    payments, expenses, items; HTTP DELETE for invoices (soft: vis_state 1; PUT vis_state also
    works) and taxes (hard) -> 200 ``{"response": {}}``. Projects ``/projects/business/{id}/
    projects|project[/{id}]`` and ``/timetracking/business/{id}/time_entries[/{id}]`` (DELETE ->
    204). Choices where the fact sheet is silent: wrong account_id -> 403 errno 1003; wrong
    business_id -> 403 ``{"message": ..}``; body validation errors -> **422** with the classic
    ``{"response": {"errors": [{errno, field, message, object, value}]}}`` (1001 RequiredField,
    1004 InvalidValue, 1012 unknown referenced id, 1015/1033 bad int/date, 1018 bad percent);
    query errors (bad page/per_page/filter values: 1013, 1014, 1023, 1024, 1032) -> **400**.
    401 bodies: accounting uses the google.rpc shape (``code`` 16, reason "1003"), identity
    ``{"error": "unauthenticated", ..}``, projects ``{"message": ..}``. Unknown accounting path
    -> 404 errno 1012. 404 for ids: accounting errno 1012 with field/object per resource
    (userid/client, invoiceid/invoice, expenseid/expense, logid/payment, categoryid/category,
    itemid/item, taxid/tax); projects ``{"error": "Requested resource could not be found."}``.
    PUT phases: ``vis_state`` in a PUT body -> only vis_state applies; invoice actions
    (``action_mark_as_sent``, ``action_email``) -> only the action applies; ``status: 2`` with
    ordinary fields also marks sent. Deleted records still come back from GET-by-id.

Search keys (``search[key]=v``; lists as ``search[keys][]=v``; raw or %-encoded brackets; the
SDK's bare ``key=value`` form is accepted for these keys too). Unknown keys are ignored like the
real API but counted in ``ignored_search_keys``. ``_like`` is a case-insensitive substring.
Booleans: true/false/1/0 in any case; a blank value means true (``has_outstanding`` etc.).
    clients: email (case-insensitive equals), userid, userids, address_like (p_* and s_*),
        fname_like, lname_like, note_like, organization_like, phone_like (bus/home/mob/fax),
        user_like (fname, lname, "fname lname", organization, email, username), has_credit,
        has_draft, has_outstanding, has_overdue, updated_min/_max, vis_state. (No email_like.)
    invoices: customerid, customerids, invoiceid, invoiceids, invoice_number,
        invoice_number_like, date_min/_max (on create_date), updated_min/_max, v3_status (the only
        status filter; ``overdue`` is a value), vis_state, currency_code (plausible, not in docs).
    expenses: expenseid(s), clientid(s), clientid_not, staffid(s), profileid(s), categoryid(s),
        projectid(s), has_receipt, amount_min/_max, date_min/_max, updated_min/_max, vis_state,
        vendor_like (plausible, not in docs).
    categories: categoryid(s), name (like, on ``category``), is_cogs, is_editable, parentid.
    payments: logid(s), date_min/_max, amount_min/_max, updated_min/_max, type, customerid(s),
        clientid(s), currency, invoiceid, notes (like), from_credit, client_name (like),
        number (like, invoice number), payment_or_credit (invoice|credit), vis_state.
    items: itemid(s), sku, description (like), unit_cost/inventory/qty _min/_max, updated_min/_max.
    taxes: taxid(s), name (like), number (like), compound, updated_min/_max.
    projects (bare): active, complete, client_id, updated_since; sort created_at|due_date|title
        (``-field`` descending). time entries (bare): billable, billed, include_deleted,
        client_id, identity_id, project_id, started_from, started_to (inclusive).

Between semantics: ``*_min`` is inclusive, ``*_max`` is **exclusive** for every resource,
for dates (``date_max=2026-07-01`` excludes July 1st), datetimes and amounts.

Sorts (accounting, ``sort=<key>_asc|_desc``; unknown keys ignored; default order id ascending):
clients client_id, organization_name, email, bus_phone, updated, fullname, primarycontact,
outstanding, overdue, credit; invoices invoice_date, invoice_number; expenses date, amount,
vendor (plausible); payments date, amount; categories/items/taxes name.

Includes: invoices ``lines`` (others accepted, ignored); clients ``outstanding_balance``,
``overdue_balance``, ``credit_balance``, ``draft_balance``, ``grand_total_balance`` (lists of
``{"amount": money}`` per currency, empty list when zero), ``contacts``, ``late_reminders``;
expenses ``category``, ``project``, ``attachment``; payments ``invoice``, ``client``.

Pagination: default per_page 15 (accounting) / 30 (projects, time entries); per_page capped at
100; page 0 -> 1; past the end -> empty list; empty result -> page 1, pages 0, total 0.

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
fixed 22-category tree (ids 4100001..); items, taxes, projects and time entries.
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
