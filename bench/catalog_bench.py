"""What the tool catalog costs a model, before #12 vs now vs peers, and the #12 budgets.

Measures `tools/list` as a real MCP client receives it (in-process `mcp.Client`, demo books), in
compact JSON bytes:
  * model-visible: name + description + inputSchema of each tool (what a host puts in the prompt);
  * whole: the full tools/list entry, output schema and annotations included;
for every toolset (FRESHBOOKS_TOOLSETS=all) and for the default catalog (no settings).

"before" is commit 35acf3d (today's main before #12), exported with `git archive` to a temp dir and
measured there in a subprocess with the same interpreter. Peers' figures are from issue #12's table
(measured with the same clients on the same day): freshbooks-mcp 88 tools, 89 KB whole, 765 B/tool
model-visible; mcp-freshbooks 53 tools, 28 KB whole, 379 B/tool; github-mcp-server 1.2 KB/tool whole.

Run: .venv/bin/python bench/catalog_bench.py   (a few seconds; the last 3 lines are the budget verdicts)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BEFORE_COMMIT = "35acf3d"
BUDGET_MODEL_VISIBLE_PER_TOOL = 700
BUDGET_WHOLE_PER_TOOL = 1200
BUDGET_DEFAULT_MODEL_VISIBLE = 12 * 1024
# Issue #12, "Measured on today's main": (tools, whole B/tool, model-visible B/tool); None = not measured.
PEERS: dict[str, tuple[int | None, float | None, float | None]] = {
    "freshbooks-mcp": (88, 89_000 / 88, 765),
    "mcp-freshbooks": (53, 28_000 / 53, 379),
    "github-mcp-server": (None, 1_200, None),
}


def compact(data: Any) -> int:
    return len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())


def model_visible(entry: dict[str, Any]) -> int:
    seen = {"name": entry["name"], "description": entry.get("description", ""), "inputSchema": entry["inputSchema"]}
    return compact(seen)


def _without(schema: Any, key: str) -> Any:
    if isinstance(schema, dict):
        return {k: _without(v, key) for k, v in schema.items() if k != key}
    if isinstance(schema, list):
        return [_without(v, key) for v in schema]
    return schema


def breakdown(tools: list[dict[str, Any]]) -> dict[str, int]:
    """How much of the model-visible catalog each part takes (bytes saved if it went)."""
    total = sum(model_visible(t) for t in tools)
    params = sum(len(t["inputSchema"].get("properties", {})) for t in tools)

    def saved(key: str) -> int:
        return total - sum(model_visible({**t, "inputSchema": _without(t["inputSchema"], key)}) for t in tools)

    schemas = sum(compact(t["inputSchema"]) for t in tools)
    return {
        "total": total,
        "tool descriptions (JSON strings)": sum(compact(t.get("description", "")) for t in tools),
        f"input schemas ({params} parameters)": schemas,
        "  of which descriptions": saved("description"),
        "  of which nullable: true (smolagents needs it)": saved("nullable"),
        "  of which constraints (bounds, lengths, patterns, enums)": sum(
            saved(k)
            for k in ("minimum", "maximum", "exclusiveMinimum", "minLength", "maxLength", "pattern", "enum", "format")
        ),
        "  of which defaults": saved("default"),
        "  of which additionalProperties: false": saved("additionalProperties"),
    }


def _texts_emptied(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: "" if k == "description" and isinstance(v, str) else _texts_emptied(v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_texts_emptied(v) for v in schema]
    return schema


def text_room(tools: list[dict[str, Any]]) -> dict[str, float]:
    """What the 700 B/tool budget leaves for words once the structure #12 requires is paid for.

    Structure = every byte but the description texts: names, types, nullable (smolagents), defaults,
    constraints, nested line/tax/address objects, additionalProperties:false, required. Texts = the tool
    descriptions and the per-parameter descriptions #12 item 7 requires (their keys stay in structure).
    """
    n = len(tools)
    structure = sum(
        model_visible({**t, "description": "", "inputSchema": _texts_emptied(t["inputSchema"])}) for t in tools
    )
    params = sum(len(t["inputSchema"].get("properties", {})) for t in tools)
    total = sum(model_visible(t) for t in tools)
    room = BUDGET_MODEL_VISIBLE_PER_TOOL * n - structure
    return {
        "structure alone, B/tool": structure / n,
        "texts now, B (tool + parameter descriptions)": total - structure,
        "room for texts at 700 B/tool, B": room,
        "  = chars per description (tools + parameters)": room / (n + params),
        "  = chars per tool description if parameters got 8": (room - 8 * params) / n,
        "B/tool with 300-char tool descriptions (#12 item 4), no parameter text": (structure + 302 * n) / n,
    }


# ---------------------------------------------------------------------- measured in a subprocess

DUMP = """
import json, sys, anyio
from mcp import Client
from mcp_server_freshbooks.config import load_settings
from mcp_server_freshbooks.server import build_server

