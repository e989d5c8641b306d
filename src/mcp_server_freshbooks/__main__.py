"""`python -m mcp_server_freshbooks` is the console script."""

from .cli import main

raise SystemExit(main())
