"""The schemas every tool advertises, produced in one place from its pydantic models.

Input schemas are compact and portable: no `title`, optional parameters as their plain type with the
default in `default` (none when the default is "not given"), `$ref`s inlined, `additionalProperties:
false` on every object, and a top-level `type` on every property. That is what strict converters
(openai-agents) and simple adapters (smolagents types a property without `type` as a string) accept.
The constraints that protect the books (bounds, patterns, enums, lengths, formats) are kept; the SDK
validates arguments with the tool's pydantic argument model, which is where those constraints come from.

Output schemas stay accurate for what tools send (`respond` leaves None out, so a nullable field is
simply optional), but carry no titles or descriptions: the tool description says what comes back.
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase
from pydantic import model_validator

from ._output import DETAILED

__all__ = ["compact_input_schema", "compact_output_schema", "compact_schemas"]

ArgModel = ArgModelBase
_NULL = {"type": "null"}
# Keywords that describe a value to a model rather than constrain it; dropped from output schemas.
_OUTPUT_NOISE = ("title", "description", "examples", "pattern", "format", "default")


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


def compact_input_schema(schema: dict[str, Any]) -> dict[str, Any]:
    defs = schema.get("$defs", {})
    out = _input_node({k: v for k, v in schema.items() if k != "$defs"}, defs)
    out["type"] = "object"
    out.setdefault("properties", {})
    return out


def _input_node(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    node = {k: v for k, v in node.items() if k != "title"}
    if "anyOf" in node:
        node = _without_null(node)
    if "properties" in node:
        node["properties"] = {name: _input_node(sub, defs) for name, sub in node["properties"].items()}
        for name, sub in node["properties"].items():
            if name not in node.get("required", ()):
                # smolagents treats every input without `nullable: true` as required (and refuses the
                # call without it); JSON Schema validators ignore the keyword.
                sub["nullable"] = True
    if isinstance(node.get("items"), dict):
        node["items"] = _input_node(node["items"], defs)
    if node.get("type") == "object":
        node["additionalProperties"] = False
        node.setdefault("properties", {})
    return node


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
    out = _output_node(schema)
    if "$defs" in schema:
        out["$defs"] = {name: _output_node(sub) for name, sub in schema["$defs"].items()}
    return out


def _output_node(node: dict[str, Any]) -> dict[str, Any]:
    node = {k: v for k, v in node.items() if k not in _OUTPUT_NOISE and k != "$defs"}
    if "anyOf" in node:
        branches = [_output_node(b) for b in node["anyOf"] if b != _NULL]
        rest = {k: v for k, v in node.items() if k != "anyOf"}
        node = {**branches[0], **rest} if len(branches) == 1 else {"anyOf": branches, **rest}
    if "properties" in node:
        # Detailed-only row fields stay out of the schema: objects are open, so detailed rows validate.
        props = {name: sub for name, sub in node["properties"].items() if not sub.get(DETAILED)}
        # A None value is never sent, so a field that may be None is optional, whatever pydantic says.
        nullable = {name for name, sub in props.items() if _NULL in sub.get("anyOf", ())}
        node["properties"] = {name: _output_node(sub) for name, sub in props.items()}
        required = [name for name in node.get("required", ()) if name not in nullable]
        if required:
            node["required"] = required
        else:
            node.pop("required", None)
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            node[key] = _output_node(node[key])
    return node
