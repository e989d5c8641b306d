"""The `tools/list` result is checked in, one JSON file per tool; drift fails here.

After an intended change to a tool's name, description, schemas or annotations, refresh with:
    UPDATE_SNAPSHOTS=1 python -m pytest tests/test_schema_snapshot.py
and review the diff of tests/snapshots/tools/ before committing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from mcp import Client

from mcp_server_freshbooks.config import Settings
from mcp_server_freshbooks.sandbox import Sandbox
from mcp_server_freshbooks.server import build_server

pytestmark = pytest.mark.anyio

SNAPSHOTS = Path(__file__).parent / "snapshots" / "tools"


async def test_tools_list_matches_snapshots(sandbox: Sandbox, settings: Settings) -> None:
    async with Client(build_server(settings, sandbox=sandbox)) as client:
        tools = (await client.list_tools()).tools
    current = {t.name: t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools}
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOTS.mkdir(parents=True, exist_ok=True)
        for stale in SNAPSHOTS.glob("*.json"):
            if stale.stem not in current:
                stale.unlink()
        for name, data in current.items():
            (SNAPSHOTS / f"{name}.json").write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    stored = {p.stem: json.loads(p.read_text()) for p in SNAPSHOTS.glob("*.json")}
    assert sorted(current) == sorted(stored), "tools added or removed: refresh the snapshots (see module doc)"
    drifted = [name for name in current if current[name] != stored[name]]
    assert not drifted, f"tool schemas drifted: {drifted}; refresh the snapshots (see module doc)"
