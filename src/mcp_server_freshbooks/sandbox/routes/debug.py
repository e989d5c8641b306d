"""Loopback-only debug endpoints (no auth, never faulted): the write log, the email log, stats,
and changing faults at run time."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .._wire import ApiError
from ._common import json_response, sandbox_of

PREFIX = "/__sandbox__/"
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost", "testclient"})
FAULT_NUMBERS = ("latency_ms", "jitter_ms", "fail_rate", "drop_rate", "write_latency_ms")
FAULT_NULLABLE = ("rate_limit", "write_latency_match")  # null has a meaning: off / every write


def routes() -> list[Route]:
    return [
        Route(PREFIX + "write_log", write_log, methods=["GET"]),
        Route(PREFIX + "stats", stats, methods=["GET"]),
        Route(PREFIX + "emails", emails, methods=["GET"]),
        Route(PREFIX + "faults", faults, methods=["POST"]),
    ]


def _loopback_only(request: Request) -> None:
    host = request.client.host if request.client else "127.0.0.1"
    if host not in LOOPBACK:
        raise ApiError(403, {"error": "debug endpoints are loopback-only"})


async def write_log(request: Request) -> Response:
    _loopback_only(request)
    return json_response([{**asdict(e), "time": e.time.isoformat()} for e in sandbox_of(request).write_log])


async def emails(request: Request) -> Response:
    _loopback_only(request)
    return json_response([{**asdict(e), "time": e.time.isoformat()} for e in sandbox_of(request).emails])


async def stats(request: Request) -> Response:
    _loopback_only(request)
    sb = sandbox_of(request)
    return json_response(
        {
            "request_count": sb.request_count,
            "ignored_search_keys": dict(sb.ignored_search_keys),
            "token_requests": [list(t) for t in sb.token_requests],
            "faults": asdict(sb.faults.config),
            "emails_sent": len(sb.emails),
            "writes_in_flight": sb.writes_in_flight,
        }
    )


async def faults(request: Request) -> Response:
    _loopback_only(request)
    sb = sandbox_of(request)
    try:
        data = json.loads(await request.body() or b"{}")
        if not isinstance(data, dict):
            raise ValueError("body must be a JSON object")
        kwargs: dict[str, Any] = {k: data[k] for k in FAULT_NUMBERS + FAULT_NULLABLE if k in data}
        sb.set_faults(**kwargs)
    except (ValueError, TypeError) as exc:
        return json_response({"error": str(exc)}, 400)
    return json_response(asdict(sb.faults.config))
