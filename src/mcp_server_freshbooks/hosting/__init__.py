"""Hosting for a team (issue #18): MCP sign-in with FreshBooks, per-user books, shared stores.

How a hosted server is started (the replica test and bench/hosted_bench.py use exactly this)::

    FRESHBOOKS_CLIENT_ID=sandbox-client-id \\
    FRESHBOOKS_CLIENT_SECRET=sandbox-client-secret \\
    FRESHBOOKS_API_URL=http://127.0.0.1:<sandbox port> \\
    FRESHBOOKS_AUTH_URL=http://127.0.0.1:<sandbox port> \\
    FRESHBOOKS_MCP_PUBLIC_URL=http://127.0.0.1:<load balancer port> \\
    FRESHBOOKS_MCP_SECRET_KEY=<Fernet key(s), comma-separated, first encrypts> \\
    FRESHBOOKS_MCP_STORE=redis://127.0.0.1:<redis port>/0 \\
    mcp-server-freshbooks serve --transport http --auth oauth --stateless --host 127.0.0.1 --port <N>

- ``FRESHBOOKS_MCP_PUBLIC_URL``: the URL users reach (the proxy/load balancer), no trailing slash. The
  MCP endpoint is ``<public url>/mcp`` (the resource tokens are bound to), the authorization server's
  issuer is ``<public url>``, and the FreshBooks app's redirect URI must be
  ``<public url>/oauth/freshbooks/callback``. Default: ``http://<host>:<port>``.
- ``FRESHBOOKS_MCP_SECRET_KEY``: required with ``--auth oauth``; generate one with
  ``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``.
- ``FRESHBOOKS_MCP_STORE``: unset -> a SQLite file ``hosted.sqlite3`` next to the token file in the config
  directory; ``sqlite:///abs/path.sqlite3``; ``redis://...`` -> ``hosting.redis_store.RedisStore.from_url``.
- ``FRESHBOOKS_MCP_DEV_ALLOW_HTTP_CIMD=1``: accept ``http://127.0.0.1``/``localhost`` client ID metadata
  document URLs (tests and local development only; production requires HTTPS).
- ``FRESHBOOKS_MCP_RATE_LIMIT``: tool calls per user per minute (default 120; per replica).

The sandbox plays FreshBooks for several users with ``mcp-server-freshbooks sandbox --identities 2
--redirect-uri <public url>/oauth/freshbooks/callback --port 0``; its ``/oauth/authorize`` takes
``login_hint=<n>`` (0-based; default 0) to choose which seeded identity signs in; each identity has
its own business and books. In Python: ``sandbox.multi.MultiSandbox(options, 2, redirect_uri=...)``.

The sign-in ends on a consent page (plain HTML form: allow/deny, and the business when the user has
several). Scripts and tests play the browser with ``hosting.browser.sign_in(httpx_client,
authorization_url, redirect_uri=<the MCP client's>, login_hint=n)``: use it in the redirect handler of
``mcp.client.auth.OAuthClientProvider`` (tests/hosting/conftest.py `SignedIn` shows the whole client).
"""
