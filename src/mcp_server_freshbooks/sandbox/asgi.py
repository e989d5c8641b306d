"""The sandbox's outermost ASGI layer: counts requests and applies faults (latency, 429, 5xx,
dropped connections, slow writes) before and after the routes; debug endpoints pass untouched."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.types import Message, Receive, Scope, Send

from .faults import WRITE_METHODS, abort_connection, fault_response
from .routes.debug import PREFIX as DEBUG_PREFIX

if TYPE_CHECKING:
    from .app import Sandbox

log = logging.getLogger("mcp_server_freshbooks.sandbox")


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
