"""Real services for the hosted-mode tests and bench: redis-server, nginx, the sandbox, server replicas.

Each runs as a child process on a free loopback port with its files in a temporary folder, and is
stopped (its own process id only) when its context ends. Nothing is started globally.

`need(binary)` is how a test asks for redis-server or nginx: outside CI a missing binary skips the
test with a clear message; in CI (``CI=true``, where .ci/run installs both) it fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

HOST = "127.0.0.1"


class ServiceUnavailableError(RuntimeError):
    """A binary the test needs is not installed (the message says how to get it)."""


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def which(binary: str) -> str | None:
    found = shutil.which(binary)
    if found is None:
        for folder in ("/usr/sbin", "/usr/local/sbin", "/sbin"):  # nginx lives in sbin, often off a user's PATH
            candidate = Path(folder) / binary
            if candidate.exists():
                return str(candidate)
    return found


def need(binary: str) -> str:
    """The binary's path; skip the calling test when missing (fail in CI, where .ci/run installs it)."""
    import pytest

    path = which(binary)
    if path is not None:
        return path
    message = (
        f"{binary} is not installed: the hosted-mode replica tests run a real one "
        f"(apt-get install redis-server nginx-light; .ci/run installs both)"
    )
    if in_ci():
        pytest.fail(message + " - CI=true, so this is a failure, not a skip", pytrace=False)
    pytest.skip(message)


def need_module(name: str) -> None:
    """Skip the calling test when a package of the [hosted] extra is missing (fail in CI)."""
    import importlib.util

    import pytest

    if importlib.util.find_spec(name) is not None:
        return
    message = f"the {name} package is not installed: pip install -e '.[test]'"
    if in_ci():
        pytest.fail(message + " - CI=true, so this is a failure, not a skip", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes] | subprocess.Popen[str], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout:.0f} s")


def stop(proc: subprocess.Popen[bytes] | subprocess.Popen[str], timeout: float = 10) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# ---------------------------------------------------------------------- redis-server


@dataclass
class RedisServer:
    port: int
    folder: Path

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"


@contextlib.contextmanager
def redis_server(binary: str | None = None) -> Iterator[RedisServer]:
    """A private redis-server (no persistence) on a free loopback port."""
    binary = binary or which("redis-server")
    if binary is None:
        raise ServiceUnavailableError("redis-server is not installed (apt-get install redis-server)")
    with tempfile.TemporaryDirectory(prefix="fbmcp-redis-") as tmp:
        folder = Path(tmp)
        for attempt in range(5):
            port = free_port()
            log = folder / "redis.log"
            argv = [
                binary,
                "--bind", HOST, "--port", str(port), "--dir", tmp, "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--logfile", str(log), "--protected-mode", "yes",
            ]  # fmt: skip
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                wait_for_port(port, proc, "redis-server", 20)
            except RuntimeError:
                stop(proc)
                if attempt == 4:
                    raise RuntimeError("redis-server did not start:\n" + _tail(log)) from None
                continue
            try:
                yield RedisServer(port, folder)
            finally:
                stop(proc)
            return


# ---------------------------------------------------------------------- nginx


NGINX_CONF = """\
daemon off;
master_process off;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    {access_log}
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    upstream mcp_replicas {{
{servers}
        keepalive 64;
        # below uvicorn's 5 s keep-alive: nginx never reuses a connection the replica is closing (the
        # POST would fail with 502, and a tool call must never be re-sent to another replica)
        keepalive_timeout 4s;
    }}
    server {{
        listen {host}:{port};
        location / {{
            proxy_pass http://mcp_replicas;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_buffering off;
            proxy_cache off;
            proxy_read_timeout 300s;
        }}
    }}
}}
"""


@dataclass
class Nginx:
    port: int
    folder: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def upstreams_used(self) -> list[str]:
        """The upstream address of each logged request, in order (needs `access_log=True`)."""
        path = self.folder / "access.log"
        if not path.exists():
            return []
        return [line.split()[0] for line in path.read_text().splitlines() if line.strip()]


