"""Checks every domain gets for free: the layers' import rules, the inventory, the declarations.

A new domain passes these by declaring its Toolset, listing its TOOLS and adding its module to
tools/inventory.py; forgetting one of those (or describing a parameter, or a write without a way
to confirm or reconcile it) fails here, by name.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path
from typing import TypeVar

import pytest

from mcp_server_freshbooks import freshbooks
from mcp_server_freshbooks.freshbooks import writes
from mcp_server_freshbooks.freshbooks.business import BusinessResource
from mcp_server_freshbooks.freshbooks.query import Resource
from mcp_server_freshbooks.sandbox.resources import RESOURCES as SANDBOX_RESOURCES
from mcp_server_freshbooks.server import _tools
from mcp_server_freshbooks.tools import _catalog, inventory
from mcp_server_freshbooks.tools._base import Toolset, all_specs

PACKAGE = Path(inventory.__file__).resolve().parents[1]
NAME = "mcp_server_freshbooks"
T = TypeVar("T")


def _modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    """Absolute names of every module `path` imports (relative imports resolved)."""
    package = [NAME, *path.relative_to(PACKAGE).parent.parts]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)  # `from . import tools`
    return found


def _breaks(path: Path, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{path.relative_to(PACKAGE)} imports {name}"
        for name in _imports(path)
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    )


def test_the_sandbox_never_imports_the_client_or_the_tools() -> None:
    forbidden = (f"{NAME}.freshbooks", f"{NAME}.tools", f"{NAME}.server", f"{NAME}.prompts")
    problems = [p for path in _modules("sandbox") for p in _breaks(path, forbidden)]
    assert not problems, problems


def test_the_freshbooks_client_knows_nothing_of_mcp_or_the_layers_above() -> None:
    forbidden = ("mcp", "mcp_types", f"{NAME}.tools", f"{NAME}.server", f"{NAME}.prompts", f"{NAME}.sandbox")
    problems = [p for path in _modules("freshbooks") for p in _breaks(path, forbidden)]
    assert not problems, problems


def test_tools_and_prompts_never_import_the_server() -> None:
    forbidden = (f"{NAME}.server",)
    problems = [p for folder in ("tools", "prompts") for path in _modules(folder) for p in _breaks(path, forbidden)]
    assert not problems, problems


def _decorated_tools(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    return [
        node.name
        for node in tree.body
        if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef)
        and any(isinstance(d, ast.Call) and getattr(d.func, "id", None) == "tool" for d in node.decorator_list)
    ]


def test_every_tools_module_is_in_the_inventory_with_every_tool_it_declares() -> None:
    listed = {Path(str(domain.__file__)).stem: domain for domain in inventory.DOMAINS}
    on_disk = {p.stem for p in (PACKAGE / "tools").glob("*.py") if not p.stem.startswith("_")} - {"inventory"}
    assert set(listed) == on_disk, "tools/inventory.py DOMAINS must list every tools module"
    for stem, domain in listed.items():
        assert isinstance(domain.TOOLSET, Toolset), f"tools/{stem}.py declares no TOOLSET = Toolset(...)"
        declared = _decorated_tools(PACKAGE / "tools" / f"{stem}.py")
        assert sorted(fn.__name__ for fn in domain.TOOLS) == sorted(declared), f"tools/{stem}.py TOOLS vs @tool"


def test_every_tool_belongs_to_its_modules_declared_toolset() -> None:
    specs = all_specs()
    assert len({s.name for s in specs}) == len(specs), "tool names must be unique"
    ids = [ts.id for ts in inventory.TOOLSETS]
    assert len(set(ids)) == len(ids), "toolset ids must be unique"
    for domain in inventory.DOMAINS:
        for fn in domain.TOOLS:
            spec = next(s for s in specs if s.fn is fn)
            declared = getattr(domain, "TOOLSETS", (domain.TOOLSET,))  # a module may add opt-in toolsets (#12)
            assert any(spec.toolset is ts for ts in declared), (
                f"{spec.name} is in {domain.__name__} but names another toolset"
            )
    for ts in inventory.TOOLSETS:
        assert ts.description and "\n" not in ts.description, f"{ts.id}: one-line description"
        assert ts.instructions, f"{ts.id}: its lines for the server instructions"
        assert ts.scope_area, f"{ts.id}: the OAuth scope area its endpoints need"
        assert ts.resources or ts.paths, f"{ts.id}: the FreshBooks resources or paths it uses"


def test_the_generated_catalog_matches_the_declarations() -> None:
    text = Path(_catalog.__file__).read_text()
    assert text == inventory.render_catalog(), "run: python -m mcp_server_freshbooks.tools.inventory"


def test_every_parameter_of_every_tool_is_described() -> None:
    missing = [
        f"{name}.{param}"
        for name, tool in _tools().items()
        for param, schema in tool.parameters.get("properties", {}).items()
        if not schema.get("description") and not any(s.get("description") for s in schema.get("anyOf", []))
    ]
    assert not missing, f"parameters without a description: {missing}"


def _declared(kind: type[T]) -> list[T]:
    """Every `kind` value declared at module level anywhere in freshbooks/ (and in any Toolset)."""
    found: list[T] = []
    for info in pkgutil.iter_modules(freshbooks.__path__):
        module = importlib.import_module(f"{freshbooks.__name__}.{info.name}")
        found += [v for v in vars(module).values() if isinstance(v, kind) and v not in found]
    found += [r for ts in inventory.TOOLSETS for r in ts.resources if isinstance(r, kind) and r not in found]
    return found


def _client_resources() -> list[Resource]:
    return _declared(Resource)


@pytest.mark.parametrize("resource", _client_resources(), ids=lambda r: r.path)
def test_every_search_key_the_client_can_send_is_one_the_sandbox_implements(resource: Resource) -> None:
    sandbox = {res.path: res for res in SANDBOX_RESOURCES}
    assert resource.path in sandbox, f"the sandbox serves no {resource.path}"
    client_keys = resource.search_keys | resource.list_keys | resource.flag_keys
    unknown = sorted(client_keys - set(sandbox[resource.path].search))
    assert not unknown, f"{resource.path}: the client may send keys the sandbox does not implement: {unknown}"


@pytest.mark.parametrize("resource", _declared(BusinessResource), ids=lambda r: r.plural)
def test_every_business_filter_the_client_can_send_is_one_the_sandbox_implements(resource: BusinessResource) -> None:
    served = {res.plural: res for res in SANDBOX_RESOURCES if res.family == "business"}
    assert resource.plural in served, f"the sandbox serves no {resource.plural}"
    unknown = sorted(resource.filters - set(served[resource.plural].search))
    assert not unknown, f"{resource.plural}: filters the sandbox does not implement: {unknown}"
    assert resource.sorts <= set(served[resource.plural].sorts)


def test_every_write_tool_can_be_confirmed_or_reconciled() -> None:
    tools = _tools()
    for spec in all_specs():
        if not spec.writes:
            continue
        params = set(tools[spec.name].parameters.get("properties", {}))
        if spec.annotations.idempotent_hint:
            continue  # a pure update: re-sending it is safe
        assert "confirm" in params or spec.toolset.write_lookup is not None, (
            f"{spec.name} writes, is not idempotent, has no confirm parameter and its toolset declares no "
            "write_lookup to settle a lost reply"
        )


def test_a_declared_write_lookup_is_the_one_the_write_primitive_uses() -> None:
    # create_reconciled settles a lost create with writes.lookup_for(resource): the Toolset must not
    # declare a different lookup than the one that actually runs.
    for ts in inventory.TOOLSETS:
        if ts.write_lookup is None:
            continue
        used = {res.path: writes._LOOKUPS.get(res.path) for res in ts.resources}
        assert ts.write_lookup in used.values(), f"{ts.id}: write_lookup is not writes.lookup_for's for {used}"


def test_tools_send_no_raw_paths() -> None:
    # FreshBooks facts live in freshbooks/: a tool calls typed client methods, never a path string.
    for domain in inventory.DOMAINS:
        source = inspect.getsource(domain)
        for call in ("business_request(", "accounting_request(", ".request("):
            assert call not in source, f"{domain.__name__} calls {call[:-1]} with a raw path"


def test_answering_initialize_imports_no_domain_module() -> None:
    # Start-up reads the generated catalog; the domain modules load on the first tools/* request.
    code = (
        "import sys, anyio\n"
        "from mcp import Client\n"
        "from mcp_server_freshbooks.config import load_settings\n"
        "from mcp_server_freshbooks.server import build_server\n"
        "async def main():\n"
        "    async with Client(build_server(load_settings(environ={}, use_dotenv=False)), mode='legacy') as c:\n"
        "        assert c.instructions\n"
        "anyio.run(main)\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('mcp_server_freshbooks.tools.'))))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    domains = {domain.__name__ for domain in inventory.DOMAINS} | {inventory.__name__}
    assert not domains & set(loaded), f"initialize imported {sorted(domains & set(loaded))}"
