"""The tool registry: every MCP tool this server offers, by name.

The future `/mcp/v1` endpoint serves `tools/list` from `get_tool_schemas()` and `tools/call` through
`call_tool()`; the phone-home payload reports `get_tool_registry()` keys as `capabilities`. A tool is
a function `(env, params) -> JSON-serialisable result` registered with `@tool(...)`.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_JSON_TYPES = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "array": list,
    "object": dict,
}


class ToolError(Exception):
    """A caller's mistake (unknown tool, bad arguments): reported to the caller, never a crash."""


READ_GROUP = "base.group_user"  # internal users; the tier of the read-only tools


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    handler: Callable[[Any, dict], Any]
    input_schema: dict = field(default_factory=lambda: {"type": "object", "properties": {}})
    read_only: bool = True
    title: str = ""
    output_schema: dict | None = None
    group: str = READ_GROUP  # who may list and call it (an Odoo group's XML id)

    def schema(self) -> dict:
        """The tool as MCP's `tools/list` describes it."""
        described = {
            "name": self.name,
            "title": self.title or self.name.replace("_", " ").capitalize(),
            "description": self.description,
            "inputSchema": self.input_schema,
            "annotations": {
                "readOnlyHint": self.read_only,
                "destructiveHint": not self.read_only,
                "idempotentHint": self.read_only,
                "openWorldHint": False,  # this Odoo database, nothing beyond it
            },
        }
        if self.output_schema:
            described["outputSchema"] = self.output_schema
        return described


_REGISTRY: dict[str, Tool] = {}
_NAME = re.compile(r"^[a-z0-9_]{1,64}$")


def tool(name, description, properties=None, required=(), read_only=True, title="",
         output_schema=None, group=READ_GROUP):
    """Register the decorated function as the tool `name` (MCP tool names: unique, stable)."""
    if not _NAME.match(name):
        raise ValueError(f"tool name {name!r}: use [a-z0-9_], at most 64 characters")
    input_schema = {
        "type": "object",
        "properties": dict(properties or {}),
        "required": list(required),
        "additionalProperties": False,
    }

    def register(handler):
        if name in _REGISTRY:
            raise ValueError(f"tool {name!r} is registered twice")
        _REGISTRY[name] = Tool(name, description, handler, input_schema, read_only, title,
                               output_schema, group)
        return handler

    return register


def get_tool_registry() -> dict[str, Tool]:
    """A copy of the registry: callers cannot add or remove tools through it."""
    return dict(_REGISTRY)


def get_tool_schemas() -> list[dict]:
    return [_REGISTRY[name].schema() for name in sorted(_REGISTRY)]


def call_tool(env, name, params=None):
    """Run tool `name` with `params` after checking them against its input schema."""
    selected = _REGISTRY.get(name)
    if selected is None:
        raise ToolError(f"unknown tool {name!r}")
    params = {} if params is None else params
    _check_params(selected.input_schema, params)
    return selected.handler(env, params)


def _check_params(schema, params):
    # The subset of JSON Schema the registered tools use: an object of typed, optional or
    # required properties, nothing else allowed. Enough to turn bad arguments into a ToolError.
    if not isinstance(params, dict):
        raise ToolError("arguments must be a JSON object")
    properties = schema.get("properties", {})
    unknown = sorted(set(params) - set(properties))
    if unknown and not schema.get("additionalProperties", True):
        raise ToolError(f"unknown argument(s): {', '.join(unknown)}")
    missing = [key for key in schema.get("required", ()) if key not in params]
    if missing:
        raise ToolError(f"missing argument(s): {', '.join(missing)}")
    for key, value in params.items():
        expected = properties.get(key, {}).get("type")
        python_type = _JSON_TYPES.get(expected)
        # bool is an int in Python, never in JSON
        if python_type and (not isinstance(value, python_type) or (
                isinstance(value, bool) and expected != "boolean")):
            raise ToolError(f"argument {key!r} must be of type {expected}")
        bounds = properties.get(key, {})
        if "minimum" in bounds and value < bounds["minimum"]:
            raise ToolError(f"argument {key!r} must be >= {bounds['minimum']}")
        if "maximum" in bounds and value > bounds["maximum"]:
            raise ToolError(f"argument {key!r} must be <= {bounds['maximum']}")