@contextlib.contextmanager
def nginx_proxy(
    upstream_ports: list[int], binary: str | None = None, *, access_log: bool = False, port: int | None = None
) -> Iterator[Nginx]:
    """nginx on a free loopback port, round-robin over the upstreams, no buffering (streamed replies).

    `access_log`: write ``<upstream address> <method> <uri> <status>`` per request to `Nginx.access_log`.
    `port`: listen there (when the public URL had to be known first, as for OAuth), else a free one.
    """
    binary = binary or which("nginx")
    if binary is None:
        raise ServiceUnavailableError("nginx is not installed (apt-get install nginx-light)")
    with tempfile.TemporaryDirectory(prefix="fbmcp-nginx-") as tmp:
        folder = Path(tmp)
        fixed = port
        for attempt in range(5):
            port = fixed or free_port()
            servers = "\n".join(f"        server {HOST}:{p} max_fails=0;" for p in upstream_ports)
            conf = folder / "nginx.conf"
            log_line = (
                f"log_format upstream '$upstream_addr $request_method $request_uri $status'; "
                f"access_log {tmp}/access.log upstream;"
                if access_log
                else "access_log off;"
            )
            conf.write_text(NGINX_CONF.format(folder=tmp, servers=servers, host=HOST, port=port, access_log=log_line))
            proc = subprocess.Popen(
                [binary, "-p", tmp, "-c", str(conf), "-e", str(folder / "error.log")],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                wait_for_port(port, proc, "nginx", 20)
            except RuntimeError:
                stop(proc)
                if attempt == 4:
                    raise RuntimeError("nginx did not start:\n" + _tail(folder / "error.log")) from None
                continue
            try:
                yield Nginx(port, folder)
            finally:
                stop(proc)
            return


# ---------------------------------------------------------------------- the sandbox and the replicas


@dataclass
class SandboxProcess:
    base_url: str
    access_token: str
    announced: dict[str, str] = field(default_factory=dict)  # every key=value line it printed at start


@contextlib.contextmanager
def sandbox_process(
    *, today: date, args: tuple[str, ...] = (), wait_for: tuple[str, ...] = ()
) -> Iterator[SandboxProcess]:
    """The sandbox as its own process on a free loopback port (``sandbox --port 0``).

    Start-up ends once it printed ``base_url``, ``access_token`` and each of `wait_for` (e.g. ``identity_1``).
    """
    argv = [sys.executable, "-m", "mcp_server_freshbooks.sandbox", "--port", "0", "--today", today.isoformat(), *args]
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True
    )
    try:
        values: dict[str, str] = {}
        deadline = time.monotonic() + 60
        assert proc.stdout is not None
        while not {"base_url", "access_token", *wait_for} <= values.keys():
            line = proc.stdout.readline()
            if not line or time.monotonic() > deadline:
                raise RuntimeError("the sandbox did not start")
            key, _, value = line.strip().partition("=")
            if value:
                values[key] = value
        yield SandboxProcess(values["base_url"], values["access_token"], values)
    finally:
        stop(proc)


@dataclass
class Replicas:
    ports: list[int]
    token: str
    logs: list[Path] = field(default_factory=list)

    def log_tail(self) -> str:
        return "\n".join(f"--- replica {i}\n{_tail(p)}" for i, p in enumerate(self.logs))


MCP_HTTP_TOKEN = "replica-test-token-" + "r" * 32


@contextlib.contextmanager
def replicas(
    count: int,
    *,
    sandbox: SandboxProcess,
    store_url: str | None,
    env: Mapping[str, str] | None = None,
    args: tuple[str, ...] = (),
) -> Iterator[Replicas]:
    """`count` processes of ``mcp-server-freshbooks serve --transport http --stateless`` on free ports.

    Bearer-token mode on the sandbox's fixed token; with `store_url` every replica shares that store
    (``FRESHBOOKS_MCP_STORE``), which is where their write locks come from.
    """
    with tempfile.TemporaryDirectory(prefix="fbmcp-replicas-") as tmp:
        folder = Path(tmp)
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("FRESHBOOKS_") and k not in ("CI_VENV",)}
        base_env.update(
            {
                "FRESHBOOKS_API_URL": sandbox.base_url,
                "FRESHBOOKS_ACCESS_TOKEN": sandbox.access_token,
                "FRESHBOOKS_TOKEN_FILE": str(folder / "tokens.json"),
                "FRESHBOOKS_MCP_HTTP_TOKEN": MCP_HTTP_TOKEN,
                "FRESHBOOKS_TOOLSETS": "all",
                "FRESHBOOKS_LOG_LEVEL": "WARNING",
            }
        )
        if store_url:
            base_env["FRESHBOOKS_MCP_STORE"] = store_url
        base_env.update(env or {})
        procs: list[subprocess.Popen[bytes]] = []
        result = Replicas([], MCP_HTTP_TOKEN)
        try:
            for i in range(count):
                port = free_port()
                log = folder / f"replica-{i}.log"
                argv = [
                    sys.executable, "-m", "mcp_server_freshbooks", "serve", "--transport", "http", "--stateless",
                    "--host", HOST, "--port", str(port), *args,
                ]  # fmt: skip
                with log.open("wb") as out:
                    procs.append(
                        subprocess.Popen(argv, env=base_env, stdin=subprocess.DEVNULL, stdout=out, stderr=out, cwd=tmp)
                    )
                result.ports.append(port)
                result.logs.append(log)
            for proc, port, log in zip(procs, result.ports, result.logs, strict=True):
                try:
                    wait_for_port(port, proc, "replica", 60)
                except RuntimeError as exc:
                    raise RuntimeError(f"{exc}\n{_tail(log)}") from None
            yield result
        finally:
            for proc in procs:
                stop(proc)
