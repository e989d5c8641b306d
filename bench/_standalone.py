"""Run the sandbox as its own process on loopback, the way FreshBooks is a server elsewhere.

An in-process sandbox does its per-page work (filtering thousands of records in Python) on the
same event loop as the tool being measured, so a bench would time the sandbox, not our client.
In its own process, with `--list-cache` standing in for FreshBooks' indexed queries, the sandbox
costs about a millisecond per page and the bench measures what our concurrency achieves.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx


@dataclass
class Standalone:
    base_url: str
    access_token: str

    def stats(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.base_url}/__sandbox__/stats", timeout=10).json())

    def request_count(self) -> int:
        return int(self.stats()["request_count"])

    def set_faults(self, **faults: Any) -> None:
        httpx.post(f"{self.base_url}/__sandbox__/faults", json=faults, timeout=10).raise_for_status()


@contextlib.contextmanager
def standalone_sandbox(*, today: date, list_cache: bool = True, **flags: Any) -> Iterator[Standalone]:
    """`mcp-server-freshbooks sandbox --port 0 ...` in a child process; flags as keyword arguments."""
    argv = [sys.executable, "-m", "mcp_server_freshbooks.sandbox", "--port", "0", "--today", today.isoformat()]
    for name, value in flags.items():
        argv += [f"--{name.replace('_', '-')}", str(value)]
    if list_cache:
        argv.append("--list-cache")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        values: dict[str, str] = {}
        deadline = time.monotonic() + 60
        assert proc.stdout is not None
        while not {"base_url", "access_token"} <= values.keys():
            line = proc.stdout.readline()
            if not line or time.monotonic() > deadline:
                raise RuntimeError("the standalone sandbox did not start")
            key, _, value = line.strip().partition("=")
            if value:
                values[key] = value
        yield Standalone(values["base_url"], values["access_token"])
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