async def main():
    env = {} if sys.argv[1] == "default" else {"FRESHBOOKS_TOOLSETS": sys.argv[1]}
    settings = load_settings(environ=env, use_dotenv=False)
    async with Client(build_server(settings, demo=True)) as client:
        tools = (await client.list_tools()).tools
    print(json.dumps([t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]))

anyio.run(main)
"""


def tools_list(src: Path, catalog: str) -> list[dict[str, Any]]:
    """tools/list of the package under `src` for `catalog` ("all" or "default"), in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    env.pop("FRESHBOOKS_TOOLSETS", None)
    done = subprocess.run(
        [sys.executable, "-c", DUMP, catalog], capture_output=True, text=True, env=env, cwd=src, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"tools/list dump failed for {src}:\n{done.stderr[-2000:]}")
    tools: list[dict[str, Any]] = json.loads(done.stdout)
    return tools


def export_commit(commit: str, into: Path) -> Path:
    archive = subprocess.run(["git", "archive", commit, "src"], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def figures(src: Path) -> tuple[dict[str, float], list[dict[str, Any]]]:
    every = tools_list(src, "all")
    default = tools_list(src, "default")
    return {
        "tools": len(every),
        "model_visible": sum(model_visible(t) for t in every),
        "whole": compact(every),
        "default_tools": len(default),
        "default_model_visible": sum(model_visible(t) for t in default),
        "default_whole": compact(default),
    }, every


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        before, _ = figures(export_commit(BEFORE_COMMIT, Path(tmp)))
    now, now_tools = figures(ROOT / "src")

    def per_tool(f: dict[str, float], key: str) -> float:
        return f[key] / f["tools"]

    print("== tools/list, compact JSON bytes (model-visible = name + description + inputSchema)")
    head = f"{'':34}{'before ' + BEFORE_COMMIT:>16}{'now':>10}"
    head += "".join(f"{name:>19}" for name in PEERS)
    print(head)

    def row(label: str, b: str, n: str, peers: list[str]) -> None:
        print(f"{label:34}{b:>16}{n:>10}" + "".join(f"{p:>19}" for p in peers))

    def num(value: float | None, unit: str = "") -> str:
        return "-" if value is None else f"{value:,.0f}{unit}"

    row("tools, all toolsets", num(before["tools"]), num(now["tools"]), [num(p[0]) for p in PEERS.values()])
    row(
        "model-visible, B/tool (all)",
        num(per_tool(before, "model_visible")),
        num(per_tool(now, "model_visible")),
        [num(p[2]) for p in PEERS.values()],
    )
    row("model-visible, total B (all)", num(before["model_visible"]), num(now["model_visible"]), ["-"] * len(PEERS))
    row(
        "whole tools/list, B/tool (all)",
        num(per_tool(before, "whole")),
        num(per_tool(now, "whole")),
        [num(p[1]) for p in PEERS.values()],
    )
    row("whole tools/list, total B (all)", num(before["whole"]), num(now["whole"]), ["-"] * len(PEERS))
    row("default catalog, tools", num(before["default_tools"]), num(now["default_tools"]), ["-"] * len(PEERS))
    row(
        "default catalog, model-visible B",
        num(before["default_model_visible"]),
        num(now["default_model_visible"]),
        ["-"] * len(PEERS),
    )
    print("== now, per tool: description chars / model-visible B / whole B")
    for t in sorted(now_tools, key=lambda t: -model_visible(t)):
        print(f"   {t['name']:<26}{len(t.get('description', '')):>6}{model_visible(t):>7}{compact(t):>7}")

    print("== now, where the model-visible bytes go (all toolsets)")
    for label, size in breakdown(now_tools).items():
        print(f"   {label:<56}{size:>8,}")

    print("== now, what the 700 B/tool budget leaves for words (all toolsets)")
    for label, value in text_room(now_tools).items():
        print(f"   {label:<72}{value:>8,.0f}")

    mv = per_tool(now, "model_visible")
    whole = per_tool(now, "whole")
    default = now["default_model_visible"]
    verdict = {True: "OK  ", False: "FAIL"}
    mv_ok, whole_ok = mv <= BUDGET_MODEL_VISIBLE_PER_TOOL, whole <= BUDGET_WHOLE_PER_TOOL
    print(f"{verdict[mv_ok]} model-visible, all toolsets: {mv:,.0f} B/tool (budget <= 700)")
    print(f"{verdict[whole_ok]} whole tools/list, all toolsets: {whole:,.0f} B/tool (budget <= 1,200)")
    print(
        f"{verdict[default <= BUDGET_DEFAULT_MODEL_VISIBLE]} default catalog model-visible: {default:,.0f} B "
        f"in {now['default_tools']:.0f} tools (budget <= 12 KB = 12,288 B)"
    )


if __name__ == "__main__":
    main()
