"""Do agent frameworks take every tool as we advertise it? Run by hand, not in CI.

Each framework pins its own `mcp`, so each gets its own venv and reads the tools from a JSON dump of
tools/list (all toolsets) rather than importing this package:

    python3 -m venv /tmp/interop/openai && /tmp/interop/openai/bin/pip install openai-agents
    python3 -m venv /tmp/interop/smol   && /tmp/interop/smol/bin/pip install "smolagents[mcp]" "mcp<2" websockets
    python3 -m venv /tmp/interop/pyd    && /tmp/interop/pyd/bin/pip install "pydantic-ai-slim[mcp]"
    python3 -m venv /tmp/interop/adk    && /tmp/interop/adk/bin/pip install google-adk "mcp<2"
    .venv/bin/python bench/interop.py            # dumps tools/list, runs every venv found, prints the table
    (INTEROP_VENVS=/other/dir picks another folder of venvs; INTEROP_TOOLS=dump.json checks a saved
    tools/list dump instead, e.g. one of commit 35acf3d to see the failures #12 started from)

Per framework and tool:
  * openai-agents: the strict converter MCP tools go through (`ensure_strict_json_schema`, refusing open
    objects as `MCPUtil.to_function_tool` does); "strict" = converted, otherwise the reason.
  * smolagents: mcpadapt's smolagents adapter builds the tool, then `validate_tool_arguments` checks an
    ordinary call: the required arguments only (sample values by type), plus find_client {"query": "a"}
    and list_invoices {"client_id": 100002}.
  * pydantic-ai: the OpenAI (strict=True) and Google schema transformers walk the schema.
  * google-adk: the MCP tool becomes a Gemini function declaration, and its schema a Gemini Schema.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

FRAMEWORKS = ("openai", "smol", "pyd", "adk")
NAMED_CALLS = {"find_client": {"query": "a"}, "list_invoices": {"client_id": 100002}}


def dump(path: Path) -> None:
    """tools/list of this checkout, all toolsets, as JSON (runs in the project's venv)."""
    import anyio
    from mcp import Client

    from mcp_server_freshbooks.config import load_settings
    from mcp_server_freshbooks.server import build_server

    async def main() -> list[dict[str, Any]]:
        settings = load_settings(environ={"FRESHBOOKS_TOOLSETS": "all"}, use_dotenv=False)
        async with Client(build_server(settings, demo=True)) as client:
            tools = (await client.list_tools()).tools
        return [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]

    path.write_text(json.dumps(anyio.run(main)))


def sample(schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    if "enum" in schema:
        return schema["enum"][0]
    return {"integer": 1, "number": 1, "boolean": True, "array": [], "object": {}}.get(str(kind), "a")


# ---------------------------------------------------------------------- checks, each run in its framework's venv


def check_openai(tools: list[dict[str, Any]]) -> dict[str, str]:
    import copy

    from agents.strict_schema import ensure_strict_json_schema

    out = {}
    for t in tools:
        schema = copy.deepcopy(t["inputSchema"])
        schema.setdefault("properties", {})
        try:
            ensure_strict_json_schema(schema, _reject_open_objects=t["inputSchema"] != {})
            out[t["name"]] = "strict"
        except Exception as exc:  # the converter's refusal is the finding
            out[t["name"]] = f"not strict: {exc}"[:160]
    return out


def check_smol(tools: list[dict[str, Any]]) -> dict[str, str]:
    import mcp.types
    from mcpadapt.smolagents_adapter import SmolAgentsAdapter
    from smolagents.tools import validate_tool_arguments

    out = {}
    for t in tools:
        tool = SmolAgentsAdapter().adapt(lambda args: None, mcp.types.Tool.model_validate(t))
        schema = t["inputSchema"]
        calls = [{p: sample(schema["properties"][p]) for p in schema.get("required", [])}]
        if t["name"] in NAMED_CALLS:
            calls.append(NAMED_CALLS[t["name"]])
        refused = []
        for args in calls:
            try:
                validate_tool_arguments(tool, args)
            except Exception as exc:
                refused.append(f"{json.dumps(args)} -> {exc}")
        out[t["name"]] = "ok" if not refused else "refused: " + "; ".join(refused)[:160]
    return out


def check_pyd(tools: list[dict[str, Any]]) -> dict[str, str]:
    import copy

    from pydantic_ai.profiles.google import GoogleJsonSchemaTransformer
    from pydantic_ai.profiles.openai import OpenAIJsonSchemaTransformer

    out = {}
    for t in tools:
        try:
            OpenAIJsonSchemaTransformer(copy.deepcopy(t["inputSchema"]), strict=True).walk()
            GoogleJsonSchemaTransformer(copy.deepcopy(t["inputSchema"])).walk()
            out[t["name"]] = "ok"
        except Exception as exc:
            out[t["name"]] = f"error: {exc}"[:160]
    return out


def check_adk(tools: list[dict[str, Any]]) -> dict[str, str]:
    import mcp.types
    from google.adk.tools._gemini_schema_util import _to_gemini_schema
    from google.adk.tools.mcp_tool.mcp_tool import McpTool

    out = {}
    for t in tools:
        try:
            tool = McpTool(mcp_tool=mcp.types.Tool.model_validate(t), mcp_session_manager=None)  # type: ignore[arg-type]
            declaration = tool._get_declaration()
            assert declaration is not None and declaration.name == t["name"]
            _to_gemini_schema(t["inputSchema"])  # the Gemini Schema path (JSON_SCHEMA_FOR_FUNC_DECL off)
            out[t["name"]] = "ok"
        except Exception as exc:
            out[t["name"]] = f"error: {type(exc).__name__}: {exc}"[:160]
    return out


# ---------------------------------------------------------------------- orchestration


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "check-input":  # internal: run one framework's check
        framework, tools_path = os.environ["INTEROP_FRAMEWORK"], Path(sys.argv[2])
        tools = json.loads(tools_path.read_text())
        print(json.dumps(globals()[f"check_{framework}"](tools)))
        return
    venvs = Path(os.environ.get("INTEROP_VENVS", "/tmp/interop"))
    with tempfile.TemporaryDirectory() as tmp:
        tools_path = Path(os.environ.get("INTEROP_TOOLS") or Path(tmp) / "tools.json")
        if "INTEROP_TOOLS" not in os.environ:
            dump(tools_path)
        names = [t["name"] for t in json.loads(tools_path.read_text())]
        results: dict[str, dict[str, str]] = {}
        for framework in FRAMEWORKS:
            python = venvs / framework / "bin" / "python"
            if not python.exists():
                results[framework] = {n: "no venv" for n in names}
                continue
            env = {"PATH": "/usr/bin:/bin", "INTEROP_FRAMEWORK": framework}
            done = subprocess.run(
                [str(python), __file__, "check-input", str(tools_path)], capture_output=True, text=True, env=env
            )
            if done.returncode != 0:
                results[framework] = {n: "check failed: " + done.stderr.strip().splitlines()[-1][:120] for n in names}
                continue
            results[framework] = json.loads(done.stdout.strip().splitlines()[-1])
    labels = {"openai": "openai-agents strict", "smol": "smolagents call", "pyd": "pydantic-ai", "adk": "google-adk"}
    print(f"{'tool':<26}" + "".join(f"{labels[f]:>22}" for f in FRAMEWORKS))
    for name in names:
        cells = [results[f].get(name, "-") for f in FRAMEWORKS]
        print(f"{name:<26}" + "".join(f"{c.split(':')[0]:>22}" for c in cells))
    print("== problems")
    problems = [(f, n, r) for f in FRAMEWORKS for n, r in results[f].items() if r not in ("ok", "strict")]
    for framework, name, result in problems:
        print(f"   {labels[framework]} / {name}: {result}")
    total = len(names) * len(FRAMEWORKS)
    print(f"{'OK  ' if not problems else 'FAIL'} {total - len(problems)}/{total} tool x framework checks pass")


if __name__ == "__main__":
    main()
