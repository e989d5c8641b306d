"""Run a Sandbox on a real loopback socket (uvicorn in a background thread) for tests and demos."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator

import uvicorn

from .app import Sandbox


class LoopbackServer:
    """uvicorn serving ``sandbox.app`` on 127.0.0.1 in a daemon thread with its own event loop."""

    def __init__(self, sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sandbox = sandbox
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        self._sock = sock
        self.host, self.port = sock.getsockname()[:2]
        config = uvicorn.Config(sandbox.app, log_level="warning", access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="sandbox-uvicorn", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _run(self) -> None:
        asyncio.run(self.server.serve(sockets=[self._sock]))

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("sandbox server failed to start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()


@contextlib.contextmanager
def serving(sandbox: Sandbox, port: int = 0) -> Iterator[str]:
    """Synchronous form: ``with serving(sb) as base_url: ...`` (for sync tests and the SDK)."""
    server = LoopbackServer(sandbox, port=port)
    server.start()
    try:
        yield server.base_url
    finally:
        server.stop()


@contextlib.asynccontextmanager
async def serve_on_loopback(sandbox: Sandbox, port: int = 0) -> AsyncIterator[str]:
    """``async with serve_on_loopback(sb) as base_url:`` — real TCP on 127.0.0.1 (port 0 = free port)."""
    server = LoopbackServer(sandbox, port=port)
    await asyncio.to_thread(server.start)
    try:
        yield server.base_url
    finally:
        await asyncio.to_thread(server.stop)
