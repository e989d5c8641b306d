"""The wheel, installed in a clean venv, is a working server: a packaging mistake cannot land.

Builds the wheel from this checkout, installs it into a fresh venv (no system site-packages, so
every runtime dependency must be declared), and runs the console script from a folder outside the
checkout: `--help`, `tools --demo`, `call find_client ... --demo`, `python -m mcp_server_freshbooks`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp import Client

from mcp_server_freshbooks.config import load_settings
from mcp_server_freshbooks.server import build_server

from .conftest import ROOT, require_or_skip

pytestmark = pytest.mark.slow

PACKAGE = ROOT / "src" / "mcp_server_freshbooks"


def _run(
    command: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def _clean_env() -> dict[str, str]:
    """The caller's environment (pip's index settings live there) minus anything pointing at this checkout."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    proc = _run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)], cwd=out, env=_clean_env())
    if proc.returncode != 0 and "No module named build" in proc.stderr:
        require_or_skip("the `build` package is not installed (pip install -e '.[test]')")
    assert proc.returncode == 0, f"wheel build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    wheels = list(out.glob("mcp_server_freshbooks-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(venv bin dir, a scratch working folder outside the checkout)."""
    venv = tmp_path_factory.mktemp("venv")
    env = _clean_env()
    proc = _run([sys.executable, "-m", "venv", str(venv)], cwd=venv, env=env)
    assert proc.returncode == 0, proc.stderr
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    proc = _run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(wheel)], cwd=venv, env=env)
    if proc.returncode != 0 and ("No matching distribution" in proc.stderr or "Could not find" in proc.stderr):
        require_or_skip(f"no package index reachable to install the wheel's dependencies: {proc.stderr[-500:]}")
    assert proc.returncode == 0, f"pip install of the wheel failed:\n{proc.stderr[-3000:]}"
    yield bin_dir, tmp_path_factory.mktemp("elsewhere")


def _server_env(work: Path) -> dict[str, str]:
    """What a desktop host gives a server: almost nothing."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(work)}


def test_wheel_ships_every_module_py_typed_and_the_console_script(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        scripts = archive.read(entry_points).decode()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    source = {
        "mcp_server_freshbooks/" + p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    missing = sorted(source - names)
    assert not missing, f"files left out of the wheel: {missing}"
    assert "mcp_server_freshbooks/py.typed" in names
    assert "mcp-server-freshbooks = mcp_server_freshbooks.cli:main" in scripts
    assert not [n for n in names if n.startswith(("tests/", "bench/"))], "tests or benches packaged"
    for requirement in ("mcp", "httpx", "pydantic", "python-dotenv"):
        assert f"Requires-Dist: {requirement}" in metadata
    assert "Description-Content-Type: text/markdown" in metadata  # the README is the PyPI page


def test_installed_console_script_runs_outside_the_checkout(installed: tuple[Path, Path]) -> None:
    bin_dir, work = installed
    env = _server_env(work)
    script = str(bin_dir / "mcp-server-freshbooks")

    where = _run(
        [str(bin_dir / "python"), "-c", "import mcp_server_freshbooks as m; print(m.__file__)"], cwd=work, env=env
    )
    assert where.returncode == 0, where.stderr
    assert str(bin_dir.parent) in where.stdout and str(ROOT / "src") not in where.stdout

    help_run = _run([script, "--help"], cwd=work, env=env)
    assert help_run.returncode == 0, help_run.stderr
    for command in ("serve", "sandbox", "tools", "call", "demo", "auth", "doctor"):
        assert command in help_run.stdout

    version = _run([str(bin_dir / "python"), "-m", "mcp_server_freshbooks", "--version"], cwd=work, env=env)
    assert version.returncode == 0 and "mcp-server-freshbooks" in version.stdout, version.stderr


def test_installed_tools_and_call_work_on_the_demo_books(installed: tuple[Path, Path]) -> None:
    import anyio

    bin_dir, work = installed
    env = _server_env(work)
    script = str(bin_dir / "mcp-server-freshbooks")

    async def expected_names() -> set[str]:
        async with Client(build_server(load_settings(environ={}, use_dotenv=False), demo=True)) as client:
            return {t.name for t in (await client.list_tools()).tools}

    listing = _run([script, "tools", "--demo"], cwd=work, env=env)
    assert listing.returncode == 0, listing.stderr
    listed = {line.split()[0] for line in listing.stdout.splitlines() if line.strip()}
    assert listed == anyio.run(expected_names)

    call = _run([script, "call", "find_client", '{"query": "a"}', "--demo"], cwd=work, env=env)
    assert call.returncode == 0, call.stderr
    clients = json.loads(call.stdout)["clients"]
    assert clients and all(isinstance(c["id"], int) for c in clients)
    assert call.stderr.strip() == "", f"unexpected stderr noise: {call.stderr[:500]}"

    sandbox = _run([script, "sandbox", "--help"], cwd=work, env=env)
    assert sandbox.returncode == 0, sandbox.stderr
