"""End-to-end helpers: the installed console script, the pinned MCP Inspector CLI, a live HTTP server.

The Inspector is found through MCP_INSPECTOR_BIN (set by .ci/run) or at .ci/node/node_modules/.bin/
inspector (`npm ci --prefix .ci/node`). Without it the Inspector tests are skipped with that reason,
unless MCP_REQUIRE_E2E=1 (CI sets it): then a missing Inspector fails, so CI can never pass by skipping.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mcp_server_freshbooks.config import DEFAULT_TOOLSETS

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_INSPECTOR = ROOT / ".ci" / "node" / "node_modules" / ".bin" / "inspector"
TOOL_ERROR_EXIT = 5  # the Inspector CLI's exit code for a tools/call result with isError: true
STRICT_SCHEMA_EXIT = 6  # tools/list --strict with error-severity schema portability problems


def require_or_skip(reason: str) -> None:
    if os.environ.get("MCP_REQUIRE_E2E") == "1":
        pytest.fail(f"{reason} (MCP_REQUIRE_E2E=1: end-to-end tests must run here)")
    pytest.skip(reason)


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def result(self) -> dict[str, Any]:
        """The MCP result (with -q --format json the Inspector prints `{"result": ...}` on stdout)."""
        data = json.loads(self.stdout)
        assert isinstance(data, dict) and "result" in data, self.describe()
        return dict(data["result"])

    @property
    def error(self) -> dict[str, Any]:
        """The Inspector's error envelope `{"error": {"code", "message"}}`, printed on stderr."""
        lines = [line for line in self.stderr.splitlines() if line.startswith('{"error"')]
        assert lines, self.describe()
        return dict(json.loads(lines[-1])["error"])

    def describe(self) -> str:
        return f"exit {self.returncode}\nstdout: {self.stdout[:2000]}\nstderr: {self.stderr[:2000]}"


@pytest.fixture(scope="session")
def server_bin() -> Path:
    """The console script installed in the venv running the tests (what a host would launch)."""
    path = Path(sys.executable).with_name("mcp-server-freshbooks")
    if not path.exists():
        require_or_skip(f"the console script is not installed next to {sys.executable} (pip install -e .)")
    return path


@pytest.fixture(scope="session")
def inspector_bin() -> Path:
    configured = os.environ.get("MCP_INSPECTOR_BIN")
    path = Path(configured) if configured else DEFAULT_INSPECTOR
    if not path.exists():
        require_or_skip(
            f"MCP Inspector CLI not found at {path}: run `npm ci --prefix .ci/node` (pinned "
            "@modelcontextprotocol/inspector 2.12.0) or set MCP_INSPECTOR_BIN"
        )
    if shutil.which("node") is None:
        require_or_skip("node is not on PATH (the MCP Inspector CLI needs it)")
    return path


@pytest.fixture(scope="session")
def quiet_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch HOME/cwd: the Inspector keeps its catalog there and no stray .env is picked up."""
    return tmp_path_factory.mktemp("inspector-home")


@pytest.fixture(scope="session")
def inspector(inspector_bin: Path, quiet_home: Path) -> Any:
    """`inspector(*args, target=[...])` runs `inspector --cli -q --format json ARGS -- TARGET`."""

    def run(*args: str, target: list[str] | None = None, timeout: float = 90) -> Run:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(quiet_home),
            "MCP_CATALOG_PATH": str(quiet_home / "mcp.json"),
            "MCP_CLIENT_CONFIG_PATH": str(quiet_home / "client.json"),
            "NO_COLOR": "1",
        }
        command = [str(inspector_bin), "--cli", "-q", "--format", "json", *args]
        if target:
            command += ["--", *target]
        proc = subprocess.run(
            command, cwd=quiet_home, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)

    return run


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class HttpServer:
    url: str
    token: str
    process: subprocess.Popen[bytes]
    log: Path


def _wait_listening(port: int, process: subprocess.Popen[bytes], log: Path, deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited early ({process.returncode}): {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"server did not listen on 127.0.0.1:{port} in time")


# The default catalog plus the opt-in toolsets these tests use (client_admin, expenses; #12).
EVERYDAY = ",".join((*DEFAULT_TOOLSETS, "client_admin", "expenses"))


def start_http_server(server_bin: Path, cwd: Path, *extra: str) -> HttpServer:
    port = free_port()
    token = secrets.token_urlsafe(24)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(cwd),
        "FRESHBOOKS_MCP_HTTP_TOKEN": token,
        "FRESHBOOKS_TOOLSETS": EVERYDAY,
    }
    log = cwd / f"server-{port}.log"
    with log.open("wb") as sink:  # a file, not a pipe nobody reads: a chatty server can never block
        process = subprocess.Popen(
            [str(server_bin), "serve", "--demo", "--transport", "http", "--port", str(port), *extra],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=sink,
        )
    try:
        _wait_listening(port, process, log, time.monotonic() + 30)
    except BaseException:
        stop(process)
        raise
    return HttpServer(url=f"http://127.0.0.1:{port}/mcp", token=token, process=process, log=log)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server we started (this process only), politely first."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def http_server(
    server_bin: Path, inspector_bin: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HttpServer]:
    server = start_http_server(server_bin, tmp_path_factory.mktemp("http-server"))
    yield server
    stop(server.process)
