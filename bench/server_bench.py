"""What the client tools cost a model and what the server costs a host, in one run.

Prints, side by side:
  * tools/list size in bytes (compact JSON of each tool entry): the six client tools, and all tools;
  * the average size of one client record in a find_client page, concise vs detailed (compact JSON);
  * time from process start to an answered `initialize` (raw JSON-RPC over stdio, protocol
    2025-11-25) for `mcp-server-freshbooks serve` (no settings, as a host spawns it) vs a bare
    MCPServer hello-world script: PAIRS paired runs, the order alternating within each pair so machine
    noise hits both alike; the figure is the median of the per-pair ratios (budget, issue #12: <= 1.1x,
    because hosts such as LangChain's MultiServerMCPClient start a new stdio server per call).

Run: .venv/bin/python bench/server_bench.py   (about a minute; the last line is the verdict)
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from mcp_server_freshbooks.config import load_settings
from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions
from mcp_server_freshbooks.server import build_server

PAIRS = 20
INIT_BUDGET = 1.1
CLIENT_TOOLS = ("find_client", "get_client", "create_client", "update_client", "archive_client", "restore_client")
SCRIPT = Path(sys.executable).with_name("mcp-server-freshbooks")
HELLO = """\
from mcp.server import MCPServer

server = MCPServer("hello")


@server.tool()
def hello(name: str) -> str:
    \"\"\"Say hello.\"\"\"
    return f"hello {name}"


server.run()
"""
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "server_bench", "version": "0"},
    },
}


def compact(data: Any) -> int:
    return len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())


async def sizes() -> dict[str, float]:
    sb = Sandbox(SandboxOptions(seed=7))
    settings = load_settings(environ={"FRESHBOOKS_TOOLSETS": "all"}, use_dotenv=False)  # client_admin is opt-in
    async with Client(build_server(settings, sandbox=sb)) as client:  # type: ignore[arg-type]
        tools = (await client.list_tools()).tools
        entries = {t.name: t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools}
        concise = await client.call_tool("find_client", {"query": "e", "limit": 100})
        detailed = await client.call_tool("find_client", {"query": "e", "limit": 100, "response_format": "detailed"})
    rows_c = (concise.structured_content or {})["clients"]
    rows_d = (detailed.structured_content or {})["clients"]
    return {
        "client_tools_bytes": sum(compact(entries[n]) for n in CLIENT_TOOLS if n in entries),
        "all_tools_bytes": compact(list(entries.values())),
        "all_tools_count": len(entries),
        "rows": len(rows_c),
        "concise_avg": sum(compact(r) for r in rows_c) / len(rows_c),
        "concise_max": max(compact(r) for r in rows_c),
        "detailed_avg": sum(compact(r) for r in rows_d) / len(rows_d),
        "page_text_bytes": len(" ".join(getattr(c, "text", "") for c in concise.content).encode()),
        **{f"tool:{n}": compact(entries[n]) for n in CLIENT_TOOLS if n in entries},
    }


def time_to_initialize(argv: list[str], cwd: str) -> float:
    """Seconds from spawn to the initialize response line on stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "FRESHBOOKS_TOKEN_FILE": str(Path(cwd) / "tokens.json")},
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write((json.dumps(INITIALIZE) + "\n").encode())
    proc.stdin.flush()
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - start
    proc.kill()
    proc.wait()
    reply = json.loads(line)
    if "result" not in reply:
        raise RuntimeError(f"initialize failed: {reply}")
    return elapsed


def main() -> None:
    figures = anyio.run(sizes)
    print("== tools/list (compact JSON bytes)")
    print(
        f"   six client tools: {figures['client_tools_bytes']:>7,}   all {figures['all_tools_count']} tools: "
        f"{figures['all_tools_bytes']:>7,}"
    )
    for name in CLIENT_TOOLS:
        print(f"     {name:<16} {figures.get(f'tool:{name}', 0):>6,}")
    print(f"== find_client record size over a {figures['rows']}-row page (compact JSON bytes; budget 200)")
    print(
        f"   concise avg {figures['concise_avg']:6.1f} (max {figures['concise_max']})   "
        f"detailed avg {figures['detailed_avg']:6.1f}   page text {figures['page_text_bytes']:,}"
    )

    with tempfile.TemporaryDirectory() as tmp:
        hello = Path(tmp) / "hello_server.py"
        hello.write_text(HELLO)
        serve = [str(SCRIPT), "serve"] if SCRIPT.exists() else [sys.executable, "-m", "mcp_server_freshbooks", "serve"]
        bare = [sys.executable, str(hello)]
        time_to_initialize(bare, tmp)  # warm the .pyc caches of both
        time_to_initialize(serve, tmp)
        pairs: list[tuple[float, float]] = []
        for i in range(PAIRS):
            if i % 2 == 0:
                b = time_to_initialize(bare, tmp)
                s = time_to_initialize(serve, tmp)
            else:
                s = time_to_initialize(serve, tmp)
                b = time_to_initialize(bare, tmp)
            pairs.append((b, s))
    ratios = [s / b for b, s in pairs]
    ratio = statistics.median(ratios)
    print(f"== process start -> initialize answered (stdio, 2025-11-25, {PAIRS} pairs, order alternating)")
    for label, values in (("bare MCPServer hello", [b for b, _ in pairs]), ("serve", [s for _, s in pairs])):
        print(f"   {label:<22} median {statistics.median(values) * 1000:6.0f} ms   min {min(values) * 1000:6.0f} ms")
    print(f"   per-pair ratio serve/bare: median {ratio:4.2f}x   min {min(ratios):4.2f}x   max {max(ratios):4.2f}x")
    verdict = "OK  " if ratio <= INIT_BUDGET else "FAIL"
    print(f"{verdict} start -> initialize: {ratio:.2f}x a bare MCPServer (median of {PAIRS} pairs; budget <= 1.1x)")


if __name__ == "__main__":
    main()
