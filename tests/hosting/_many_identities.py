"""The sandbox with more FreshBooks users than its three named extra owners, for the hosted bench (#18).

``sandbox --identities N`` stops at 4 (identity 0 and the three named owners of `sandbox.multi`). The
bench wants one FreshBooks user per simulated MCP user, so this runs the same sandbox command line with
generated owners added ("Bench User <n>", business "Bench Business <n>": each its own identity,
business and books, seeded as `MultiSandbox` seeds every identity) and also prints each identity's
access token (``identity_token_<n>=...``), which the bench uses to read that business's books directly
(before and after the run: no invoice overpaid). Nothing in src/ changes.

    python tests/hosting/_many_identities.py <sandbox flags, with --identities N>

`many_identities_sandbox` starts it as a child process, like `_services.sandbox_process`.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

from mcp_server_freshbooks.sandbox import cli, multi

try:
    from ._services import SandboxProcess, stop
except ImportError:  # run as a script
    from _services import SandboxProcess, stop  # type: ignore[no-redef,import-not-found]


def _more_owners(count: int) -> None:
    named = len(multi.OTHER_OWNERS)
    extra = tuple(
        ("Bench", f"User {n}", f"user{n}@bench.example.com", f"Bench Business {n}") for n in range(named + 1, count)
    )
    multi.OTHER_OWNERS = multi.OTHER_OWNERS + extra


def _announce_tokens() -> None:
    announce = cli._announce

    def with_tokens(sandbox: Any, base_url: str) -> None:
        announce(sandbox, base_url)
        for n, sb in enumerate(getattr(sandbox, "identities", [])):
            cli._say(f"identity_token_{n}={sb.access_token}")
        cli._say("identities_done=1")

    cli._announce = with_tokens


def main(argv: list[str]) -> int:
    parsed = cli.build_parser().parse_args(argv)
    _more_owners(parsed.identities)
    _announce_tokens()
    return cli.run_sandbox_cli(argv)


@contextlib.contextmanager
def many_identities_sandbox(
    *, today: date, identities: int, args: tuple[str, ...] = (), timeout: float = 180
) -> Iterator[SandboxProcess]:
    """The sandbox with `identities` FreshBooks users as a child process; `.announced` has their tokens."""
    argv = [
        sys.executable, __file__, "--port", "0", "--today", today.isoformat(), "--identities", str(identities), *args,
    ]  # fmt: skip
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True
    )
    try:
        values: dict[str, str] = {}
        deadline = time.monotonic() + timeout  # seeding takes ~0.16 s per identity on an idle core
        assert proc.stdout is not None
        while "identities_done" not in values:
            line = proc.stdout.readline()
            if not line or time.monotonic() > deadline:
                raise RuntimeError("the sandbox did not start")
            key, _, value = line.strip().partition("=")
            if value:
                values[key] = value
        yield SandboxProcess(values["base_url"], values["access_token"], values)
    finally:
        stop(proc)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
