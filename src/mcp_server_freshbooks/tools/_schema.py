"""The schemas every tool advertises, produced in one place from its pydantic models.

Input schemas are compact and portable: no `title`, optional parameters as their plain type with the
default in `default` (none when the default is "not given"), `$ref`s inlined, `additionalProperties:
false` on every object, and a top-level `type` on every property. That is what strict converters
(openai-agents) and simple adapters (smolagents types a property without `type` as a string) accept.
The SDK validates arguments with the tool's pydantic argument model, which enforces every rule and
names the field and the rule in plain words when a call breaks one. The advertised schema is a subset
of those rules: the ones that tell a model what to send. Trimmed for every tool, present and future:
  * a `format: date` string drops its `pattern` (the 1970-2100 write window is in its description);
  * a decimal (money, quantities, percents) is advertised as a plain `number`: models send numbers,
    and the argument model still takes a string such as "12.30" (both become an exact Decimal);
    its string `pattern` goes, and a `maximum` >= 1e6, which only guards absurd values;
  * a string drops `maxLength`/`minLength` unless it is a code (`maxLength` <= 10);
  * an id (`id` or `*_id` integer), a `page` or a `limit` drops `minimum: 1` (no model sends 0 for them).
Kept: enums, formats, other patterns (currency codes, emails, times), `minimum`/`exclusiveMinimum`
on money and quantities, bounds on days, limits and pages, `maxItems`, defaults, `nullable: true`
and `additionalProperties: false`.

Output schemas stay true for everything tools send (`respond` leaves None out) but are lean: field
names and JSON types of the top level only (see `compact_output_schema`).
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase
from pydantic import model_validator

from ._output import DETAILED

__all__ = ["compact_input_schema", "compact_output_schema", "compact_schemas", "enforced_input_schema"]

ArgModel = ArgModelBase
_NULL = {"type": "null"}


def compact_schemas(tool: Tool) -> Tool:
    """Rewrite a built tool's advertised input and output schemas in place.

    Validation stays the argument model's, with one addition that makes `nullable: true` true: an
    optional parameter given as null means "not given" (its default), as it does for most hosts.
    """
    tool.description = " ".join(tool.description.split())  # a docstring's line breaks and indents are noise
    tool.parameters = compact_input_schema(tool.parameters)
    tool.fn_metadata.arg_model = _null_means_default(tool.fn_metadata.arg_model)
    if tool.fn_metadata.output_schema is not None:
        tool.fn_metadata.output_schema = compact_output_schema(tool.fn_metadata.output_schema)
    tool.__dict__.pop("output_schema", None)  # Tool.output_schema is a cached_property
    return tool


# ---------------------------------------------------------------------- input


def _null_means_default(model: type[ArgModel]) -> type[ArgModel]:
    optional = frozenset(f.alias or name for name, f in model.model_fields.items() if not f.is_required())

    def drop_nulls(cls: type[ArgModel], data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None or k not in optional}
        return data

    namespace = {"__module__": model.__module__, "_drop_nulls": model_validator(mode="before")(drop_nulls)}
    return type(model.__name__, (model,), namespace)


def compact_input_schema(schema: dict[str, Any], *, trim: bool = True) -> dict[str, Any]:
    """The portable form of an input schema; `trim=False` keeps every rule the argument model enforces."""
    defs = schema.get("$defs", {})
    out = _input_node({k: v for k, v in schema.items() if k != "$defs"}, defs, trim)
    out["type"] = "object"
    out.setdefault("properties", {})
    return out


def enforced_input_schema(tool: Tool) -> dict[str, Any]:
    """Every rule the argument model enforces, in the advertised form: what a fuzzer must generate within."""
    return compact_input_schema(tool.fn_metadata.arg_model.model_json_schema(by_alias=True), trim=False)


def _input_node(node: dict[str, Any], defs: dict[str, Any], trim: bool = True, *, top: bool = True) -> dict[str, Any]:
    if "anyOf" in node:
        node = _without_null(node)  # first: an optional model parameter is anyOf [$ref, null]
    if "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    node = {k: v for k, v in node.items() if k != "title"}
    if "properties" in node:
        node["properties"] = {
            name: _trimmed(name, sub) if trim else sub
            for name, sub in ((n, _input_node(s, defs, trim, top=False)) for n, s in node["properties"].items())
        }
        for name, sub in node["properties"].items():
            if top and name not in node.get("required", ()):
                # smolagents treats every tool input without `nullable: true` as required (and refuses
                # the call without it); it checks the top level only, and JSON Schema ignores the keyword.
                sub["nullable"] = True
    if isinstance(node.get("items"), dict):
        node["items"] = _input_node(node["items"], defs, trim, top=False)
    if node.get("type") == "object":
        node["additionalProperties"] = False
        node.setdefault("properties", {})
    return node


_DECIMAL = ["number", "string", "integer"]
_ABSURD = 1e6
_COUNTERS = frozenset({"id", "page", "limit"})


def _trimmed(name: str, node: dict[str, Any]) -> dict[str, Any]:
    """Drop the advertised rules a model needs no telling (see the module doc); the argument model keeps them."""
    kind = node.get("type")
    drop: set[str] = set()
    if kind == "string" and node.get("format") == "date":
        drop.add("pattern")
    if kind == _DECIMAL:
        # One type, so smolagents' int -> number rule applies and strict converters see a scalar.
        node = {**node, "type": "number"}
        drop |= {"pattern", "maxLength", "minLength"}
        if node.get("maximum", 0) >= _ABSURD:
            drop.add("maximum")
    if kind == "string" and node.get("maxLength", _ABSURD) > 10:
        drop |= {"maxLength", "minLength"}
    if kind == "integer" and (name in _COUNTERS or name.endswith("_id")) and node.get("minimum") == 1:
        drop.add("minimum")
    out = {k: v for k, v in node.items() if k not in drop}
    for bound in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        value = out.get(bound)
        if isinstance(value, float) and value.is_integer():
            out[bound] = int(value)  # 0 rather than 0.0: the same bound in fewer bytes
    return out


def _without_null(node: dict[str, Any]) -> dict[str, Any]:
    """`anyOf: [X, null]` -> X (with the node's own keys); several non-null branches -> one typed node.

    An optional parameter's None default means "not given": it is left out rather than sent as null.
    """
    branches = [b for b in node["anyOf"] if b != _NULL]
    rest = {k: v for k, v in node.items() if k != "anyOf"}
    if rest.get("default", 0) is None:
        del rest["default"]
    if len(branches) == 1:
        return {**branches[0], **rest}
    # e.g. Decimal: anyOf [number with bounds, string]. Numeric keywords apply only to numbers and
    # string keywords only to strings, so a type list with the branches' keywords merged is the same.
    merged: dict[str, Any] = {"type": []}
    for branch in branches:
        kinds = branch.get("type")
        if not isinstance(kinds, str) or kinds in merged["type"] or set(branch) & set(merged) - {"type"}:
            return {"anyOf": branches, **rest}
        merged["type"].append(kinds)
        merged.update({k: v for k, v in branch.items() if k != "type"})
    if "number" in merged["type"]:
        # smolagents compares a value's type to a type list exactly (1 is "integer", not "number").
        merged["type"].append("integer")
    return {**merged, **rest}


# ---------------------------------------------------------------------- output


def compact_output_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The result's top-level fields by name and JSON type (an object field is typed `object`).

    A client validates `structuredContent` with it, and a model rarely reads it, so it says only what
    stays true of every result: no descriptions, enums, `required`, formats or defaults. Anything
    nested deeper, and the rows of a list (they repeat), is typed `object` without its fields.
    """
    defs = schema.get("$defs", {})
    return _output_node({k: v for k, v in schema.items() if k != "$defs"}, defs, 0)


_OUTPUT_DEPTH = 1  # the root's fields by name and JSON type; what a client validates needs no more


def _output_node(node: dict[str, Any], defs: dict[str, Any], depth: int) -> dict[str, Any]:
    if "$ref" in node:
        node = defs[node["$ref"].rsplit("/", 1)[-1]]
    if "anyOf" in node:
        branches = [_output_node(b, defs, depth) for b in node["anyOf"] if b != _NULL]
        if len(branches) == 1 or all(b == branches[0] for b in branches):
            return branches[0]
        return {"anyOf": branches}
    if "properties" in node or node.get("type") == "object":
        if depth >= _OUTPUT_DEPTH:
            return {"type": "object"}
        out: dict[str, Any] = {"type": "object"}
        if "properties" in node:
            # Detailed-only row fields stay out of the schema: objects are open, so detailed rows validate.
            out["properties"] = {
                name: _output_node(sub, defs, depth + 1)
                for name, sub in node["properties"].items()
                if not sub.get(DETAILED)
            }
        if isinstance(node.get("additionalProperties"), dict):
            out["additionalProperties"] = _output_node(node["additionalProperties"], defs, depth + 1)
        return out
    if node.get("type") == "array":
        items = node.get("items")
        return (
            {"type": "array", "items": _output_node(items, defs, depth + 1)}
            if isinstance(items, dict)
            else {"type": "array"}
        )
    return {"type": node["type"]} if "type" in node else {}
