"""Fault injection: latency, 5xx, 429 rate limiting and dropped connections.

Decisions use a per-sandbox ``random.Random`` so a given seed replays the same faults.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx

log = logging.getLogger("mcp_server_freshbooks.sandbox")

DROP_MESSAGE = "Server disconnected without sending a response."
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class FaultConfig:
    latency_ms: int = 0
    jitter_ms: int = 0
    fail_rate: float = 0.0
    rate_limit: int | None = None
    drop_rate: float = 0.0
    # Sleep this long before a write (POST/PUT/PATCH/DELETE) is applied; the write then lands even
    # if the client gave up meanwhile. Only writes whose "METHOD /path" matches the regex, if set.
    write_latency_ms: int = 0
    write_latency_match: str | None = None

    def validate(self) -> None:
        if self.latency_ms < 0 or self.jitter_ms < 0 or self.write_latency_ms < 0:
            raise ValueError("latency_ms, jitter_ms and write_latency_ms must be >= 0")
        if self.write_latency_match is not None:
            try:
                re.compile(self.write_latency_match)
            except re.error as exc:
                raise ValueError(f"write_latency_match is not a valid regex: {exc}") from None
        for name in ("fail_rate", "drop_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.rate_limit is not None and self.rate_limit < 1:
            raise ValueError("rate_limit must be >= 1 (or None for no limit)")


class Faults:
    def __init__(self, config: FaultConfig, seed: int) -> None:
        config.validate()
        self.config = config
        self.rng = random.Random(f"faults:{seed}")
        self._window = -1
        self._window_count = 0

    def latency_seconds(self) -> float:
        c = self.config
        if c.latency_ms <= 0 and c.jitter_ms <= 0:
            return 0.0
        return (c.latency_ms + (self.rng.uniform(0, c.jitter_ms) if c.jitter_ms else 0.0)) / 1000.0

    def write_latency_seconds(self, method: str, path: str) -> float:
        """Delay before applying this write (0 for reads and non-matching writes)."""
        c = self.config
        if c.write_latency_ms <= 0 or method not in WRITE_METHODS:
            return 0.0
        if c.write_latency_match is not None and not re.search(c.write_latency_match, f"{method} {path}"):
            return 0.0
        return c.write_latency_ms / 1000.0

    def rate_limited(self) -> int | None:
        """Returns Retry-After seconds when the current 1-second window is full."""
        limit = self.config.rate_limit
        if limit is None:
            return None
        now = time.monotonic()
        window = int(now)
        if window != self._window:
            self._window, self._window_count = window, 0
        self._window_count += 1
        if self._window_count > limit:
            return max(1, math.ceil(window + 1 - now))
        return None

    def fail_status(self) -> int | None:
        if self.config.fail_rate > 0 and self.rng.random() < self.config.fail_rate:
            return self.rng.choice((500, 502, 503))
        return None

    def drop(self, is_write: bool) -> str | None:
        """None, "before" (nothing applied) or "after" (write applied, reply lost)."""
        if self.config.drop_rate > 0 and self.rng.random() < self.config.drop_rate:
            if is_write and self.rng.random() < 0.5:
                return "after"
            return "before"
        return None


def fault_response(status: int) -> tuple[bytes, str]:
    if status == 500:
        body: dict[str, Any] = {
            "response": {
                "errors": [
                    {
                        "errno": 500,
                        "field": "",
                        "message": "An unexpected error occurred.",
                        "object": "",
                        "value": "",
                    }
                ]
            }
        }
        return json.dumps(body).encode(), "application/json"
    title = {502: "502 Bad Gateway", 503: "503 Service Temporarily Unavailable"}[status]
    html = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n</body>\r\n</html>\r\n"
    )
    return html.encode(), "text/html"


async def abort_connection(send: Any) -> None:
    """Close the connection without a response.

    Under uvicorn (h11 and httptools alike) ``send`` is a bound method of the per-request
    ``RequestResponseCycle``, which holds the asyncio transport: ``abort()`` resets the TCP
    connection, and marking the cycle disconnected stops uvicorn from writing a 500 afterwards.
    In-process (httpx.ASGITransport) there is no socket: raise what httpx raises over TCP.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is not None and hasattr(transport, "abort"):
        transport.abort()
        if cycle is not None and hasattr(cycle, "disconnected"):
            cycle.disconnected = True
        await asyncio.sleep(0)
        return
    raise httpx.RemoteProtocolError(DROP_MESSAGE)
