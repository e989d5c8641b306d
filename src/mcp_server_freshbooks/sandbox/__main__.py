"""``python -m mcp_server_freshbooks.sandbox [flags]``."""

import sys

from .cli import run_sandbox_cli

if __name__ == "__main__":
    sys.exit(run_sandbox_cli(sys.argv[1:]))
