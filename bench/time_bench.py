"""summarize_time over 20,000 time entries with 50 ms of FreshBooks latency, and its memory.

Prints, side by side in one run:
  * the tool's wall time through a real MCP client against a standalone sandbox, next to the ideal
    (pages / concurrency x latency); target <= 1.25x;
  * the peak memory added while streaming and summarizing 2,000 vs 20,000 entries (tracemalloc, the
    client process only: the sandbox runs in its own process), next to reading them all into a list.

Run: .venv/bin/python bench/time_bench.py   (about a minute)
"""

from __future__ import annotations

import asyncio
import gc
import logging
import math
import time
import tracemalloc
from typing import Any

from mcp import Client

from _standalone import Standalone, standalone_sandbox  # type: ignore[import-not-found]
from mcp_server_freshbooks.config import load_settings
from mcp_server_freshbooks.freshbooks import FreshBooksClient, StaticTokenSource
from mcp_server_freshbooks.freshbooks.projects import all_projects
from mcp_server_freshbooks.freshbooks.services import list_services
from mcp_server_freshbooks.freshbooks.time_billing import TimeSummary
from mcp_server_freshbooks.freshbooks.time_entries import TimeFilter, all_entries, iter_time_pages
from mcp_server_freshbooks.sandbox import Sandbox, SandboxOptions
from mcp_server_freshbooks.server import build_server

N_ENTRIES = 20_000
SMALL = 2_000
LATENCY_MS = 50


async def tool_wall_time(remote: Standalone) -> tuple[float, int, dict[str, Any]]:
    env = {"FRESHBOOKS_TOOLSETS": "time"}
    settings = load_settings(environ=env, use_dotenv=False).with_overrides(api_url=remote.base_url)
    async with Client(build_server(settings, token_source=StaticTokenSource(remote.access_token))) as client:
        await client.call_tool("list_time_entries", {"limit": 1})  # warm identity
        t0 = time.perf_counter()
        result = await client.call_tool("summarize_time", {"group_by": "month"})
        wall = time.perf_counter() - t0
    assert not result.is_error, result.content
    return wall, settings.max_concurrency, dict(result.structured_content or {})


async def summary_peak(remote: Standalone, *, streaming: bool) -> tuple[int, int]:
    """Peak bytes added (tracemalloc) while reading every page and summarizing by month."""
    async with FreshBooksClient(
        api_url=remote.base_url, token_source=StaticTokenSource(remote.access_token), max_concurrency=4
    ) as fb:
        await fb.business()
        projects = {p.id: p for p in await all_projects(fb)}
        services = {s.id: s for s in await list_services(fb)}
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        summary = TimeSummary("month", projects, services)
        if streaming:
            async for page in iter_time_pages(fb, TimeFilter()):
                summary.add(page.entries)
        else:
            everything = await all_entries(fb, TimeFilter())
            summary.add(everything)
            del everything
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
        return peak, summary.count


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    truth = Sandbox(SandboxOptions(seed=7, time_entries=N_ENTRIES))  # ground truth, in-process
    entries = len(truth.db.time_entries)
    with standalone_sandbox(today=truth.today, seed=7, time_entries=N_ENTRIES, latency_ms=LATENCY_MS) as remote:
        runs = [await tool_wall_time(remote) for _ in range(3)]
        wall, concurrency, out = min(runs, key=lambda r: r[0])  # best of 3: the machine may be busy
        remote.set_faults(latency_ms=0)
        cpu_wall = min([(await tool_wall_time(remote))[0] for _ in range(3)])
    assert out["entries"] == entries, (out["entries"], entries)
    pages = math.ceil(entries / 100)
    ideal = pages / concurrency * LATENCY_MS / 1000

    print(f"summarize_time: {entries} entries, {pages} pages of 100, latency {LATENCY_MS} ms")
    print(f"{'':<46}{'wall s':>9}{'x ideal':>10}")
    print(f"{'ideal (pages / concurrency x latency)':<46}{ideal:>9.2f}{1:>10.2f}")
    print(f"{f'summarize_time tool (concurrency {concurrency})':<46}{wall:>9.2f}{wall / ideal:>10.2f}")
    print(f"{'same tool call at latency 0 (CPU only)':<46}{cpu_wall:>9.2f}{cpu_wall / ideal:>10.2f}")
    target = 1.25
    print(f"target: tool within {target}x of ideal -> {'OK' if wall / ideal <= target else 'MISSED'}")
    print()

    print("peak memory added while reading + summarizing every page (tracemalloc, latency 0):")
    print(f"{'entries':>10}{'streaming KiB':>16}{'list first KiB':>16}")
    peaks = {}
    for n in (SMALL, N_ENTRIES):
        with standalone_sandbox(today=truth.today, seed=7, time_entries=n) as remote:
            stream_peak, count = await summary_peak(remote, streaming=True)
            naive_peak, count2 = await summary_peak(remote, streaming=False)
        assert count == count2
        peaks[n] = stream_peak
        print(f"{count:>10}{stream_peak / 1024:>16.0f}{naive_peak / 1024:>16.0f}")
    ratio = peaks[N_ENTRIES] / max(peaks[SMALL], 1)
    print(f"streaming {N_ENTRIES // 1000}k/{SMALL // 1000}k: {ratio:.2f}x for {N_ENTRIES // SMALL}x the entries")


if __name__ == "__main__":
    asyncio.run(main())
